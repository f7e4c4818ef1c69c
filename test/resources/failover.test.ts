// Envoy's overprovisioning spill, emulated for clients that ignore overprovisioning: the loads
// Envoy computes per priority, and the assignment a proxyless gRPC client gets from them.
import { describe, expect, it } from 'vitest';
import type { EndpointRecord } from '../../src/model/index.js';
import {
  assignmentKey,
  assignmentKeySpills,
  buildLoadAssignment,
  priorityLoads,
  SPILL_WEIGHT_TOTAL,
  spillPlacement,
  type LoadAssignmentOptions,
  type PriorityCounts,
} from '../../src/resources/index.js';
import { ep, svc } from './fixtures.js';

describe('priorityLoads (Envoy, overprovisioning factor 1.4)', () => {
  it.each<{ what: string; counts: PriorityCounts[]; want: number[] }>([
    {
      what: 'all healthy: everything stays',
      counts: [
        { healthy: 10, total: 10 },
        { healthy: 4, total: 4 },
      ],
      want: [100, 0],
    },
    {
      what: '1.4 × 0.8 ≥ 1: nothing spills yet',
      counts: [
        { healthy: 8, total: 10 },
        { healthy: 4, total: 4 },
      ],
      want: [100, 0],
    },
    {
      what: 'the README example: 5 of 10 healthy keeps 70 %',
      counts: [
        { healthy: 5, total: 10 },
        { healthy: 4, total: 4 },
      ],
      want: [70, 30],
    },
    {
      what: '7 of 10 healthy: 98 % stays',
      counts: [
        { healthy: 7, total: 10 },
        { healthy: 4, total: 4 },
      ],
      want: [98, 2],
    },
    {
      what: 'no healthy endpoint in priority 0: all to 1',
      counts: [
        { healthy: 0, total: 10 },
        { healthy: 4, total: 4 },
      ],
      want: [0, 100],
    },
    {
      what: 'three priorities, the second weak too',
      counts: [
        { healthy: 2, total: 10 },
        { healthy: 1, total: 4 },
        { healthy: 3, total: 3 },
      ],
      want: [28, 35, 37],
    },
    {
      what: 'all weak: normalised to 100 (28 + 42 = 70)',
      counts: [
        { healthy: 2, total: 10 },
        { healthy: 3, total: 10 },
      ],
      want: [40, 60],
    },
    {
      what: 'nothing healthy anywhere: no load (Envoy panics into 0)',
      counts: [
        { healthy: 0, total: 3 },
        { healthy: 0, total: 2 },
      ],
      want: [0, 0],
    },
  ])('$what', ({ counts, want }) => {
    const loads = priorityLoads(counts);
    expect(loads).toEqual(want);
    if (want.some((l) => l > 0)) expect(loads.reduce((a, b) => a + b, 0)).toBe(100);
  });
});

describe('spillPlacement', () => {
  it('leaves the assignment alone while Envoy would keep everything in one priority', () => {
    expect(
      spillPlacement([
        { priority: 0, healthy: 8, total: 10 },
        { priority: 1, healthy: 4, total: 4 },
      ]),
    ).toBeUndefined();
    expect(spillPlacement([{ priority: 0, healthy: 3, total: 10 }])).toBeUndefined();
    expect(
      spillPlacement([
        { priority: 0, healthy: 0, total: 3 },
        { priority: 1, healthy: 0, total: 3 },
      ]),
    ).toBeUndefined();
  });

  it('merges the priorities Envoy spreads load over and splits each one by its localities’ healthy endpoints', () => {
    // Priority 0: two zones with 3 + 2 of 10 healthy (70 %); priority 1: 1 + 3 healthy (30 %); priority 2 untouched.
    const placement = spillPlacement([
      { priority: 0, healthy: 3, total: 6 },
      { priority: 0, healthy: 2, total: 4 },
      { priority: 1, healthy: 1, total: 1 },
      { priority: 1, healthy: 3, total: 3 },
      { priority: 2, healthy: 2, total: 2 },
    ]);
    expect(placement).toEqual([
      { priority: 0, weight: 4200, spilledFrom: 0 },
      { priority: 0, weight: 2800, spilledFrom: 0 },
      { priority: 0, weight: 750, spilledFrom: 1 },
      { priority: 0, weight: 2250, spilledFrom: 1 },
      { priority: 1, weight: undefined, spilledFrom: undefined },
    ]);
    expect(placement!.slice(0, 4).reduce((a, p) => a + p.weight!, 0)).toBe(SPILL_WEIGHT_TOTAL);
  });

  it('keeps a locality without healthy endpoints at weight 1 (gRPC drops weight 0)', () => {
    const placement = spillPlacement([
      { priority: 0, healthy: 0, total: 2 },
      { priority: 0, healthy: 1, total: 2 },
      { priority: 1, healthy: 2, total: 2 },
    ]);
    expect(placement!.map((p) => p.weight)).toEqual([1, 3500, 6500]);
  });
});

