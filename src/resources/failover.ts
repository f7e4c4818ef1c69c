// Pure: Envoy's gradual failover across priorities, emulated for clients that lack it.
//
// Envoy gives priority P the share of traffic its health earns: health = min(100, 1.4 × healthy%)
// (overprovisioning factor 1.4), and what P does not take spills to P+1. Proxyless gRPC clients
// announce `envoy.lb.does_not_support_overprovisioning`: they send everything to the first
// priority with a READY host, so losing half of priority 0 moves nothing, and losing all of it
// moves everything at once. For them Herald merges the priorities Envoy would be spreading load
// over into one and expresses Envoy's per-priority loads as locality weights, which gRPC honours
// within a priority (weighted_target / wrr_locality pick a READY locality by weight).

import type { EndpointRecord } from '../model/index.js';

/** Envoy's default overprovisioning factor, as Envoy keeps it: percent (1.4 × 100). */
export const OVERPROVISIONING_PERCENT = 140;

/** Sum of the locality weights of a merged priority: weights are parts per ten thousand of its traffic. */
export const SPILL_WEIGHT_TOTAL = 10_000;

/**
 * Whether an endpoint counts in its priority's total. Envoy (1.30 and newer, which Herald
 * requires) leaves hosts EDS marks DRAINING out of the health arithmetic: a priority of 5
 * HEALTHY and 5 DRAINING endpoints is 100 % healthy and spills nothing. What lowers a priority's
 * health is an UNHEALTHY endpoint (a not-Ready pod under --include-not-ready).
 */
export function countsForSpill(e: EndpointRecord): boolean {
  return e.health !== 'DRAINING';
}

/** Endpoints of one priority, by health; `total` leaves DRAINING ones out (countsForSpill). */
export interface PriorityCounts {
  healthy: number;
  total: number;
}

/**
 * Envoy's per-priority load in percent (its recalculatePriorityLoad without degraded hosts or
 * panic): each priority's health, min(100, 140 × healthy / total) in integer arithmetic, is
 * normalised when the priorities together have less than 100, then handed out best priority
 * first until 100 is used up; rounding leftovers go to the first priority with any health.
 * All zero when no priority has a healthy endpoint (Envoy then panics into priority 0).
 */
export function priorityLoads(counts: readonly PriorityCounts[]): number[] {
  const health = counts.map((c) => (c.total === 0 ? 0 : Math.min(100, Math.floor((OVERPROVISIONING_PERCENT * c.healthy) / c.total))));
  const normalized = Math.min(
    100,
    health.reduce((a, b) => a + b, 0),
  );
  if (normalized === 0) return counts.map(() => 0);
  let left = 100;
  const loads = health.map((h) => {
    const load = Math.min(left, Math.floor((h * 100) / normalized));
    left -= load;
    return load;
  });
  const first = health.findIndex((h) => h > 0);
  loads[first]! += left;
  return loads;
}

/** A locality of the assignment as Envoy would be given it: its priority and endpoint counts. */
export interface SpillLocality {
  priority: number;
  healthy: number;
  total: number;
}

/** Where a locality goes in the assignment for a client that ignores overprovisioning. */
export interface SpillPlacement {
  priority: number;
  /** undefined: keep the usual weight (its HEALTHY endpoints); set: the locality's share of the merged priority in parts per SPILL_WEIGHT_TOTAL. */
  weight: number | undefined;
  /** The priority the locality came from when it was merged into a lower one (0 for priority 0 itself); undefined when not merged. */
  spilledFrom: number | undefined;
}

/**
 * The placement of each locality (same order as given), or undefined when Envoy would send all
 * traffic to one priority, so the plain assignment is already what Envoy would do. Otherwise
 * priorities 0..m (m the last one Envoy gives load to) become priority 0, each locality
 * weighted by its priority's load × its share of that priority's HEALTHY endpoints (Envoy
 * balances hosts within a priority, so a locality's share follows its healthy hosts); later
 * priorities move up by m.
 */
export function spillPlacement(localities: readonly SpillLocality[]): SpillPlacement[] | undefined {
  const levels = localities.reduce((n, l) => Math.max(n, l.priority + 1), 0);
  const counts: PriorityCounts[] = Array.from({ length: levels }, () => ({ healthy: 0, total: 0 }));
  for (const l of localities) {
    counts[l.priority]!.healthy += l.healthy;
    counts[l.priority]!.total += l.total;
  }
  const loads = priorityLoads(counts);
  let merged = -1;
  loads.forEach((load, p) => {
    if (load > 0) merged = p;
  });
  if (merged <= 0) return undefined;
  return localities.map((l) => {
    if (l.priority > merged) return { priority: l.priority - merged, weight: undefined, spilledFrom: undefined };
    const healthy = counts[l.priority]!.healthy;
    const share = healthy === 0 ? 0 : (loads[l.priority]! * l.healthy) / healthy;
    // At least 1: gRPC drops a locality of weight 0 and Envoy rejects it; one part in ten thousand is noise.
    return { priority: 0, weight: Math.max(1, Math.round((share * SPILL_WEIGHT_TOTAL) / 100)), spilledFrom: l.priority };
  });
}
