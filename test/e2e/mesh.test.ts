// Scenarios a, b, c, g and h of the e2e tier: three real clusters, one Herald process running
// with the shipped RBAC, and an Envoy-like ADS client observing the result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdsClient } from '../../src/xdsclient/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess } from './harness/herald.js';
import { shippedClusterRole } from './harness/rbac.js';
import { eventually } from './harness/processes.js';
import { endpointMap, envoy, healthView, until } from './harness/xds.js';

const bins = e2eBins();

describe.skipIf(bins === '')('e2e: three clusters, one Herald', () => {
  // Created in beforeAll: a skipped describe still runs its body.
  let env: E2eEnv;
  let c1: TestCluster;
  let c2: TestCluster;
  let c3: TestCluster;
  let herald: HeraldProcess;
  let client: AdsClient;

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [c1, c2, c3] = await env.startClusters([
      {
        name: 'east',
        nodes: [
          { name: 'east-n1', zone: 'east-a', region: 'east' },
          { name: 'east-n2', zone: 'east-b', region: 'east' },
        ],
      },
      { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'west' }] },
      { name: 'north', nodes: [{ name: 'north-n1', zone: 'north-a', region: 'north' }] },
    ]);
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [c1, c2, c3].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      localCluster: 'east',
      initialSyncTimeout: '60s',
    });
    client = envoy(herald.xdsTarget, 'mesh-envoy');
  });

  afterAll(async () => {
    await client?.close();
    await env?.close();
  });

  it('a: merges one service across clusters, with zones from Node labels and local-cluster priorities', async () => {
    await c1.kubelet.runPod({ name: 'shop-1', service: 'shop', node: 'east-n1', ip: '10.1.0.1', port: 8080 });
    await c1.kubelet.runPod({ name: 'shop-2', service: 'shop', node: 'east-n2', ip: '10.1.0.2', port: 8080 });
    await c2.kubelet.runPod({ name: 'shop-1', service: 'shop', node: 'west-n1', ip: '10.2.0.1', port: 8080, via: 'named-port' });
    await c3.kubelet.runPod({ name: 'shop-1', service: 'shop', node: 'north-n1', ip: '10.3.0.1', port: 9090 });

    await until(client, 'shop has four endpoints', (c) => endpointMap(c, 'shop.default').size === 4, 60_000, ['shop.default']);
    const eps = endpointMap(client, 'shop.default');
    const view = (key: string) => {
      const e = eps.get(key);
      return e && { health: e.health, zone: e.zone, region: e.region, priority: e.priority, weighted: e.localityWeight > 0 };
    };
    expect(view('10.1.0.1:8080')).toEqual({ health: 'HEALTHY', zone: 'east-a', region: 'east', priority: 0, weighted: true });
    expect(view('10.1.0.2:8080')).toEqual({ health: 'HEALTHY', zone: 'east-b', region: 'east', priority: 0, weighted: true });
    expect(view('10.2.0.1:8080')).toEqual({ health: 'HEALTHY', zone: 'west-a', region: 'west', priority: 1, weighted: true });
    expect(view('10.3.0.1:9090')).toEqual({ health: 'HEALTHY', zone: 'north-a', region: 'north', priority: 1, weighted: true });
    expect(client.clusters()).toContain('shop.default');
  });

  it('b: rolling deploy: new pods join when Ready, old ones drain while they exist and leave when deleted', async () => {
    const k = c2.kubelet;
    await k.runPod({ name: 'web-v1-a', service: 'web', node: 'west-n1', ip: '10.2.1.1', port: 80, graceSeconds: 30 });
    await k.runPod({ name: 'web-v1-b', service: 'web', node: 'west-n1', ip: '10.2.1.2', port: 80, graceSeconds: 3 });
    await until(client, 'v1 serving', (c) => healthView(c, 'web.default').join() === '10.2.1.1:80=HEALTHY,10.2.1.2:80=HEALTHY', 30_000, ['web.default']);

    // New pods: Running but not yet Ready are left out; Ready makes them HEALTHY.
    await k.runPod({ name: 'web-v2-a', service: 'web', node: 'west-n1', ip: '10.2.2.1', port: 80 }, false);
    await k.runPod({ name: 'web-v2-b', service: 'web', node: 'west-n1', ip: '10.2.2.2', port: 80 }, false);
    const notReadySeen = await eventually(
      'herald saw the not-Ready pods',
      async () => {
        const res = await herald.debug<{ podCount?: number }>('services/web.default');
        return res.body.podCount === 4 ? true : undefined;
      },
      30_000,
    );
    expect(notReadySeen).toBe(true);
    expect(endpointMap(client, 'web.default').has('10.2.2.1:80')).toBe(false);
    await k.setReady('default', 'web-v2-a', true);
    await k.setReady('default', 'web-v2-b', true);
    await until(client, 'v2 healthy', (c) => ['10.2.2.1:80', '10.2.2.2:80'].every((a) => endpointMap(c, 'web.default').get(a)?.health === 'HEALTHY'), 30_000, ['web.default']);

    // Old pods: one that the kubelet never finishes, one that finishes after its 3 s grace.
    await k.deletePod('default', 'web-v1-a', { completion: 'never' });
    await k.deletePod('default', 'web-v1-b', { completion: 'after-grace' });
    await until(client, 'v1-a draining', (c) => endpointMap(c, 'web.default').get('10.2.1.1:80')?.health === 'DRAINING', 30_000, ['web.default']);
    const stillThere = await c2.kube.core().readNamespacedPod({ name: 'web-v1-a', namespace: 'default' });
    expect(stillThere.metadata?.deletionTimestamp).toBeDefined();
    expect(endpointMap(client, 'web.default').get('10.2.1.1:80')?.health).toBe('DRAINING');

    await until(client, 'v1-b gone after its grace period', (c) => !endpointMap(c, 'web.default').has('10.2.1.2:80'), 30_000, ['web.default']);
    expect(k.failures).toEqual([]);
    await k.finishDeletion('default', 'web-v1-a');
    await until(client, 'only v2 left', (c) => healthView(c, 'web.default').join() === '10.2.2.1:80=HEALTHY,10.2.2.2:80=HEALTHY', 30_000, ['web.default']);
  });

  it('c: force delete (grace 0) removes the endpoint', async () => {
    await c3.kubelet.runPod({ name: 'api-1', service: 'api', node: 'north-n1', ip: '10.3.1.1', port: 7000 });
    await c3.kubelet.runPod({ name: 'api-2', service: 'api', node: 'north-n1', ip: '10.3.1.2', port: 7000 });
    await until(client, 'api serving', (c) => endpointMap(c, 'api.default').size === 2, 30_000, ['api.default']);
    await c3.kubelet.deletePod('default', 'api-1', { graceSeconds: 0 });
    await until(client, 'api-1 removed', (c) => healthView(c, 'api.default').join() === '10.3.1.2:7000=HEALTHY', 30_000, ['api.default']);
  });

  it('g: a terminating pod whose IP is reused by another service leaves its Envoy cluster at once', async () => {
    await c1.kubelet.runPod({ name: 'alpha-1', service: 'alpha', node: 'east-n1', ip: '10.1.5.5', port: 8000 });
    await c1.kubelet.runPod({ name: 'alpha-2', service: 'alpha', node: 'east-n1', ip: '10.1.5.6', port: 8000 });
    await until(client, 'alpha serving', (c) => endpointMap(c, 'alpha.default').size === 2, 30_000, ['alpha.default']);
    await c1.kubelet.deletePod('default', 'alpha-1', { graceSeconds: 120, completion: 'never' });
    await until(client, 'alpha-1 draining', (c) => endpointMap(c, 'alpha.default').get('10.1.5.5:8000')?.health === 'DRAINING', 30_000, ['alpha.default']);

    await c1.kubelet.runPod({ name: 'beta-1', service: 'beta', node: 'east-n1', ip: '10.1.5.5', port: 8000 });
    await until(
      client,
      'IP 10.1.5.5 belongs to beta only',
      (c) => endpointMap(c, 'beta.default').get('10.1.5.5:8000')?.health === 'HEALTHY' && !endpointMap(c, 'alpha.default').has('10.1.5.5:8000'),
      30_000,
      ['alpha.default', 'beta.default'],
    );
    expect(healthView(client, 'alpha.default')).toEqual(['10.1.5.6:8000=HEALTHY']);
    // The old pod does still exist in the API: the drop came from the IP reuse, not a delete.
    const old = await c1.kube.core().readNamespacedPod({ name: 'alpha-1', namespace: 'default' });
    expect(old.metadata?.deletionTimestamp).toBeDefined();
  });

  it('h: the shipped ClusterRole is read-only on pods, nodes and ServicePolicies, and enough for Herald', async () => {
    const role = shippedClusterRole();
    const granted = (role.rules ?? []).flatMap((r) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${(r.apiGroups ?? []).join('|')}/${res}:${v}`)));
    expect(granted.sort()).toEqual([
      '/nodes:get',
      '/nodes:list',
      '/nodes:watch',
      '/pods:get',
      '/pods:list',
      '/pods:watch',
      'herald.io/servicepolicies:get',
      'herald.io/servicepolicies:list',
      'herald.io/servicepolicies:watch',
    ]);

    // This whole file's Herald runs as that user; everything above came through it.
    const ready = await herald.readyz();
    expect(ready.body.clusters.map((c) => [c.cluster, c.state])).toEqual([
      ['east', 'synced'],
      ['west', 'synced'],
      ['north', 'synced'],
    ]);
    expect(ready.status).toBe(200);

    // The same user may not write, nor read anything else.
    const asHerald = c1.kube.core('herald');
    await expect(asHerald.listNamespacedSecret({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
    await expect(asHerald.deleteNamespacedPod({ name: 'shop-1', namespace: 'default' })).rejects.toMatchObject({ code: 403 });
  });

  it('h: the shipped ServiceAccount and ClusterRoleBinding work as they are', async () => {
    const asServiceAccount = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [{ name: 'east', kubeconfig: await c1.kube.serviceAccountKubeconfig('herald', 'herald') }],
      initialSyncTimeout: '30s',
    });
    const sa = envoy(asServiceAccount.xdsTarget, 'sa-envoy');
    try {
      await until(sa, 'shop from east via the ServiceAccount', (c) => endpointMap(c, 'shop.default').has('10.1.0.1:8080'), 30_000, ['shop.default']);
      const { body } = await asServiceAccount.readyz();
      expect(body.clusters).toMatchObject([{ cluster: 'east', state: 'synced' }]);
    } finally {
      await sa.close();
      await asServiceAccount.stop();
    }
  });

  it('h: a missing permission (no access to nodes) gives a clear error', async () => {
    const restricted = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [{ name: 'east', kubeconfig: c1.kube.kubeconfigFile('herald-restricted') }],
      initialSyncTimeout: '2s',
    });
    try {
      const detail = await eventually(
        'restricted herald reports the missing permission',
        async () => {
          const { body } = await restricted.readyz();
          const east = body.clusters.find((c) => c.cluster === 'east');
          return east?.lastError && /forbidden/i.test(east.lastError) ? { east, reasons: body.reasons } : undefined;
        },
        30_000,
      );
      expect(detail.east.state).not.toBe('synced');
      expect(detail.east.lastError).toMatch(/nodes/);
      expect(detail.east.lastError).toMatch(/ClusterRole/);
      expect(await restricted.metric('herald_kube_cluster_synced', { kube_cluster: 'east' })).toBe(0);
      expect(restricted.log()).toMatch(/forbidden to (list|watch) nodes/);
    } finally {
      await restricted.stop();
    }
  });
});
