// Drain receipts against a real apiserver: a DELETE with a grace period gives the pod a
// HeraldDrained Event with the right counts; a client that never ACKs gives HeraldDrainIncomplete
// at the end of the grace, naming it; `herald wait-drained` agrees; a burst of 300 deletions
// stays within the Event rate limit and loses nothing. A pod is announced DRAINING at once only
// when something else can serve (another HEALTHY pod) or its ServicePolicy turns the terminating
// fallback off; the last Ready pod of a service keeps being served by default, and its receipt
// waits for a replacement.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, EventsV1Api, KubernetesObjectApi, loadYaml, RbacAuthorizationV1Api, type EventsV1Event, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';
import { runHerald } from '../helpers/run-herald.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess, REPO_ROOT } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { installPolicyCrd } from './harness/rbac.js';
import { endpointMap, envoy, until } from './harness/xds.js';

const bins = e2eBins();
const QPS = 50;
const BURST = 10;
const BURST_PODS = 300;

describe.skipIf(bins === '')('e2e: drain Events and wait-drained', () => {
  let env: E2eEnv;
  let cluster: TestCluster;
  let herald: HeraldProcess;
  let events: EventsV1Api;
  const clients: AdsClient[] = [];

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [cluster] = await env.startClusters([{ name: 'dc1', nodes: [{ name: 'dc1-n1', zone: 'dc1-a', region: 'dc1' }] }]);
    // The optional Event role, as shipped, bound to the identity Herald uses.
    const admin = cluster.kube.kubeConfig('admin');
    const role = loadYaml<KubernetesObject>(readFileSync(join(REPO_ROOT, 'deploy', 'rbac-events', 'clusterrole.yaml'), 'utf8'));
    await KubernetesObjectApi.makeApiClient(admin).create(role);
    await admin.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: 'herald-e2e-drain-events' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name! },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'herald' }],
      },
    });
    events = admin.makeApiClient(EventsV1Api);
    // cart's only pod is drained with the terminating fallback turned off for cart alone.
    await installPolicyCrd(cluster.kube);
    await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'herald.io',
      version: 'v1alpha1',
      plural: 'servicepolicies',
      namespace: 'default',
      body: { apiVersion: 'herald.io/v1alpha1', kind: 'ServicePolicy', metadata: { name: 'cart', namespace: 'default' }, spec: { locality: { terminatingFallback: 'Disabled' } } },
    });
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [{ name: 'dc1', kubeconfig: cluster.heraldKubeconfig }],
      initialSyncTimeout: '60s',
      extraArgs: ['--drain-events', '--drain-events-qps', String(QPS), '--drain-events-burst', String(BURST), '--replica-name', 'herald-e2e-0'],
    });
    clients.push(envoy(herald.xdsTarget, 'envoy-1'), envoy(herald.xdsTarget, 'envoy-2'));
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await env?.close();
  });

  /** The service's terminatingFallback as Herald resolved its policy (/debug/policies). */
  async function fallbackOf(service: string): Promise<string | undefined> {
    const view = (await (await fetch(`http://127.0.0.1:${herald.adminPort}/debug/policies`)).json()) as {
      services: { service: string; spec: { locality?: { terminatingFallback?: string } } }[];
    };
    return view.services.find((s) => s.service === service)?.spec.locality?.terminatingFallback;
  }

  async function eventsOf(reason: string): Promise<EventsV1Event[]> {
    const list = await events.listNamespacedEvent({ namespace: 'default' });
    return list.items.filter((e) => e.reason === reason && e.reportingController === 'herald.io/drain-receipts');
  }

  it('writes HeraldDrained on the only pod of a service whose policy turns the terminating fallback off, deleted with a grace period, with every client counted, and wait-drained agrees', async () => {
    const pod = await cluster.kubelet.runPod({ name: 'cart-0', service: 'cart', node: 'dc1-n1', ip: '10.9.0.1', port: 8080, graceSeconds: 60 });
    for (const c of clients) await until(c, 'cart served', (x) => endpointMap(x, 'cart.default').size === 1, 60_000, ['cart.default']);
    await expect.poll(() => fallbackOf('cart.default'), { timeout: 30_000 }).toBe('Disabled');
    await cluster.kubelet.deletePod('default', 'cart-0', { graceSeconds: 45, completion: 'never' });

    const run = await runHerald(['wait-drained', '--replica', `127.0.0.1:${herald.adminPort}`, '--cluster', 'dc1', '--namespace', 'default', '--pod', 'cart-0', '--timeout', '30s'], 40_000);
    expect(run.stdout).toBe('drained: pod default/cart-0 (cluster dc1): all 1 Herald replicas report every xDS client ACKed DRAINING (2 clients in all)\n');
    expect(run.code).toBe(0);

    const [event] = await eventually(
      'a HeraldDrained Event for cart-0',
      async () => {
        const found = (await eventsOf('HeraldDrained')).filter((e) => e.regarding?.name === 'cart-0');
        return found.length === 0 ? undefined : found;
      },
      30_000,
    );
    expect(event!.note).toMatch(/^DRAINING acknowledged by 2\/2 xDS clients of Herald replica herald-e2e-0 \d+ ms after termination began \(service cart\.default\)$/);
    expect(event).toMatchObject({
      type: 'Normal',
      action: 'Drain',
      reportingInstance: 'herald-e2e-0',
      regarding: { kind: 'Pod', namespace: 'default', name: 'cart-0', uid: pod.metadata!.uid },
    });
    // What `kubectl describe pod` asks: core/v1 Events selected by the pod's name, kind and uid.
    const described = await cluster.kube.core().listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=cart-0,involvedObject.uid=${pod.metadata!.uid}`,
    });
    expect(described.items.map((e) => e.reason)).toContain('HeraldDrained');
  });

  it(`keeps a burst of ${BURST_PODS} deletions within the Event rate limit, with nothing lost from the counts`, async () => {
    // A scale-down that leaves one pod HEALTHY: every deleted pod is announced DRAINING at once.
    await cluster.kubelet.runPod({ name: 'burst-keep', service: 'burst', node: 'dc1-n1', ip: '10.9.4.1', port: 8080 });
    const names = Array.from({ length: BURST_PODS }, (_, i) => `burst-${i}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names
          .slice(i, i + 10)
          .map((name, j) =>
            cluster.kubelet.runPod({ name, service: 'burst', node: 'dc1-n1', ip: `10.9.${1 + Math.floor((i + j) / 200)}.${((i + j) % 200) + 1}`, port: 8080, graceSeconds: 300 }),
          ),
      );
    }
    for (const c of clients) await until(c, 'burst served', (x) => endpointMap(x, 'burst.default').size === BURST_PODS + 1, 120_000, ['burst.default']);
    await Promise.all(names.map((name) => cluster.kubelet.deletePod('default', name, { completion: 'never' })));

    const burst = await eventually(
      `${BURST_PODS} drains in Events`,
      async () => {
        const found = (await eventsOf('HeraldDrained')).filter((e) => e.regarding?.name?.startsWith('burst-'));
        return found.reduce((n, e) => n + (e.series?.count ?? 1), 0) < BURST_PODS ? undefined : found;
      },
      120_000,
      500,
    );
    // Every drain is in exactly one Event, each with both clients.
    expect(new Set(burst.map((e) => e.regarding!.name)).size).toBe(BURST_PODS);
    expect(burst.reduce((n, e) => n + (e.series?.count ?? 1), 0)).toBe(BURST_PODS);
    for (const e of burst) expect(e.note).toMatch(/^DRAINING acknowledged by 2\/2 /);
    // The apiserver stamps creation to the second: in any second, at most the burst plus what the
    // rate refills in that second and the one before (sends and stamps are not the same instant).
    const perSecond = new Map<number, number>();
    for (const e of burst) {
      const at = new Date(e.metadata!.creationTimestamp!).getTime();
      perSecond.set(at, (perSecond.get(at) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(BURST + 2 * QPS);
    expect(await herald.metric('herald_drain_events_total', { reason: 'HeraldDrained', result: 'created' })).toBe(BURST_PODS + 1);
    expect((await herald.metric('herald_drain_events_dropped_total')) ?? 0).toBe(0);
  });

  it('by default, the last Ready pod of a service deleted with a grace period stays HEALTHY and its receipt waits; a HEALTHY replacement announces it DRAINING and wait-drained then succeeds', async () => {
    const ask = (timeout: string) =>
      runHerald(['wait-drained', '--replica', `127.0.0.1:${herald.adminPort}`, '--cluster', 'dc1', '--namespace', 'default', '--pod', 'solo-0', '--timeout', timeout], 40_000);
    await cluster.kubelet.runPod({ name: 'solo-0', service: 'solo', node: 'dc1-n1', ip: '10.9.6.1', port: 8080, graceSeconds: 120 });
    for (const c of clients) await until(c, 'solo served', (x) => endpointMap(x, 'solo.default').size === 1, 60_000, ['solo.default']);
    await cluster.kubelet.deletePod('default', 'solo-0', { graceSeconds: 120, completion: 'never' });
    await expect.poll(() => herald.metric('herald_terminating_fallback_services'), { timeout: 30_000 }).toBe(1);

    // What a preStop hook sees meanwhile: not drained, and every client still holds the pod HEALTHY.
    const early = await ask('2s');
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(
      /^not drained after [\d.]+s: pod default\/solo-0 \(cluster dc1\): 1\/1 replicas do not agree: 127\.0\.0\.1:\d+ \(herald-e2e-0\): fallback, 0\/0 clients ACKed\n$/,
    );
    for (const c of clients) expect(endpointMap(c, 'solo.default').get('10.9.6.1:8080')?.health).toBe('HEALTHY');

    await cluster.kubelet.runPod({ name: 'solo-1', service: 'solo', node: 'dc1-n1', ip: '10.9.6.2', port: 8080 });
    const run = await ask('30s');
    expect(run.stdout).toBe('drained: pod default/solo-0 (cluster dc1): all 1 Herald replicas report every xDS client ACKed DRAINING (2 clients in all)\n');
    expect(run.code).toBe(0);
    for (const c of clients) expect(endpointMap(c, 'solo.default').get('10.9.6.1:8080')?.health).toBe('DRAINING');
    expect(await herald.metric('herald_terminating_fallback_services')).toBe(0);
  });

  it('writes HeraldDrainIncomplete at the end of the grace, naming the client that never ACKed; wait-drained names it too', async () => {
    let armed = false;
    const nacker = new AdsClient({
      target: herald.xdsTarget,
      nodeId: 'nacker-1',
      protos: loadEnvoyProtos(),
      nackIf: (typeUrl) => (armed && typeUrl.endsWith('ClusterLoadAssignment') ? 'refusing this assignment' : undefined),
    }).start();
    clients.push(nacker);
    // ledger-1 stays HEALTHY, so ledger-0 is announced DRAINING as soon as it is deleted.
    await cluster.kubelet.runPod({ name: 'ledger-0', service: 'ledger', node: 'dc1-n1', ip: '10.9.5.1', port: 8080, graceSeconds: 60 });
    await cluster.kubelet.runPod({ name: 'ledger-1', service: 'ledger', node: 'dc1-n1', ip: '10.9.5.2', port: 8080, graceSeconds: 60 });
    for (const c of clients) await until(c, 'ledger served', (x) => endpointMap(x, 'ledger.default').size === 2, 60_000, ['ledger.default']);
    armed = true;
    await cluster.kubelet.deletePod('default', 'ledger-0', { graceSeconds: 4, completion: 'never' });

    const run = await runHerald(['wait-drained', '--replica', `127.0.0.1:${herald.adminPort}`, '--namespace', 'default', '--pod', 'ledger-0', '--timeout', '30s'], 40_000);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^not drained after [\d.]+s: pod default\/ledger-0: 1\/1 replicas do not agree: 127\.0\.0\.1:\d+ \(herald-e2e-0\): incomplete, 2\/3 clients ACKed, never ACKed: nacker-1\n$/,
    );

    const [event] = await eventually(
      'a HeraldDrainIncomplete Event for ledger-0',
      async () => {
        const found = (await eventsOf('HeraldDrainIncomplete')).filter((e) => e.regarding?.name === 'ledger-0');
        return found.length === 0 ? undefined : found;
      },
      30_000,
    );
    expect(event!.type).toBe('Warning');
    expect(event!.note).toMatch(
      /^DRAINING not acknowledged by 1\/3 xDS clients of Herald replica herald-e2e-0 [\d.]+ s after termination began: nacker-1; 2 ACKed \(service ledger\.default\)$/,
    );
    expect(await herald.metric('herald_drains_total', { outcome: 'incomplete' })).toBe(1);
  });
});
