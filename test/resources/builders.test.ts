import { describe, expect, it } from 'vitest';
import {
  buildCluster,
  buildEgressRouteConfiguration,
  buildListener,
  buildLoadAssignment,
  buildRouteConfiguration,
  durationFromMs,
  egressDomains,
  HTTP_CONNECTION_MANAGER_TYPE,
  HTTP_PROTOCOL_OPTIONS_KEY,
  ROUTER_FILTER_NAME,
  ROUTER_TYPE,
  type ClusterLoadAssignmentResource,
  type ClusterOptions,
} from '../../src/resources/index.js';
import type { EndpointRecord } from '../../src/model/index.js';
import { ep, permutations, svc } from './fixtures.js';

const HC = { path: '/healthz', intervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 1 };

describe('durationFromMs', () => {
  it.each([
    [0, { seconds: 0, nanos: 0 }],
    [1, { seconds: 0, nanos: 1_000_000 }],
    [1000, { seconds: 1, nanos: 0 }],
    [2500, { seconds: 2, nanos: 500_000_000 }],
    [0.5, { seconds: 0, nanos: 500_000 }],
    [1999.9999999, { seconds: 2, nanos: 0 }],
  ])('%s ms → %o', (ms, expected) => {
    expect(durationFromMs(ms, 'x')).toEqual(expected);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects %s', (ms) => {
    expect(() => durationFromMs(ms, 'window')).toThrow(/window/);
  });
});

