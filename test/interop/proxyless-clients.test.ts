// The grpc-js-xds scenario (test/integration/grpc-js-xds.test.ts) with each independent proxyless
// client (probe-clients.ts): resolve xds:///echo through Herald, balance over real backends in two
// Kubernetes clusters, stop picking a pod once it terminates while it still answers direct calls,
// pick up a new pod, and ACK every type without a NACK.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import { callWho, startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startEchoMesh, type EchoMesh } from '../helpers/echo-mesh.js';
import { makePod, type ManualSource } from '../helpers/manual-source.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { XdsProbe, type CallReport } from './xds-probe.js';

PROXYLESS_CLIENTS.forEach((client, index) => {
  // Loopback IPs of each client's own (test files may run at the same time in other workers, and
  // within one Kubernetes cluster an IP has one owner).
  const ip = (host: number) => `127.0.${16 + index}.${host}`;
  const nodeId = `${client.name}-probe`;

  probeSuite(`${client.name} xDS client through Herald`, client, (launch) => {
    const backends: EchoBackend[] = [];
    let mesh: EchoMesh;
    let daemon: Daemon;
    let clusterA: ManualSource;
    let clusterB: ManualSource;
    let probe: XdsProbe;

    beforeAll(async () => {
      mesh = await startEchoMesh([ip(1), ip(2), ip(3)]);
      ({ daemon, clusterA, clusterB } = mesh);
      backends.push(...mesh.backends);
      probe = await XdsProbe.start({ launch, label: client.name, target: 'xds:///echo', bootstrap: mesh.bootstrap(nodeId) });
    });

    afterAll(async () => {
      await probe?.close();
      await mesh?.stop();
    });

    /** Calls in rounds of `round` until `done` holds for one round's report, within a bound. */
    async function callUntil(done: (report: CallReport) => boolean, round: number, maxRounds = 20): Promise<CallReport> {
      let last: CallReport | undefined;
      for (let i = 0; i < maxRounds; i++) {
        last = await probe.call(round);
        if (done(last)) return last;
      }
      throw new Error(`condition not met within ${maxRounds} rounds of ${round} calls; last: ${JSON.stringify(last)}; probe stderr: ${probe.stderr}`);
    }

    it('balances across the endpoints of both Kubernetes clusters', async () => {
      const report = await callUntil((r) => r.errors === 0 && Object.keys(r.backends).length === 3, 30);
      expect(Object.keys(report.backends).sort()).toEqual(['a-0', 'a-1', 'b-0']);
      expect(Object.values(report.backends).reduce((a, b) => a + b, 0)).toBe(30);
      // The calls went through a cluster with HTTP/2 upstream options (the echo pods are gRPC).
      expect(daemon.store.service('echo')?.protocol?.protocol).toBe('HTTP/2');
      expect(daemon.cache.get('cluster', 'echo')?.any.includes('type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions')).toBe(true);
    });

    it('stops picking a backend whose pod is terminating, while the backend still runs', async () => {
      clusterA.update('default/a-1', { terminating: true, gracePeriodSeconds: 30 });
      await callUntil((r) => r.errors === 0 && r.backends['a-1'] === undefined, 30);
      const callsBefore = backends[1]!.calls;
      const more = await probe.call(40);
      expect(more.errors).toBe(0);
      expect(Object.keys(more.backends).sort()).toEqual(['a-0', 'b-0']);
      expect(backends[1]!.calls).toBe(callsBefore);
      // Not picked because of DRAINING, not because it is down: a direct call is answered.
      const direct = new grpc.Client(`${backends[1]!.host}:${backends[1]!.port}`, grpc.credentials.createInsecure());
      try {
        expect(await callWho(direct)).toBe('a-1');
      } finally {
        direct.close();
      }
    });

    it('keeps serving the rest after the terminating pod is deleted', async () => {
      clusterA.remove('default/a-1');
      // The pod is gone, so is its server: a stale pick would now show as an error.
      await backends.splice(1, 1)[0]!.stop();
      const report = await callUntil((r) => Object.keys(r.backends).length === 2, 30);
      expect(report.errors).toBe(0);
      expect(Object.keys(report.backends).sort()).toEqual(['a-0', 'b-0']);
    });

    it('picks up a new pod in the other cluster once it is ready', async () => {
      const fresh = await startEchoBackend('b-1', ip(4));
      backends.push(fresh);
      clusterB.apply(makePod({ cluster: 'kube-b', name: 'b-1', ip: fresh.host, port: fresh.port, ready: false, nodeName: 'kube-b-node' }));
      await expect.poll(() => daemon.store.service('echo')?.podCount, { timeout: 5_000 }).toBe(3);
      const notYet = await probe.call(30);
      expect(notYet.backends['b-1']).toBeUndefined();
      clusterB.update('default/b-1', { ready: true });
      const report = await callUntil((r) => r.backends['b-1'] !== undefined, 30);
      expect(report.errors).toBe(0);
    });

    it(`was ACKed by ${client.name} for every type, never NACKed`, () => {
      const streams = daemon.xds.clients().filter((c) => c.node?.id === nodeId);
      expect(streams.length).toBeGreaterThanOrEqual(1);
      const perType = (['listener', 'route', 'cluster', 'endpoint'] as const).map((kind) => {
        const counts = streams.map((s) => s.types[kind]?.counts);
        return {
          kind,
          acks: counts.reduce((sum, c) => sum + (c?.acks ?? 0), 0),
          nacks: counts.reduce((sum, c) => sum + (c?.nacks ?? 0), 0),
          lastNack: streams.map((s) => s.types[kind]?.lastNack?.message).find((m) => m !== undefined),
        };
      });
      for (const t of perType) {
        expect(t, t.kind).toMatchObject({ nacks: 0, lastNack: undefined });
        expect(t.acks, t.kind).toBeGreaterThan(0);
      }
    });
  });
});
