// Measures (does not assert) how long a drain takes from the DELETE call to an Envoy-like
// client holding DRAINING, with 3 clusters × 300 pods. Prints p50/p90/max for the issue note.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdsClient, Assignment } from '../../src/xdsclient/index.js';
import { systemClock } from '../../src/model/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess } from './harness/herald.js';
import { envoy, until } from './harness/xds.js';

const bins = e2eBins();
const SERVICES = 10;
const PODS_PER_SERVICE_PER_CLUSTER = 30;
const PORT = 8080;

interface Planned {
  cluster: TestCluster;
  name: string;
  service: string;
  ip: string;
}

async function inBatches<T>(items: T[], width: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(run));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `${label}: n=${s.length} p50=${percentile(s, 50).toFixed(0)}ms p90=${percentile(s, 90).toFixed(0)}ms max=${s[s.length - 1]!.toFixed(0)}ms`;
}

describe.skipIf(bins === '')('e2e: drain latency at 3 clusters × 300 pods', () => {
  // Created in beforeAll: a skipped describe still runs its body.
  let env: E2eEnv;
  let clusters: TestCluster[];
  let herald: HeraldProcess;
  let client: AdsClient;
  const pods: Planned[] = [];
  /** ip → when the client first held it as DRAINING (client clock, ms). */
  const drainingAt = new Map<string, number>();

  beforeAll(async () => {
    env = new E2eEnv(bins);
    clusters = await env.startClusters(
      [1, 2, 3].map((i) => ({
        name: `dc${i}`,
        nodes: [
          { name: `dc${i}-n1`, zone: `dc${i}-a`, region: `dc${i}` },
          { name: `dc${i}-n2`, zone: `dc${i}-b`, region: `dc${i}` },
        ],
      })),
    );
    clusters.forEach((cluster, ci) => {
      for (let s = 0; s < SERVICES; s++) {
        for (let p = 0; p < PODS_PER_SERVICE_PER_CLUSTER; p++) {
          pods.push({ cluster, name: `svc${s}-${p}`, service: `svc${s}`, ip: `10.${50 + ci}.${s}.${p + 1}` });
        }
      }
    });
    const started = Date.now();
    await Promise.all(
      clusters.map((cluster) =>
        inBatches(
          pods.filter((p) => p.cluster === cluster),
          8,
          (p) => cluster.kubelet.runPod({ name: p.name, service: p.service, node: `${cluster.kube.name}-n${(pods.indexOf(p) % 2) + 1}`, ip: p.ip, port: PORT, graceSeconds: 300 }),
        ),
      ),
    );
    process.stdout.write(`drain: created ${pods.length} running pods in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: clusters.map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      localCluster: 'dc1',
      initialSyncTimeout: '60s',
    });
    client = envoy(herald.xdsTarget, 'drain-envoy');
    client.on('assignment', (_name: string, a: Assignment, receivedAtMs: number) => {
      for (const e of a.endpoints) if (e.health === 'DRAINING' && !drainingAt.has(e.address)) drainingAt.set(e.address, receivedAtMs);
    });
    const total = (c: AdsClient) => Array.from({ length: SERVICES }, (_, s) => c.assignment(`svc${s}.default`)?.endpoints.length ?? 0).reduce((a, b) => a + b, 0);
    await until(client, 'all 900 endpoints served', (c) => total(c) === pods.length, 120_000);
  });

  afterAll(async () => {
    await client?.close();
    await env?.close();
  });

  /** Per pod: ms from the DELETE call, and from the API's answer to it, to the client holding DRAINING. */
  async function drain(batch: Planned[]): Promise<{ fromCall: number[]; fromAnswer: number[] }> {
    const calledAt = new Map<string, number>();
    const answeredAt = new Map<string, number>();
    await Promise.all(
      batch.map(async (p) => {
        calledAt.set(p.ip, systemClock());
        await p.cluster.kubelet.deletePod('default', p.name, { completion: 'never' });
        answeredAt.set(p.ip, systemClock());
      }),
    );
    await until(client, `${batch.length} pods draining`, () => batch.every((p) => drainingAt.has(p.ip)), 60_000);
    return {
      fromCall: batch.map((p) => drainingAt.get(p.ip)! - calledAt.get(p.ip)!),
      fromAnswer: batch.map((p) => drainingAt.get(p.ip)! - answeredAt.get(p.ip)!),
    };
  }

  it('measures DELETE → DRAINING seen by the client, one at a time and in a burst', async () => {
    // Each service keeps its last pod in every cluster HEALTHY: a service with none would have its
    // Ready terminating pods served by the terminating fallback, and no DRAINING to measure.
    const lastOfService = (p: Planned) => p.name === `${p.service}-${PODS_PER_SERVICE_PER_CLUSTER - 1}`;
    const byCluster = clusters.map((c) => pods.filter((p) => p.cluster === c && !lastOfService(p)));
    const singles = byCluster.flatMap((list) => list.slice(0, 10));
    const single = { fromCall: [] as number[], fromAnswer: [] as number[] };
    for (const p of singles) {
      const one = await drain([p]);
      single.fromCall.push(...one.fromCall);
      single.fromAnswer.push(...one.fromAnswer);
    }
    const burst = byCluster.flatMap((list) => list.slice(10, 30));
    const burstMs = await drain(burst);

    // Drains changed health only: every other endpoint is still there and HEALTHY.
    const drained = new Set([...singles, ...burst].map((p) => p.ip));
    for (const p of pods) {
      const e = client.assignment(`${p.service}.default`)?.endpoints.find((x) => x.address === p.ip);
      expect(e?.health, p.ip).toBe(drained.has(p.ip) ? 'DRAINING' : 'HEALTHY');
    }
    const propagation = await herald.metric('herald_drain_propagation_seconds_count');
    process.stdout.write(
      [
        `drain latency, DELETE call → client holds DRAINING (3 clusters × ${pods.length / 3} pods, ${SERVICES} services merged across clusters):`,
        `  ${summary('one pod at a time, from the DELETE call', single.fromCall)}`,
        `  ${summary('one pod at a time, from the DELETE answer', single.fromAnswer)}`,
        `  ${summary(`burst of ${burst.length} concurrent DELETEs, from each call`, burstMs.fromCall)}`,
        `  ${summary(`burst of ${burst.length} concurrent DELETEs, from each answer`, burstMs.fromAnswer)}`,
        `  herald_drain_propagation_seconds_count=${propagation ?? 'absent'}`,
        '',
      ].join('\n'),
    );
  });
});
