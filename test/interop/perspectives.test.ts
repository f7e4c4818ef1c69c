// Priorities follow the client's own kube cluster (node metadata `herald.io/kube-cluster`), not
// the replica's: one Herald (--local-cluster kube-a) serves two clients of each real proxyless
// client, one declaring kube-a and one kube-b, and each sends its calls to its own cluster's
// backends while they are healthy, then fails over to the other cluster; and with no HEALTHY
// endpoint left anywhere, the terminating pods that are still Ready keep taking calls.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { DEFAULTS_POLICY_NAME } from '../../src/policy/index.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { XdsProbe } from './xds-probe.js';
import { settledLanding } from './landing.js';

const CLIENTS = PROXYLESS_CLIENTS.filter((client) => client.name === 'grpc-js' || client.name === 'grpc-go');

CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${48 + index}.${host}`;

  probeSuite(`${client.name}: priorities from the client's kube cluster`, client, (launch) => {
    const backends: EchoBackend[] = [];
    let kubeA: ManualSource;
    let kubeB: ManualSource;
    let policies: ManualPolicySource;
    let daemon: Daemon;
    const probes = new Map<string, XdsProbe>();

    beforeAll(async () => {
      for (const [i, name] of ['a-0', 'a-1', 'b-0', 'b-1'].entries()) backends.push(await startEchoBackend(name, ip(i + 1)));
      const pod = (cluster: string, b: EchoBackend) => makePod({ cluster, name: b.name, ip: b.host, port: b.port, nodeName: `${cluster}-n` });
      const node = (cluster: string) => ({ cluster, name: `${cluster}-n`, region: 'r1', zone: `${cluster}-z` });
      kubeA = new ManualSource('kube-a', { pods: backends.slice(0, 2).map((b) => pod('kube-a', b)), nodes: [node('kube-a')] });
      kubeB = new ManualSource('kube-b', { pods: backends.slice(2).map((b) => pod('kube-b', b)), nodes: [node('kube-b')] });
      policies = new ManualPolicySource('kube-a');
      daemon = await startDaemon(
        {
          sources: [kubeA, kubeB],
          policies: { sources: [policies], clusters: ['kube-a'], namespace: 'herald' },
          localCluster: 'kube-a',
          initialSyncTimeoutMs: 5_000,
          xds: { host: '127.0.0.1', port: 0 },
          admin: undefined,
        },
        { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
      );
      policies.sync([]);
      await daemon.ready;
      for (const cluster of ['kube-a', 'kube-b']) {
        const probe = await XdsProbe.start({
          launch,
          label: `${client.name}-${cluster}`,
          target: 'xds:///echo',
          bootstrap: {
            xds_servers: [{ server_uri: `127.0.0.1:${daemon.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
            node: { id: `${client.name}-${cluster}`, locality: { region: 'r1', zone: `${cluster}-z` }, metadata: { 'herald.io/kube-cluster': cluster } },
          },
        });
        probes.set(cluster, probe);
      }
    });

    afterAll(async () => {
      await Promise.all([...probes.values()].map((probe) => probe.close()));
      await daemon?.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    });

    it('the same replica serves each client its own cluster as priority 0, and calls land there', async () => {
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
      // Two variants in the cache: the plain one (the replica's kube-a) and kube-b's.
      expect(daemon.cache.variantCounts().endpoint).toEqual({ names: 1, revisions: 1 });
    });

    it("a cluster's endpoints all DRAINING: its client fails over to the other cluster, the other client stays put", async () => {
      for (const name of ['b-0', 'b-1']) kubeB.update(`default/${name}`, { terminating: true, gracePeriodSeconds: 60 });
      // Another cluster still has HEALTHY endpoints, so the terminating fallback stays off.
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
    });

    it('locality.terminatingFallback: Enabled, every pod terminating but still Ready: no HEALTHY endpoint anywhere, so the Ready terminating ones are served and calls go on', async () => {
      policies.sync([{ cluster: 'kube-a', namespace: 'herald', name: DEFAULTS_POLICY_NAME, generation: 1, spec: { locality: { terminatingFallback: 'Enabled' } } }]);
      for (const name of ['a-0', 'a-1']) kubeA.update(`default/${name}`, { terminating: true, gracePeriodSeconds: 60 });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
      // One pod no longer Ready: it is left to drain, the others go on serving.
      kubeB.update('default/b-1', { ready: false });
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0');
    });

    it('NACKed nothing', () => {
      for (const s of daemon.xds.clients()) {
        for (const [kind, info] of Object.entries(s.types)) expect({ kind, nacks: info.counts.nacks }).toEqual({ kind, nacks: 0 });
      }
    });
  });
});
