import { describe, expect, it } from 'vitest';
import type { EndpointRecord, Perspective, ServicePolicySpec } from '../../src/model/index.js';
import { assignmentKey, assignmentOptions, buildLoadAssignment, priorityOf, servedEndpoints, type LoadAssignmentOptions } from '../../src/resources/index.js';
import { ep, svc } from './fixtures.js';

/** A terminating pod that still reports Ready, as the store records it. */
const terminatingReady = (cluster: string, ip: string, zone = 'z1'): EndpointRecord => ({ ...ep(cluster, ip, 'DRAINING', zone), servingWhileTerminating: true });

// a: z1 ×2, z2 ×1; b: z1 ×1.
const MESH = [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('a', '10.0.0.2', 'HEALTHY', 'z1'), ep('a', '10.0.0.3', 'HEALTHY', 'z2'), ep('b', '10.1.0.1', 'HEALTHY', 'z1')];

function priorities(endpoints: readonly EndpointRecord[], options: LoadAssignmentOptions): Record<string, number> {
  const priority = priorityOf(endpoints, options);
  return Object.fromEntries(endpoints.map((e) => [e.ip, priority(e)]));
}

describe('priorityOf', () => {
  it.each<{ what: string; options: LoadAssignmentOptions; want: Record<string, number> }>([
    { what: 'no local cluster: one priority', options: {}, want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 0 } },
    { what: 'own cluster a first', options: { localCluster: 'a' }, want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 1 } },
    { what: 'own cluster b first', options: { localCluster: 'b' }, want: { '10.0.0.1': 1, '10.0.0.2': 1, '10.0.0.3': 1, '10.1.0.1': 0 } },
    { what: 'a cluster without endpoints: one priority, no gap', options: { localCluster: 'c' }, want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 0 } },
    {
      what: 'zone z1 of a with enough endpoints: zone, rest of a, other clusters',
      options: { localCluster: 'a', zone: { name: 'z1', minEndpoints: 2 } },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 1, '10.1.0.1': 2 },
    },
    {
      what: 'zone z1 of a below zoneMinEndpoints: no zone tier',
      options: { localCluster: 'a', zone: { name: 'z1', minEndpoints: 3 } },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 1 },
    },
    {
      what: 'zone z1 of b: b is its own zone, other clusters next (no empty tier)',
      options: { localCluster: 'b', zone: { name: 'z1', minEndpoints: 1 } },
      want: { '10.0.0.1': 1, '10.0.0.2': 1, '10.0.0.3': 1, '10.1.0.1': 0 },
    },
    {
      what: 'a zone the cluster has no endpoint in: cluster tiers only',
      options: { localCluster: 'a', zone: { name: 'z9', minEndpoints: 1 } },
      want: { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0, '10.1.0.1': 1 },
    },
  ])('$what', ({ options, want }) => {
    expect(priorities(MESH, options)).toEqual(want);
  });

  it('counts only HEALTHY endpoints toward zoneMinEndpoints', () => {
    const endpoints = [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('a', '10.0.0.2', 'DRAINING', 'z1'), ep('a', '10.0.0.3', 'HEALTHY', 'z2')];
    expect(priorities(endpoints, { localCluster: 'a', zone: { name: 'z1', minEndpoints: 2 } })).toEqual({ '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0 });
    expect(priorities(endpoints, { localCluster: 'a', zone: { name: 'z1', minEndpoints: 1 } })).toEqual({ '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 1 });
  });
});

describe('assignmentOptions', () => {
  const pz: ServicePolicySpec = { locality: { zone: 'PreferSameZone', zoneMinEndpoints: 2 } };
  it.each<{ what: string; perspective: Perspective; replica: string | undefined; policy: ServicePolicySpec; want: LoadAssignmentOptions }>([
    { what: 'nothing declared: the replica cluster', perspective: { kubeCluster: undefined, zone: '' }, replica: 'a', policy: {}, want: { localCluster: 'a', terminatingFallback: true } },
    {
      what: 'declared cluster wins over the replica',
      perspective: { kubeCluster: 'b', zone: 'z1' },
      replica: 'a',
      policy: {},
      want: { localCluster: 'b', terminatingFallback: true },
    },
    { what: 'no cluster at all', perspective: { kubeCluster: undefined, zone: 'z1' }, replica: undefined, policy: {}, want: { terminatingFallback: true } },
    {
      what: 'zone only with PreferSameZone',
      perspective: { kubeCluster: 'b', zone: 'z1' },
      replica: 'a',
      policy: pz,
      want: { localCluster: 'b', zone: { name: 'z1', minEndpoints: 2 }, terminatingFallback: true },
    },
    { what: 'PreferSameZone without a client zone', perspective: { kubeCluster: 'b', zone: '' }, replica: 'a', policy: pz, want: { localCluster: 'b', terminatingFallback: true } },
    {
      what: 'default zoneMinEndpoints is 1',
      perspective: { kubeCluster: 'b', zone: 'z1' },
      replica: 'a',
      policy: { locality: { zone: 'PreferSameZone' } },
      want: { localCluster: 'b', zone: { name: 'z1', minEndpoints: 1 }, terminatingFallback: true },
    },
    {
      what: 'fallback unset in a locality section: on, the default',
      perspective: { kubeCluster: undefined, zone: '' },
      replica: 'a',
      policy: { locality: { zone: 'None' } },
      want: { localCluster: 'a', terminatingFallback: true },
    },
    {
      what: 'fallback asked for explicitly',
      perspective: { kubeCluster: undefined, zone: '' },
      replica: 'a',
      policy: { locality: { terminatingFallback: 'Enabled' } },
      want: { localCluster: 'a', terminatingFallback: true },
    },
    {
      what: 'fallback turned off explicitly',
      perspective: { kubeCluster: undefined, zone: '' },
      replica: 'a',
      policy: { locality: { terminatingFallback: 'Disabled' } },
      want: { localCluster: 'a' },
    },
  ])('$what', ({ perspective, replica, policy, want }) => {
    expect(assignmentOptions(perspective, replica, policy)).toEqual(want);
  });
});

describe('servedEndpoints (never nothing)', () => {
  it.each<{ what: string; endpoints: EndpointRecord[]; enabled: boolean; fallback: boolean; health: string[] }>([
    { what: 'a HEALTHY endpoint anywhere: as stored', endpoints: [ep('b', '10.1.0.1'), terminatingReady('a', '10.0.0.1')], enabled: true, fallback: false, health: ['HEALTHY', 'DRAINING'] },
    {
      what: 'none HEALTHY, terminating and Ready: served HEALTHY',
      endpoints: [terminatingReady('a', '10.0.0.1'), terminatingReady('b', '10.1.0.1')],
      enabled: true,
      fallback: true,
      health: ['HEALTHY', 'HEALTHY'],
    },
    {
      what: 'only the Ready terminating ones are served',
      endpoints: [terminatingReady('a', '10.0.0.1'), ep('a', '10.0.0.2', 'DRAINING'), ep('a', '10.0.0.3', 'UNHEALTHY')],
      enabled: true,
      fallback: true,
      health: ['HEALTHY', 'DRAINING', 'UNHEALTHY'],
    },
    { what: 'terminating, none Ready: nothing to fall back on', endpoints: [ep('a', '10.0.0.1', 'DRAINING')], enabled: true, fallback: false, health: ['DRAINING'] },
    { what: 'turned off by policy', endpoints: [terminatingReady('a', '10.0.0.1')], enabled: false, fallback: false, health: ['DRAINING'] },
    { what: 'no endpoints', endpoints: [], enabled: true, fallback: false, health: [] },
  ])('$what', ({ endpoints, enabled, fallback, health }) => {
    const served = servedEndpoints(endpoints, enabled);
    expect(served.fallback).toBe(fallback);
    expect(served.endpoints.map((e) => e.health)).toEqual(health);
  });

  it('the assignment carries the fallback, and the input records are left alone', () => {
    const endpoints = [terminatingReady('a', '10.0.0.1')];
    const cla = buildLoadAssignment(svc('s', endpoints), { terminatingFallback: true });
    expect(cla.endpoints[0]!.lb_endpoints.map((e) => e.health_status)).toEqual(['HEALTHY']);
    expect(endpoints[0]!.health).toBe('DRAINING');
    expect(buildLoadAssignment(svc('s', endpoints), {}).endpoints[0]!.lb_endpoints.map((e) => e.health_status)).toEqual(['DRAINING']);
  });
});

describe('assignmentKey', () => {
  it('is equal exactly when the assignments are', () => {
    const views: LoadAssignmentOptions[] = [
      {},
      { localCluster: 'a' },
      { localCluster: 'b' },
      { localCluster: 'c' },
      { localCluster: 'a', zone: { name: 'z1', minEndpoints: 1 } },
      { localCluster: 'a', zone: { name: 'z2', minEndpoints: 1 } },
      { localCluster: 'a', zone: { name: 'z9', minEndpoints: 1 } },
    ];
    for (const x of views) {
      for (const y of views) {
        const sameKey = assignmentKey(MESH, x) === assignmentKey(MESH, y);
        const sameBytes = JSON.stringify(buildLoadAssignment(svc('s', MESH), x)) === JSON.stringify(buildLoadAssignment(svc('s', MESH), y));
        expect({ x, y, sameKey }).toEqual({ x, y, sameKey: sameBytes });
      }
    }
    // Some views collapse: no cluster, an unknown cluster; a zone with no endpoints and no zone.
    expect(assignmentKey(MESH, {})).toBe(assignmentKey(MESH, { localCluster: 'c' }));
    expect(assignmentKey(MESH, { localCluster: 'a' })).toBe(assignmentKey(MESH, { localCluster: 'a', zone: { name: 'z9', minEndpoints: 1 } }));
  });
});
