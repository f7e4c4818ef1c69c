// locality.zone: PreferSameZone with real proxyless clients, which have no zone-aware routing of
// their own: one Herald, a mesh-defaults ServicePolicy asking for it, and three clients — kube-a
// in z1, kube-a in z2, kube-b in z1. Each sends its calls to its zone of its own cluster, then to
// the rest of its cluster, and only then to the other cluster. Zone z1 is in both clusters, so
// the kube-a/z1 and kube-b/z1 views hold z1 at two priorities: grpc-java keeps one locality per
// region/zone/sub_zone across priorities, and follows its tiers only because Herald names the
// later one apart (sub_zone herald-priority-N).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import type { LocalityPolicy } from '../../src/model/index.js';
import { DEFAULTS_POLICY_NAME } from '../../src/policy/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { LocalityRow } from './doc-table.js';
import { settledLanding } from './landing.js';
import { expectNoNacks } from './nacks.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { XdsProbe } from './xds-probe.js';

const DEFAULTS_NAMESPACE = 'herald';
const VIEWS = [
  { cluster: 'kube-a', zone: 'z1' },
  { cluster: 'kube-a', zone: 'z2' },
  { cluster: 'kube-b', zone: 'z1' },
] as const;

PROXYLESS_CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${56 + index}.${host}`;

  probeSuite(`${client.name}: zone preference`, client, (launch) => {
    const backends: EchoBackend[] = [];
    let kubeA: ManualSource;
    let policies: ManualPolicySource;
    let daemon: Daemon;
    let generation = 0;
    const probes = new Map<string, XdsProbe>();
    const probe = (cluster: string, zone: string) => probes.get(`${cluster}/${zone}`)!;
    const row = new LocalityRow("`PreferSameZone`: calls go to the client's zone, then the rest of its own cluster, then other clusters", 3);
    const setPolicy = (locality: LocalityPolicy) =>
      policies.sync([{ cluster: 'kube-a', namespace: DEFAULTS_NAMESPACE, name: DEFAULTS_POLICY_NAME, generation: ++generation, spec: { locality } }]);

    beforeAll(async () => {
      const layout = [
        ['kube-a', 'z1', 'a1-0'],
        ['kube-a', 'z2', 'a2-0'],
        ['kube-a', 'z2', 'a2-1'],
        ['kube-b', 'z1', 'b1-0'],
      ] as const;
      for (const [i, [, , name]] of layout.entries()) backends.push(await startEchoBackend(name, ip(i + 1)));
      const podsOf = (cluster: string) =>
        layout.flatMap(([c, zone], i) =>
          c === cluster ? [makePod({ cluster, name: backends[i]!.name, ip: backends[i]!.host, port: backends[i]!.port, nodeName: `${cluster}-${zone}` })] : [],
        );
      const nodesOf = (cluster: string) => ['z1', 'z2'].map((zone) => ({ cluster, name: `${cluster}-${zone}`, region: 'r1', zone }));
      kubeA = new ManualSource('kube-a', { pods: podsOf('kube-a'), nodes: nodesOf('kube-a') });
      const kubeB = new ManualSource('kube-b', { pods: podsOf('kube-b'), nodes: nodesOf('kube-b') });
      policies = new ManualPolicySource('kube-a');
      daemon = await startDaemon(
        {
          sources: [kubeA, kubeB],
          policies: { sources: [policies], clusters: ['kube-a'], namespace: DEFAULTS_NAMESPACE },
          localCluster: 'kube-a',
          initialSyncTimeoutMs: 5_000,
          xds: { host: '127.0.0.1', port: 0 },
          admin: undefined,
        },
        { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
      );
      setPolicy({ zone: 'PreferSameZone' });
      await daemon.ready;
      for (const { cluster, zone } of VIEWS) {
        const started = await XdsProbe.start({
          launch,
          label: `${client.name}-${cluster}-${zone}`,
          target: 'xds:///echo',
          bootstrap: {
            xds_servers: [{ server_uri: `127.0.0.1:${daemon.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
            node: { id: `${client.name}-${cluster}-${zone}`, locality: { region: 'r1', zone }, metadata: { 'herald.io/kube-cluster': cluster } },
          },
        });
        probes.set(`${cluster}/${zone}`, started);
      }
    });

    afterAll(async () => {
      await Promise.all([...probes.values()].map((p) => p.close()));
      await daemon?.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    });

    it('each client calls its own zone of its own cluster', async () => {
      expect(await settledLanding(probe('kube-a', 'z1'), 20)).toBe('a1-0');
      expect(await settledLanding(probe('kube-a', 'z2'), 20)).toBe('a2-0+a2-1');
      expect(await settledLanding(probe('kube-b', 'z1'), 20)).toBe('b1-0');
      row.pass();
    });

    it('zoneMinEndpoints 2: z1 of kube-a (one pod) is no tier of its own, z2 (two) still is', async () => {
      setPolicy({ zone: 'PreferSameZone', zoneMinEndpoints: 2 });
      expect(await settledLanding(probe('kube-a', 'z1'), 30)).toBe('a1-0+a2-0+a2-1');
      expect(await settledLanding(probe('kube-a', 'z2'), 20)).toBe('a2-0+a2-1');
      setPolicy({ zone: 'PreferSameZone' });
      expect(await settledLanding(probe('kube-a', 'z1'), 20)).toBe('a1-0');
      row.pass();
    });

    it("the client's zone drained: the rest of its own cluster, not the other cluster", async () => {
      kubeA.update('default/a1-0', { terminating: true, gracePeriodSeconds: 60 });
      expect(await settledLanding(probe('kube-a', 'z1'), 20)).toBe('a2-0+a2-1');
      expect(await settledLanding(probe('kube-b', 'z1'), 20)).toBe('b1-0');
      row.pass();
    });

    it('NACKed nothing', () => {
      expectNoNacks(daemon.xds.clients());
    });

    it('docs/XDS-CLIENTS.md says what it did', () => {
      expect(row.documented(client.name)).toBe(row.seen);
    });
  });
});
