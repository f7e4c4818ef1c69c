// Zone preference, graceful failover, evacuation and the terminating fallback against three real
// apiservers. Every cluster has Nodes in zones z1, z2 and z3 (the same zone names in each
// cluster, as clusters sharing a cloud region have), so a client's zone is only preferred in its
// own cluster. One Herald reads all three, with --include-not-ready so a not-Ready pod is sent
// UNHEALTHY and lowers its priority's health as Envoy counts it. The mesh-defaults
// ServicePolicy asks for PreferSameZone and the terminating fallback; clients declare their zone
// (node.locality.zone) and kube cluster (herald.io/kube-cluster), and one of them announces
// envoy.lb.does_not_support_overprovisioning as proxyless gRPC clients do.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdsClient } from '../../src/xdsclient/index.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess } from './harness/herald.js';
import { installPolicyCrd } from './harness/rbac.js';
import { healthView, until } from './harness/xds.js';

const bins = e2eBins();
const POLICY = { group: 'herald.io', version: 'v1alpha1', plural: 'servicepolicies' };
const ZONES = ['z1', 'z2', 'z3'] as const;
type ClusterName = 'east' | 'west' | 'north';
const SHOP = 'shop.default';
const SOLO = 'solo.default';
const LEDGER = 'ledger.default';
const PAIR = 'pair.default';
const PORT = 8080;
/** What the mesh defaults always say; evacuation is added to it and taken away again. */
const LOCALITY = { zone: 'PreferSameZone', terminatingFallback: 'Enabled' };

/** Pod IPs of shop: east has three pods in z1 and two in each other zone, west and north one per zone. */
const IP = {
  east: { z1: ['10.31.1.1', '10.31.1.2', '10.31.1.3'], z2: ['10.31.2.1', '10.31.2.2'], z3: ['10.31.3.1', '10.31.3.2'] },
  west: { z1: ['10.32.1.1'], z2: ['10.32.2.1'], z3: ['10.32.3.1'] },
  north: { z1: ['10.33.1.1'], z2: ['10.33.2.1'], z3: ['10.33.3.1'] },
};
const EAST = [...IP.east.z1, ...IP.east.z2, ...IP.east.z3];
const WEST = [...IP.west.z1, ...IP.west.z2, ...IP.west.z3];
const NORTH = [...IP.north.z1, ...IP.north.z2, ...IP.north.z3];

/** One line per priority, "p<N> <ip>…" with addresses sorted; an endpoint that is not HEALTHY shows its health ("10.31.1.2/UNHEALTHY"). */
function tiers(client: AdsClient, service: string): string[] {
  const byPriority = new Map<number, string[]>();
  for (const e of client.assignment(service)?.endpoints ?? []) {
    const list = byPriority.get(e.priority) ?? [];
    list.push(e.health === 'HEALTHY' ? e.address : `${e.address}/${e.health}`);
    byPriority.set(e.priority, list);
  }
  return [...byPriority.entries()].sort((a, b) => a[0] - b[0]).map(([p, list]) => `p${p} ${list.sort().join(' ')}`);
}

/** The expected tiers line of one priority. */
function tier(priority: number, ...addresses: string[]): string {
  return `p${priority} ${[...addresses].sort().join(' ')}`;
}

/** One line per locality, "p<N> <region>/<zone> w<weight>", sorted: what gRPC splits traffic by. */
function localities(client: AdsClient, service: string): string[] {
  const seen = new Set<string>();
  for (const e of client.assignment(service)?.endpoints ?? []) seen.add(`p${e.priority} ${e.region}/${e.zone} w${e.localityWeight}`);
  return [...seen].sort();
}

/** Waits (bounded) until `view` of the client is exactly `want`; a timeout shows both. */
async function settles(client: AdsClient, what: string, view: (c: AdsClient) => string[], want: string[], timeoutMs = 30_000): Promise<void> {
  const same = (c: AdsClient) => JSON.stringify(view(c)) === JSON.stringify(want);
  await client.waitFor(same, timeoutMs).catch((error: Error) => {
    throw new Error(`${what}: ${error.message}\nwant: ${JSON.stringify(want, null, 1)}\nheld: ${JSON.stringify(view(client), null, 1)}`, { cause: error });
  });
  expect(view(client)).toEqual(want);
}

