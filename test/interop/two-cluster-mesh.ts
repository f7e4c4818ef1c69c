// The mesh the perspective tests share: one Herald (--local-cluster kube-a, policies read from
// kube-a) over two simulated kube clusters of two echo backends each (a-0, a-1 in kube-a; b-0,
// b-1 in kube-b, both in zone z1 as two clusters of one region are), and one probe of a real
// proxyless client per cluster, each declaring its cluster in `herald.io/kube-cluster` and its
// zone in its locality. The shared zone name puts z1 at both priorities of every assignment.
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { XdsProbe, type ProbeLaunch } from './xds-probe.js';

/** The zone of every backend and client. */
export const ZONE = 'z1';

export interface TwoClusterMesh {
  backends: EchoBackend[];
  kubeA: ManualSource;
  kubeB: ManualSource;
  policies: ManualPolicySource;
  daemon: Daemon;
  /** The probe declaring each kube cluster, by its name. */
  probes: Map<string, XdsProbe>;
  stop(): Promise<void>;
}

/** `ip(host)` gives each backend its loopback address; `label` names the probes and their node ids. */
export async function startTwoClusterMesh(launch: ProbeLaunch, label: string, ip: (host: number) => string): Promise<TwoClusterMesh> {
  const backends: EchoBackend[] = [];
  for (const [i, name] of ['a-0', 'a-1', 'b-0', 'b-1'].entries()) backends.push(await startEchoBackend(name, ip(i + 1)));
  const pod = (cluster: string, b: EchoBackend) => makePod({ cluster, name: b.name, ip: b.host, port: b.port, nodeName: `${cluster}-n` });
  const node = (cluster: string) => ({ cluster, name: `${cluster}-n`, region: 'r1', zone: ZONE });
  const kubeA = new ManualSource('kube-a', { pods: backends.slice(0, 2).map((b) => pod('kube-a', b)), nodes: [node('kube-a')] });
  const kubeB = new ManualSource('kube-b', { pods: backends.slice(2).map((b) => pod('kube-b', b)), nodes: [node('kube-b')] });
  const policies = new ManualPolicySource('kube-a');
  const daemon = await startDaemon(
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
  const probes = new Map<string, XdsProbe>();
  for (const cluster of ['kube-a', 'kube-b']) {
    const probe = await XdsProbe.start({
      launch,
      label: `${label}-${cluster}`,
      target: 'xds:///echo',
      bootstrap: {
        xds_servers: [{ server_uri: `127.0.0.1:${daemon.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: `${label}-${cluster}`, locality: { region: 'r1', zone: ZONE }, metadata: { 'herald.io/kube-cluster': cluster } },
      },
    });
    probes.set(cluster, probe);
  }
  return {
    backends,
    kubeA,
    kubeB,
    policies,
    daemon,
    probes,
    stop: async () => {
      await Promise.all([...probes.values()].map((probe) => probe.close()));
      await daemon.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    },
  };
}
