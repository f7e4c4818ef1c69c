import { hostname } from 'node:os';
import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../model/index.js';
import { systemClock } from '../model/index.js';
import { SERVE_DEFAULTS } from '../config/index.js';
import type { ClusterSource, PolicySource } from '../sources/types.js';
import { PolicyRegistry } from '../policy/index.js';
import { EndpointStore } from '../store/index.js';
import { DEFAULT_CLUSTER_DOMAIN, loadEnvoyProtos, ResourceEncoder, routeBackends, type ClusterOptions } from '../resources/index.js';
import { ResourceCache } from '../cache/index.js';
import { DrainHistory, DrainTracker, type DrainRecord, type DrainResult } from '../drains/index.js';
import { XdsServer, type ClientIdentityPolicy, type XdsLimits } from '../xds/index.js';
import { AdminServer, RecentList } from '../admin/index.js';
import { accessGuard, TokenFile } from '../access/index.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import { EgressRoutes } from './egress-routes.js';
import { PolicyScopeExpansion, type SplitBackends } from './scope-expansion.js';
import { ResourcePipeline } from './pipeline.js';
import { InitialSyncGate } from './sync-gate.js';
import { buildAdminView } from './admin-view.js';
import { DrainReceipts } from './drain-receipts.js';
import { DrainEvents, type DrainEventsOptions } from './drain-events.js';
import { PolicyStatusWriter, type PolicyStatusOptions } from './policy-status.js';

export interface DaemonOptions {
  sources: ClusterSource[];
  /**
   * Where ServicePolicies come from: one source per kube cluster read, `clusters` in precedence
   * order (--policy-clusters), `namespace` holding the mesh-defaults object. Absent: no policies.
   */
  policies?: { sources: PolicySource[]; clusters: readonly string[]; namespace: string } | undefined;
  /**
   * The services a service's effective policy routes part of its traffic to; its clients'
   * scopes take them in. Default: what the policy's routes section says.
   */
  splitBackends?: SplitBackends | undefined;
  localCluster?: string | undefined;
  includeNotReady?: boolean;
  batchWindowMs?: number;
  initialSyncTimeoutMs: number;
  clusterOptions?: ClusterOptions;
  /** The DNS suffix of in-cluster Service names, for the names sidecar egress routes answer (default cluster.local). */
  clusterDomain?: string | undefined;
  xds: {
    host: string;
    port: number;
    maxConnectionAgeMs?: number | undefined;
    /** After the max age, how long open streams may go on before the connection closes (XdsServer default 30 s). */
    maxConnectionAgeGraceMs?: number | undefined;
    credentials?: grpc.ServerCredentials;
    /** With credentials that require client certificates: which nodes a certificate may claim. */
    clientIdentity?: ClientIdentityPolicy | undefined;
    /** False keeps every stream on grpc-js's public API (default true). */
    grpcFastPath?: boolean | undefined;
    /** Unset fields keep DEFAULT_XDS_LIMITS. */
    limits?: Partial<XdsLimits> | undefined;
  };
  /** allowedHosts: Host header names accepted besides IP literals and localhost. */
  admin: { host: string; port: number; allowedHosts?: readonly string[] | undefined } | undefined;
  /**
   * The bearer token that lets a non-loopback caller read the debug pages, the UI and CSDS, with
   * the file it was read from (re-read when it changes). Absent: loopback callers only.
   */
  adminToken?: { path: string; token: string } | undefined;
  /** Which caller addresses count as local, hence trusted (default: loopback); tests play remote callers with it. */
  isLocalPeer?: (address: string | undefined) => boolean;
  drainTimeoutMs?: number;
  /**
   * On stop, how long /readyz fails while streams are still served, so the Service and its DNS
   * stop sending new connections here before the existing ones are ended (default 0). Capped at
   * half of the stop grace.
   */
  handoffDelayMs?: number;
  /** Finished drains kept for /debug/drains/recent and the UI (default 50). */
  recentDrains?: number;
  /** This replica's name in drain receipts and Events (its pod name; default the host name). */
  replicaName?: string | undefined;
  /** Requests that may wait on /debug/drains/wait at once (default 64). */
  maxDrainWaiters?: number | undefined;
  /** Report each finished drain as a Kubernetes Event on the pod (--drain-events); absent: no Events. */
  drainEvents?: DrainEventsOptions | undefined;
  /** --policy-status: write each ServicePolicy's Accepted condition. Absent: Herald writes no status. */
  policyStatus?: PolicyStatusOptions | undefined;
}

/** A finished drain as the admin pages show it. */
export type RecentDrain = DrainRecord;

export interface DaemonDeps {
  logger: Logger;
  metrics: HeraldMetrics;
  clock?: Clock;
}

