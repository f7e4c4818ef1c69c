// The Herald the landing tests call through: in-process, on loopback, kube-a as the replica's
// own cluster, not-Ready pods sent UNHEALTHY (so clients see every health state Herald emits).
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';

type Sources = Parameters<typeof startDaemon>[0]['sources'];

/** Started and ready (every source synced); `metrics` when the test reads them. */
export async function startMeshDaemon(sources: Sources, metrics = new HeraldMetrics({ defaultMetrics: false })): Promise<Daemon> {
  const daemon = await startDaemon(
    { sources, localCluster: 'kube-a', includeNotReady: true, initialSyncTimeoutMs: 5_000, xds: { host: '127.0.0.1', port: 0 }, admin: undefined },
    { logger: silentLogger(), metrics },
  );
  await daemon.ready;
  return daemon;
}
