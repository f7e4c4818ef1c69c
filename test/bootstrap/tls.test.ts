import { describe, expect, it } from 'vitest';
import { buildSdsFiles, buildSidecarBootstrap, XDS_CA_SECRET, XDS_CLIENT_CERT_SECRET, type SidecarBootstrapOptions, type SidecarTlsOptions } from '../../src/bootstrap/index.js';
import { locateInteropTools, runEnvoyValidate, type ValidateItem } from '../interop/tools.js';

const interop = locateInteropTools();

type Obj = Record<string, any>;

const MTLS: SidecarTlsOptions = {
  caFile: '/var/run/herald-ca/ca.crt',
  certFile: '/var/run/spiffe/tls.crt',
  keyFile: '/var/run/spiffe/tls.key',
  sdsDir: '/etc/envoy',
};
const BASE: SidecarBootstrapOptions = { service: 'cart', nodeId: 'cart-1.shop', xdsHost: 'herald.herald.svc.cluster.local', xdsPort: 18000, tls: MTLS };

const xdsCluster = (options: Partial<SidecarBootstrapOptions> = {}): Obj => (buildSidecarBootstrap({ ...BASE, ...options }) as Obj).static_resources.clusters[0];
const tlsContext = (options: Partial<SidecarBootstrapOptions> = {}): Obj => xdsCluster(options).transport_socket.typed_config;

describe('the xDS cluster with TLS', () => {
  it('has no transport socket without TLS options', () => {
    expect(xdsCluster({ tls: undefined }).transport_socket).toBeUndefined();
  });

  it('speaks TLS with ALPN h2 and SNI = the xDS host, checking that Herald’s certificate names it', () => {
    const socket = xdsCluster().transport_socket;
    expect(socket.name).toBe('envoy.transport_sockets.tls');
    const context = tlsContext();
    expect(context['@type']).toBe('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
    expect(context.sni).toBe('herald.herald.svc.cluster.local');
    expect(context.common_tls_context.alpn_protocols).toEqual(['h2']);
    expect(context.common_tls_context.combined_validation_context.default_validation_context).toEqual({
      match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'herald.herald.svc.cluster.local' } }],
    });
    // Still HTTP/2 over TLS: gRPC needs it.
    expect(xdsCluster().typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config.http2_protocol_options).toBeDefined();
  });

  it('drops SNI and matches an IP SAN when the xDS host is an IP literal', () => {
    const context = tlsContext({ xdsHost: '10.0.0.7' });
    expect(context.sni).toBeUndefined();
    expect(context.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names).toEqual([
      { san_type: 'IP_ADDRESS', matcher: { exact: '10.0.0.7' } },
    ]);
  });

  it('takes the CA and the client certificate over SDS from files, reloaded when their volume swaps', () => {
    const common = tlsContext().common_tls_context;
    expect(common.combined_validation_context.validation_context_sds_secret_config).toEqual({
      name: XDS_CA_SECRET,
      sds_config: {
        path_config_source: { path: '/etc/envoy/herald-xds-ca.json', watched_directory: { path: '/var/run/herald-ca' } },
        resource_api_version: 'V3',
      },
    });
    expect(common.tls_certificate_sds_secret_configs).toEqual([
      {
        name: XDS_CLIENT_CERT_SECRET,
        sds_config: {
          path_config_source: { path: '/etc/envoy/herald-xds-client-cert.json', watched_directory: { path: '/var/run/spiffe' } },
          resource_api_version: 'V3',
        },
      },
    ]);
  });

  it('presents no client certificate when given only a CA (server-authenticated TLS)', () => {
    const common = tlsContext({ tls: { caFile: MTLS.caFile, sdsDir: '/etc/envoy', sdsFormat: 'yaml' } }).common_tls_context;
    expect(common.tls_certificate_sds_secret_configs).toBeUndefined();
    expect(common.combined_validation_context.validation_context_sds_secret_config.sds_config.path_config_source.path).toBe('/etc/envoy/herald-xds-ca.yaml');
  });

  it.each<[string, Partial<SidecarTlsOptions>, RegExp]>([
    ['a relative CA path', { caFile: 'ca.crt' }, /caFile/],
    ['a relative SDS directory', { sdsDir: 'envoy' }, /sdsDir/],
    ['a certificate without its key', { keyFile: undefined }, /go together/],
    ['a key in another directory than its certificate', { keyFile: '/other/tls.key' }, /keyFile.*directory/],
  ])('rejects %s', (_name, change, message) => {
    expect(() => buildSidecarBootstrap({ ...BASE, tls: { ...MTLS, ...change } })).toThrow(message);
    expect(() => buildSdsFiles({ ...MTLS, ...change })).toThrow(message);
  });
});

