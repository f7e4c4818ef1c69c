import type { DrainRecord } from './history.js';

export type DrainEventReason = 'HeraldDrained' | 'HeraldDrainIncomplete';

/** What one drain tells the pod's owner, before rate limiting and aggregation. */
export interface DrainEventContent {
  /** The kube cluster of the pod: the Event goes to that cluster's apiserver only. */
  cluster: string;
  namespace: string;
  pod: string;
  uid: string | undefined;
  reason: DrainEventReason;
  type: 'Normal' | 'Warning';
  note: string;
}

/** The Event API caps a note at 1 kB. */
const MAX_NOTE = 1024;

const count = (n: number): string => n.toLocaleString('en-US');

/** 84 ms, 1.2 s, 31 s: enough precision to read at a glance. */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${(Math.round(seconds * 10) / 10).toFixed(1)} s`;
  return `${Math.round(seconds)} s`;
}

/** Aggregation key: repeats of the same outcome for the same pod merge into one Event. */
export function drainEventKey(content: DrainEventContent): string {
  return `${content.cluster}/${content.namespace}/${content.pod}/${content.reason}`;
}

/**
 * The Event for a finished drain, as seen by one replica (named in the text: each replica
 * reports only the clients connected to it).
 */
export function drainEventContent(drain: DrainRecord, replica: string, uid: string | undefined): DrainEventContent {
  const slash = drain.podKey.indexOf('/');
  const where = { cluster: drain.cluster, namespace: drain.podKey.slice(0, slash), pod: drain.podKey.slice(slash + 1), uid };
  const of = `xDS clients of Herald replica ${replica}`;
  const gone = drain.gone > 0 ? ` (${count(drain.gone)} disconnected before ACKing)` : '';
  if (drain.complete) {
    const note =
      drain.clients === 0
        ? `No xDS client of Herald replica ${replica} uses service ${drain.service}: nothing to drain`
        : `DRAINING acknowledged by ${count(drain.acked)}/${count(drain.clients)} ${of}${gone} ${formatSeconds(drain.propagationSeconds)} after termination began (service ${drain.service})`;
    return { ...where, reason: 'HeraldDrained', type: 'Normal', note: note.slice(0, MAX_NOTE) };
  }
  const never = drain.clients - drain.acked - drain.gone;
  const names = drain.neverAckedNodes.length > 0 ? `: ${drain.neverAckedNodes.join(', ')}${never > drain.neverAckedNodes.length ? ', ...' : ''}` : '';
  const note = `DRAINING not acknowledged by ${count(never)}/${count(drain.clients)} ${of} ${formatSeconds(drain.propagationSeconds)} after termination began${names}; ${count(drain.acked)} ACKed${gone} (service ${drain.service})`;
  return { ...where, reason: 'HeraldDrainIncomplete', type: 'Warning', note: note.slice(0, MAX_NOTE) };
}
