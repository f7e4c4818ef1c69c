import type { DrainRecord } from './history.js';
import type { PendingDrain } from './tracker.js';

/**
 * Where one pod stands, as this replica sees it:
 * - drained: every stream subscribed to its service ACKed an assignment carrying DRAINING
 *   (or went away), so no client of this replica picks it for new requests;
 * - not_in_mesh: terminating, but it never had an endpoint (no service label, port or IP):
 *   nothing to wait for;
 * - draining: the DRAINING assignment is out, some streams still owe an ACK;
 * - incomplete: the drain's time ran out with streams that never ACKed;
 * - serving: the pod is known and not terminating;
 * - unknown: this replica has not seen the pod (not yet, or it is not watched).
 */
export type DrainState = 'drained' | 'not_in_mesh' | 'draining' | 'fallback' | 'incomplete' | 'serving' | 'unknown';

/** States in which the mesh, as far as this replica knows, has stopped picking the pod. */
export const DONE_STATES: ReadonlySet<DrainState> = new Set(['drained', 'not_in_mesh']);
/** States that will not change by waiting (short of the pod being deleted again). */
export const FINAL_STATES: ReadonlySet<DrainState> = new Set(['drained', 'not_in_mesh', 'incomplete']);

/** The store's view of the pod (see EndpointStore.pod). */
export interface PodFacts {
  cluster: string;
  podKey: string;
  ip: string | undefined;
  terminating: boolean;
  /** When it was first seen terminating: drains observed earlier were of an older pod of that name. */
  terminatingSinceMs: number | undefined;
  inMesh: boolean;
  /**
   * Terminating but served HEALTHY by the terminating fallback (no other endpoint of its service
   * is HEALTHY): its drain has not begun, and begins once another is HEALTHY or it stops being Ready.
   */
  servedByFallback?: boolean;
}

export interface PodDrainStatus {
  state: DrainState;
  /** True when state is drained or not_in_mesh. */
  drained: boolean;
  cluster: string | undefined;
  pod: string | undefined;
  ip: string | undefined;
  /** Counts of the drain in flight, or of the newest finished one. */
  clients: number;
  sent: number;
  acked: number;
  gone: number;
  /** Node ids of a few clients that still owe (draining) or never sent (incomplete) an ACK. */
  waitingFor: string[];
  /** From the pod being seen terminating to the last ACK, for a finished drain. */
  propagationSeconds: number | undefined;
}

export interface StatusInput {
  /** The store's pod, when it knows one matching the query. */
  pod: PodFacts | undefined;
  /** Drains in flight of that pod. */
  pending: readonly PendingDrain[];
  /** Node ids the pending drains wait on. */
  pendingWaitingFor: readonly string[];
  /** Finished drains of that pod, newest first. */
  history: readonly DrainRecord[];
}

/** Decides a pod's drain state from what the store, the tracker and the history hold. */
export function podDrainStatus(input: StatusInput): PodDrainStatus {
  const { pod, pending } = input;
  const since = pod?.terminatingSinceMs;
  const newest = input.history.find((drain) => since === undefined || drain.observedAtMs >= since);
  const base = {
    cluster: pod?.cluster ?? pending[0]?.cluster ?? newest?.cluster,
    pod: pod?.podKey ?? pending[0]?.podKey ?? newest?.podKey,
    ip: pod?.ip ?? pending[0]?.ip ?? newest?.ip,
  };
  const zero = { clients: 0, sent: 0, acked: 0, gone: 0, waitingFor: [], propagationSeconds: undefined };
  // A pod known and not terminating is serving, whatever an older pod of that name went through.
  if (pod && !pod.terminating) return { state: 'serving', drained: false, ...base, ...zero };
  // Served HEALTHY again, whatever drain came before: the mesh is sending it requests.
  if (pod?.servedByFallback === true) return { state: 'fallback', drained: false, ...base, ...zero };
  if (pending.length > 0) {
    const sum = (pick: (p: PendingDrain) => number) => pending.reduce((total, p) => total + pick(p), 0);
    return {
      state: 'draining',
      drained: false,
      ...base,
      clients: sum((p) => p.clients),
      sent: sum((p) => p.sent),
      acked: sum((p) => p.acked),
      gone: sum((p) => p.gone),
      waitingFor: [...input.pendingWaitingFor],
      propagationSeconds: undefined,
    };
  }
  if (newest) {
    const state: DrainState = newest.complete ? 'drained' : 'incomplete';
    return {
      state,
      drained: newest.complete,
      ...base,
      clients: newest.clients,
      sent: newest.sent,
      acked: newest.acked,
      gone: newest.gone,
      waitingFor: newest.neverAckedNodes,
      propagationSeconds: newest.propagationSeconds,
    };
  }
  if (pod && !pod.inMesh) return { state: 'not_in_mesh', drained: true, ...base, ...zero };
  // Terminating and in the mesh but not tracked yet: the store's batch window has not closed.
  if (pod) return { state: 'draining', drained: false, ...base, ...zero };
  return { state: 'unknown', drained: false, ...base, ...zero };
}
