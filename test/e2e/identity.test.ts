// Service identity against real apiservers: a service is (namespace, label value), merged across
// kube clusters only within one namespace; --service-scope mesh merges every namespace;
// --namespace limits the watches to namespaced lists and watches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdsClient } from '../../src/xdsclient/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess } from './harness/herald.js';
import { endpointMap, envoy, healthView, until } from './harness/xds.js';

const bins = e2eBins();

interface DebugService {
  name: string;
  label: string;
  namespaces: string[];
  endpoints: number;
  kubeClusters: string[];
}

describe.skipIf(bins === '')('e2e: service identity by namespace', () => {
  let env: E2eEnv;
  let east: TestCluster;
  let west: TestCluster;
  const started: Array<{ herald: HeraldProcess; client: AdsClient }> = [];

  async function heraldWith(nodeId: string, extraArgs: string[]): Promise<{ herald: HeraldProcess; client: AdsClient }> {
    const herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [east, west].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      initialSyncTimeout: '60s',
      extraArgs,
    });
    const client = envoy(herald.xdsTarget, nodeId);
    const one = { herald, client };
    started.push(one);
    return one;
  }

  async function services(herald: HeraldProcess): Promise<DebugService[]> {
    const { body } = await herald.debug<DebugService[]>('services');
    return body.map(({ name, label, namespaces, endpoints, kubeClusters }) => ({ name, label, namespaces, endpoints, kubeClusters }));
  }

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [east, west] = await env.startClusters([
      { name: 'east', nodes: [{ name: 'east-n1', zone: 'east-a', region: 'east' }] },
      { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'west' }] },
    ]);
    for (const c of [east, west]) {
      for (const name of ['team-a', 'team-b']) await c.kube.core().createNamespace({ body: { metadata: { name } } });
    }
    // app=pay in team-a of both clusters (one service), and in team-b of west (another team).
    await east.kubelet.runPod({ name: 'pay-1', namespace: 'team-a', service: 'pay', node: 'east-n1', ip: '10.1.0.1', port: 8080 });
    await west.kubelet.runPod({ name: 'pay-1', namespace: 'team-a', service: 'pay', node: 'west-n1', ip: '10.2.0.1', port: 8080 });
    await west.kubelet.runPod({ name: 'pay-1', namespace: 'team-b', service: 'pay', node: 'west-n1', ip: '10.2.0.9', port: 8080 });
  });

  afterAll(async () => {
    for (const { client } of started) await client.close();
    await env?.close();
  });

  it('by default: pay.team-a merges both clusters, pay.team-b stays apart, and a new pod in team-b never joins team-a', async () => {
    const { herald, client } = await heraldWith('identity-default', []);
    await until(client, 'both namespaced services served', (c) => endpointMap(c, 'pay.team-a').size === 2 && endpointMap(c, 'pay.team-b').size === 1, 60_000, ['pay.team-a', 'pay.team-b']);
    expect(healthView(client, 'pay.team-a')).toEqual(['10.1.0.1:8080=HEALTHY', '10.2.0.1:8080=HEALTHY']);
    expect(healthView(client, 'pay.team-b')).toEqual(['10.2.0.9:8080=HEALTHY']);
    expect(client.clusters()).not.toContain('pay');

    // Another team's pod arrives in team-b of east, then one in team-a of east: once the second
    // is served, the first has been seen too (same watch, in order), and went to team-b only.
    await east.kubelet.runPod({ name: 'pay-2', namespace: 'team-b', service: 'pay', node: 'east-n1', ip: '10.1.0.9', port: 8080 });
    await east.kubelet.runPod({ name: 'pay-3', namespace: 'team-a', service: 'pay', node: 'east-n1', ip: '10.1.0.2', port: 8080 });
    await until(client, 'pay-3 served in team-a', (c) => endpointMap(c, 'pay.team-a').has('10.1.0.2:8080'), 30_000, ['pay.team-a', 'pay.team-b']);
    await until(client, 'pay-2 served in team-b', (c) => endpointMap(c, 'pay.team-b').has('10.1.0.9:8080'), 30_000, ['pay.team-a', 'pay.team-b']);
    expect(healthView(client, 'pay.team-a')).toEqual(['10.1.0.1:8080=HEALTHY', '10.1.0.2:8080=HEALTHY', '10.2.0.1:8080=HEALTHY']);

    expect(await services(herald)).toEqual([
      { name: 'pay.team-a', label: 'pay', namespaces: ['team-a'], endpoints: 3, kubeClusters: ['east', 'west'] },
      { name: 'pay.team-b', label: 'pay', namespaces: ['team-b'], endpoints: 2, kubeClusters: ['east', 'west'] },
    ]);
    const one = await herald.debug<{ service: string; label: string; namespaces: string[] }>('services/pay.team-b');
    expect([one.status, one.body.service, one.body.label, one.body.namespaces]).toEqual([200, 'pay.team-b', 'pay', ['team-b']]);
  });

  it('--service-scope mesh: every namespace merges into pay', async () => {
    const { herald, client } = await heraldWith('identity-mesh', ['--service-scope', 'mesh']);
    await until(client, 'pay has every pod', (c) => endpointMap(c, 'pay').size === 5, 60_000, ['pay']);
    expect(client.clusters().filter((name) => name.startsWith('pay'))).toEqual(['pay']);
    expect(await services(herald)).toEqual([{ name: 'pay', label: 'pay', namespaces: ['team-a', 'team-b'], endpoints: 5, kubeClusters: ['east', 'west'] }]);
  });

  it('--namespace team-a: namespaced lists and watches, pods of team-b never appear', async () => {
    const { herald, client } = await heraldWith('identity-limited', ['--namespace', 'team-a']);
    await until(client, 'pay.team-a served', (c) => endpointMap(c, 'pay.team-a').size === 3, 60_000, ['pay.team-a']);
    const ready = await herald.readyz();
    expect(ready.status).toBe(200);
    const clusters = await herald.debug<Array<{ cluster: string; state: string; namespaces?: string[] }>>('clusters');
    expect(clusters.body.map((c) => [c.cluster, c.state, c.namespaces])).toEqual([
      ['east', 'synced', ['team-a']],
      ['west', 'synced', ['team-a']],
    ]);

    // Watches follow: a team-b pod created now stays out, a team-a pod created after it shows up.
    await west.kubelet.runPod({ name: 'pay-4', namespace: 'team-b', service: 'pay', node: 'west-n1', ip: '10.2.0.8', port: 8080 });
    await west.kubelet.runPod({ name: 'pay-5', namespace: 'team-a', service: 'pay', node: 'west-n1', ip: '10.2.0.2', port: 8080 });
    await until(client, 'pay-5 served', (c) => endpointMap(c, 'pay.team-a').has('10.2.0.2:8080'), 30_000, ['pay.team-a']);
    expect(client.clusters().filter((name) => name.startsWith('pay'))).toEqual(['pay.team-a']);
    expect((await services(herald)).map((s) => [s.name, s.namespaces, s.endpoints])).toEqual([['pay.team-a', ['team-a'], 4]]);
    // Only team-a is watched: west's one pod add event is pay-5 (pay-4 would be a second).
    expect(await herald.metric('herald_kube_events_total', { kube_cluster: 'west', kind: 'pod', type: 'add' })).toBe(1);
  });
});
