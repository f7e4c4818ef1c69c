// Scenario e: Herald's watch falls behind an etcd compaction, gets 410 Gone and must relist.
// The apiserver runs without a watch cache, so a watch from a resourceVersion goes straight to
// etcd, and etcd answers "compacted" for anything older than the compaction: the 410 a
// long-partitioned control plane meets in production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { AdsClient } from '../../src/xdsclient/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess } from './harness/herald.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { eventually } from './harness/processes.js';
import { writeKubeconfig } from './harness/kubeconfig.js';
import { envoy, healthView, until } from './harness/xds.js';
import { join } from 'node:path';

const bins = e2eBins();

/** Opens a pod watch from `resourceVersion`; resolves with the HTTP or Status code it fails with, or 0. */
async function watchOutcome(kc: KubeConfig, resourceVersion: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (code: number, abort?: () => void) => {
      if (settled) return;
      settled = true;
      abort?.();
      resolve(code);
    };
    let controller: AbortController | undefined;
    new Watch(kc)
      .watch(
        '/api/v1/pods',
        { resourceVersion, labelSelector: 'app' },
        (type, obj: { code?: number }) => finish(type === 'ERROR' ? (obj.code ?? -1) : 0, () => controller?.abort()),
        (err: unknown) => {
          const status = (err as { statusCode?: number } | null)?.statusCode;
          finish(status ?? (err ? -1 : 0));
        },
      )
      .then((c) => {
        controller = c;
        if (settled) c.abort();
      }, reject);
    setTimeout(() => finish(0, () => controller?.abort()), 10_000);
  });
}

describe.skipIf(bins === '')('e2e: watch expiry', () => {
  // Created in beforeAll: a skipped describe still runs its body.
  let env: E2eEnv;
  let solo: TestCluster;
  let proxy: TcpProxy;
  let herald: HeraldProcess;
  let client: AdsClient;

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [solo] = await env.startClusters([{ name: 'solo', nodes: [{ name: 'solo-n1', zone: 'solo-a', region: 'r1' }], watchCache: false }]);
    proxy = await TcpProxy.start(solo.kube.apiPort);
    const herald_ = solo.kube.pki.users.get('herald')!;
    const viaProxy = writeKubeconfig(join(env.dir, 'herald-via-proxy.json'), {
      cluster: 'solo',
      server: `https://127.0.0.1:${proxy.port}`,
      caFile: solo.kube.pki.caCert,
      user: 'herald',
      cert: herald_,
    });
    for (let i = 1; i <= 4; i++) {
      await solo.kubelet.runPod({ name: `db-${i}`, service: 'db', node: 'solo-n1', ip: `10.30.0.${i}`, port: 5432 });
    }
    herald = await HeraldProcess.start({ group: env.group, dir: env.dir, clusters: [{ name: 'solo', kubeconfig: viaProxy }], initialSyncTimeout: '30s' });
    client = envoy(herald.xdsTarget, 'expiry-envoy');
  });

  afterAll(async () => {
    await client?.close();
    await herald?.stop();
    await proxy?.close();
    await env?.close();
  });

  it('e: 410 after compaction → relist; nothing lost, nothing stale', async () => {
    await until(client, 'db served', (c) => healthView(c, 'db.default').length === 4, 60_000, ['db.default']);
    const k = solo.kubelet;
    // A terminating pod Herald has seen DRAINING, which then goes away during the gap.
    await k.deletePod('default', 'db-4', { graceSeconds: 60, completion: 'never' });
    await until(client, 'db-4 draining', (c) => healthView(c, 'db.default').includes('10.30.0.4:5432=DRAINING'), 30_000, ['db.default']);

    const admin = solo.kube.kubeConfig();
    const before = await solo.kube.core().listNamespacedPod({ namespace: 'default', labelSelector: 'app' });
    const lastSeen = before.metadata!.resourceVersion!;

    proxy.cut();
    // Changes Herald cannot see: a delete, a finished graceful delete, a new pod, a readiness loss.
    await k.deletePod('default', 'db-1', { graceSeconds: 0 });
    await k.finishDeletion('default', 'db-4');
    await k.runPod({ name: 'db-5', service: 'db', node: 'solo-n1', ip: '10.30.0.5', port: 5432 });
    await k.setReady('default', 'db-2', false);
    const compacted = await solo.kube.compactEtcd();
    expect(compacted).toBeGreaterThan(Number(lastSeen));

    // Any watch resuming from before the gap (Herald's included) is now 410 Gone.
    expect(await watchOutcome(admin, lastSeen)).toBe(410);
    const compactedWatches = () => solo.kube.apiserverLog().match(/required revision has been compacted/g)?.length ?? 0;
    const beforeRestore = compactedWatches();
    expect(beforeRestore).toBeGreaterThan(0);
    expect(healthView(client, 'db.default')).toEqual(['10.30.0.1:5432=HEALTHY', '10.30.0.2:5432=HEALTHY', '10.30.0.3:5432=HEALTHY', '10.30.0.4:5432=DRAINING']);

    proxy.restore();
    await until(client, 'relisted state', (c) => healthView(c, 'db.default').join() === '10.30.0.3:5432=HEALTHY,10.30.0.5:5432=HEALTHY', 120_000, ['db.default']);
    // Herald's own resumed watches hit the compaction too (nobody else watches this apiserver),
    // so what it served comes from a relist.
    await eventually("apiserver logged Herald's compacted watch", () => (compactedWatches() > beforeRestore ? true : undefined), 10_000);
    await eventually('solo synced', async () => ((await herald.metric('herald_kube_cluster_synced', { kube_cluster: 'solo' })) === 1 ? true : undefined), 60_000);
    const debug = await herald.debug<{ endpoints: { podKey: string }[]; podCount: number }>('services/db.default');
    expect(debug.body.endpoints.map((e) => e.podKey).sort()).toEqual(['default/db-3', 'default/db-5']);
    // db-2 is still a pod (not Ready), so it is known but left out.
    expect(debug.body.podCount).toBe(3);
  });
});
