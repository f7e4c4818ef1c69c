import { describe, expect, it } from 'vitest';
import type { EndpointRecord, Perspective, ServicePolicySpec } from '../../src/model/index.js';
import { assignmentKey, assignmentOptions, buildLoadAssignment, evacuatedEndpoints, priorityOf, type LoadAssignmentOptions } from '../../src/resources/index.js';
import { ep, svc } from './fixtures.js';

// a: z1 ×2, z2 ×1; b: z1 ×1; c: z2 ×1.
const MESH = [
  ep('a', '10.0.0.1', 'HEALTHY', 'z1'),
  ep('a', '10.0.0.2', 'HEALTHY', 'z1'),
  ep('a', '10.0.0.3', 'HEALTHY', 'z2'),
  ep('b', '10.1.0.1', 'HEALTHY', 'z1'),
  ep('c', '10.2.0.1', 'HEALTHY', 'z2'),
];

function priorities(endpoints: readonly EndpointRecord[], options: LoadAssignmentOptions): Record<string, number> {
  const priority = priorityOf(endpoints, options);
  return Object.fromEntries(endpoints.map((e) => [e.ip, priority(e)]));
}

const off = (clusters: string[]): LoadAssignmentOptions['evacuate'] => ({ clusters, drain: false });

describe('priorityOf with evacuated clusters', () => {
  it.each<{ what: string; options: LoadAssignmentOptions; want: Record<string, number> }>([
    {
      what: 'no local cluster: evacuated b below the rest',
      options: { evacuate: off(['b']) },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 1, '10.2.0.1': 0 },
    },
    {
      what: 'a client of a, b evacuated: a, then c, then b',
      options: { localCluster: 'a', evacuate: off(['b']) },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 2, '10.2.0.1': 1 },
    },
    {
      what: 'a client of evacuated a: the other clusters first, its own last',
      options: { localCluster: 'a', evacuate: off(['a']) },
      want: { '10.0.0.1': 1, '10.0.0.2': 1, '10.0.0.3': 1, '10.1.0.1': 0, '10.2.0.1': 0 },
    },
    {
      what: 'zone preference in evacuated a: no zone tier, a last',
      options: { localCluster: 'a', zone: { name: 'z1', minEndpoints: 1 }, evacuate: off(['a']) },
      want: { '10.0.0.1': 1, '10.0.0.2': 1, '10.0.0.3': 1, '10.1.0.1': 0, '10.2.0.1': 0 },
    },
    {
      what: 'zone preference in a, c evacuated: zone, rest of a, b, c',
      options: { localCluster: 'a', zone: { name: 'z1', minEndpoints: 1 }, evacuate: off(['c']) },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 1, '10.1.0.1': 2, '10.2.0.1': 3 },
    },
    {
      what: 'two clusters evacuated share the last priority',
      options: { localCluster: 'a', evacuate: off(['b', 'c']) },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 1, '10.2.0.1': 1 },
    },
    {
      what: 'every cluster evacuated: one priority, nothing lost',
      options: { localCluster: 'a', evacuate: off(['a', 'b', 'c']) },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 0, '10.2.0.1': 0 },
    },
    {
      what: 'a cluster without endpoints evacuated changes nothing',
      options: { localCluster: 'a', evacuate: off(['d']) },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 1, '10.2.0.1': 1 },
    },
  ])('$what', ({ options, want }) => {
    expect(priorities(MESH, options)).toEqual(want);
  });

  it('every client perspective puts the evacuated cluster last, without gaps', () => {
    for (const localCluster of [undefined, 'a', 'b', 'c', 'd']) {
      const options: LoadAssignmentOptions = { ...(localCluster === undefined ? {} : { localCluster }), evacuate: off(['b']) };
      const got = priorities(MESH, options);
      const max = Math.max(...Object.values(got));
      expect({ localCluster, b: got['10.1.0.1'] }).toEqual({ localCluster, b: max });
      expect(Object.values(got).filter((p) => p === max)).toHaveLength(1);
      expect(new Set(Object.values(got))).toEqual(new Set(Array.from({ length: max + 1 }, (_, i) => i)));
    }
  });
});

