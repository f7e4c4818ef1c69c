import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { buildSidecarBootstrap } from '../../src/bootstrap/index.js';
import { demoClusters } from '../../src/cli/demo-mesh.js';
import { egressRouteName } from '../../src/model/index.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { SimulatedCluster } from '../../src/sources/sim/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';

const protos = loadEnvoyProtos();
let daemon: Daemon | undefined;
let sidecars: AdsClient[] = [];

afterEach(async () => {
  for (const sidecar of sidecars) await sidecar.close();
  sidecars = [];
  await daemon?.stop(2_000);
  daemon = undefined;
});

async function start(clusterDomain?: string): Promise<Daemon> {
  const clusters = demoClusters().map((options) => new SimulatedCluster({ ...options, timing: { readyDelayMs: 0, gracePeriodMs: 30_000 } }));
  daemon = await startDaemon(
    {
      sources: clusters,
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
});
