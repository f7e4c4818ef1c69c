// Scenarios f and d: a cluster that is down when Herald starts, and an apiserver killed
// mid-run whose cluster changes while Herald cannot see it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdsClient } from '../../src/xdsclient/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { endpointMap, envoy, healthView, until } from './harness/xds.js';

const bins = e2eBins();

describe.skipIf(bins === '')('e2e: unreachable clusters', () => {
  // Created in beforeAll: a skipped describe still runs its body.
  let env: E2eEnv;
  let up: TestCluster;
  let down: TestCluster;
  let herald: HeraldProcess;
  let client: AdsClient | undefined;

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [up, down] = await env.startClusters([
      { name: 'up', nodes: [{ name: 'up-n1', zone: 'up-a', region: 'r1' }] },
      { name: 'down', nodes: [{ name: 'down-n1', zone: 'down-a', region: 'r2' }] },
    ]);
    await up.kubelet.runPod({ name: 'cart-1', service: 'cart', node: 'up-n1', ip: '10.10.0.1', port: 8080 });
    for (const [i, ip] of ['10.20.0.1', '10.20.0.2', '10.20.0.3', '10.20.0.4'].entries()) {
      await down.kubelet.runPod({ name: `cart-${i + 1}`, service: 'cart', node: 'down-n1', ip, port: 8080 });
    }
    // "down" is down before Herald ever sees it.
    await down.kube.stopApiserver('kill');
  });

  afterAll(async () => {
    await client?.close();
    await env?.close();
  });

  it('f: serves the reachable cluster once --initial-sync-timeout has passed, and not before', async () => {
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [up, down].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      initialSyncTimeout: '8s',
    });
    const c = envoy(herald.xdsTarget, 'outage-envoy');
    client = c;
    // No CDS before the timeout (a partial CDS would make Envoys delete clusters). Race-free
    // form: once the client holds any response, /readyz asked afterwards must say the
    // initial sync is over; and while it is pending, the client must have nothing.
    let pendingSeen = 0;
    let servedWhilePending: boolean;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const served = c.stats().responses > 0;
      const { status, body } = await herald.readyz();
      const pending = body.reasons.some((r) => r.startsWith('initial sync pending'));
      if (served) {
        servedWhilePending = pending;
        break;
      }
      if (pending) {
        expect(status).toBe(503);
        expect(body.reasons.join('\n')).toMatch(/initial sync pending: .*down/);
        pendingSeen++;
      }
      if (Date.now() > deadline) throw new Error(`no xDS response within 60 s:\n${herald.logTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(servedWhilePending).toBe(false);
    expect(pendingSeen).toBeGreaterThan(0);
    await until(c, 'cart from "up" served', (cl) => healthView(cl, 'cart.default').join() === '10.10.0.1:8080=HEALTHY', 60_000, ['cart.default']);
    const { status, body } = await herald.readyz();
    expect(status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.reasons.join('\n')).toMatch(/initial sync timed out; never synced: down/);
    const downStatus = body.clusters.find((x) => x.cluster === 'down');
    expect(downStatus?.everSynced).toBe(false);
    expect(downStatus?.state).not.toBe('synced');
    expect(await herald.metric('herald_kube_cluster_synced', { kube_cluster: 'down' })).toBe(0);
    expect(await herald.metric('herald_kube_cluster_synced', { kube_cluster: 'up' })).toBe(1);

    // The late cluster joins once its apiserver is back.
    await down.kube.startApiserver();
    await until(c, 'cart from both clusters', (cl) => endpointMap(cl, 'cart.default').size === 5, 90_000, ['cart.default']);
  });

  it('d: a killed apiserver keeps its endpoints served; changes made meanwhile are reconciled on return', async () => {
    const c = client!;
    await eventually('down synced', async () => ((await herald.metric('herald_kube_cluster_synced', { kube_cluster: 'down' })) === 1 ? true : undefined), 60_000);
    const before = healthView(c, 'cart.default');
    expect(before).toEqual(['10.10.0.1:8080=HEALTHY', '10.20.0.1:8080=HEALTHY', '10.20.0.2:8080=HEALTHY', '10.20.0.3:8080=HEALTHY', '10.20.0.4:8080=HEALTHY']);

    await down.kube.stopApiserver('kill');
    await eventually('synced drops to 0', async () => ((await herald.metric('herald_kube_cluster_synced', { kube_cluster: 'down' })) === 0 ? true : undefined), 90_000);
    const { body } = await herald.readyz();
    const detail = body.clusters.find((x) => x.cluster === 'down');
    expect(detail?.state).toBe('unreachable');
    expect(detail?.everSynced).toBe(true);
    expect(detail?.lastError ?? '').not.toBe('');
    expect(body.reasons.join('\n')).toMatch(/cluster down unreachable/);
    // Its last known endpoints stay in the mesh.
    expect(healthView(c, 'cart.default')).toEqual(before);
    const debug = await herald.debug<{ endpoints: { cluster: string }[] }>('services/cart.default');
    expect(debug.body.endpoints.filter((e) => e.cluster === 'down')).toHaveLength(4);

    // The cluster goes on without Herald: through a second apiserver on the same etcd, two pods
    // are force-deleted, one finishes a graceful deletion, one is replaced by a new pod.
    const side = await down.kube.startSideApiserver();
    try {
      down.kubelet.use(side.core);
      await down.kubelet.deletePod('default', 'cart-1', { graceSeconds: 0 });
      await down.kubelet.deletePod('default', 'cart-2', { graceSeconds: 0 });
      await down.kubelet.deletePod('default', 'cart-3', { graceSeconds: 1, completion: 'never' });
      await down.kubelet.finishDeletion('default', 'cart-3');
      await down.kubelet.runPod({ name: 'cart-5', service: 'cart', node: 'down-n1', ip: '10.20.0.5', port: 8080 });
      const left = await side.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app' });
      expect(left.items.map((p) => p.metadata?.name).sort()).toEqual(['cart-4', 'cart-5']);
    } finally {
      await side.stop();
      down.kubelet.use(down.kube.core());
    }
    // Nothing changed in the mesh while Herald was blind.
    expect(healthView(c, 'cart.default')).toEqual(before);

    await down.kube.startApiserver();
    await until(c, 'relist reconciled "down"', (cl) => healthView(cl, 'cart.default').join() === '10.10.0.1:8080=HEALTHY,10.20.0.4:8080=HEALTHY,10.20.0.5:8080=HEALTHY', 120_000, [
      'cart.default',
    ]);
    await eventually('down synced again', async () => ((await herald.metric('herald_kube_cluster_synced', { kube_cluster: 'down' })) === 1 ? true : undefined), 60_000);
    const after = await herald.debug<{ endpoints: { cluster: string; podKey: string }[] }>('services/cart.default');
    expect(
      after.body.endpoints
        .filter((e) => e.cluster === 'down')
        .map((e) => e.podKey)
        .sort(),
    ).toEqual(['default/cart-4', 'default/cart-5']);
  });
});