describe('evacuatedEndpoints (Drain mode)', () => {
  const drain = (clusters: string[]): LoadAssignmentOptions => ({ evacuate: { clusters, drain: true } });
  it.each<{ what: string; endpoints: EndpointRecord[]; options: LoadAssignmentOptions; drained: boolean; health: string[] }>([
    { what: 'HEALTHY elsewhere: evacuated b DRAINING', endpoints: [ep('a', '10.0.0.1'), ep('b', '10.1.0.1')], options: drain(['b']), drained: true, health: ['HEALTHY', 'DRAINING'] },
    { what: 'LastPriority mode: health untouched', endpoints: [ep('a', '10.0.0.1'), ep('b', '10.1.0.1')], options: { evacuate: off(['b']) }, drained: false, health: ['HEALTHY', 'HEALTHY'] },
    {
      what: 'b holds the only HEALTHY endpoints: kept HEALTHY (at the last priority)',
      endpoints: [ep('a', '10.0.0.1', 'DRAINING'), ep('b', '10.1.0.1')],
      options: drain(['b']),
      drained: false,
      health: ['DRAINING', 'HEALTHY'],
    },
    { what: 'only b has the service', endpoints: [ep('b', '10.1.0.1'), ep('b', '10.1.0.2')], options: drain(['b']), drained: false, health: ['HEALTHY', 'HEALTHY'] },
    {
      what: 'an UNHEALTHY endpoint of b stays UNHEALTHY',
      endpoints: [ep('a', '10.0.0.1'), ep('b', '10.1.0.1', 'UNHEALTHY'), ep('b', '10.1.0.2')],
      options: drain(['b']),
      drained: true,
      health: ['HEALTHY', 'UNHEALTHY', 'DRAINING'],
    },
    { what: 'nothing to evacuate here', endpoints: [ep('a', '10.0.0.1')], options: drain(['b']), drained: false, health: ['HEALTHY'] },
  ])('$what', ({ endpoints, options, drained, health }) => {
    const stored = endpoints.map((e) => e.health);
    const got = evacuatedEndpoints(endpoints, options);
    expect(got.drained).toBe(drained);
    expect(got.endpoints.map((e) => e.health)).toEqual(health);
    expect(endpoints.map((e) => e.health)).toEqual(stored);
  });

  it('the assignment sends them DRAINING at the last priority; the store records stay HEALTHY', () => {
    const endpoints = [ep('a', '10.0.0.1'), ep('b', '10.1.0.1')];
    const cla = buildLoadAssignment(svc('s', endpoints), { localCluster: 'b', evacuate: { clusters: ['b'], drain: true } });
    expect(cla.endpoints.map((l) => [l.priority, l.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, e.health_status])])).toEqual([
      [0, [['10.0.0.1', 'HEALTHY']]],
      [1, [['10.1.0.1', 'DRAINING']]],
    ]);
    expect(endpoints[1]!.health).toBe('HEALTHY');
  });
});

describe('assignmentOptions and assignmentKey with evacuation', () => {
  const perspective: Perspective = { kubeCluster: 'a', zone: 'z1' };
  it.each<{ what: string; policy: ServicePolicySpec; want: LoadAssignmentOptions }>([
    { what: 'LastPriority by default', policy: { locality: { evacuate: ['b'] } }, want: { localCluster: 'a', terminatingFallback: true, evacuate: { clusters: ['b'], drain: false } } },
    {
      what: 'LastPriority asked for',
      policy: { locality: { evacuate: ['b'], evacuateMode: 'LastPriority' } },
      want: { localCluster: 'a', terminatingFallback: true, evacuate: { clusters: ['b'], drain: false } },
    },
    {
      what: 'Drain',
      policy: { locality: { evacuate: ['b', 'c'], evacuateMode: 'Drain' } },
      want: { localCluster: 'a', terminatingFallback: true, evacuate: { clusters: ['b', 'c'], drain: true } },
    },
    { what: 'none: no evacuate option (undone)', policy: { locality: {} }, want: { localCluster: 'a', terminatingFallback: true } },
  ])('$what', ({ policy, want }) => {
    expect(assignmentOptions(perspective, undefined, policy)).toEqual(want);
  });

  it('keys are equal exactly when the assignments are', () => {
    const views: LoadAssignmentOptions[] = [];
    for (const localCluster of [undefined, 'a', 'b', 'c']) {
      for (const evacuate of [undefined, off(['b']), off(['a']), { clusters: ['b'], drain: true }, { clusters: ['a', 'b', 'c'], drain: true }]) {
        views.push({ ...(localCluster === undefined ? {} : { localCluster }), ...(evacuate === undefined ? {} : { evacuate }) });
      }
    }
    for (const x of views) {
      for (const y of views) {
        const sameKey = assignmentKey(MESH, x) === assignmentKey(MESH, y);
        const sameBytes = JSON.stringify(buildLoadAssignment(svc('s', MESH), x)) === JSON.stringify(buildLoadAssignment(svc('s', MESH), y));
        expect({ x, y, sameKey }).toEqual({ x, y, sameKey: sameBytes });
      }
    }
    expect(assignmentKey(MESH, { localCluster: 'a' })).not.toBe(assignmentKey(MESH, { localCluster: 'a', evacuate: off(['a']) }));
  });
});
