import { startDaemon, type Daemon, type DaemonOptions } from '../../src/app/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { startEchoBackend, type EchoBackend } from './echo-backend.js';
import { ManualSource, makePod } from './manual-source.js';

/** The proxyless-client scenario: service `echo` over two Kubernetes clusters, served by Herald. */
export interface EchoMesh {
  daemon: Daemon;
  /** kube-a, zone z1: backends a-0 and a-1. */
  clusterA: ManualSource;
  /** kube-b, zone z2: backend b-0. */
  clusterB: ManualSource;
  /** a-0, a-1, b-0, in that order. */
  backends: EchoBackend[];
  /** An xDS bootstrap pointing at this Herald, for a client in region r1, zone z1. */
  bootstrap(nodeId: string): Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Starts the three echo backends on the given loopback IPs (distinct per test file: within one
 * Kubernetes cluster an IP has one owner, and test files may run at the same time) and a Herald
 * watching both clusters; resolves once Herald answers xDS.
 */
export async function startEchoMesh(hosts: readonly [string, string, string], extra: Partial<Pick<DaemonOptions, 'admin' | 'drainTimeoutMs' | 'replicaName'>> = {}): Promise<EchoMesh> {
  const backends = [await startEchoBackend('a-0', hosts[0]), await startEchoBackend('a-1', hosts[1]), await startEchoBackend('b-0', hosts[2])];
  const node = (cluster: string, zone: string) => ({ cluster, name: `${cluster}-node`, region: 'r1', zone });
  // The backends are gRPC servers, and say so as a pod would (a port named grpc): their cluster
  // carries HTTP/2 upstream options, which every proxyless client then has to accept and call through.
  const pod = (cluster: string, b: EchoBackend) =>
    makePod({ cluster, name: b.name, ip: b.host, port: b.port, nodeName: `${cluster}-node`, protocol: { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc' } });
  const clusterA = new ManualSource('kube-a', { pods: [pod('kube-a', backends[0]!), pod('kube-a', backends[1]!)], nodes: [node('kube-a', 'z1')] });
  const clusterB = new ManualSource('kube-b', { pods: [pod('kube-b', backends[2]!)], nodes: [node('kube-b', 'z2')] });
  const daemon = await startDaemon(
    { sources: [clusterA, clusterB], initialSyncTimeoutMs: 5_000, xds: { host: '127.0.0.1', port: 0 }, admin: undefined, ...extra },
    { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
  );
  await daemon.ready;
  return {
    daemon,
    clusterA,
    clusterB,
    backends,
    bootstrap: (nodeId) => ({
      xds_servers: [{ server_uri: `127.0.0.1:${daemon.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, locality: { region: 'r1', zone: 'z1' } },
    }),
    async stop() {
      await daemon.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    },
  };
}