describe.skipIf(bins === '')('e2e: zones in three clusters', () => {
  let env: E2eEnv;
  const clusters = {} as Record<ClusterName, TestCluster>;
  let herald: HeraldProcess;
  let policies: CustomObjectsApi;
  const clients: AdsClient[] = [];
  const client = (nodeId: string, kubeCluster: string, zone: string, clientFeatures?: string[]): AdsClient => {
    const c = new AdsClient({
      target: herald.xdsTarget,
      nodeId,
      protos: loadEnvoyProtos(),
      zone,
      region: kubeCluster,
      kubeCluster,
      ...(clientFeatures ? { clientFeatures } : {}),
      backoff: { baseMs: 200, capMs: 2000 },
    });
    c.on('error', () => undefined);
    clients.push(c);
    return c.start();
  };
  let eastZ1: AdsClient;
  let eastZ2: AdsClient;
  let eastZ3: AdsClient;
  let westZ2: AdsClient;
  let northZ3: AdsClient;
  /** In east's z1, announcing that it ignores overprovisioning (as grpc-js, grpc-go, grpc-java and C-core do). */
  let grpcZ1: AdsClient;

  /** Applies a ServicePolicy whose spec is this locality section in east (the policy cluster): created, or replaced when it exists. */
  async function applyLocality(namespace: string, name: string, locality: Record<string, unknown>): Promise<void> {
    const existing = (await policies.getNamespacedCustomObject({ ...POLICY, namespace, name }).catch(() => undefined)) as { metadata: { resourceVersion: string } } | undefined;
    const metadata = { name, namespace, ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}) };
    const body = { apiVersion: 'herald.io/v1alpha1', kind: 'ServicePolicy', metadata, spec: { locality } };
    if (existing) await policies.replaceNamespacedCustomObject({ ...POLICY, namespace, name, body });
    else await policies.createNamespacedCustomObject({ ...POLICY, namespace, body });
  }

  beforeAll(async () => {
    env = new E2eEnv(bins);
    const names: ClusterName[] = ['east', 'west', 'north'];
    const started = await env.startClusters(names.map((name) => ({ name, nodes: ZONES.map((zone) => ({ name: `${name}-${zone}`, zone, region: name })) })));
    names.forEach((name, i) => (clusters[name] = started[i]!));
    await installPolicyCrd(clusters.east.kube);
    policies = clusters.east.kube.kubeConfig('admin').makeApiClient(CustomObjectsApi);
    await applyLocality('herald', 'mesh-defaults', LOCALITY);
    for (const name of names) {
      for (const zone of ZONES) {
        for (const [i, ip] of IP[name][zone].entries()) {
          await clusters[name].kubelet.runPod({ name: `shop-${zone}-${i + 1}`, service: 'shop', node: `${name}-${zone}`, ip, port: PORT });
        }
      }
    }
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: names.map((name) => ({ name, kubeconfig: clusters[name].heraldKubeconfig })),
      initialSyncTimeout: '60s',
      extraArgs: ['--policy-clusters', 'east', '--include-not-ready'],
    });
    eastZ1 = client('east-z1', 'east', 'z1');
    eastZ2 = client('east-z2', 'east', 'z2');
    eastZ3 = client('east-z3', 'east', 'z3');
    westZ2 = client('west-z2', 'west', 'z2');
    northZ3 = client('north-z3', 'north', 'z3');
    grpcZ1 = client('grpc-east-z1', 'east', 'z1', ['envoy.lb.does_not_support_overprovisioning']);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.close();
  });

  /** What each client of the mesh sees of shop with every pod Ready and nothing evacuated. */
  const home = {
    eastZ1: () => [tier(0, ...IP.east.z1), tier(1, ...IP.east.z2, ...IP.east.z3), tier(2, ...WEST, ...NORTH)],
    eastZ2: () => [tier(0, ...IP.east.z2), tier(1, ...IP.east.z1, ...IP.east.z3), tier(2, ...WEST, ...NORTH)],
    eastZ3: () => [tier(0, ...IP.east.z3), tier(1, ...IP.east.z1, ...IP.east.z2), tier(2, ...WEST, ...NORTH)],
    westZ2: () => [tier(0, ...IP.west.z2), tier(1, ...IP.west.z1, ...IP.west.z3), tier(2, ...EAST, ...NORTH)],
    northZ3: () => [tier(0, ...IP.north.z3), tier(1, ...IP.north.z1, ...IP.north.z2), tier(2, ...EAST, ...WEST)],
  };

  it("a client per zone gets its zone of its own cluster at priority 0, the rest of its cluster at 1, the other clusters at 2 (zone names shared across clusters count only in the client's own)", async () => {
    await settles(eastZ1, 'east z1 client', (c) => tiers(c, SHOP), home.eastZ1(), 90_000);
    await settles(eastZ2, 'east z2 client', (c) => tiers(c, SHOP), home.eastZ2());
    await settles(eastZ3, 'east z3 client', (c) => tiers(c, SHOP), home.eastZ3());
    await settles(westZ2, 'west z2 client', (c) => tiers(c, SHOP), home.westZ2());
    await settles(northZ3, 'north z3 client', (c) => tiers(c, SHOP), home.northZ3());
    // Every priority fully HEALTHY: nothing spills, so the gRPC client reads the same priorities, each locality weighted by its HEALTHY endpoints.
    await settles(grpcZ1, 'gRPC east z1 client', (c) => tiers(c, SHOP), home.eastZ1());
    expect(localities(grpcZ1, SHOP)).toEqual(['p0 east/z1 w3', 'p1 east/z2 w2', 'p1 east/z3 w2', ...['north', 'west'].flatMap((region) => ZONES.map((zone) => `p2 ${region}/${zone} w1`))]);
  });

  it("a zone emptied: 1 of 3 Ready spills Envoy's share through locality weights for gRPC; none Ready merges the zone into its cluster; its pods deleted leave the other zones first; new pods bring it back", async () => {
    const east = clusters.east.kubelet;
    const [z1a, z1b, z1c] = IP.east.z1 as [string, string, string];
    await east.setReady('default', 'shop-z1-2', false);
    await east.setReady('default', 'shop-z1-3', false);
    // Envoy keeps the zone first (one HEALTHY endpoint is zoneMinEndpoints' default) and spills by its own overprovisioning.
    await settles(eastZ1, 'east z1 client, 1 of 3 Ready', (c) => tiers(c, SHOP), [
      tier(0, z1a, `${z1b}/UNHEALTHY`, `${z1c}/UNHEALTHY`),
      tier(1, ...IP.east.z2, ...IP.east.z3),
      tier(2, ...WEST, ...NORTH),
    ]);
    // gRPC: priority 0 keeps floor(140 × 1/3) = 46 %, priority 1 takes the other 54 % (2700 + 2700 for its two zones
    // of 2 HEALTHY each); both merge into one priority, and the other clusters move up to 1 with their usual weights.
    await settles(grpcZ1, 'gRPC east z1 client, 1 of 3 Ready', (c) => localities(c, SHOP), [
      'p0 east/z1 w4600',
      'p0 east/z2 w2700',
      'p0 east/z3 w2700',
      ...['north', 'west'].flatMap((region) => ZONES.map((zone) => `p1 ${region}/${zone} w1`)),
    ]);
    // Another zone's client sees z1 only as part of its priority 1.
    await settles(eastZ2, 'east z2 client, z1 1 of 3 Ready', (c) => tiers(c, SHOP), [
      tier(0, ...IP.east.z2),
      tier(1, z1a, `${z1b}/UNHEALTHY`, `${z1c}/UNHEALTHY`, ...IP.east.z3),
      tier(2, ...WEST, ...NORTH),
    ]);

    await east.setReady('default', 'shop-z1-1', false);
    const z1Down = [`${z1a}/UNHEALTHY`, `${z1b}/UNHEALTHY`, `${z1c}/UNHEALTHY`];
    await settles(eastZ1, 'east z1 client, none Ready', (c) => tiers(c, SHOP), [tier(0, ...z1Down, ...IP.east.z2, ...IP.east.z3), tier(1, ...WEST, ...NORTH)]);
    // gRPC: east is 4 HEALTHY of 7, floor(140 × 4/7) = 80 % stays (4000 for each zone of 2), 20 % spills to the six
    // single-endpoint zones of west and north (round(10 000 × 20/100 × 1/6) = 333 each); z1 keeps the minimum weight 1.
    await settles(grpcZ1, 'gRPC east z1 client, none Ready', (c) => localities(c, SHOP), [
      'p0 east/z1 w1',
      'p0 east/z2 w4000',
      'p0 east/z3 w4000',
      ...['north', 'west'].flatMap((region) => ZONES.map((zone) => `p0 ${region}/${zone} w333`)),
    ]);

    for (const name of ['shop-z1-1', 'shop-z1-2', 'shop-z1-3']) await east.deletePod('default', name, { graceSeconds: 0 });
    const emptied = [tier(0, ...IP.east.z2, ...IP.east.z3), tier(1, ...WEST, ...NORTH)];
    await settles(eastZ1, 'east z1 client, z1 deleted', (c) => tiers(c, SHOP), emptied);
    await settles(grpcZ1, 'gRPC east z1 client, z1 deleted', (c) => tiers(c, SHOP), emptied);
    expect(localities(grpcZ1, SHOP)).toEqual(['p0 east/z2 w2', 'p0 east/z3 w2', ...['north', 'west'].flatMap((region) => ZONES.map((zone) => `p1 ${region}/${zone} w1`))]);
    await settles(eastZ2, 'east z2 client, z1 deleted', (c) => tiers(c, SHOP), [tier(0, ...IP.east.z2), tier(1, ...IP.east.z3), tier(2, ...WEST, ...NORTH)]);

    // Replacement pods (new names, the freed IPs) make z1 the z1 clients' first priority again.
    for (const [i, ip] of IP.east.z1.entries()) await east.runPod({ name: `shop-z1-new-${i + 1}`, service: 'shop', node: 'east-z1', ip, port: PORT });
    await settles(eastZ1, 'east z1 client, z1 back', (c) => tiers(c, SHOP), home.eastZ1());
    await settles(grpcZ1, 'gRPC east z1 client, z1 back', (c) => tiers(c, SHOP), home.eastZ1());
    await settles(eastZ2, 'east z2 client, z1 back', (c) => tiers(c, SHOP), home.eastZ2());
  });

  it("README's worked example on real pods: a service whose own policy says zone: None, 5 of east's 10 pods Ready (3 in z1, 2 in z2) and west's 2, gives gRPC 4200 / 2800 / 3000", async () => {
    await applyLocality('default', 'ledger', { zone: 'None', terminatingFallback: 'Enabled' });
    const pods: { cluster: ClusterName; zone: string; ip: string; ready: boolean }[] = [
      ...[1, 2, 3, 4, 5, 6].map((n) => ({ cluster: 'east' as const, zone: 'z1', ip: `10.41.1.${n}`, ready: n <= 3 })),
      ...[1, 2, 3, 4].map((n) => ({ cluster: 'east' as const, zone: 'z2', ip: `10.41.2.${n}`, ready: n <= 2 })),
      ...[1, 2].map((n) => ({ cluster: 'west' as const, zone: 'z1', ip: `10.42.1.${n}`, ready: true })),
    ];
    for (const [i, pod] of pods.entries()) {
      await clusters[pod.cluster].kubelet.runPod({ name: `ledger-${i}`, service: 'ledger', node: `${pod.cluster}-${pod.zone}`, ip: pod.ip, port: PORT }, pod.ready);
    }
    const ip = (p: (typeof pods)[number]) => (p.ready ? p.ip : `${p.ip}/UNHEALTHY`);
    // Envoy in z1: no zone tier for this service, so all of east at 0 (5 of 10 HEALTHY), west at 1.
    await settles(eastZ1, 'east z1 client, ledger', (c) => tiers(c, LEDGER), [
      tier(0, ...pods.filter((p) => p.cluster === 'east').map(ip)),
      tier(1, ...pods.filter((p) => p.cluster === 'west').map(ip)),
    ]);
    // gRPC: 1.4 × 5/10 = 70 % stays in east, split 3:2 by HEALTHY endpoints; 30 % goes to west's one locality.
    await settles(grpcZ1, 'gRPC east z1 client, ledger', (c) => localities(c, LEDGER), ['p0 east/z1 w4200', 'p0 east/z2 w2800', 'p0 west/z1 w3000']);
  });

  it('zoneMinEndpoints: 2 makes a zone a priority of its own only while it has two HEALTHY endpoints', async () => {
    await applyLocality('default', 'pair', { zone: 'PreferSameZone', zoneMinEndpoints: 2, terminatingFallback: 'Enabled' });
    const east = clusters.east.kubelet;
    await east.runPod({ name: 'pair-z1-1', service: 'pair', node: 'east-z1', ip: '10.51.1.1', port: PORT });
    await east.runPod({ name: 'pair-z1-2', service: 'pair', node: 'east-z1', ip: '10.51.1.2', port: PORT });
    await east.runPod({ name: 'pair-z2-1', service: 'pair', node: 'east-z2', ip: '10.51.2.1', port: PORT });
    await clusters.west.kubelet.runPod({ name: 'pair-z2-1', service: 'pair', node: 'west-z2', ip: '10.52.2.1', port: PORT });
    await settles(eastZ1, 'east z1 client, pair', (c) => tiers(c, PAIR), [tier(0, '10.51.1.1', '10.51.1.2'), tier(1, '10.51.2.1'), tier(2, '10.52.2.1')]);
    // z2 has one HEALTHY endpoint, fewer than 2: no zone tier, all of east first.
    await settles(eastZ2, 'east z2 client, pair', (c) => tiers(c, PAIR), [tier(0, '10.51.1.1', '10.51.1.2', '10.51.2.1'), tier(1, '10.52.2.1')]);
    await east.setReady('default', 'pair-z1-2', false);
    await settles(eastZ1, 'east z1 client, pair with one z1 pod Ready', (c) => tiers(c, PAIR), [tier(0, '10.51.1.1', '10.51.1.2/UNHEALTHY', '10.51.2.1'), tier(1, '10.52.2.1')]);
  });

  it('west evacuated through the mesh defaults goes last for the clients of east and north (and its own), and removing the entry brings every client home', async () => {
    await applyLocality('herald', 'mesh-defaults', { ...LOCALITY, evacuate: ['west'] });
    const evacuated = {
      eastZ1: [tier(0, ...IP.east.z1), tier(1, ...IP.east.z2, ...IP.east.z3), tier(2, ...NORTH), tier(3, ...WEST)],
      eastZ3: [tier(0, ...IP.east.z3), tier(1, ...IP.east.z1, ...IP.east.z2), tier(2, ...NORTH), tier(3, ...WEST)],
      northZ3: [tier(0, ...IP.north.z3), tier(1, ...IP.north.z1, ...IP.north.z2), tier(2, ...EAST), tier(3, ...WEST)],
      // Its own cluster evacuated: west's client prefers the others, its zone included in the last priority.
      westZ2: [tier(0, ...EAST, ...NORTH), tier(1, ...WEST)],
    };
    await settles(eastZ1, 'east z1 client, west evacuated', (c) => tiers(c, SHOP), evacuated.eastZ1);
    await settles(eastZ3, 'east z3 client, west evacuated', (c) => tiers(c, SHOP), evacuated.eastZ3);
    await settles(northZ3, 'north z3 client, west evacuated', (c) => tiers(c, SHOP), evacuated.northZ3);
    await settles(westZ2, 'west z2 client, west evacuated', (c) => tiers(c, SHOP), evacuated.westZ2);
    expect(await herald.metric('herald_evacuated_clusters', { kube_cluster: 'west', mode: 'LastPriority' })).toBe(1);

    await applyLocality('herald', 'mesh-defaults', LOCALITY);
    await settles(eastZ1, 'east z1 client, evacuation undone', (c) => tiers(c, SHOP), home.eastZ1());
    await settles(eastZ3, 'east z3 client, evacuation undone', (c) => tiers(c, SHOP), home.eastZ3());
    await settles(northZ3, 'north z3 client, evacuation undone', (c) => tiers(c, SHOP), home.northZ3());
    await settles(westZ2, 'west z2 client, evacuation undone', (c) => tiers(c, SHOP), home.westZ2());
    expect(await herald.metric('herald_evacuated_clusters', { kube_cluster: 'west' })).toBeUndefined();
  });

  it("a one-replica service's pod deleted while Ready stays HEALTHY for the clients of all three clusters, and is DRAINING everywhere once a replacement in another cluster is Ready", async () => {
    const north = clusters.north.kubelet;
    await north.runPod({ name: 'solo-1', service: 'solo', node: 'north-z2', ip: '10.33.2.9', port: PORT, graceSeconds: 300 });
    const watchers = { eastZ1, westZ2, northZ3 };
    for (const [name, c] of Object.entries(watchers)) await until(c, `${name} sees solo`, (x) => healthView(x, SOLO).join() === '10.33.2.9:8080=HEALTHY', 30_000, [SOLO]);
    const fallbacksBefore = (await herald.metric('herald_terminating_fallbacks_total')) ?? 0;

    await north.deletePod('default', 'solo-1', { graceSeconds: 300, completion: 'never' });
    await expect.poll(async () => herald.metric('herald_terminating_fallback_services'), { timeout: 30_000, message: 'solo enters the terminating fallback' }).toBe(1);
    expect(await herald.metric('herald_terminating_fallbacks_total')).toBe(fallbacksBefore + 1);
    // HEALTHY is also what the clients held before the deletion: a pod of another service, created in north after it,
    // reaching each client shows the client has been sent everything Herald built from the deletion.
    await north.runPod({ name: 'marker-1', service: 'marker', node: 'north-z1', ip: '10.33.1.99', port: PORT });
    for (const [name, c] of Object.entries(watchers)) {
      await until(c, `${name} sees the marker`, (x) => healthView(x, 'marker.default').length === 1, 30_000, ['marker.default']);
      expect(tiers(c, SOLO), name).toEqual([tier(0, '10.33.2.9')]);
    }

    await clusters.west.kubelet.runPod({ name: 'solo-2', service: 'solo', node: 'west-z2', ip: '10.32.2.9', port: PORT });
    const after = {
      // Both in other clusters for east's client; its own zone first for west's; north's terminating pod is in its cluster, the replacement is not.
      eastZ1: [tier(0, '10.32.2.9', '10.33.2.9/DRAINING')],
      westZ2: [tier(0, '10.32.2.9'), tier(1, '10.33.2.9/DRAINING')],
      northZ3: [tier(0, '10.33.2.9/DRAINING'), tier(1, '10.32.2.9')],
    };
    await settles(eastZ1, 'east z1 client, solo replaced', (c) => tiers(c, SOLO), after.eastZ1);
    await settles(westZ2, 'west z2 client, solo replaced', (c) => tiers(c, SOLO), after.westZ2);
    await settles(northZ3, 'north z3 client, solo replaced', (c) => tiers(c, SOLO), after.northZ3);
    expect(await herald.metric('herald_terminating_fallback_services')).toBe(0);
  });
});