describe('buildSdsFiles', () => {
  it('writes one DiscoveryResponse per secret, each at the path the bootstrap reads, naming the PEM files', () => {
    const files = buildSdsFiles(MTLS);
    expect(files.map((f) => [f.path, f.secretName])).toEqual([
      ['/etc/envoy/herald-xds-ca.json', XDS_CA_SECRET],
      ['/etc/envoy/herald-xds-client-cert.json', XDS_CLIENT_CERT_SECRET],
    ]);
    const [ca, cert] = files.map((f) => f.content as Obj);
    expect(ca!.resources).toEqual([
      {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
        name: XDS_CA_SECRET,
        validation_context: { trusted_ca: { filename: '/var/run/herald-ca/ca.crt' }, watched_directory: { path: '/var/run/herald-ca' } },
      },
    ]);
    expect(cert!.resources[0].tls_certificate).toEqual({
      certificate_chain: { filename: '/var/run/spiffe/tls.crt' },
      private_key: { filename: '/var/run/spiffe/tls.key' },
      watched_directory: { path: '/var/run/spiffe' },
    });
    // Every secret the bootstrap names has its file, and no file is unreferenced.
    const common = tlsContext().common_tls_context;
    const referenced = [common.combined_validation_context.validation_context_sds_secret_config, ...common.tls_certificate_sds_secret_configs].map(
      (c: Obj) => `${c.name}@${c.sds_config.path_config_source.path}`,
    );
    expect(files.map((f) => `${f.secretName}@${f.path}`)).toEqual(referenced);
  });

  it('leaves the certificate file out without a client certificate', () => {
    expect(buildSdsFiles({ caFile: '/tls/ca.crt', sdsDir: '/sds' }).map((f) => f.secretName)).toEqual([XDS_CA_SECRET]);
  });
});

describe.skipIf(!interop.tools)(`TLS bootstrap and SDS files against Envoy's validation rules${interop.reason ? `: ${interop.reason}` : ''}`, () => {
  it('finds no violation in the mTLS, CA-only and IP variants, and catches a broken SDS file', async () => {
    const sdsType = 'envoy.service.discovery.v3.DiscoveryResponse';
    const variants: [string, SidecarBootstrapOptions][] = [
      ['mTLS', BASE],
      ['CA only', { ...BASE, tls: { caFile: MTLS.caFile, sdsDir: '/etc/envoy' } }],
      ['IP literal host', { ...BASE, xdsHost: '127.0.0.1' }],
    ];
    const items: ValidateItem[] = variants.flatMap(([name, options]) => [
      { source: `${name}: bootstrap`, bootstrap: buildSidecarBootstrap(options) },
      ...buildSdsFiles(options.tls!).map((f) => ({ source: `${name}: ${f.path}`, type: sdsType, message: f.content })),
    ]);
    const broken = buildSdsFiles(MTLS)[1]!.content as Obj;
    broken.resources[0].tls_certificate.watched_directory.path = '';
    const results = await runEnvoyValidate([...items, { source: 'broken', type: sdsType, message: broken }]);
    expect(results.slice(0, -1).map((r) => [r.source, r.violations])).toEqual(items.map((i) => [i.source, []]));
    expect(results.at(-1)!.violations).toEqual(['resources[0](Secret): TlsCertificate.WatchedDirectory.Path: value length must be at least 1 runes']);
  });
});
