import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../model/index.js';
import { systemClock } from '../model/index.js';
import type { ClusterSource } from '../sources/types.js';
import { EndpointStore } from '../store/index.js';
import { loadEnvoyProtos, ResourceEncoder, type ClusterOptions } from '../resources/index.js';
import { DrainTracker, ResourceCache, type DrainResult } from '../cache/index.js';
import { XdsServer } from '../xds/index.js';
import { AdminServer } from '../admin/index.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import { ResourcePipeline } from './pipeline.js';
import { InitialSyncGate } from './sync-gate.js';
import { buildAdminView } from './admin-view.js';

export interface DaemonOptions {
  sources: ClusterSource[];
  localCluster?: string | undefined;
  includeNotReady?: boolean;
  batchWindowMs?: number;
  initialSyncTimeoutMs: number;
  clusterOptions?: ClusterOptions;
  xds: { host: string; port: number; maxConnectionAgeMs?: number | undefined; credentials?: grpc.ServerCredentials };
  admin: { host: string; port: number } | undefined;
  drainTimeoutMs?: number;
}

export interface DaemonDeps {
  logger: Logger;
  metrics: HeraldMetrics;
  clock?: Clock;
}

export type DrainListener = (result: DrainResult) => void;

/** A running Herald: the same wiring serves `herald serve`, `herald demo`, tests and benchmarks. */
export interface Daemon {
  readonly xdsPort: number;
  readonly adminPort: number | undefined;
  readonly store: EndpointStore;
  readonly cache: ResourceCache;
  readonly xds: XdsServer;
  /** Resolves once xDS answers (initial sync done or timed out). */
  readonly ready: Promise<void>;
  onDrain(listener: DrainListener): () => void;
  stop(graceMs?: number): Promise<void>;
}

export async function startDaemon(options: DaemonOptions, deps: DaemonDeps): Promise<Daemon> {
  const { logger, metrics } = deps;
  const clock = deps.clock ?? systemClock;
  const protos = loadEnvoyProtos();
  const encoder = new ResourceEncoder(protos);
  const store = new EndpointStore({
    clock,
    metrics,
    logger: logger.child({ stage: 'store' }),
    includeNotReady: options.includeNotReady ?? false,
    batchWindowMs: options.batchWindowMs ?? 5,
  });
  const cache = new ResourceCache();
  const drainListeners = new Set<DrainListener>();
  // The xDS server is created after the tracker, which only needs it once streams exist.
  let xds: XdsServer | undefined;
  const drains = new DrainTracker({
    clock,
    subscribersOf: (name) => xds?.subscribersOf('endpoint', name) ?? [],
    timeoutMs: options.drainTimeoutMs ?? 60_000,
    onComplete: (result) => {
      if (result.complete) metrics.drainPropagation.observe(result.propagationSeconds);
      logger.info(
        { service: result.service, cluster: result.cluster, pod: result.podKey, clients: result.clients, acked: result.acked, seconds: result.propagationSeconds, complete: result.complete },
        'drain propagated',
      );
      for (const listener of drainListeners) listener(result);
    },
  });
  const pipeline = new ResourcePipeline({
    store,
    encoder,
    cache,
    drains,
    metrics,
    logger,
    clusterOptions: options.clusterOptions ?? {},
    localCluster: options.localCluster,
  });
  store.onChange((dirty) => pipeline.rebuild(dirty));

  const gate = new InitialSyncGate({
    statuses: () => options.sources.map((source) => source.status()),
    beforeOpen: () => store.flush(),
    timeoutMs: options.initialSyncTimeoutMs,
    logger,
  });
  xds = new XdsServer({
    cache,
    drains,
    protos,
    metrics,
    logger: logger.child({ stage: 'xds' }),
    ready: gate.ready,
    maxConnectionAgeMs: options.xds.maxConnectionAgeMs,
    credentials: options.xds.credentials,
  });
  const xdsServer = xds;
  const xdsPort = await xdsServer.listen(options.xds.host, options.xds.port);
  let serving = true;

  let admin: AdminServer | undefined;
  let adminPort: number | undefined;
  if (options.admin) {
    admin = new AdminServer(
      buildAdminView({ sources: options.sources, store, xds: xdsServer, drains, gate, metrics, isServing: () => serving }),
      { logger: logger.child({ stage: 'admin' }) },
    );
    adminPort = await admin.listen(options.admin.host, options.admin.port);
  }

  for (const source of options.sources) await source.start(store);
  gate.start();
  logger.info({ xdsPort, adminPort, clusters: options.sources.map((s) => s.name) }, 'herald started');

  return {
    xdsPort,
    adminPort,
    store,
    cache,
    xds: xdsServer,
    ready: gate.ready,
    onDrain(listener) {
      drainListeners.add(listener);
      return () => drainListeners.delete(listener);
    },
    async stop(graceMs = 5_000) {
      serving = false;
      gate.stop();
      await Promise.all(options.sources.map((source) => source.stop()));
      await xdsServer.close(graceMs);
      await admin?.close();
      store.flush();
      logger.info('herald stopped');
    },
  };
}
