import type { Registry } from 'prom-client';
import type { ClusterStatus, ProtocolSource, ServiceEndpoints, UpstreamProtocol } from '../model/index.js';
import type { DrainAnswer, PodQuery } from './drain-query.js';

/**
 * What the admin server may read. The composition root implements it from the store, the
 * cache and the xDS server; the admin server only calls these getters and never writes.
 * Every method is called per request, so it should be cheap and side-effect free.
 */
export interface AdminView {
  /** Absent means "alive whenever the HTTP server can answer". */
  liveness?(): { ok: boolean; detail?: string };
  readiness(): Readiness;
  /** Registry holding every Herald metric (HeraldMetrics.registry). */
  readonly metrics: Registry;
  clusters(): ClusterStatus[];
  /** Every service the store knows; the admin server summarises them. */
  services(): Iterable<ServiceEndpoints>;
  service(name: string): ServiceEndpoints | undefined;
  /** Connected xDS clients and what each ACKed/NACKed; any JSON-serialisable shape. */
  clients(): unknown[];
  /** Drains in flight (pod, since when, which streams still owe an ACK); optional. */
  drains?(): unknown[];
  /** Drains that finished (propagated or timed out), newest first, bounded; optional. */
  recentDrains?(): unknown[];
  /** One pod's drain: in flight and finished drains, with where it stands; optional. */
  podDrains?(query: PodQuery): { error: string } | { body: unknown };
  /**
   * Whether every stream subscribed to the pod's service ACKed its DRAINING state; waits up to
   * waitMs (already capped) for a final answer, and stops waiting when the signal aborts.
   */
  drainReceipt?(query: PodQuery, waitMs: number, signal: AbortSignal): Promise<{ error: string } | DrainAnswer>;
  /** ServicePolicies: each service's effective policy and its origins, rejections, conflicts; optional. */
  policies?(): unknown;
}

export interface Readiness {
  ready: boolean;
  /** Why not ready (empty when ready); also informative notes such as an unreachable cluster. */
  reasons: string[];
  xdsServing: boolean;
  /** Kubernetes clusters that have never completed a first list, sorted. */
  missingClusters: string[];
  clusters: ClusterStatus[];
}

export interface ReadinessInput {
  clusters: ClusterStatus[];
  /** Set once --initial-sync-timeout has passed, whatever the clusters say. */
  initialSyncTimedOut: boolean;
  xdsServing: boolean;
  /** Set once shutdown began: the replica hands its clients to the others and must get no new ones. */
  shuttingDown?: boolean;
}

/**
 * Ready = initial sync finished (every cluster synced at least once, or the timeout passed with
 * at least one synced) AND xDS is serving. A replica that has synced no cluster is never ready:
 * its CDS would be empty. A cluster that synced once and became unreachable keeps the replica
 * ready: its last endpoints are still served, and restarting the pod would not help.
 */
export function assessReadiness(input: ReadinessInput): Readiness {
  const reasons: string[] = [];
  const neverSynced = input.clusters
    .filter((c) => !c.everSynced)
    .map((c) => c.cluster)
    .sort();
  const noneSynced = input.clusters.length > 0 && neverSynced.length === input.clusters.length;
  const syncDone = neverSynced.length === 0 || (input.initialSyncTimedOut && !noneSynced);
  if (noneSynced && input.initialSyncTimedOut) {
    reasons.push(`initial sync timed out with no cluster synced; xDS withheld until one syncs: ${neverSynced.join(', ')}`);
  } else if (!syncDone) reasons.push(`initial sync pending: ${neverSynced.join(', ')}`);
  else if (neverSynced.length > 0) {
    reasons.push(`initial sync timed out; never synced: ${neverSynced.join(', ')}`);
  }
  if (input.shuttingDown) reasons.push('shutting down: handing xDS clients over to other replicas');
  else if (!input.xdsServing) reasons.push('xDS server not serving');
  for (const c of input.clusters) {
    if (c.state === 'unreachable') {
      reasons.push(`cluster ${c.cluster} unreachable${c.lastError ? `: ${c.lastError}` : ''}`);
    }
  }
  return {
    ready: syncDone && input.xdsServing && !input.shuttingDown,
    reasons,
    xdsServing: input.xdsServing,
    missingClusters: neverSynced,
    clusters: input.clusters,
  };
}

export interface ServiceSummary {
  name: string;
  /** The service label value of its pods. */
  label: string;
  /** Namespaces of its pods: exactly one unless --service-scope mesh merges several. */
  namespaces: string[];
  pods: number;
  endpoints: number;
  healthy: number;
  unhealthy: number;
  draining: number;
  /** Kubernetes clusters contributing endpoints, sorted. */
  kubeClusters: string[];
  /** What its Envoy cluster speaks upstream. */
  protocol: UpstreamProtocol;
  /** Where that came from: the sources of the pods that decided it (`herald.io/app-protocol`, the port name, the default). */
  protocolFrom: ProtocolSource[];
  /** Its pods disagree on the protocol (a rollout changing it): the pods that decided, per protocol. */
  protocolMixed?: { basis: string; votes: Record<UpstreamProtocol, number> };
  /** Pods whose `herald.io/app-protocol` annotation was ignored, and why (at most a few). */
  protocolIgnored?: Array<{ pod: string; reason: string }>;
}

export function summarizeService(s: ServiceEndpoints): ServiceSummary {
  let healthy = 0;
  let unhealthy = 0;
  let draining = 0;
  const kubeClusters = new Set<string>();
  for (const e of s.endpoints) {
    kubeClusters.add(e.cluster);
    if (e.health === 'HEALTHY') healthy++;
    else if (e.health === 'DRAINING') draining++;
    else unhealthy++;
  }
  return {
    name: s.service,
    label: s.label,
    namespaces: s.namespaces,
    pods: s.podCount,
    endpoints: s.endpoints.length,
    healthy,
    unhealthy,
    draining,
    kubeClusters: [...kubeClusters].sort(),
    protocol: s.protocol?.protocol ?? 'HTTP/1.1',
    protocolFrom: s.protocol?.sources ?? ['default'],
    ...(s.protocol?.mixed ? { protocolMixed: { basis: s.protocol.basis, votes: s.protocol.votes } } : {}),
    ...(s.protocol && s.protocol.ignored.length > 0 ? { protocolIgnored: s.protocol.ignored } : {}),
  };
}
