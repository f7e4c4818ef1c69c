import { describe, expect, it } from 'vitest';
import { ADMIN_CLUSTER_NAME, buildSidecarBootstrap, durationJson, READINESS_PATH, XDS_CLUSTER_NAME, type SidecarBootstrapOptions } from '../../src/bootstrap/index.js';
import { locateInteropTools, runEnvoyValidate } from '../interop/tools.js';
import { egressRouteName } from '../../src/model/index.js';

// Built by `bash test/interop/build.sh` (CI setup); the test says why when it is missing.
const interop = locateInteropTools();

const BASE: SidecarBootstrapOptions = {
  service: 'payments',
  nodeId: 'payments-7d9f-abcde.shop',
  xdsHost: 'herald.herald.svc.cluster.local',
  xdsPort: 18000,
};

type Obj = Record<string, any>;
const build = (extra: Partial<SidecarBootstrapOptions> = {}): Obj => buildSidecarBootstrap({ ...BASE, ...extra }) as Obj;

describe('buildSidecarBootstrap', () => {
  it('names the node after the pod and the service', () => {
    expect(build().node).toEqual({ id: BASE.nodeId, cluster: 'payments' });
    expect(build({ zone: 'eu-west-1a', region: 'eu-west-1' }).node.locality).toEqual({ region: 'eu-west-1', zone: 'eu-west-1a' });
    expect(build({ zone: 'a' }).node.locality).toEqual({ zone: 'a' });
  });

  it.each<[string, Partial<SidecarBootstrapOptions>, Record<string, string> | undefined]>([
    ['no flags: no metadata', {}, undefined],
    ['kube cluster', { kubeCluster: 'eu-1' }, { 'herald.io/kube-cluster': 'eu-1' }],
    ['namespace', { namespace: 'shop' }, { 'herald.io/namespace': 'shop' }],
    ['both', { kubeCluster: 'eu-1', namespace: 'shop' }, { 'herald.io/kube-cluster': 'eu-1', 'herald.io/namespace': 'shop' }],
  ])('node metadata, %s', (_name, extra, metadata) => {
    const node = build(extra).node;
    expect(node.metadata).toEqual(metadata);
    expect('metadata' in node).toBe(metadata !== undefined);
  });

  it('points a STRICT_DNS HTTP/2 cluster at the headless Service', () => {
    const clusters = build({ xdsPort: 19000 }).static_resources.clusters as Obj[];
    expect(clusters).toHaveLength(1);
    const xds = clusters[0]!;
    expect(xds.name).toBe(XDS_CLUSTER_NAME);
    expect(xds.type).toBe('STRICT_DNS');
    expect(xds.load_assignment.cluster_name).toBe(XDS_CLUSTER_NAME);
    expect(xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({
      address: 'herald.herald.svc.cluster.local',
      port_value: 19000,
    });
    const http = xds.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(http['@type']).toBe('type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions');
    expect(http.explicit_http_config.http2_protocol_options).toBeDefined();
  });

  it('takes CDS (and LDS unless turned off) over one ADS stream to that cluster', () => {
    const dynamic = build().dynamic_resources;
    expect(dynamic.ads_config).toMatchObject({
      api_type: 'GRPC',
      transport_api_version: 'V3',
      grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
    });
    // initial_fetch_timeout 0s: no going LIVE before Herald's first CDS and LDS answers.
    expect(dynamic.cds_config).toEqual({ ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' });
    expect(dynamic.lds_config).toEqual({ ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' });
    expect(build({ lds: false }).dynamic_resources.lds_config).toBeUndefined();
  });

  it('adds Envoy admin on loopback only when asked', () => {
    expect(build().admin).toBeUndefined();
    expect(build({ adminPort: 9901 }).admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 9901 });
  });

  it("takes the egress listener's routes from Herald over RDS, named after the declared dependencies", () => {
    const bootstrap = build({ dependencies: ['ledger.pay', 'accounts.pay', 'ledger.pay'], egressPort: 15001 });
    const listeners = bootstrap.static_resources.listeners as Obj[];
    expect(listeners).toHaveLength(1);
    expect(listeners[0]!.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 15001 });
    const hcm = listeners[0]!.filter_chains[0].filters[0].typed_config;
    expect(hcm.route_config).toBeUndefined();
    expect(hcm.rds).toEqual({
      config_source: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' },
      route_config_name: egressRouteName(['accounts.pay', 'ledger.pay']),
    });
    expect(hcm.http_filters.at(-1).name).toBe('envoy.filters.http.router');
    // The same list written in another order or with repeats is the same route.
    const again = build({ dependencies: ['accounts.pay', 'ledger.pay'], egressPort: 15001 }).static_resources.listeners[0];
    expect(again.filter_chains[0].filters[0].typed_config.rds.route_config_name).toBe(hcm.rds.route_config_name);
    expect(build().static_resources.listeners).toBeUndefined();
  });

  it('writes the declared dependencies into node metadata, with or without an egress listener', () => {
    expect(build({ dependencies: ['ledger.pay', 'cart.shop'] }).node.metadata).toEqual({ 'herald.io/dependencies': ['cart.shop', 'ledger.pay'] });
    expect(build({ dependencies: ['ledger.pay', 'cart.shop'] }).static_resources.listeners).toBeUndefined();
    expect(build({ dependencies: [] }).node.metadata).toEqual({ 'herald.io/dependencies': [] });
    expect(build().node.metadata).toBeUndefined();
  });

  it('with a readiness port, forwards only GET /ready from 0.0.0.0 to the admin address', () => {
    const bootstrap = build({ adminPort: 9901, readinessPort: 15021, dependencies: ['ledger.pay'], egressPort: 15001 });
    const listeners = bootstrap.static_resources.listeners as Obj[];
    expect(listeners.map((l) => [l.name, l.address.socket_address])).toEqual([
      ['herald_egress', { address: '127.0.0.1', port_value: 15001 }],
      ['herald_readiness', { address: '0.0.0.0', port_value: 15021 }],
    ]);
    const clusters = bootstrap.static_resources.clusters as Obj[];
    expect(clusters.map((c) => c.name)).toEqual([XDS_CLUSTER_NAME, ADMIN_CLUSTER_NAME]);
    expect(clusters[1]!.type).toBe('STATIC');
    expect(clusters[1]!.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 9901 });

    const hcm = listeners[1]!.filter_chains[0].filters[0].typed_config;
    expect(hcm.normalize_path).toBe(true);
    expect(hcm.http_filters.map((f: Obj) => f.name)).toEqual(['envoy.filters.http.router']);
    const hosts = hcm.route_config.virtual_hosts as Obj[];
    expect(hosts.map((h) => h.domains)).toEqual([['*']]);
    // The only route to the admin cluster: exact path /ready, method GET, no rewrite.
    const routes = hosts[0]!.routes as Obj[];
    const toAdmin = routes.filter((r) => r.route?.cluster === ADMIN_CLUSTER_NAME);
    expect(toAdmin).toHaveLength(1);
    expect(toAdmin[0]!.match).toEqual({ path: READINESS_PATH, headers: [{ name: ':method', string_match: { exact: 'GET' } }] });
    expect(Object.keys(toAdmin[0]!.route).sort()).toEqual(['cluster', 'timeout']);
    // Everything else is answered by Envoy itself.
    for (const route of routes.filter((r) => r !== toAdmin[0])) {
      expect(route.route).toBeUndefined();
      expect(route.direct_response.status).toBe(404);
    }
    expect(routes.at(-1)!.match).toEqual({ prefix: '/' });
    // No other listener or route anywhere reaches the admin cluster.
    expect(JSON.stringify(listeners[0]).includes(ADMIN_CLUSTER_NAME)).toBe(false);
  });

  it('has no readiness listener or admin cluster without a readiness port', () => {
    const bootstrap = build({ adminPort: 9901 });
    expect(bootstrap.static_resources.listeners).toBeUndefined();
    expect((bootstrap.static_resources.clusters as Obj[]).map((c) => c.name)).toEqual([XDS_CLUSTER_NAME]);
  });

  it('is pure and free of shared references', () => {
    const options = { ...BASE, dependencies: ['a'], egressPort: 15001, adminPort: 9901 };
    const first = buildSidecarBootstrap(options);
    expect(buildSidecarBootstrap(options)).toEqual(first);
    const d = (first as Obj).dynamic_resources;
    expect(d.cds_config).not.toBe(d.lds_config);
  });

  it.each<[string, Partial<SidecarBootstrapOptions>, RegExp]>([
    ['empty service', { service: '' }, /service/],
    ['reserved service name', { service: XDS_CLUSTER_NAME }, /reserved/],
    ['admin cluster as service', { service: ADMIN_CLUSTER_NAME }, /reserved/],
    ['admin cluster as a dependency', { dependencies: [ADMIN_CLUSTER_NAME] }, /dependencies/],
    ['a dependency that is no service name', { dependencies: ['a b'] }, /dependencies: 'a b'/],
    ['readiness port without admin', { readinessPort: 15021 }, /readinessPort: needs adminPort/],
    ['readiness on the admin port', { adminPort: 9901, readinessPort: 9901 }, /readinessPort: same as adminPort/],
    ['readiness port 0', { adminPort: 9901, readinessPort: 0 }, /readinessPort/],
    ['egress on the readiness port', { adminPort: 9901, readinessPort: 15021, dependencies: ['a'], egressPort: 15021 }, /same as readinessPort/],
    ['kube cluster not a DNS label', { kubeCluster: 'EU_1' }, /kubeCluster/],
    ['namespace too long', { namespace: 'a'.repeat(64) }, /namespace/],
    ['namespace with a dot', { namespace: 'a.b' }, /namespace/],
    ['blank node id', { nodeId: '  ' }, /nodeId/],
    ['host with a scheme', { xdsHost: 'http://herald' }, /xdsHost/],
    ['host with upper case', { xdsHost: 'Herald.svc' }, /xdsHost/],
    ['port 0', { xdsPort: 0 }, /xdsPort/],
    ['port too big', { xdsPort: 70000 }, /xdsPort/],
    ['admin port fraction', { adminPort: 1.5 }, /adminPort/],
    ['egress with no dependencies', { egressPort: 15001 }, /egressPort: name at least one dependency/],
    ['egress with an empty dependency list', { egressPort: 15001, dependencies: [] }, /egressPort/],
    ['egress on the admin port', { adminPort: 9901, dependencies: ['a'], egressPort: 9901 }, /egressPort: same as adminPort/],
  ])('rejects %s', (_name, extra, message) => {
    expect(() => build(extra)).toThrow(message);
  });
});

describe('durationJson', () => {
  it.each([
    [1000, '1s'],
    [5000, '5s'],
    [250, '0.25s'],
    [1500, '1.5s'],
    [1, '0.001s'],
  ])('%d ms → %s', (ms, text) => {
    expect(durationJson(ms)).toBe(text);
  });
});

describe.skipIf(!interop.tools)(`Envoy validation rules (go-control-plane checker)${interop.reason ? `: ${interop.reason}` : ''}`, () => {
  it('accepts every bootstrap variant and rejects a broken one', async () => {
    const variants = {
      minimal: build(),
      'no LDS': build({ lds: false }),
      full: build({ zone: 'a', region: 'r', adminPort: 9901, dependencies: ['ledger.pay', 'accounts.pay'], egressPort: 15001 }),
      'scoped, no egress listener': build({ dependencies: ['ledger.pay'] }),
      'readiness and metadata': build({ zone: 'a', region: 'r', kubeCluster: 'eu-1', namespace: 'shop', adminPort: 9901, readinessPort: 15021 }),
      everything: build({
        zone: 'a',
        region: 'r',
        kubeCluster: 'eu-1',
        namespace: 'shop',
        adminPort: 9901,
        readinessPort: 15021,
        dependencies: ['ledger.pay'],
        egressPort: 15001,
        lds: false,
      }),
      'IP literal host': build({ xdsHost: '127.0.0.1', xdsPort: 18000 }),
    };
    const broken = build();
    broken.static_resources.clusters[0].connect_timeout = '-1s';
    broken.static_resources.clusters[0].lb_policy = 'NO_SUCH_POLICY';
    const items = [...Object.entries(variants).map(([source, bootstrap]) => ({ source, bootstrap })), { source: 'broken', bootstrap: broken }];
    const results = await runEnvoyValidate(items);
    expect(results.map((r) => r.source)).toEqual(items.map((i) => i.source));
    for (const result of results.slice(0, -1)) {
      expect({ source: result.source, violations: result.violations }).toEqual({ source: result.source, violations: [] });
      expect(result.typeUrl).toBe('type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap');
    }
    expect(results.at(-1)!.violations.join('\n')).toMatch(/ConnectTimeout|lb_policy|NO_SUCH_POLICY/);
  });

  it('places initial_fetch_timeout where Envoy reads it: on the ConfigSource, not the ADS ApiConfigSource', async () => {
    const misplaced = build();
    delete misplaced.dynamic_resources.cds_config.initial_fetch_timeout;
    misplaced.dynamic_resources.ads_config.initial_fetch_timeout = '0s';
    const [result] = await runEnvoyValidate([{ source: 'misplaced', bootstrap: misplaced }]);
    expect(result!.violations.join('\n')).toMatch(/initial_fetch_timeout/);
  });
});
