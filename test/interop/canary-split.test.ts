// A canary split (a ServicePolicy routes.split) moving real RPCs of each proxyless client between
// two services in proportion: cart.shop (two pods in kube-a) and cart-canary.shop (one pod in
// kube-b), every pod a real gRPC server naming itself in its reply. The client calls
// xds:///cart.shop; its RouteConfiguration's weighted clusters decide which service each RPC
// goes to. Weights are measured over hundreds of RPCs against a bound of about five standard
// deviations of a binomial count, so only a wrong split fails, not bad luck. When the canary's
// last pod drains its weight drops to 0: every RPC then succeeds on cart (had the weight
// stayed, a fifth of them would fail on a cluster with no endpoint to pick), and it comes back
// when a pod is ready again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import type { PodRecord, RoutesPolicy } from '../../src/model/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { makePod, ManualSource } from '../helpers/manual-source.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { clientSettled, startPolicyDaemon, startPolicyProbe } from './policy-mesh.js';
import { probeSuite } from './suite.js';
import type { CallReport, XdsProbe } from './xds-probe.js';

const CALLS = 400;

/** The share of `report`'s RPCs the canary's server answered. */
function canaryShare(report: CallReport): number {
  const total = Object.values(report.backends).reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : (report.backends['canary-0'] ?? 0) / total;
}
/** Five standard deviations of the share of CALLS RPCs when each goes to the canary with probability `p`. */
const tolerance = (p: number) => 5 * Math.sqrt((p * (1 - p)) / CALLS);

PROXYLESS_CLIENTS.forEach((client, index) => {
  // Loopback IPs of each client's own, apart from the other interop files'.
  const ip = (host: number) => `127.0.${60 + index}.${host}`;
  const nodeId = `${client.name}-canary`;

  probeSuite(`${client.name}: a ServicePolicy canary split through Herald`, client, (launch) => {
    const backends: EchoBackend[] = [];
    let daemon: Daemon;
    let clusterA: ManualSource;
    let clusterB: ManualSource;
    let policies: ManualPolicySource;
    let probe: XdsProbe;
    let generation = 0;

    const pod = (cluster: string, b: EchoBackend, label: string): PodRecord =>
      makePod({
        cluster,
        name: b.name,
        namespace: 'shop',
        service: `${label}.shop`,
        serviceLabel: label,
        ip: b.host,
        port: b.port,
        nodeName: `${cluster}-node`,
        protocol: { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc' },
      });

    beforeAll(async () => {
      backends.push(await startEchoBackend('cart-0', ip(1)), await startEchoBackend('cart-1', ip(2)), await startEchoBackend('canary-0', ip(3)));
      const node = (cluster: string, zone: string) => ({ cluster, name: `${cluster}-node`, region: 'r1', zone });
      clusterA = new ManualSource('kube-a', { pods: [pod('kube-a', backends[0]!, 'cart'), pod('kube-a', backends[1]!, 'cart')], nodes: [node('kube-a', 'z1')] });
      clusterB = new ManualSource('kube-b', { pods: [pod('kube-b', backends[2]!, 'cart-canary')], nodes: [node('kube-b', 'z2')] });
      policies = new ManualPolicySource('kube-a');
      daemon = await startPolicyDaemon([clusterA, clusterB], policies);
      probe = await startPolicyProbe(daemon, launch, client.name, 'xds:///cart.shop', nodeId);
    }, 120_000);

    afterAll(async () => {
      await probe?.close();
      await daemon?.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    });

    function setRoutes(routes: RoutesPolicy): void {
      policies.apply({ cluster: 'kube-a', namespace: 'shop', name: 'cart', generation: ++generation, spec: { routes } });
    }

    const split = (cart: number, canary: number): RoutesPolicy => ({
      timeoutMs: 10_000,
      retries: { attempts: 2, retryOn: ['unavailable', 'reset'], backoff: { baseIntervalMs: 10, maxIntervalMs: 50 } },
      split: [
        { service: 'cart', weight: cart },
        { service: 'cart-canary', weight: canary },
      ],
    });

    const settled = () => clientSettled(daemon, nodeId, () => `probe stderr: ${probe.stderr}`);

    /** Calls in rounds until `done` holds for one round's report, within a bound. */
    async function callUntil(done: (report: CallReport) => boolean, round = 40, maxRounds = 25): Promise<CallReport> {
      let last: CallReport | undefined;
      for (let i = 0; i < maxRounds; i++) {
        last = await probe.call(round);
        if (done(last)) return last;
      }
      throw new Error(`condition not met within ${maxRounds} rounds of ${round} calls; last: ${JSON.stringify(last)}; probe stderr: ${probe.stderr}`);
    }

    it('without a split, calls reach cart only', async () => {
      const report = await callUntil((r) => r.errors === 0 && Object.keys(r.backends).length === 2);
      expect(Object.keys(report.backends).sort()).toEqual(['cart-0', 'cart-1']);
    });

    it('an 80/20 split sends about a fifth of the RPCs to the canary', async () => {
      setRoutes(split(80, 20));
      await callUntil((r) => (r.backends['canary-0'] ?? 0) > 0);
      await settled();
      const report = await probe.call(CALLS);
      expect(report.errors).toBe(0);
      expect(Object.keys(report.backends).sort()).toEqual(['canary-0', 'cart-0', 'cart-1']);
      expect(Math.abs(canaryShare(report) - 0.2), JSON.stringify(report)).toBeLessThan(tolerance(0.2));
    });

    it('a weight change to 50/50 moves the RPCs with it', async () => {
      setRoutes(split(50, 50));
      await settled();
      const report = await probe.call(CALLS);
      expect(report.errors).toBe(0);
      expect(Math.abs(canaryShare(report) - 0.5), JSON.stringify(report)).toBeLessThan(tolerance(0.5));
    });

    it("drops the canary's weight to 0 while it has no HEALTHY endpoint: every RPC succeeds on cart", async () => {
      clusterB.update('shop/canary-0', { terminating: true, gracePeriodSeconds: 30 });
      await expect.poll(() => daemon.cache.get('route', 'cart.shop')?.any.includes('cart-canary.shop'), { timeout: 5_000 }).toBe(false);
      await settled();
      const report = await probe.call(CALLS / 2);
      expect(report).toMatchObject({ errors: 0 });
      expect(Object.keys(report.backends).sort()).toEqual(['cart-0', 'cart-1']);
    });

    it('gives the canary its weight back once a pod of it is ready again', async () => {
      clusterB.remove('shop/canary-0');
      // A new pod of the canary on the same server (the old one is gone from the mesh).
      clusterB.apply({ ...pod('kube-b', backends[2]!, 'cart-canary'), name: 'canary-0b', uid: 'uid-canary-0b' });
      await callUntil((r) => r.errors === 0 && (r.backends['canary-0'] ?? 0) > 0);
      await settled();
      const report = await probe.call(CALLS);
      expect(report.errors).toBe(0);
      expect(Math.abs(canaryShare(report) - 0.5), JSON.stringify(report)).toBeLessThan(tolerance(0.5));
    });

    it(`was never NACKed by ${client.name}`, () => {
      const streams = daemon.xds.clients().filter((c) => c.node?.id === nodeId);
      expect(streams.length).toBeGreaterThanOrEqual(1);
      for (const s of streams)
        for (const [kind, info] of Object.entries(s.types)) expect({ kind, nacks: info.counts.nacks, last: info.lastNack?.message }).toEqual({ kind, nacks: 0, last: undefined });
    });
  });
});
