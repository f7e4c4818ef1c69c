import { describe, expect, it } from 'vitest';
import { formatPoliciesTable, parsePolicies } from '../../src/status/index.js';

const origin = (cluster: string, namespace: string, name: string, generation: number, role: string) => ({ cluster, namespace, name, generation, role });

const VIEW = {
  defaults: { namespace: 'herald', name: 'mesh-defaults' },
  clusters: ['west', 'east'],
  unavailable: [{ cluster: 'south', reason: 'no ServicePolicy CRD installed' }],
  services: [
    {
      service: 'cart.shop',
      // A section this version of `herald status` has never heard of is shown like any other.
      spec: { circuitBreakers: { maxRequests: 7 }, routes: { split: [{ service: 'cart-canary.shop', weight: 10 }] }, outlierDetection: { consecutive5xx: 5 } },
      from: {
        circuitBreakers: origin('west', 'shop', 'cart', 3, 'service'),
        routes: origin('west', 'shop', 'cart', 3, 'service'),
        outlierDetection: origin('east', 'herald', 'mesh-defaults', 1, 'defaults'),
      },
      ignoredByProxyless: [{ field: 'spec.outlierDetection.consecutive5xx', why: '…' }],
    },
    {
      service: 'ship.shop',
      spec: { healthCheck: { tcp: true, portName: 'health' } },
      from: { healthCheck: origin('west', 'shop', 'ship', 1, 'service') },
      ignoredByProxyless: [],
      healthCheckPortUnresolved: { portName: 'health', endpoints: 2 },
    },
  ],
  rejections: [
    { cluster: 'east', namespace: 'shop', name: 'cart', generation: 5, keptGeneration: 4, atMs: 1, errors: [{ path: 'spec.connection.connectTimeoutMs', message: 'must be ≥ 1' }] },
  ],
  conflicts: [{ namespace: 'shop', name: 'cart', clusters: ['west', 'east'], chosen: 'west' }],
  evacuation: { clusters: ['south', 'north'], mode: 'Drain', from: { cluster: 'west', namespace: 'herald', name: 'mesh-defaults', generation: 2 } },
};

describe('herald status policies', () => {
  it('prints one line per service and section with its origin, then rejections, conflicts, unavailable clusters, unresolved health check port names and the evacuation', () => {
    expect(formatPoliciesTable(parsePolicies(VIEW))).toBe(
      [
        'SERVICE    SECTION           FROM      OBJECT                     GENERATION  IGNORED BY PROXYLESS',
        'cart.shop  circuitBreakers   service   west/shop/cart             3           -',
        '           routes            service   west/shop/cart             3           -',
        '           outlierDetection  defaults  east/herald/mesh-defaults  1           consecutive5xx',
        'ship.shop  healthCheck       service   west/shop/ship             1           -',
        'REJECTED east/shop/cart generation 5: spec.connection.connectTimeoutMs: must be ≥ 1 (generation 4 in effect)',
        "CONFLICT shop/cart: copies in west, east differ; serving west's",
        'UNAVAILABLE south: no ServicePolicy CRD installed',
        'HEALTH CHECK PORT ship.shop: 2 endpoint(s) without a container port named health, checked on their traffic port',
        'EVACUATING south, north (Drain): west/herald/mesh-defaults generation 2',
        '',
      ].join('\n'),
    );
  });

  it('says so when no service has a policy, and reads a page of another shape as empty rather than failing', () => {
    expect(formatPoliciesTable(parsePolicies({ clusters: [], services: [], rejections: [], conflicts: [], unavailable: [] }))).toBe('No service has a ServicePolicy.\n');
    expect(parsePolicies('not a view')).toEqual({ clusters: [], services: [], rejections: [], conflicts: [], unavailable: [] });
    expect(parsePolicies({ services: [{ service: 'x', spec: { connection: {} }, from: {} }] }).services[0]!.sections).toEqual([
      { section: 'connection', role: '', object: '', generation: undefined },
    ]);
  });
});