// Priority 0 (cluster a): 10 endpoints over two zones, the first `healthyInA` HEALTHY and the rest
// UNHEALTHY (not-Ready pods under --include-not-ready); priority 1 (cluster b): 2 in z1.
function mesh(healthyInA: number): EndpointRecord[] {
  const a = Array.from({ length: 10 }, (_, i) => ep('a', `10.0.0.${i + 1}`, i < healthyInA ? 'HEALTHY' : 'UNHEALTHY', i % 2 === 0 ? 'z1' : 'z2'));
  return [...a, ep('b', '10.1.0.1', 'HEALTHY', 'z1'), ep('b', '10.1.0.2', 'HEALTHY', 'z1')];
}
const ENVOY: LoadAssignmentOptions = { localCluster: 'a' };
const GRPC: LoadAssignmentOptions = { localCluster: 'a', ignoresOverprovisioning: true };

describe('buildLoadAssignment for a client that ignores overprovisioning', () => {
  it('is the plain assignment, byte for byte, while 1.4 × healthy share ≥ 1', () => {
    for (const healthy of [10, 8]) {
      expect(buildLoadAssignment(svc('echo', mesh(healthy)), GRPC)).toEqual(buildLoadAssignment(svc('echo', mesh(healthy)), ENVOY));
      expect(assignmentKey(mesh(healthy), GRPC)).toBe(assignmentKey(mesh(healthy), ENVOY));
    }
  });

  it('gives priority 0 seventy percent and cluster b thirty when 5 of 10 are healthy (the README example)', () => {
    const cla = buildLoadAssignment(svc('echo', mesh(5)), GRPC);
    const summary = cla.endpoints.map((l) => [l.priority, l.locality, l.load_balancing_weight.value]);
    // a/z1 holds endpoints 1,3,5,7,9 of which 1,3,5 healthy; a/z2 holds 2,4 healthy.
    expect(summary).toEqual([
      [0, { region: 'r1', zone: 'z1' }, 4200],
      [0, { region: 'r1', zone: 'z2' }, 2800],
      [0, { region: 'r1', zone: 'z1', sub_zone: 'herald-spill-1' }, 3000],
    ]);
    expect(assignmentKey(mesh(5), GRPC)).not.toBe(assignmentKey(mesh(5), ENVOY));
  });

  it('spills nothing for DRAINING endpoints, which Envoy leaves out of a priority’s health', () => {
    const draining = mesh(5).map((e) => (e.health === 'UNHEALTHY' ? { ...e, health: 'DRAINING' as const } : e));
    expect(buildLoadAssignment(svc('echo', draining), GRPC)).toEqual(buildLoadAssignment(svc('echo', draining), ENVOY));
    expect(assignmentKey(draining, GRPC)).toBe(assignmentKey(draining, ENVOY));
  });

  it('keeps the plain priorities for Envoy clients whatever the health', () => {
    const cla = buildLoadAssignment(svc('echo', mesh(5)), ENVOY);
    expect(cla.endpoints.map((l) => [l.priority, l.load_balancing_weight.value])).toEqual([
      [0, 3],
      [0, 2],
      [1, 2],
    ]);
  });

  it('assignmentKeySpills tells a spilling assignment from its key alone', () => {
    expect(assignmentKeySpills(assignmentKey(mesh(5), GRPC))).toBe(true);
    expect(assignmentKeySpills(assignmentKey(mesh(5), ENVOY))).toBe(false);
    for (const healthy of [10, 8]) expect(assignmentKeySpills(assignmentKey(mesh(healthy), GRPC))).toBe(false);
    // A kube cluster or zone named after the marker is no spill.
    const named = [ep('spill', '10.0.0.1', 'HEALTHY', 'spill'), ep('spill', '10.0.0.2', 'HEALTHY', '"spill"]')];
    expect(assignmentKeySpills(assignmentKey(named, { localCluster: 'spill', ignoresOverprovisioning: true }))).toBe(false);
  });
});
