// A canary split end to end (issue 18): a ServicePolicy applied to a real apiserver splits
// service cart.shop (two pods in cluster east) with cart-canary.shop (one pod in cluster west),
// and the real RPCs of grpc-js-xds and grpc-go, resolving xds:///cart.shop through a Herald
// process, follow the weights: 80/20, then 50/50 after the object is edited, each measured over
// 400 RPCs within five binomial standard deviations. A graceful DELETE of the canary's pod
// (left terminating, with no HEALTHY endpoint) drops its weight to 0, and every RPC then succeeds on cart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { ClientInfo } from '../../src/xds/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { GRPC_GO, GRPC_JS } from '../interop/probe-clients.js';
import { XdsProbe, type CallReport } from '../interop/xds-probe.js';
import { HeraldProcess } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { installPolicyCrd } from './harness/rbac.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';

const bins = e2eBins();
const NAMESPACE = 'shop';
const CALLS = 400;
const GROUP = { group: 'herald.io', version: 'v1alpha1', plural: 'servicepolicies' };
// Loopback IPs of this file's own: the clients really call these backends.
const IPS = { cart0: '127.0.0.91', cart1: '127.0.0.92', canary: '127.0.0.93' };
const clients = [GRPC_JS, GRPC_GO].map((client) => ({ client, located: client.locate() }));
const missing = clients.flatMap(({ client, located }) => (located.reason === undefined ? [] : [`${client.name}: ${located.reason}`]));

const share = (report: CallReport) => (report.backends['canary-0'] ?? 0) / Object.values(report.backends).reduce((a, b) => a + b, 0);
/** Five standard deviations of the canary's share of CALLS RPCs when each goes there with probability `p`. */
const tolerance = (p: number) => 5 * Math.sqrt((p * (1 - p)) / CALLS);

