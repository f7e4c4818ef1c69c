// Pure: the `Accepted` condition a ServicePolicy copy should carry, and whether this replica
// should write it. Several replicas, in several clusters, judge the same objects; these rules
// keep them from overwriting one another (see README, "Status condition").
import type { AcceptedCondition } from '../model/index.js';
import type { PolicyError } from './validate.js';

/** How Herald judged the newest generation of one copy. */
export interface PolicyVerdict {
  generation: number;
  /** Empty when the generation is valid. */
  errors: readonly PolicyError[];
  /** On rejection: the earlier valid generation still served from this copy, if any. */
  keptGeneration?: number | undefined;
}

/** The apiserver takes messages up to 32 KiB; a page of field paths is plenty to act on. */
const MAX_MESSAGE = 2_000;

export function acceptedCondition(verdict: PolicyVerdict, writer: AcceptedCondition['writer'], previous: AcceptedCondition | undefined, nowIso: string): AcceptedCondition {
  const ok = verdict.errors.length === 0;
  const status = ok ? 'True' : 'False';
  let message: string;
  if (ok) message = `generation ${verdict.generation} is valid`;
  else {
    const kept = verdict.keptGeneration === undefined ? 'nothing from this object is applied' : `generation ${verdict.keptGeneration} stays in effect`;
    message = `${verdict.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}; ${kept}`;
    if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 1)}…`;
  }
  return {
    status,
    reason: ok ? 'Valid' : 'Invalid',
    message,
    observedGeneration: verdict.generation,
    // Kubernetes' convention: the time the status last changed, not the time of this write.
    lastTransitionTime: previous?.status === status ? previous.lastTransitionTime : nowIso,
    writer,
  };
}

const sameVerdict = (a: AcceptedCondition, b: AcceptedCondition): boolean =>
  a.status === b.status && a.reason === b.reason && a.message === b.message && a.observedGeneration === b.observedGeneration;

/**
 * Whether `replica` writes `want` over what the object carries (`seen`). The first verdict on a
 * generation stands: another replica's verdict on the same generation is left alone even when
 * this replica would say otherwise (replicas of different Herald versions during a rollout), so
 * replicas never take turns overwriting each other. A replica corrects only its own verdict, and
 * never writes over a newer generation than the one it has judged.
 */
export function shouldWriteAccepted(seen: AcceptedCondition | undefined, want: AcceptedCondition, replica: string): boolean {
  if (seen === undefined || seen.observedGeneration < want.observedGeneration) return true;
  if (seen.observedGeneration > want.observedGeneration || sameVerdict(seen, want)) return false;
  return seen.writer.replica === replica;
}
