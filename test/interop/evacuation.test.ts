// Cluster evacuation with real proxyless clients: one Herald (--local-cluster kube-a), a client
// in kube-a and one in kube-b. Listing kube-a in the mesh defaults' locality.evacuate moves
// kube-a's client to kube-b's backends (its own cluster is now its last priority), Drain mode
// keeps it there, a Drain that would leave the service with nothing keeps kube-a serving, and
// removing the entry brings it home.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import type { LocalityPolicy } from '../../src/model/index.js';
import { DEFAULTS_POLICY_NAME } from '../../src/policy/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { settledLanding } from './landing.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { XdsProbe } from './xds-probe.js';

const CLIENTS = PROXYLESS_CLIENTS.filter((client) => client.name === 'grpc-js' || client.name === 'grpc-go');

CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${88 + index}.${host}`;

  probeSuite(`${client.name}: cluster evacuation`, client, (launch) => {
    const backends: EchoBackend[] = [];
    let kubeB: ManualSource;
    let policies: ManualPolicySource;
    let daemon: Daemon;
    let generation = 0;
    const probes = new Map<string, XdsProbe>();
    const setDefaults = (locality: LocalityPolicy | undefined) =>
      policies.sync([{ cluster: 'kube-a', namespace: 'herald', name: DEFAULTS_POLICY_NAME, generation: ++generation, spec: locality === undefined ? {} : { locality } }]);

    beforeAll(async () => {
      for (const [i, name] of ['a-0', 'a-1', 'b-0', 'b-1'].entries()) backends.push(await startEchoBackend(name, ip(i + 1)));
      const pod = (cluster: string, b: EchoBackend) => makePod({ cluster, name: b.name, ip: b.host, port: b.port, nodeName: `${cluster}-n` });
      const node = (cluster: string) => ({ cluster, name: `${cluster}-n`, region: 'r1', zone: `${cluster}-z` });
      const kubeA = new ManualSource('kube-a', { pods: backends.slice(0, 2).map((b) => pod('kube-a', b)), nodes: [node('kube-a')] });
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
            node: { id: `${client.name}-${cluster}-evac`, locality: { region: 'r1', zone: `${cluster}-z` }, metadata: { 'herald.io/kube-cluster': cluster } },
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

    it('before: each client calls its own cluster', async () => {
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
    });

    it('kube-a evacuated (LastPriority): the kube-a client moves to kube-b, the kube-b client stays', async () => {
      setDefaults({ evacuate: ['kube-a'] });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('b-0+b-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
    });

    it('evacuateMode Drain: still kube-b; with no Ready pod left in kube-b, kube-a keeps serving rather than nothing', async () => {
      setDefaults({ evacuate: ['kube-a'], evacuateMode: 'Drain' });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('b-0+b-1');
      for (const name of ['b-0', 'b-1']) kubeB.update(`default/${name}`, { ready: false });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('a-0+a-1');
      for (const name of ['b-0', 'b-1']) kubeB.update(`default/${name}`, { ready: true });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('b-0+b-1');
    });

    it('the entry removed: the kube-a client comes home', async () => {
      setDefaults(undefined);
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
    });

    it('NACKed nothing', () => {
      for (const s of daemon.xds.clients()) {
        for (const [kind, info] of Object.entries(s.types)) expect({ kind, nacks: info.counts.nacks }).toEqual({ kind, nacks: 0 });
      }
    });
  });
});
