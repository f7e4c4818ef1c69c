import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { buildSidecarBootstrap } from '../../src/bootstrap/index.js';
import { demoClusters } from '../../src/cli/demo-mesh.js';
import { egressRouteName } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { SimulatedCluster } from '../../src/sources/sim/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';

const protos = loadEnvoyProtos();
let daemon: Daemon | undefined;
let sidecars: AdsClient[] = [];

afterEach(async () => {
  for (const sidecar of sidecars) await sidecar.close();
  sidecars = [];
  await daemon?.stop(2_000);
  daemon = undefined;
});

let clusters: SimulatedCluster[] = [];

async function start(clusterDomain?: string, policySource?: ManualPolicySource): Promise<Daemon> {
  clusters = demoClusters().map((options) => new SimulatedCluster({ ...options, timing: { readyDelayMs: 0, gracePeriodMs: 30_000 } }));
  daemon = await startDaemon(
    {
      sources: clusters,
      ...(policySource ? { policies: { sources: [policySource], clusters: [policySource.name], namespace: 'herald' } } : {}),
      localCluster: clusters[0]!.name,
      initialSyncTimeoutMs: 5_000,
      xds: { host: '127.0.0.1', port: 0 },
      admin: undefined,
      ...(clusterDomain ? { clusterDomain } : {}),
    },
    { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
  );
  await daemon.ready;
  return daemon;
}

/** An Envoy-shaped client configured from `herald bootstrap` output: its node metadata and its egress listener's RDS name. */
function sidecarFromBootstrap(d: Daemon, nodeId: string, services: string[]): { client: AdsClient; routeName: string } {
  const bootstrap = buildSidecarBootstrap({ service: 'frontend.shop', nodeId, xdsHost: 'herald.herald.svc', xdsPort: 18000, dependencies: services, egressPort: 15001 }) as {
    node: { metadata: Record<string, string[]> };
    static_resources: { listeners: { filter_chains: { filters: { typed_config: { rds: { route_config_name: string } } }[] }[] }[] };
  };
  const routeName = bootstrap.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.rds.route_config_name;
  const client = new AdsClient({
    target: `127.0.0.1:${d.xdsPort}`,
    nodeId,
    cluster: 'frontend.shop',
    dependencies: bootstrap.node.metadata['herald.io/dependencies'],
    routeConfigs: [routeName],
    protos,
  }).start();
  sidecars.push(client);
  return { client, routeName };
}

describe('sidecar egress routes over RDS', () => {
  it('routes the names an application uses to its declared services, and nothing else', async () => {
    const d = await start();
    const { client, routeName } = sidecarFromBootstrap(d, 'frontend-1', ['payments.shop', 'checkout.shop']);
    // A sidecar that declares payments.shop alone: the split's other backend joins its scope.
    const alone = sidecarFromBootstrap(d, 'frontend-2', ['payments.shop']);
    await alone.client.waitFor((c) => c.routes(alone.routeName)?.virtualHosts.length === 1, 10_000);
    expect(alone.client.clusters()).toEqual(['payments.shop']);
    expect(routeName).toBe(egressRouteName(['checkout.shop', 'payments.shop']));
    await client.waitFor((c) => c.routes(routeName) !== undefined && c.subscriptions().every((n) => c.assignment(n)) && c.subscriptions().length === 2, 10_000);

    expect(client.clusters().sort()).toEqual(['checkout.shop', 'payments.shop']);
    for (const [host, cluster] of [
      ['payments.shop', 'payments.shop'],
      ['payments.shop:8080', 'payments.shop'],
      ['payments.shop.svc', 'payments.shop'],
      ['checkout.shop.svc.cluster.local', 'checkout.shop'],
      ['CHECKOUT.shop.svc.cluster.local:443', 'checkout.shop'],
      ['catalog.browse', undefined],
      ['payments', undefined],
    ] as const) {
      expect({ host, cluster: client.routeFor(routeName, host) }).toEqual({ host, cluster });
    }
    // Every routed cluster is one the sidecar holds, with endpoints.
    for (const vh of client.routes(routeName)!.virtualHosts) expect(client.assignment(vh.cluster!)?.endpoints.length).toBeGreaterThan(0);
    expect(client.stats().nacks).toBe(0);
  });

  it('shares one RouteConfiguration per declaration and drops it with the last client', async () => {
    const d = await start();
    const a = sidecarFromBootstrap(d, 'frontend-1', ['payments.shop']);
    const b = sidecarFromBootstrap(d, 'frontend-2', ['payments.shop']);
    const other = sidecarFromBootstrap(d, 'search-1', ['catalog.browse']);
    for (const s of [a, b, other]) await s.client.waitFor((c) => c.routes(s.routeName) !== undefined, 10_000);
    expect(a.routeName).toBe(b.routeName);
    expect(other.routeName).not.toBe(a.routeName);
    const egressRoutes = () => [...d.cache.list('route')].map((r) => r.name).filter((name) => name.startsWith('herald~egress~'));
    expect(egressRoutes().sort()).toEqual([a.routeName, other.routeName].sort());

    await a.client.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(egressRoutes()).toContain(b.routeName);
    await b.client.close();
    for (let i = 0; i < 100 && egressRoutes().includes(b.routeName); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(egressRoutes()).toEqual([other.routeName]);
  });

  it('answers the DNS forms of --cluster-domain', async () => {
    const d = await start('corp.internal');
    const { client, routeName } = sidecarFromBootstrap(d, 'frontend-1', ['payments.shop']);
    await client.waitFor((c) => c.routes(routeName) !== undefined, 10_000);
    expect(client.routeFor(routeName, 'payments.shop.svc.corp.internal:8080')).toBe('payments.shop');
    expect(client.routeFor(routeName, 'payments.shop.svc.cluster.local')).toBeUndefined();
  });

  it('routes only to services that exist, however many names a client declares, and beside it drains go on', async () => {
    const d = await start();
    const good = sidecarFromBootstrap(d, 'frontend-1', ['payments.shop']);
    await good.client.waitFor((c) => c.routes(good.routeName) !== undefined && c.assignment('payments.shop') !== undefined, 10_000);

    // Declarations of thousands of made-up names (each Node under --max-node-bytes), from several streams.
    const junk = (i: number) => Array.from({ length: 2_000 }, (_, n) => `junk-${i}-${n}.nowhere`);
    const attackers = [0, 1, 2, 3].map((i) => sidecarFromBootstrap(d, `attacker-${i}`, ['payments.shop', ...junk(i)]));
    for (const a of attackers) await a.client.waitFor((c) => c.routes(a.routeName) !== undefined, 10_000);
    for (const a of attackers) {
      expect(a.client.routes(a.routeName)!.virtualHosts.map((vh) => vh.name)).toEqual(['payments.shop']);
      // As small as the good client's own: the made-up names cost no route bytes.
      expect(d.cache.get('route', a.routeName)!.any.length).toBe(d.cache.get('route', good.routeName)!.any.length - good.routeName.length + a.routeName.length);
    }

    // The good client still hears of a drain at once.
    const victim = clusters[0]!.pods().find((p) => p.service === 'payments.shop')!;
    void clusters[0]!.terminatePod(`${victim.namespace}/${victim.name}`);
    await good.client.waitFor((c) => c.assignment('payments.shop')!.endpoints.some((e) => e.address === victim.ip && e.health === 'DRAINING'), 10_000);
  });

  it('gives a declared service its virtual host when it appears, and takes it away when it goes', async () => {
    const d = await start();
    // The simulated cluster puts a service it is told to create in its namespace, 'default'.
    const { client, routeName } = sidecarFromBootstrap(d, 'frontend-1', ['payments.shop', 'late.default']);
    await client.waitFor((c) => c.routes(routeName) !== undefined, 10_000);
    expect(client.routes(routeName)!.virtualHosts.map((vh) => vh.name)).toEqual(['payments.shop']);
    expect(client.routeFor(routeName, 'late.default')).toBeUndefined();

    await clusters[0]!.scale('late', 1);
    await client.waitFor((c) => c.routes(routeName)!.virtualHosts.length === 2, 10_000);
    expect(client.routeFor(routeName, 'late.default:8080')).toBe('late.default');
    expect(client.clusters().sort()).toEqual(['late.default', 'payments.shop']);

    await clusters[0]!.scale('late', 0);
    for (const cluster of clusters) for (const pod of cluster.pods().filter((p) => p.service === 'late.default')) cluster.forceDelete(`${pod.namespace}/${pod.name}`);
    await client.waitFor((c) => c.routes(routeName)!.virtualHosts.length === 1, 10_000);
  });

  it("carries a service's ServicePolicy routes, the same as its proxyless RouteConfiguration, and drops a split backend's weight while it has no HEALTHY endpoint", async () => {
    const policySource = new ManualPolicySource('east');
    const d = await start(undefined, policySource);
    const { client, routeName } = sidecarFromBootstrap(d, 'frontend-1', ['payments.shop', 'checkout.shop']);
    // A sidecar that declares payments.shop alone: the split's other backend joins its scope.
    const alone = sidecarFromBootstrap(d, 'frontend-2', ['payments.shop']);
    await alone.client.waitFor((c) => c.routes(alone.routeName)?.virtualHosts.length === 1, 10_000);
    expect(alone.client.clusters()).toEqual(['payments.shop']);
    await client.waitFor((c) => c.routes(routeName)?.virtualHosts.length === 2, 10_000);
    const vh = (name: string) => client.routes(routeName)!.virtualHosts.find((v) => v.name === name);
    expect(vh('payments.shop')).toMatchObject({ cluster: 'payments.shop' });

    const routes = {
      timeoutMs: 3_000,
      retries: { retryOn: ['unavailable'] },
      split: [
        { service: 'payments', weight: 90 },
        { service: 'checkout', weight: 10 },
      ],
    };
    policySource.apply({ cluster: 'east', namespace: 'shop', name: 'payments', generation: 1, spec: { routes } });
    await client.waitFor(() => vh('payments.shop')?.weighted !== undefined, 10_000);
    expect(vh('payments.shop')!.weighted).toEqual([
      { cluster: 'payments.shop', weight: 90 },
      { cluster: 'checkout.shop', weight: 10 },
    ]);
    expect(vh('checkout.shop')).toMatchObject({ cluster: 'checkout.shop' });
    await alone.client.waitFor((c) => c.clusters().length === 2 && c.routes(alone.routeName)!.virtualHosts[0]!.weighted?.length === 2, 10_000);
    expect(alone.client.clusters().sort()).toEqual(['checkout.shop', 'payments.shop']);
    expect(alone.client.routes(alone.routeName)!.virtualHosts.map((v) => v.name)).toEqual(['payments.shop']);
    // The same action as the proxyless RouteConfiguration of payments.shop.
    const encoder = new ResourceEncoder(protos);
    const served = (name: string) =>
      (encoder.decodeAny(d.cache.get('route', name)!.any).message as { virtual_hosts: { name: string; routes: { route: Record<string, unknown> }[] }[] }).virtual_hosts;
    const egressPayments = served(routeName).find((v) => v.name === 'payments.shop')!.routes[0]!.route;
    expect(egressPayments).toEqual(served('payments.shop')[0]!.routes[0]!.route);
    expect(egressPayments.max_stream_duration).toBeDefined();
    expect(egressPayments.timeout).toBeDefined();

    // checkout's pods all terminate in both clusters: its weight drops to 0 (left out). The
    // scale-down resolves only when the pods are gone (the grace period): it is not awaited.
    for (const cluster of clusters) void cluster.scale('checkout', 0);
    await client.waitFor(() => vh('payments.shop')?.weighted?.length === 1, 10_000);
    expect(vh('payments.shop')!.weighted).toEqual([{ cluster: 'payments.shop', weight: 90 }]);
    for (const cluster of clusters) for (const pod of cluster.pods().filter((p) => p.service === 'checkout.shop')) cluster.forceDelete(`${pod.namespace}/${pod.name}`);
    await clusters[0]!.scale('checkout', 1);
    await client.waitFor(() => vh('payments.shop')?.weighted?.length === 2, 10_000);
  });
});
