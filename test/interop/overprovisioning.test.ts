// Gradual failover for clients that ignore overprovisioning, on real proxyless clients. Each of
// them (grpc-js, grpc-go, grpc-java, C-core) announces envoy.lb.does_not_support_overprovisioning
// in its Node's client_features itself, whatever the bootstrap says; Herald (run with
// --include-not-ready, so not-Ready pods are sent UNHEALTHY and lower a priority's health as they
// do for Envoy) merges priorities and weights localities so the calls spill to the other cluster
// in Envoy's proportions: 1.4 × the HEALTHY share of priority 0 stays, the rest moves. Both
// clusters are in zone z1, so the merged localities keep apart by their spill sub_zone and the
// unmerged priority 1 by its priority sub_zone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import { HeraldMetrics } from '../../src/telemetry/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { startMeshDaemon } from './mesh-daemon.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { XdsProbe, type CallReport } from './xds-probe.js';
import { landed } from './landing.js';
import { expectNoNacks } from './nacks.js';
import { LocalityRow } from './doc-table.js';

const A_PODS = 10;
const SAMPLE = 300;

/** Calls that reached kube-b's backends. */
function toB(report: CallReport): number {
  return Object.entries(report.backends).reduce((n, [name, count]) => (name.startsWith('b-') ? n + count : n), 0);
}

/**
 * Binomial bounds for `expected` share of `n` calls: 4.5 standard deviations (a false failure
 * about once in 150 000 runs), never so wide that a client ignoring the weights (0 % or 100 %
 * to kube-b) would pass.
 */
function bounds(expected: number, n: number): [number, number] {
  const margin = 4.5 * Math.sqrt(n * expected * (1 - expected));
  return [Math.max(1, Math.floor(n * expected - margin)), Math.min(n - 1, Math.ceil(n * expected + margin))];
}