describe.skipIf(bins === '' || missing.length > 0)(`e2e: a canary split moves real RPCs${missing.length > 0 ? ` (skipped: ${missing.join('; ')})` : ''}`, () => {
  let env: E2eEnv;
  let east: TestCluster;
  let west: TestCluster;
  let herald: HeraldProcess;
  const backends: EchoBackend[] = [];
  const probes: { name: string; nodeId: string; probe: XdsProbe }[] = [];
  let generation = 0;

  const setSplit = async (cart: number, canary: number) => {
    const api = east.kube.kubeConfig('admin').makeApiClient(CustomObjectsApi);
    const existing = (await api.getNamespacedCustomObject({ ...GROUP, namespace: NAMESPACE, name: 'cart' }).catch(() => undefined)) as { metadata: { resourceVersion: string } } | undefined;
    const body = {
      apiVersion: 'herald.io/v1alpha1',
      kind: 'ServicePolicy',
      metadata: { name: 'cart', namespace: NAMESPACE, ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}) },
      spec: {
        routes: {
          timeoutMs: 10_000,
          retries: { attempts: 2, retryOn: ['unavailable'] },
          split: [
            { service: 'cart', weight: cart },
            { service: 'cart-canary', weight: canary },
          ],
        },
      },
    };
    await (existing ? api.replaceNamespacedCustomObject({ ...GROUP, namespace: NAMESPACE, name: 'cart', body }) : api.createNamespacedCustomObject({ ...GROUP, namespace: NAMESPACE, body }));
    generation += 1;
    // Herald took this generation: the policy view says so.
    await eventually(
      `Herald serves generation ${generation}`,
      async () => {
        const { body: view } = await herald.debug<{ services: { service: string; from: { routes?: { generation: number } } }[] }>('policies');
        return view.services.find((s) => s.service === `cart.${NAMESPACE}`)?.from.routes?.generation === generation ? true : undefined;
      },
      60_000,
    );
  };

  /** Every probe's streams have ACKed all Herald sent them, three looks in a row. */
  const settled = async () => {
    let calm = 0;
    await eventually(
      'clients settled',
      async () => {
        const { body } = await herald.debug<ClientInfo[]>('clients');
        const mine = body.filter((c) => probes.some((p) => p.nodeId === c.node?.id));
        const busy = probes.some((p) => !mine.some((c) => c.node?.id === p.nodeId)) || mine.some((c) => Object.values(c.types).some((t) => t.pending || t.dirty || t.sync === 'behind'));
        calm = busy ? 0 : calm + 1;
        return calm >= 3 ? true : undefined;
      },
      60_000,
    );
  };

  async function callUntil(probe: XdsProbe, done: (r: CallReport) => boolean): Promise<CallReport> {
    let last: CallReport | undefined;
    for (let round = 0; round < 30; round++) {
      last = await probe.call(40);
      if (done(last)) return last;
    }
    throw new Error(`condition not met; last ${JSON.stringify(last)}; stderr ${probe.stderr}`);
  }

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [east, west] = await env.startClusters([
      { name: 'east', nodes: [{ name: 'east-n1', zone: 'east-a', region: 'east' }] },
      { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'west' }] },
    ]);
    await installPolicyCrd(east.kube);
    for (const c of [east, west]) await c.kube.core().createNamespace({ body: { metadata: { name: NAMESPACE } } });
    const run = async (c: TestCluster, name: string, service: string, ip: string, node: string) => {
      const backend = await startEchoBackend(name, ip);
      backends.push(backend);
      await c.kubelet.runPod({ name, namespace: NAMESPACE, service, node, ip, port: backend.port });
    };
    await run(east, 'cart-0', 'cart', IPS.cart0, 'east-n1');
    await run(east, 'cart-1', 'cart', IPS.cart1, 'east-n1');
    await run(west, 'canary-0', 'cart-canary', IPS.canary, 'west-n1');
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [east, west].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      localCluster: 'east',
      initialSyncTimeout: '60s',
      extraArgs: ['--policy-clusters', 'east'],
    });
    for (const { client, located } of clients) {
      const nodeId = `${client.name}-canary-e2e`;
      const probe = await XdsProbe.start({
        launch: located.launch!,
        label: client.name,
        target: `xds:///cart.${NAMESPACE}`,
        bootstrap: {
          xds_servers: [{ server_uri: herald.xdsTarget, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
          node: { id: nodeId, locality: { region: 'east', zone: 'east-a' } },
        },
      });
      probes.push({ name: client.name, nodeId, probe });
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all(probes.map((p) => p.probe.close()));
    await env?.close();
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('without a policy, both clients call cart only', async () => {
    for (const { probe } of probes) {
      const report = await callUntil(probe, (r) => r.errors === 0 && Object.keys(r.backends).length === 2);
      expect(Object.keys(report.backends).sort()).toEqual(['cart-0', 'cart-1']);
    }
  });

  it('80/20 applied with the API: about a fifth of the RPCs reach the canary in the other cluster', async () => {
    await setSplit(80, 20);
    await settled();
    for (const { name, probe } of probes) {
      const report = await probe.call(CALLS);
      expect({ name, errors: report.errors }).toEqual({ name, errors: 0 });
      expect(Math.abs(share(report) - 0.2), `${name} ${JSON.stringify(report)}`).toBeLessThan(tolerance(0.2));
    }
  });

  it('the object edited to 50/50: the RPCs follow', async () => {
    await setSplit(50, 50);
    await settled();
    for (const { name, probe } of probes) {
      const report = await probe.call(CALLS);
      expect({ name, errors: report.errors }).toEqual({ name, errors: 0 });
      expect(Math.abs(share(report) - 0.5), `${name} ${JSON.stringify(report)}`).toBeLessThan(tolerance(0.5));
    }
  });

  it("the canary's pod terminating: its weight drops to 0 and every RPC succeeds on cart", async () => {
    // No kubelet finishes the deletion: the pod stays terminating, its server keeps running. The
    // canary's own assignment still serves it (the terminating fallback: nothing else of the canary
    // is HEALTHY), but the split counts HEALTHY pods only, so the route leaves the canary out.
    await west.kubelet.deletePod(NAMESPACE, 'canary-0', { graceSeconds: 120, completion: 'never' });
    await eventually(
      'the canary has no HEALTHY endpoint',
      async () => {
        const { body } = await herald.debug<{ endpoints: { health: string }[] }>(`services/cart-canary.${NAMESPACE}`);
        return body.endpoints.every((e) => e.health !== 'HEALTHY') ? true : undefined;
      },
      60_000,
    );
    await settled();
    for (const { name, probe } of probes) {
      const report = await probe.call(CALLS / 2);
      expect({ name, errors: report.errors, backends: Object.keys(report.backends).sort() }).toEqual({ name, errors: 0, backends: ['cart-0', 'cart-1'] });
    }
  });

  it('neither client NACKed anything', async () => {
    const { body } = await herald.debug<ClientInfo[]>('clients');
    for (const { nodeId } of probes) {
      const streams = body.filter((c) => c.node?.id === nodeId);
      expect(streams.length, nodeId).toBeGreaterThan(0);
      for (const s of streams) for (const [kind, info] of Object.entries(s.types)) expect({ nodeId, kind, nacks: info.counts.nacks }).toEqual({ nodeId, kind, nacks: 0 });
    }
  });
});