describe('buildCluster', () => {
  it.each<[string, ClusterOptions]>([
    ['defaults', {}],
    ['health check', { healthCheck: HC }],
  ])('HTTP/2 (%s): the HTTP/1.1 cluster plus explicit HTTP/2 upstream options', (_name, options) => {
    const h2 = buildCluster('grpc.shop', options, 'HTTP/2');
    const { typed_extension_protocol_options: extensions, ...rest } = h2;
    expect(rest).toEqual(buildCluster('grpc.shop', options));
    expect(extensions).toEqual({
      [HTTP_PROTOCOL_OPTIONS_KEY]: {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    });
  });

  it('HTTP/1.1 is the default and sets no protocol option', () => {
    expect(buildCluster('web.shop', {}, 'HTTP/1.1')).toStrictEqual(buildCluster('web.shop'));
    expect('typed_extension_protocol_options' in buildCluster('web.shop', { healthCheck: HC }, 'HTTP/1.1')).toBe(false);
  });

  it('is an EDS cluster over ADS whose EDS name is the cluster name', () => {
    const c = buildCluster('payments');
    expect(c.name).toBe('payments');
    expect(c.type).toBe('EDS');
    expect(c.lb_policy).toBe('ROUND_ROBIN');
    expect(c.eds_cluster_config).toEqual({ eds_config: { ads: {}, resource_api_version: 'V3' } });
    expect('service_name' in c.eds_cluster_config).toBe(false);
  });

  it.each<[string, ClusterOptions, { connect: object; merge: object; hc: boolean }]>([
    ['defaults', {}, { connect: { seconds: 1, nanos: 0 }, merge: { seconds: 0, nanos: 0 }, hc: false }],
    ['custom timeouts', { connectTimeoutMs: 250, updateMergeWindowMs: 1500 }, { connect: { seconds: 0, nanos: 250_000_000 }, merge: { seconds: 1, nanos: 500_000_000 }, hc: false }],
    ['health check', { healthCheck: HC }, { connect: { seconds: 1, nanos: 0 }, merge: { seconds: 0, nanos: 0 }, hc: true }],
  ])('%s', (_name, options, expected) => {
    const c = buildCluster('svc', options);
    expect(c.connect_timeout).toEqual(expected.connect);
    expect(c.common_lb_config.update_merge_window).toEqual(expected.merge);
    if (expected.hc) {
      expect(c.ignore_health_on_host_removal).toBe(true);
      expect(c.health_checks).toEqual([
        {
          timeout: { seconds: 1, nanos: 0 },
          interval: { seconds: 5, nanos: 0 },
          unhealthy_threshold: { value: 2 },
          healthy_threshold: { value: 1 },
          http_health_check: { path: '/healthz' },
        },
      ]);
    } else {
      expect(c.health_checks).toBeUndefined();
      expect(c.ignore_health_on_host_removal).toBeUndefined();
    }
  });

  it.each<[string, ClusterOptions, RegExp]>([
    ['zero connect timeout', { connectTimeoutMs: 0 }, /connectTimeoutMs/],
    ['negative merge window', { updateMergeWindowMs: -5 }, /updateMergeWindowMs/],
    ['empty health path', { healthCheck: { ...HC, path: '' } }, /path/],
    ['zero health interval', { healthCheck: { ...HC, intervalMs: 0 } }, /intervalMs/],
    ['zero health timeout', { healthCheck: { ...HC, timeoutMs: 0 } }, /timeoutMs/],
    ['zero threshold', { healthCheck: { ...HC, unhealthyThreshold: 0 } }, /unhealthyThreshold/],
    ['fractional threshold', { healthCheck: { ...HC, healthyThreshold: 1.5 } }, /healthyThreshold/],
  ])('rejects %s', (_name, options, message) => {
    expect(() => buildCluster('svc', options)).toThrow(message);
  });
});

/** A readable digest of an assignment: one line per locality. */
function summary(cla: ClusterLoadAssignmentResource): string[] {
  return cla.endpoints.map((l) => {
    const eps = l.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}/${e.health_status}`).join(',');
    const sub = l.locality.sub_zone === undefined ? '' : `/${l.locality.sub_zone}`;
    return `p${l.priority} ${l.locality.region}/${l.locality.zone}${sub} w${l.load_balancing_weight.value} [${eps}]`;
  });
}

describe('buildLoadAssignment', () => {
  const cases: Array<[string, EndpointRecord[], string | undefined, string[]]> = [
    ['zero endpoints', [], undefined, []],
    ['zero endpoints with a local cluster', [], 'a', []],
    [
      'no local cluster: everything priority 0, grouped by region/zone',
      [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('b', '10.1.0.1', 'HEALTHY', 'z2'), ep('b', '10.1.0.2', 'HEALTHY', 'z1')],
      undefined,
      ['p0 r1/z1 w2 [10.0.0.1:8080/HEALTHY,10.1.0.2:8080/HEALTHY]', 'p0 r1/z2 w1 [10.1.0.1:8080/HEALTHY]'],
    ],
    [
      'local cluster first, others priority 1',
      [ep('b', '10.1.0.1'), ep('a', '10.0.0.1'), ep('a', '10.0.0.2', 'HEALTHY', 'z2')],
      'a',
      ['p0 r1/z1 w1 [10.0.0.1:8080/HEALTHY]', 'p0 r1/z2 w1 [10.0.0.2:8080/HEALTHY]', 'p1 r1/z1/herald-priority-1 w1 [10.1.0.1:8080/HEALTHY]'],
    ],
    [
      'a zone repeated at a later priority gets a sub_zone naming it; a zone new at its priority keeps none',
      [ep('a', '10.0.0.1'), ep('b', '10.1.0.1'), ep('b', '10.1.0.2', 'HEALTHY', 'z3'), ep('c', '10.2.0.1')],
      'a',
      ['p0 r1/z1 w1 [10.0.0.1:8080/HEALTHY]', 'p1 r1/z1/herald-priority-1 w2 [10.1.0.1:8080/HEALTHY,10.2.0.1:8080/HEALTHY]', 'p1 r1/z3 w1 [10.1.0.2:8080/HEALTHY]'],
    ],
    ['no local endpoints: remote ones become priority 0 (no skipped level)', [ep('b', '10.1.0.1'), ep('c', '10.2.0.1')], 'a', ['p0 r1/z1 w2 [10.1.0.1:8080/HEALTHY,10.2.0.1:8080/HEALTHY]']],
    ['only local endpoints: priority 0', [ep('a', '10.0.0.1')], 'a', ['p0 r1/z1 w1 [10.0.0.1:8080/HEALTHY]']],
    ['unknown region/zone become empty strings', [ep('a', '10.0.0.1', 'HEALTHY', null, null)], undefined, ['p0 / w1 [10.0.0.1:8080/HEALTHY]']],
    [
      'health passes through; weight counts HEALTHY endpoints only',
      [ep('a', '10.0.0.1', 'HEALTHY'), ep('a', '10.0.0.2', 'DRAINING'), ep('a', '10.0.0.3', 'UNHEALTHY'), ep('a', '10.0.0.4', 'HEALTHY')],
      undefined,
      ['p0 r1/z1 w2 [10.0.0.1:8080/HEALTHY,10.0.0.2:8080/DRAINING,10.0.0.3:8080/UNHEALTHY,10.0.0.4:8080/HEALTHY]'],
    ],
    [
      'a locality with nothing HEALTHY still has weight 1',
      [ep('a', '10.0.0.1', 'DRAINING', 'z1'), ep('a', '10.0.0.2', 'DRAINING', 'z1'), ep('a', '10.0.0.3', 'HEALTHY', 'z2')],
      undefined,
      ['p0 r1/z1 w1 [10.0.0.1:8080/DRAINING,10.0.0.2:8080/DRAINING]', 'p0 r1/z2 w1 [10.0.0.3:8080/HEALTHY]'],
    ],
    [
      'same zone name in two regions are different localities',
      [ep('a', '10.0.0.1', 'HEALTHY', 'z1', 'r2'), ep('a', '10.0.0.2', 'HEALTHY', 'z1', 'r1')],
      undefined,
      ['p0 r1/z1 w1 [10.0.0.2:8080/HEALTHY]', 'p0 r2/z1 w1 [10.0.0.1:8080/HEALTHY]'],
    ],
    [
      'IPv6 literals stay bare; same IP different ports kept apart',
      [ep('a', 'fd00::2', 'HEALTHY', 'z1', 'r1', 9090), ep('a', 'fd00::2', 'HEALTHY', 'z1', 'r1', 8080)],
      undefined,
      ['p0 r1/z1 w2 [fd00::2:8080/HEALTHY,fd00::2:9090/HEALTHY]'],
    ],
    [
      'a duplicate address keeps one endpoint, from the preferred cluster',
      [ep('a', '10.9.0.1', 'DRAINING'), ep('b', '10.9.0.1', 'HEALTHY'), ep('a', '10.0.0.1')],
      'b',
      ['p0 r1/z1 w1 [10.9.0.1:8080/HEALTHY]', 'p1 r1/z1/herald-priority-1 w1 [10.0.0.1:8080/HEALTHY]'],
    ],
    [
      'a duplicate address without a local cluster keeps the first cluster by name',
      [ep('b', '10.9.0.1', 'HEALTHY', 'z2'), ep('a', '10.9.0.1', 'DRAINING', 'z1')],
      undefined,
      ['p0 r1/z1 w1 [10.9.0.1:8080/DRAINING]'],
    ],
  ];

  it.each(cases)('%s', (_name, endpoints, localCluster, expected) => {
    const cla = buildLoadAssignment(svc('orders', endpoints), { localCluster });
    expect(cla.cluster_name).toBe('orders');
    expect(summary(cla)).toEqual(expected);
  });

  it.each(cases)('invariants hold: %s', (_name, endpoints, localCluster) => {
    const cla = buildLoadAssignment(svc('orders', endpoints), { localCluster });
    const priorities = [...new Set(cla.endpoints.map((l) => l.priority))];
    expect(priorities).toEqual(priorities.map((_p, i) => i)); // 0, 1, … without gaps, ascending
    for (const l of cla.endpoints) {
      expect(typeof l.locality.region).toBe('string');
      expect(typeof l.locality.zone).toBe('string');
      expect(l.load_balancing_weight.value).toBeGreaterThanOrEqual(1);
      expect(l.lb_endpoints.length).toBeGreaterThan(0);
    }
    const addresses = cla.endpoints.flatMap((l) => l.lb_endpoints.map((e) => JSON.stringify(e.endpoint.address.socket_address)));
    expect(new Set(addresses).size).toBe(addresses.length);
    expect(addresses.length).toBe(new Set(endpoints.map((e) => `${e.ip}|${e.port}`)).size);
    // Each locality once in the whole assignment: grpc-java keys localities across priorities.
    const localities = cla.endpoints.map((l) => JSON.stringify([l.locality.region, l.locality.zone, l.locality.sub_zone ?? '']));
    expect(new Set(localities).size).toBe(localities.length);
  });

  it("zone preference: the client's zone in its own cluster and in another cluster are two localities", () => {
    const endpoints = [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('a', '10.0.0.2', 'HEALTHY', 'z2'), ep('b', '10.1.0.1', 'HEALTHY', 'z1'), ep('b', '10.1.0.2', 'HEALTHY', 'z2')];
    const cla = buildLoadAssignment(svc('orders', endpoints), { localCluster: 'a', zone: { name: 'z1', minEndpoints: 1 } });
    expect(summary(cla)).toEqual([
      'p0 r1/z1 w1 [10.0.0.1:8080/HEALTHY]',
      'p1 r1/z2 w1 [10.0.0.2:8080/HEALTHY]',
      'p2 r1/z1/herald-priority-2 w1 [10.1.0.1:8080/HEALTHY]',
      'p2 r1/z2/herald-priority-2 w1 [10.1.0.2:8080/HEALTHY]',
    ]);
  });

  it('IPv6 address is the bare literal in socket_address', () => {
    const cla = buildLoadAssignment(svc('v6', [ep('a', '2001:db8::7')]));
    expect(cla.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address).toEqual({
      address: '2001:db8::7',
      port_value: 8080,
    });
  });

  it('gives equal output for any input order', () => {
    const endpoints = [
      ep('a', '10.0.0.3', 'HEALTHY', 'z2'),
      ep('b', '10.1.0.1', 'DRAINING', 'z1'),
      ep('a', '10.0.0.1', 'HEALTHY', 'z1'),
      ep('b', '10.1.0.2', 'HEALTHY', null, null),
      ep('a', 'fd00::1', 'UNHEALTHY', 'z1'),
      ep('a', '10.0.0.2', 'DRAINING', 'z2'),
      ep('c', '10.2.0.1', 'HEALTHY', 'z3', 'r2'),
      ep('c', '10.0.0.1', 'DRAINING', 'z3', 'r2'),
    ];
    for (const localCluster of [undefined, 'a', 'b']) {
      const reference = buildLoadAssignment(svc('s', endpoints), { localCluster });
      for (const shuffled of permutations(endpoints)) {
        expect(buildLoadAssignment(svc('s', shuffled), { localCluster })).toEqual(reference);
      }
    }
  });

  it('does not modify its input', () => {
    const endpoints = [ep('b', '10.1.0.1'), ep('a', '10.0.0.1')];
    const copy = structuredClone(endpoints);
    buildLoadAssignment(svc('s', endpoints), { localCluster: 'a' });
    expect(endpoints).toEqual(copy);
  });
});

describe('buildListener', () => {
  it('is an API listener with RDS over ADS and the router filter last', () => {
    const l = buildListener('checkout');
    expect(l.name).toBe('checkout');
    const hcm = l.api_listener.api_listener;
    expect(hcm['@type']).toBe(HTTP_CONNECTION_MANAGER_TYPE);
    expect(hcm.rds).toEqual({
      config_source: { ads: {}, resource_api_version: 'V3' },
      route_config_name: 'checkout',
    });
    const filters = hcm.http_filters as Array<{ name: string; typed_config: { '@type': string } }>;
    expect(filters.at(-1)).toEqual({ name: ROUTER_FILTER_NAME, typed_config: { '@type': ROUTER_TYPE } });
  });
});

describe('buildRouteConfiguration', () => {
  it('sends every request for any authority to the cluster of the same name', () => {
    expect(buildRouteConfiguration('checkout')).toEqual({
      name: 'checkout',
      virtual_hosts: [{ name: 'checkout', domains: ['*'], routes: [{ match: { prefix: '' }, route: { cluster: 'checkout' } }] }],
    });
  });
});

describe('sidecar egress routes', () => {
  it.each([
    {
      what: 'a namespaced name',
      service: 'cart.shop',
      domain: undefined,
      want: ['cart.shop', 'cart.shop:*', 'cart.shop.svc', 'cart.shop.svc:*', 'cart.shop.svc.cluster.local', 'cart.shop.svc.cluster.local:*'],
    },
    {
      what: 'another cluster domain',
      service: 'cart.shop',
      domain: 'corp.internal',
      want: ['cart.shop', 'cart.shop:*', 'cart.shop.svc', 'cart.shop.svc:*', 'cart.shop.svc.corp.internal', 'cart.shop.svc.corp.internal:*'],
    },
    { what: 'a mesh-scope name (no namespace)', service: 'cart', domain: undefined, want: ['cart', 'cart:*'] },
  ])('answers $what by the forms applications use', ({ service, domain, want }) => {
    expect(egressDomains(service, domain)).toEqual(want);
  });

  it('has one virtual host per service in name order, routing to its cluster', () => {
    const config = buildEgressRouteConfiguration('herald~egress~x', ['ledger.pay', 'cart.shop', 'ledger.pay']);
    expect(config.name).toBe('herald~egress~x');
    expect(config.virtual_hosts.map((vh) => vh.name)).toEqual(['cart.shop', 'ledger.pay']);
    expect(config.virtual_hosts[1]).toEqual({ name: 'ledger.pay', domains: egressDomains('ledger.pay'), routes: [{ match: { prefix: '' }, route: { cluster: 'ledger.pay' } }] });
  });

  it('never lists a domain twice (Envoy rejects the whole RouteConfiguration)', () => {
    // A label with a dot makes one service's name another's DNS form.
    const config = buildEgressRouteConfiguration('r', ['cart.shop', 'cart.shop.svc', 'cart']);
    const all = config.virtual_hosts.flatMap((vh) => vh.domains);
    expect(new Set(all).size).toBe(all.length);
    expect(config.virtual_hosts.find((vh) => vh.name === 'cart.shop.svc')!.domains).not.toContain('cart.shop.svc');
    expect(buildEgressRouteConfiguration('r', [])).toEqual({ name: 'r', virtual_hosts: [] });
  });

  it('shares its routes with the per-service RouteConfiguration of proxyless clients', () => {
    expect(buildRouteConfiguration('cart.shop').virtual_hosts[0]!.routes).toEqual(buildEgressRouteConfiguration('r', ['cart.shop']).virtual_hosts[0]!.routes);
  });
});
