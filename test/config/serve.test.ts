import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServeConfig, ConfigError, SERVICE_ACCOUNT_DIR } from '../../src/config/index.js';

let dir: string;
let east: string;
let west: string;
let cert: string;
let key: string;
let ca: string;
let saPrefix: string;
const notInPod = { inCluster: { env: {} } };

function kubeconfigText(port: number): string {
  return JSON.stringify({
    clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${port}` } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx',
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-serve-'));
  east = join(dir, 'east.yaml');
  west = join(dir, 'west.yaml');
  writeFileSync(east, kubeconfigText(6443));
  writeFileSync(west, kubeconfigText(6444));
  cert = join(dir, 'tls.crt');
  key = join(dir, 'tls.key');
  ca = join(dir, 'ca.crt');
  writeFileSync(cert, 'CERT');
  writeFileSync(key, 'KEY');
  writeFileSync(ca, 'CA');
  saPrefix = join(dir, 'pod');
  mkdirSync(join(saPrefix, SERVICE_ACCOUNT_DIR), { recursive: true });
  writeFileSync(join(saPrefix, SERVICE_ACCOUNT_DIR, 'token'), 'tok');
  writeFileSync(join(saPrefix, SERVICE_ACCOUNT_DIR, 'ca.crt'), 'ca');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildServeConfig', () => {
  it.each([
    ['corp.internal', 'corp.internal'],
    ['Cluster.Local.', 'cluster.local'],
  ])('takes --cluster-domain %s', (value, want) => {
    expect(buildServeConfig({ cluster: [`east=${east}`], clusterDomain: value }, notInPod).clusterDomain).toBe(want);
  });

  it.each(['10.0.0.1', 'not a domain', 'under_score.local'])('refuses --cluster-domain %s', (value) => {
    expect(() => buildServeConfig({ cluster: [`east=${east}`], clusterDomain: value }, notInPod)).toThrow(/--cluster-domain/);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['every --cluster in order by default', {}, ['west', 'east']],
    ['the order given', { policyClusters: ['east', 'west'] }, ['east', 'west']],
    ['a comma-separated list', { policyClusters: ['east,west'] }, ['east', 'west']],
    ['a subset', { policyClusters: ['east'] }, ['east']],
    ['none in mesh scope', { serviceScope: 'mesh' }, []],
  ])('--policy-clusters: %s', (_name, flags, want) => {
    expect(buildServeConfig({ cluster: [`west=${west}`, `east=${east}`], ...flags }, notInPod).policyClusters).toEqual(want);
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [{ policyClusters: ['north'] }, /--policy-clusters: 'north' is not one of the clusters \(west, east\)/],
    [{ policyClusters: ['east,east'] }, /--policy-clusters: a cluster is named twice/],
    [{ policyClusters: ['east'], serviceScope: 'mesh' }, /--policy-clusters: ServicePolicies need --service-scope namespace/],
    [{ policyNamespace: 'Not_A_Namespace' }, /--policy-namespace/],
  ])('refuses %o', (flags, error) => {
    expect(() => buildServeConfig({ cluster: [`west=${west}`, `east=${east}`], ...flags }, notInPod)).toThrow(error);
  });

  it('reads the mesh defaults from namespace herald unless told', () => {
    expect(buildServeConfig({ cluster: [`east=${east}`] }, notInPod).policyNamespace).toBe('herald');
    expect(buildServeConfig({ cluster: [`east=${east}`], policyNamespace: 'mesh-system' }, notInPod).policyNamespace).toBe('mesh-system');
  });

  it('applies defaults', () => {
    const config = buildServeConfig({ cluster: [`east=${east}`] }, notInPod);
    expect(config).toMatchObject({
      localCluster: undefined,
      xdsHost: '0.0.0.0',
      xdsPort: 18000,
      adminHost: '0.0.0.0',
      adminPort: 18001,
      serviceLabel: 'app',
      serviceScope: 'namespace',
      namespaces: [],
      portName: 'http',
      defaultPort: undefined,
      clusterDomain: 'cluster.local',
      initialSyncTimeoutMs: 30_000,
      includeNotReady: false,
      maxConnectionAgeMs: undefined,
      grpcFastPath: true,
      logLevel: 'info',
      tls: undefined,
    });
    expect(config.batchWindowMs).toBeGreaterThan(0);
    expect(config.clusters.map((c) => c.name)).toEqual(['east']);
    expect(config.clusters[0]!.kubeConfig.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it('takes every value', () => {
    const config = buildServeConfig(
      {
        cluster: [`east=${east}`, `west=${west}#ctx`],
        localCluster: 'west',
        xdsPort: 0,
        adminPort: 0,
        xdsHost: '127.0.0.1',
        adminHost: '::1',
        serviceLabel: 'app.kubernetes.io/name',
        serviceScope: 'mesh',
        namespace: ['shop', 'payments', 'shop'],
        portName: 'grpc',
        defaultPort: 8080,
        initialSyncTimeout: '5s',
        includeNotReady: true,
        batchWindow: '20ms',
        maxConnectionAge: '10m',
        grpcFastPath: false,
        logLevel: 'debug',
        tlsCert: cert,
        tlsKey: key,
        tlsCa: ca,
        // yargs adds these; they are ignored
        _: ['serve'],
        $0: 'herald',
        'xds-port': 0,
      },
      notInPod,
    );
    expect(config).toMatchObject({
      localCluster: 'west',
      xdsPort: 0,
      adminPort: 0,
      xdsHost: '127.0.0.1',
      adminHost: '::1',
      serviceLabel: 'app.kubernetes.io/name',
      serviceScope: 'mesh',
      namespaces: ['payments', 'shop'],
      portName: 'grpc',
      defaultPort: 8080,
      initialSyncTimeoutMs: 5000,
      includeNotReady: true,
      batchWindowMs: 20,
      maxConnectionAgeMs: 600_000,
      grpcFastPath: false,
      logLevel: 'debug',
    });
    expect(config.clusters.map((c) => c.name)).toEqual(['east', 'west']);
    expect(config.tls).toMatchObject({ certPath: cert, keyPath: key, caPath: ca, requireClientCert: true });
    expect(config.tls?.cert.toString()).toBe('CERT');
  });

  it('takes one --namespace as a plain string (a HERALD_NAMESPACE value)', () => {
    expect(buildServeConfig({ cluster: `east=${east}`, namespace: 'shop' }, notInPod).namespaces).toEqual(['shop']);
  });

  it('serves TLS without client certificates when no CA is given', () => {
    const config = buildServeConfig({ cluster: `east=${east}`, tlsCert: cert, tlsKey: key }, notInPod);
    expect(config.tls).toMatchObject({ requireClientCert: false, ca: undefined });
  });

  it('maps SPIFFE trust domains to kube clusters with --tls-trust-domain', () => {
    const config = buildServeConfig({ cluster: `east=${east}`, tlsCert: cert, tlsKey: key, tlsCa: ca, tlsTrustDomain: ['east.example=east', 'west.example=west'] }, notInPod);
    expect([...config.tls!.trustDomains]).toEqual([
      ['east.example', 'east'],
      ['west.example', 'west'],
    ]);
    expect(buildServeConfig({ cluster: `east=${east}`, tlsCert: cert, tlsKey: key, tlsCa: ca }, notInPod).tls!.trustDomains.size).toBe(0);
  });

  it('uses the in-cluster config when no --cluster is given in a pod', () => {
    const config = buildServeConfig({}, { inCluster: { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, pathPrefix: saPrefix } });
    expect(config.clusters.map((c) => c.name)).toEqual(['local']);
    expect(config.clusters[0]!.kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
  });

  it('adds the in-cluster config next to kubeconfig clusters with --in-cluster', () => {
    const inPod = { inCluster: { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, pathPrefix: saPrefix } };
    const config = buildServeConfig({ cluster: [`west=${west}`], inCluster: 'east', localCluster: 'east' }, inPod);
    expect(config.clusters.map((c) => c.name)).toEqual(['west', 'east']);
    expect(config.localCluster).toBe('east');
  });

  const cases: Array<{ title: string; raw: () => Record<string, unknown>; error: RegExp }> = [
    { title: 'no cluster and not in a pod', raw: () => ({}), error: /no --cluster given and no in-cluster config: .*not running in a Kubernetes pod/ },
    { title: 'bad --cluster', raw: () => ({ cluster: ['east'] }), error: /--cluster 'east'.*missing '='/ },
    { title: 'duplicate cluster', raw: () => ({ cluster: [`east=${east}`, `east=${west}`] }), error: /cluster name 'east' is given more than once/ },
    { title: 'missing kubeconfig', raw: () => ({ cluster: [`east=${join(dir, 'x.yaml')}`] }), error: /--cluster east: kubeconfig .*x\.yaml: file not found/ },
    { title: 'unknown context', raw: () => ({ cluster: [`east=${east}#nope`] }), error: /unknown context 'nope' \(available: ctx\)/ },
    { title: 'local cluster not among clusters', raw: () => ({ cluster: [`east=${east}`], localCluster: 'west' }), error: /--local-cluster: 'west' is not one of the clusters \(east\)/ },
    { title: '--in-cluster name clash', raw: () => ({ cluster: [`east=${east}`], inCluster: 'east' }), error: /--in-cluster: cluster name 'east' is also given with --cluster/ },
    { title: '--in-cluster outside a pod', raw: () => ({ cluster: [`east=${east}`], inCluster: 'home' }), error: /cluster home \(in-cluster\): not running in a Kubernetes pod/ },
    { title: 'bad xds port', raw: () => ({ cluster: [`east=${east}`], xdsPort: 70000 }), error: /--xds-port: '70000' is not a port/ },
    { title: 'bad admin port', raw: () => ({ cluster: [`east=${east}`], adminPort: 'x' }), error: /--admin-port: 'x' is not a number/ },
    { title: 'same ports', raw: () => ({ cluster: [`east=${east}`], xdsPort: 9000, adminPort: 9000 }), error: /--admin-port: 9000 is also the --xds-port/ },
    { title: 'bad host', raw: () => ({ cluster: [`east=${east}`], adminHost: 'a b' }), error: /--admin-host: 'a b' is not an IP address or host name/ },
    { title: 'bad service label', raw: () => ({ cluster: [`east=${east}`], serviceLabel: 'a/b/c' }), error: /--service-label: 'a\/b\/c' is not a valid label key/ },
    { title: 'unknown service scope', raw: () => ({ cluster: [`east=${east}`], serviceScope: 'global' }), error: /--service-scope: 'global' is not a service scope \(namespace or mesh\)/ },
    { title: 'namespace with a dot', raw: () => ({ cluster: [`east=${east}`], namespace: ['shop', 'a.b'] }), error: /--namespace: 'a\.b' is not a namespace name \(1-63 lowercase/ },
    { title: 'namespace in upper case', raw: () => ({ cluster: [`east=${east}`], namespace: ['Shop'] }), error: /--namespace: 'Shop' is not a namespace name/ },
    { title: 'namespace with an underscore', raw: () => ({ cluster: [`east=${east}`], namespace: ['my_ns'] }), error: /--namespace: 'my_ns' is not a namespace name/ },
    { title: 'namespace ending in a dash', raw: () => ({ cluster: [`east=${east}`], namespace: ['shop-'] }), error: /--namespace: 'shop-' is not a namespace name/ },
    { title: 'namespace of 64 characters', raw: () => ({ cluster: [`east=${east}`], namespace: ['n'.repeat(64)] }), error: /--namespace: 'n{64}' is not a namespace name/ },
    { title: 'empty namespace in a list', raw: () => ({ cluster: [`east=${east}`], namespace: ['shop', ''] }), error: /--namespace: '' is not a namespace name/ },
    { title: 'bad port name', raw: () => ({ cluster: [`east=${east}`], portName: 'HTTP' }), error: /--port-name: 'HTTP' is not a port name/ },
    { title: 'default port 0', raw: () => ({ cluster: [`east=${east}`], defaultPort: 0 }), error: /--default-port: '0' is not a port/ },
    { title: 'sync timeout without unit', raw: () => ({ cluster: [`east=${east}`], initialSyncTimeout: '30' }), error: /--initial-sync-timeout: '30' needs a unit/ },
    { title: 'bad batch window', raw: () => ({ cluster: [`east=${east}`], batchWindow: 'fast' }), error: /--batch-window: 'fast' is not a duration/ },
    { title: 'zero max connection age', raw: () => ({ cluster: [`east=${east}`], maxConnectionAge: '0s' }), error: /--max-connection-age: must be greater than zero/ },
    { title: 'bad grpc-fast-path', raw: () => ({ cluster: [`east=${east}`], grpcFastPath: 'fast' }), error: /--grpc-fast-path: 'fast' is not true or false/ },
    { title: 'bad include-not-ready', raw: () => ({ cluster: [`east=${east}`], includeNotReady: 'yes' }), error: /--include-not-ready: 'yes' is not true or false/ },
    { title: 'bad log level', raw: () => ({ cluster: [`east=${east}`], logLevel: 'loud' }), error: /--log-level: 'loud' is not a log level/ },
    { title: 'cert without key', raw: () => ({ cluster: [`east=${east}`], tlsCert: cert }), error: /--tls-cert: needs --tls-key as well/ },
    { title: 'key without cert', raw: () => ({ cluster: [`east=${east}`], tlsKey: key }), error: /--tls-key: needs --tls-cert as well/ },
    { title: 'ca alone', raw: () => ({ cluster: [`east=${east}`], tlsCa: ca }), error: /--tls-ca: needs --tls-cert and --tls-key/ },
    { title: 'missing cert file', raw: () => ({ cluster: [`east=${east}`], tlsCert: join(dir, 'none.crt'), tlsKey: key }), error: /--tls-cert: .*none\.crt: file not found/ },
    {
      title: 'trust domain without a CA',
      raw: () => ({ cluster: [`east=${east}`], tlsCert: cert, tlsKey: key, tlsTrustDomain: 'td=east' }),
      error: /--tls-trust-domain: needs --tls-ca/,
    },
    {
      title: 'trust domain without a cluster',
      raw: () => ({ cluster: [`east=${east}`], tlsCert: cert, tlsKey: key, tlsCa: ca, tlsTrustDomain: 'td' }),
      error: /--tls-trust-domain: 'td' is not TRUST_DOMAIN=KUBE_CLUSTER/,
    },
    {
      title: 'upper-case trust domain',
      raw: () => ({ cluster: [`east=${east}`], tlsCert: cert, tlsKey: key, tlsCa: ca, tlsTrustDomain: 'TD=east' }),
      error: /--tls-trust-domain: 'TD=east' is not TRUST_DOMAIN=KUBE_CLUSTER/,
    },
    {
      title: 'trust domain given twice',
      raw: () => ({ cluster: [`east=${east}`], tlsCert: cert, tlsKey: key, tlsCa: ca, tlsTrustDomain: ['td=east', 'td=west'] }),
      error: /--tls-trust-domain: trust domain 'td' is given twice/,
    },
    {
      title: 'trust domain with a bad cluster name',
      raw: () => ({ cluster: [`east=${east}`], tlsCert: cert, tlsKey: key, tlsCa: ca, tlsTrustDomain: 'td=East_1' }),
      error: /--tls-trust-domain: cluster name 'East_1' is not a DNS label/,
    },
    { title: 'missing ca file', raw: () => ({ cluster: [`east=${east}`], tlsCert: cert, tlsKey: key, tlsCa: join(dir, 'none-ca.crt') }), error: /--tls-ca: .*none-ca\.crt: file not found/ },
  ];
  for (const c of cases) {
    it(`rejects: ${c.title}`, () => {
      const build = () => buildServeConfig(c.raw(), notInPod);
      expect(build).toThrow(ConfigError);
      expect(build).toThrow(c.error);
    });
  }
});