PROXYLESS_CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${92 + index}.${host}`;

  probeSuite(`${client.name}: gradual failover without overprovisioning support`, client, (launch) => {
    const backends: EchoBackend[] = [];
    let kubeA: ManualSource;
    let daemon: Daemon;
    let probe: XdsProbe;
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    /** herald_spill_services, as a scrape reads it. */
    const spilling = async () => (await metrics.spillServices.get()).values[0]?.value;
    const featureRow = new LocalityRow('announces `envoy.lb.does_not_support_overprovisioning` (Node `client_features`)', 1);
    const spillRow = new LocalityRow("priority 0 losing HEALTHY endpoints: calls spill to the next priority in Envoy's proportions (Herald's locality weights)", 4);

    /** Calls until a round lands on exactly `want` (the new assignment has reached the client and its subchannels are READY). */
    async function landsOn(want: (backends: string[]) => boolean, what: string): Promise<void> {
      let last = '';
      for (let round = 0; round < 60; round++) {
        const report = await probe.call(40);
        if (report.errors > 0) throw new Error(`${report.errors} calls failed: ${report.lastError}; ${probe.stderr}`);
        last = landed(report);
        if (want(Object.keys(report.backends))) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`calls never landed as ${what}; last: ${last}`);
    }

    const notReady = (count: number) => {
      for (let i = 0; i < A_PODS; i++) kubeA.update(`default/a-${i}`, { ready: i >= count });
    };

    beforeAll(async () => {
      const names = [...Array.from({ length: A_PODS }, (_, i) => `a-${i}`), 'b-0', 'b-1'];
      for (const [i, name] of names.entries()) backends.push(await startEchoBackend(name, ip(i + 1)));
      const pod = (cluster: string, b: EchoBackend) => makePod({ cluster, name: b.name, ip: b.host, port: b.port, nodeName: `${cluster}-n` });
      const node = (cluster: string) => ({ cluster, name: `${cluster}-n`, region: 'r1', zone: 'z1' });
      kubeA = new ManualSource('kube-a', { pods: backends.slice(0, A_PODS).map((b) => pod('kube-a', b)), nodes: [node('kube-a')] });
      const kubeB = new ManualSource('kube-b', { pods: backends.slice(A_PODS).map((b) => pod('kube-b', b)), nodes: [node('kube-b')] });
      daemon = await startMeshDaemon([kubeA, kubeB], metrics);
      probe = await XdsProbe.start({
        launch,
        label: `${client.name}-spill`,
        target: 'xds:///echo',
        bootstrap: {
          xds_servers: [{ server_uri: `127.0.0.1:${daemon.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
          node: { id: `${client.name}-spill`, locality: { region: 'r1', zone: 'z1' }, metadata: { 'herald.io/kube-cluster': 'kube-a' } },
        },
      });
    });

    afterAll(async () => {
      await probe?.close();
      await daemon?.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    });

    const variants = () => daemon.cache.variantCounts().endpoint?.revisions ?? 0;

    it('all HEALTHY: calls land on kube-a only, and the client reads the plain assignment (no variant)', async () => {
      await landsOn((b) => b.length === A_PODS && b.every((name) => name.startsWith('a-')), 'every kube-a backend');
      expect(variants()).toBe(0);
    });

    it('announces envoy.lb.does_not_support_overprovisioning in its Node (the bootstrap does not)', () => {
      const streams = daemon.xds.clients().filter((c) => c.node?.id === `${client.name}-spill`);
      expect(streams.length).toBeGreaterThan(0);
      for (const s of streams) expect(s.node?.ignoresOverprovisioning).toBe(true);
      featureRow.pass();
    });

    it('8 of 10 HEALTHY (1.4 × 0.8 ≥ 1): every call stays in kube-a', async () => {
      notReady(2);
      await landsOn((b) => !b.includes('a-0') && !b.includes('a-1'), 'kube-a without its two not-Ready pods');
      const report = await probe.call(SAMPLE);
      expect(report.errors).toBe(0);
      expect(toB(report)).toBe(0);
      expect(variants()).toBe(0);
      expect(await spilling()).toBe(0);
      spillRow.pass();
    });

    it.each([
      { unhealthy: 5, toB: 0.3 },
      { unhealthy: 7, toB: 0.58 },
    ])('$unhealthy of 10 not Ready: kube-b takes $toB of the calls, as Envoy would spill', async ({ unhealthy, toB: share }) => {
      notReady(unhealthy);
      await landsOn((b) => b.includes('b-0') && b.includes('b-1') && !b.includes(`a-${unhealthy - 1}`), 'both clusters, the not-Ready pods left out');
      const report = await probe.call(SAMPLE);
      expect(report.errors).toBe(0);
      const [low, high] = bounds(share, SAMPLE);
      const got = toB(report);
      expect({ got, low, high, inside: got >= low && got <= high }).toEqual({ got, low, high, inside: true });
      // The spill is a variant of its own: the client announced the feature itself (Herald's bootstrap here says nothing of it).
      expect(variants()).toBe(1);
      expect(await spilling()).toBe(1);
      spillRow.pass();
    });

    it('no HEALTHY endpoint left in kube-a: everything goes to kube-b', async () => {
      notReady(A_PODS);
      await landsOn((b) => b.every((name) => name.startsWith('b-')), 'kube-b only');
      const report = await probe.call(SAMPLE);
      expect(toB(report)).toBe(SAMPLE);
      spillRow.pass();
    });

    it('all HEALTHY again: back to kube-a alone, and nothing was NACKed', async () => {
      notReady(0);
      await landsOn((b) => b.length === A_PODS && b.every((name) => name.startsWith('a-')), 'every kube-a backend');
      expect(await spilling()).toBe(0);
      expectNoNacks(daemon.xds.clients());
    });

    it('docs/XDS-CLIENTS.md says what it did', () => {
      for (const row of [featureRow, spillRow]) expect({ row: row.title, says: row.documented(client.name) }).toEqual({ row: row.title, says: row.seen });
    });
  });
});
