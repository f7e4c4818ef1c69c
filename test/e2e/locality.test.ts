// Priorities from the client's own kube cluster, and the terminating fallback, against real
// apiservers: two clusters, one Herald (--local-cluster east), Envoy-like clients declaring
// east and west, east evacuated through the mesh-defaults ServicePolicy and brought back, and
// one-replica services whose only pod is deleted while still Ready: by default (the fallback
// keeps it HEALTHY), and with the fallback turned off by the service's ServicePolicy and by the
// mesh defaults.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi, loadYaml, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdsClient } from '../../src/xdsclient/index.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess, REPO_ROOT } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { healthView, until } from './harness/xds.js';

const bins = e2eBins();
const GROUP = { group: 'herald.io', version: 'v1alpha1', plural: 'servicepolicies' };

/** "ip=priority" per endpoint, sorted. */
function priorities(client: AdsClient, service: string): string[] {
  return (client.assignment(service)?.endpoints ?? []).map((e) => `${e.address}=${e.priority}`).sort();
}

describe.skipIf(bins === '')('e2e: priorities from the client, and never nothing', () => {
  let env: E2eEnv;
  let east: TestCluster;
  let west: TestCluster;
  let herald: HeraldProcess;
  const clients: AdsClient[] = [];
  const byNodeId = new Map<string, AdsClient>();
  const client = (nodeId: string, kubeCluster?: string): AdsClient => {
    const c = new AdsClient({
      target: herald.xdsTarget,
      nodeId,
      protos: loadEnvoyProtos(),
      zone: 'z-test',
      ...(kubeCluster ? { kubeCluster } : {}),
      backoff: { baseMs: 200, capMs: 2000 },
    });
    c.on('error', () => undefined);
    clients.push(c);
    byNodeId.set(nodeId, c);
    return c.start();
  };

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [east, west] = await env.startClusters([
      { name: 'east', nodes: [{ name: 'east-n1', zone: 'east-a', region: 'east' }] },
      { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'west' }] },
    ]);
    const crd = loadYaml<KubernetesObject>(readFileSync(path.join(REPO_ROOT, 'deploy', 'crd', 'servicepolicies.yaml'), 'utf8'));
    await KubernetesObjectApi.makeApiClient(west.kube.kubeConfig('admin')).create(crd);
    const policies = west.kube.kubeConfig('admin').makeApiClient(CustomObjectsApi);
    // The CRD takes a moment to be served after it is created.
    await eventually(
      'ServicePolicies served',
      async () =>
        await policies
          .createNamespacedCustomObject({
            ...GROUP,
            namespace: 'default',
            body: { apiVersion: 'herald.io/v1alpha1', kind: 'ServicePolicy', metadata: { name: 'lone', namespace: 'default' }, spec: { locality: { terminatingFallback: 'Disabled' } } },
          })
          .then(() => true)
          .catch(() => undefined),
      30_000,
    );
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [east, west].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      localCluster: 'east',
      initialSyncTimeout: '60s',
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.close();
  });

  it("a client declaring west gets west first from the replica whose --local-cluster is east; one declaring nothing gets the replica's view", async () => {
    await east.kubelet.runPod({ name: 'shop-1', service: 'shop', node: 'east-n1', ip: '10.11.0.1', port: 8080 });
    await west.kubelet.runPod({ name: 'shop-1', service: 'shop', node: 'west-n1', ip: '10.12.0.1', port: 8080 });
    const plain = client('plain');
    const westClient = client('west-envoy', 'west');
    const eastClient = client('east-envoy', 'east');
    const both = (c: AdsClient) => (c.assignment('shop.default')?.endpoints.length ?? 0) === 2;
    for (const c of [plain, westClient, eastClient]) await until(c, 'shop has both endpoints', both, 60_000, ['shop.default']);
    expect(priorities(plain, 'shop.default')).toEqual(['10.11.0.1=0', '10.12.0.1=1']);
    expect(priorities(eastClient, 'shop.default')).toEqual(['10.11.0.1=0', '10.12.0.1=1']);
    expect(priorities(westClient, 'shop.default')).toEqual(['10.11.0.1=1', '10.12.0.1=0']);
  });

  it('locality.evacuate: [east] with Drain in the mesh defaults puts east last and DRAINING for every client; deleting the object undoes it', async () => {
    const [plain, westClient, eastClient] = ['plain', 'west-envoy', 'east-envoy'].map((id) => byNodeId.get(id)!);
    const policies = west.kube.kubeConfig('admin').makeApiClient(CustomObjectsApi);
    await policies.createNamespacedCustomObject({
      ...GROUP,
      namespace: 'herald',
      body: {
        apiVersion: 'herald.io/v1alpha1',
        kind: 'ServicePolicy',
        metadata: { name: 'mesh-defaults', namespace: 'herald' },
        spec: { locality: { evacuate: ['east'], evacuateMode: 'Drain' } },
      },
    });
    const evacuated = (c: AdsClient) =>
      priorities(c, 'shop.default').join() === '10.11.0.1=1,10.12.0.1=0' && healthView(c, 'shop.default').join() === '10.11.0.1:8080=DRAINING,10.12.0.1:8080=HEALTHY';
    for (const c of [plain!, westClient!, eastClient!]) await until(c, 'east evacuated', evacuated, 30_000, ['shop.default']);
    const metrics = await (await fetch(`http://127.0.0.1:${herald.adminPort}/metrics`)).text();
    expect(metrics).toContain('herald_evacuated_clusters{kube_cluster="east",mode="Drain"} 1');

    await policies.deleteNamespacedCustomObject({ ...GROUP, namespace: 'herald', name: 'mesh-defaults' });
    const home = (c: AdsClient) => !healthView(c, 'shop.default').some((e) => e.endsWith('DRAINING'));
    for (const c of [plain!, westClient!, eastClient!]) await until(c, 'evacuation undone', home, 30_000, ['shop.default']);
    expect(priorities(eastClient!, 'shop.default')).toEqual(['10.11.0.1=0', '10.12.0.1=1']);
    expect(priorities(westClient!, 'shop.default')).toEqual(['10.11.0.1=1', '10.12.0.1=0']);
  });

  it('with locality.terminatingFallback: Disabled in its ServicePolicy, the only pod of a service deleted while Ready is announced DRAINING at once', async () => {
    await west.kubelet.runPod({ name: 'lone-1', service: 'lone', node: 'west-n1', ip: '10.12.0.8', port: 8080, graceSeconds: 300 });
    const c = client('lone-envoy', 'west');
    await until(c, 'lone is served', (x) => healthView(x, 'lone.default').length === 1, 60_000, ['lone.default']);
    await west.kubelet.deletePod('default', 'lone-1', { graceSeconds: 300, completion: 'never' });
    await until(c, 'lone turns DRAINING', (x) => healthView(x, 'lone.default').join() === '10.12.0.8:8080=DRAINING', 30_000, ['lone.default']);
  });

  it('by default (no ServicePolicy), a one-replica service whose pod is deleted while Ready stays HEALTHY until the pod stops being Ready, then DRAINING', async () => {
    await west.kubelet.runPod({ name: 'solo-1', service: 'solo', node: 'west-n1', ip: '10.12.0.9', port: 8080, graceSeconds: 300 });
    const c = client('solo-envoy', 'west');
    await until(c, 'solo is served', (x) => healthView(x, 'solo.default').length === 1, 60_000, ['solo.default']);
    await west.kubelet.deletePod('default', 'solo-1', { graceSeconds: 300, completion: 'never' });
    // Terminating and Ready, and nothing else HEALTHY: the pod keeps being served.
    const metrics = async () => (await fetch(`http://127.0.0.1:${herald.adminPort}/metrics`)).text();
    await expect.poll(async () => /herald_terminating_fallback_services 1/.test(await metrics()), { timeout: 30_000 }).toBe(true);
    expect(healthView(c, 'solo.default')).toEqual(['10.12.0.9:8080=HEALTHY']);
    await west.kubelet.setReady('default', 'solo-1', false);
    await until(c, 'solo turns DRAINING once not Ready', (x) => healthView(x, 'solo.default').join() === '10.12.0.9:8080=DRAINING', 30_000, ['solo.default']);
  });

  it('with locality.terminatingFallback: Disabled in the mesh defaults, the only pod of a service without a ServicePolicy deleted while Ready is announced DRAINING at once', async () => {
    const policies = west.kube.kubeConfig('admin').makeApiClient(CustomObjectsApi);
    await west.kubelet.runPod({ name: 'mono-1', service: 'mono', node: 'west-n1', ip: '10.12.0.10', port: 8080, graceSeconds: 300 });
    const c = client('mono-envoy', 'west');
    await until(c, 'mono is served', (x) => healthView(x, 'mono.default').length === 1, 60_000, ['mono.default']);
    await policies.createNamespacedCustomObject({
      ...GROUP,
      namespace: 'herald',
      body: { apiVersion: 'herald.io/v1alpha1', kind: 'ServicePolicy', metadata: { name: 'mesh-defaults', namespace: 'herald' }, spec: { locality: { terminatingFallback: 'Disabled' } } },
    });
    // Herald holds the defaults before the pod goes: mono's effective policy comes from them.
    const monoPolicy = async () => {
      const view = (await (await fetch(`http://127.0.0.1:${herald.adminPort}/debug/policies`)).json()) as {
        services: { service: string; spec: { locality?: { terminatingFallback?: string } } }[];
      };
      return view.services.find((s) => s.service === 'mono.default')?.spec.locality?.terminatingFallback;
    };
    await expect.poll(monoPolicy, { timeout: 30_000 }).toBe('Disabled');
    await west.kubelet.deletePod('default', 'mono-1', { graceSeconds: 300, completion: 'never' });
    await until(c, 'mono turns DRAINING', (x) => healthView(x, 'mono.default').join() === '10.12.0.10:8080=DRAINING', 30_000, ['mono.default']);
    await policies.deleteNamespacedCustomObject({ ...GROUP, namespace: 'herald', name: 'mesh-defaults' });
  });
});