export type DrainListener = (result: DrainResult, record: DrainRecord) => void;

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
  /**
   * Hands the clients over to other replicas and stops, all within graceMs: /readyz fails at
   * once, then (after handoffDelayMs) the xDS server refuses new streams and ends the open
   * ones so every client reconnects elsewhere, then the sources and the admin server stop.
   * Calling it again returns the same promise.
   */
  stop(graceMs?: number): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `work` at most `ms`; says whether it finished. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
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
    batchWindowMs: options.batchWindowMs ?? SERVE_DEFAULTS.batchWindowMs,
  });
  const cache = new ResourceCache();
  const tokenFile = options.adminToken ? new TokenFile({ path: options.adminToken.path, initial: options.adminToken.token, logger: logger.child({ stage: 'access' }) }) : undefined;
  const access = accessGuard({
    ...(tokenFile ? { token: () => tokenFile.current() } : {}),
    ...(options.isLocalPeer ? { isLoopback: options.isLocalPeer } : {}),
  });
  const drainListeners = new Set<DrainListener>();
  const recentDrains = new RecentList<RecentDrain>(options.recentDrains ?? 50);
  const drainHistory = new DrainHistory();
  const gate = new InitialSyncGate({
    statuses: () => options.sources.map((source) => source.status()),
    beforeOpen: () => store.flush(),
    timeoutMs: options.initialSyncTimeoutMs,
    logger,
  });
  const policies = new PolicyRegistry({
    defaultsNamespace: options.policies?.namespace ?? SERVE_DEFAULTS.policyNamespace,
    clusters: options.policies?.clusters ?? [],
    logger: logger.child({ stage: 'policy' }),
    metrics,
    clock,
  });
  const xdsServer = new XdsServer({
    cache,
    // Subscribed to policy changes here, before the pipeline: a new split backend's cluster
    // reaches clients before the route that sends it traffic.
    scopeExpansion: new PolicyScopeExpansion(policies, options.splitBackends ?? routeBackends),
    protos,
    metrics,
    logger: logger.child({ stage: 'xds' }),
    ready: gate.ready,
    maxConnectionAgeMs: options.xds.maxConnectionAgeMs,
    ...(options.xds.maxConnectionAgeGraceMs === undefined ? {} : { maxConnectionAgeGraceMs: options.xds.maxConnectionAgeGraceMs }),
    credentials: options.xds.credentials,
    clientIdentity: options.xds.clientIdentity,
    grpcFastPath: options.xds.grpcFastPath !== false,
    csdsAccess: access,
    ...(options.xds.limits ? { limits: options.xds.limits } : {}),
  });
  const drains = new DrainTracker({
    clock,
    subscribersOf: (name) => xdsServer.subscribersOf('endpoint', name),
    timeoutMs: options.drainTimeoutMs ?? 60_000,
    onComplete: (result, neverAcked) => {
      if (result.complete) metrics.drainPropagation.observe(result.propagationSeconds);
      metrics.drainsFinished.inc({ outcome: result.complete ? 'complete' : 'incomplete' });
      const record: DrainRecord = {
        ...result,
        completedAtMs: clock(),
        neverAckedNodes: neverAcked.slice(0, 5).map((id) => xdsServer.nodeIdOf(id) ?? `stream ${id}`),
      };
      logger.info(
        {
          service: result.service,
          cluster: result.cluster,
          pod: result.podKey,
          clients: result.clients,
          sent: result.sent,
          acked: result.acked,
          gone: result.gone,
          seconds: result.propagationSeconds,
          complete: result.complete,
          ...(result.complete ? {} : { neverAcked: record.neverAckedNodes }),
        },
        result.complete ? 'drain propagated' : 'drain incomplete: clients never ACKed DRAINING',
      );
      recentDrains.push(record);
      drainHistory.record(record);
      receipts.finished(record);
      drainEvents?.drained(record);
      for (const listener of drainListeners) listener(result, record);
    },
  });
  const replica = options.replicaName ?? hostname();
  const drainEvents = options.drainEvents
    ? new DrainEvents(options.drainEvents, { clock, metrics, logger: logger.child({ stage: 'drain-events' }), replica, uidOf: (cluster, podKey) => store.pod(cluster, podKey)?.uid })
    : undefined;
  const receipts = new DrainReceipts({
    store,
    tracker: drains,
    history: drainHistory,
    clusters: () => options.sources.map((source) => source.name),
    nodeIdOf: (id) => xdsServer.nodeIdOf(id),
    // Asked only once serving (admin requests), after the pipeline below exists.
    servedByFallback: (cluster, podKey) => pipeline.servedByFallback(cluster, podKey),
    replica,
  });
  metrics.setPolicyReader({
    sections: () => policies.sectionOrigins(store.serviceNames()),
    rejected: () => policies.rejectedCopies(),
    evacuated: () => {
      const evacuation = policies.evacuation();
      return evacuation?.clusters.map((cluster) => ({ cluster, mode: evacuation.mode })) ?? [];
    },
  });
  const policyStatus = options.policyStatus
    ? new PolicyStatusWriter(options.policyStatus, { registry: policies, clock, metrics, logger: logger.child({ stage: 'policy-status' }), replica, localCluster: options.localCluster })
    : undefined;
  const pipeline = new ResourcePipeline({
    store,
    policies,
    encoder,
    cache,
    drains,
    metrics,
    logger,
    clusterOptions: options.clusterOptions ?? {},
    localCluster: options.localCluster,
    graceOf: (cluster, podKey) => store.pod(cluster, podKey)?.gracePeriodSeconds,
  });
  metrics.setSpillReader(() => pipeline.spillingServices());
  xdsServer.observe(drains);
  store.onChange((dirty) => pipeline.rebuild(dirty));
  policies.onChange((change) => pipeline.policiesChanged(change));
  xdsServer.onPerspectives({ added: (held) => pipeline.perspectiveAdded(held), removed: (held) => pipeline.perspectiveRemoved(held) });
  xdsServer.onDependencySets(new EgressRoutes({ encoder, cache, metrics, clusterDomain: options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN, routeOf: (service) => pipeline.routeOf(service) }));

  const xdsPort = await listenOrExplain('xds', options.xds.host, options.xds.port, () => xdsServer.listen(options.xds.host, options.xds.port));
  let serving = true;
  let shuttingDown = false;

  let admin: AdminServer | undefined;
  let adminPort: number | undefined;
  if (options.admin) {
    admin = new AdminServer(
      buildAdminView({
        sources: options.sources,
        store,
        xds: xdsServer,
        drains,
        gate,
        metrics,
        isServing: () => serving,
        isShuttingDown: () => shuttingDown,
        recentDrains: () => recentDrains.newestFirst(),
        receipts,
        policies,
        healthCheckPorts: () => pipeline.healthCheckPorts.current(),
      }),
      {
        logger: logger.child({ stage: 'admin' }),
        access,
        allowedHosts: options.admin.allowedHosts ?? [],
        metrics,
        ...(options.maxDrainWaiters === undefined ? {} : { maxDrainWaiters: options.maxDrainWaiters }),
      },
    );
    const adminListener = admin;
    const { host, port } = options.admin;
    try {
      adminPort = await listenOrExplain('admin', host, port, () => adminListener.listen(host, port));
    } catch (error) {
      await xdsServer.close(0);
      throw error;
    }
  }

  // Policies first, so a service's first Cluster is already built with its policy when known.
  for (const source of options.policies?.sources ?? []) source.start(policyStatus ?? policies);
  for (const source of options.sources) await source.start(store);
  gate.start();
  logger.info({ xdsPort, adminPort, clusters: options.sources.map((s) => s.name) }, 'herald started');

  let stopping: Promise<void> | undefined;
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
    stop(graceMs = 5_000) {
      stopping ??= shutdown(graceMs);
      return stopping;
    },
  };

  async function shutdown(graceMs: number): Promise<void> {
    const startedAt = performance.now();
    const left = () => graceMs - (performance.now() - startedAt);
    shuttingDown = true;
    xdsServer.stopAccepting();
    const delayMs = Math.max(0, Math.min(options.handoffDelayMs ?? 0, graceMs / 2));
    logger.info({ graceMs, handoffDelayMs: delayMs, clients: xdsServer.clients().length }, 'hand-off: /readyz failing, xDS clients will be moved to other replicas');
    if (delayMs > 0) await sleep(delayMs);
    gate.stop();
    // Sources keep feeding the cache until the streams are gone, so no client misses an update
    // while it is still here; its next replica sends it the current state on reconnect.
    const clients = xdsServer.clients().length;
    // Leave a slice of the grace for the sources and the admin server.
    await xdsServer.close(Math.max(1, left() * 0.8));
    serving = false;
    logger.info({ clients }, 'hand-off: xDS streams ended');
    const sourcesStopped = await within(Promise.all([...options.sources, ...(options.policies?.sources ?? [])].map((source) => source.stop())), left());
    if (!sourcesStopped) logger.warn('sources did not stop within the shutdown grace; exiting anyway');
    await admin?.close();
    tokenFile?.close();
    store.flush();
    drains.close();
    drainEvents?.close();
    policyStatus?.close();
    logger.info({ seconds: Math.round(performance.now() - startedAt) / 1000 }, 'herald stopped');
  }
}

/** A listener of the daemon could not bind: which one, where, and the system's reason (EADDRINUSE…). */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly listener: 'xds' | 'admin',
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`${listener} listener on ${host}:${port}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function listenOrExplain(listener: 'xds' | 'admin', host: string, port: number, listen: () => Promise<number>): Promise<number> {
  try {
    return await listen();
  } catch (error) {
    throw new ListenError(listener, host, port, (error as NodeJS.ErrnoException).code, error);
  }
}
