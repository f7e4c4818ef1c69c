// Pure: one object per (namespace, name) out of the kube clusters' copies of it.
import { specKey, type SourcedSpec } from './merge.js';

export interface Resolution {
  chosen: SourcedSpec;
  /** Set when the clusters' copies differ: which clusters hold a copy, in precedence order. */
  conflict?: { clusters: string[]; chosen: string };
}

/**
 * Copies with equal specs agree (their generations may differ: each apiserver counts its own).
 * Different specs resolve to the copy of the cluster first in `order`, so every replica picks
 * the same one. Copies from clusters not in `order` never reach here (they are not read).
 */
export function resolveAcrossClusters(copies: readonly SourcedSpec[], order: readonly string[]): Resolution | undefined {
  const ranked = copies.filter((copy) => order.includes(copy.origin.cluster)).sort((a, b) => order.indexOf(a.origin.cluster) - order.indexOf(b.origin.cluster));
  const chosen = ranked[0];
  if (chosen === undefined) return undefined;
  const key = specKey(chosen.spec);
  if (ranked.every((copy) => specKey(copy.spec) === key)) return { chosen };
  return { chosen, conflict: { clusters: ranked.map((copy) => copy.origin.cluster), chosen: chosen.origin.cluster } };
}
