// Every shape of resource Herald's builders produce passes the protoc-gen-validate rules Envoy
// enforces on ingest (go-control-plane's generated ValidateAll), and hand-made bad resources do
// not — the negative controls prove the checker is live, including inside nested Anys.
import protobuf from 'protobufjs';
import { beforeAll, expect, it } from 'vitest';
import type { EndpointHealth, EndpointRecord, ResourceKind, ServiceEndpoints } from '../../src/model/index.js';
import { TYPE_URLS } from '../../src/model/index.js';
import {
  buildCluster,
  buildListener,
  buildLoadAssignment,
  buildEgressRouteConfiguration,
  buildRouteConfiguration,
  loadEnvoyProtos,
  hashPolicyFor,
  routeAction,
  ResourceEncoder,
  HTTP_CONNECTION_MANAGER_TYPE,
  ROUTER_TYPE,
} from '../../src/resources/index.js';
import { interopSuite } from './suite.js';
import { POLICY_SAMPLES, ROUTE_SAMPLES } from '../resources/policy-samples.js';
import { allViolations, runEnvoyValidate, type ValidateItem } from './tools.js';

function ep(cluster: string, ip: string, health: EndpointHealth = 'HEALTHY', zone?: string, region?: string, port = 8080): EndpointRecord {
  return { cluster, podKey: `default/p-${ip}-${port}`, ip, port, health, region, zone, drainingSinceMs: undefined };
}

function svc(service: string, endpoints: EndpointRecord[]): ServiceEndpoints {
  return { service, label: service, namespaces: ['default'], endpoints, podCount: endpoints.length };
}

const RING_HASH = { loadBalancing: { policy: 'RingHash', hashHeader: 'x-session-id' } } as const;
const healthCheck = { path: '/healthz', intervalMs: 5_000, timeoutMs: 1_000, unhealthyThreshold: 3, healthyThreshold: 2 };

/** One row per shape: [source, kind, built object]. */
function builtShapes(): [string, ResourceKind, object][] {
  return [
    ['cluster: defaults', 'cluster', buildCluster('echo')],
    ['cluster: health check', 'cluster', buildCluster('echo', { healthCheck })],
    ['cluster: sub-second timeouts', 'cluster', buildCluster('echo', { connectTimeoutMs: 250, updateMergeWindowMs: 1_500 })],
    ['cluster: dotted name', 'cluster', buildCluster('payments.v2-canary')],
    ['cluster: HTTP/2 upstream', 'cluster', buildCluster('echo', {}, 'HTTP/2')],
    ['cluster: HTTP/2 upstream with health check', 'cluster', buildCluster('echo', { healthCheck }, 'HTTP/2')],
    ...POLICY_SAMPLES.flatMap(([name, policy]) =>
      (['HTTP/1.1', 'HTTP/2'] as const).map((protocol): [string, ResourceKind, object] => [
        `cluster: ServicePolicy ${name}, ${protocol}`,
        'cluster',
        buildCluster('echo', { healthCheck }, protocol, policy),
      ]),
    ),
    ['assignment: empty', 'endpoint', buildLoadAssignment(svc('echo', []))],
    ['assignment: one endpoint, no locality labels', 'endpoint', buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1')]))],
    [
      'assignment: localities across zones and regions',
      'endpoint',
      buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1', 'HEALTHY', 'z1', 'r1'), ep('a', '10.0.0.2', 'HEALTHY', 'z2', 'r1'), ep('b', '10.1.0.1', 'HEALTHY', 'z9', 'r2')])),
    ],
    [
      'assignment: priorities with a local cluster',
      'endpoint',
      buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('b', '10.1.0.1', 'HEALTHY', 'z2'), ep('c', '10.2.0.1', 'DRAINING', 'z3')]), { localCluster: 'a' }),
    ],
    [
      'assignment: draining and unhealthy endpoints (locality weight from healthy only)',
      'endpoint',
      buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1', 'DRAINING', 'z1'), ep('a', '10.0.0.2', 'UNHEALTHY', 'z1'), ep('a', '10.0.0.3', 'HEALTHY', 'z2')])),
    ],
    [
      'assignment: priorities merged for a client that ignores overprovisioning (spill weights, sub_zone, a priority without health in between)',
      'endpoint',
      buildLoadAssignment(
        svc('echo', [
          ep('a', '10.0.0.1', 'HEALTHY', 'z1'),
          ep('a', '10.0.0.2', 'UNHEALTHY', 'z1'),
          ep('a', '10.0.0.3', 'UNHEALTHY', 'z2'),
          ep('b', '10.1.0.1', 'HEALTHY', 'z1'),
          ep('b', '10.1.0.2', 'UNHEALTHY', 'z1'),
          ep('c', '10.2.0.1', 'HEALTHY', 'z3'),
        ]),
        { localCluster: 'a', zone: { name: 'z1', minEndpoints: 1 }, ignoresOverprovisioning: true },
      ),
    ],
    ['assignment: all draining', 'endpoint', buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1', 'DRAINING', 'z1'), ep('b', '10.1.0.1', 'DRAINING', 'z2')]))],
    [
      'assignment: IPv6 and port extremes',
      'endpoint',
      buildLoadAssignment(svc('echo', [ep('a', 'fd00::1', 'HEALTHY', 'z1', 'r1', 1), ep('a', '2001:db8::42', 'HEALTHY', 'z1', 'r1', 65535), ep('b', '::1', 'DRAINING', 'z2')])),
    ],
    [
      'assignment: a health check port on every endpoint',
      'endpoint',
      buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('b', '10.1.0.1', 'DRAINING', 'z2')]), { healthCheckPort: 9090 }),
    ],
    [
      'assignment: per-endpoint health check ports from a port name (pods that lack it get none)',
      'endpoint',
      buildLoadAssignment(
        svc('echo', [
          { ...ep('a', '10.0.0.1', 'HEALTHY', 'z1'), namedPorts: { http: 8080, health: 1 } },
          { ...ep('a', '10.0.0.2', 'HEALTHY', 'z1'), namedPorts: { health: 65535 } },
          { ...ep('b', '10.1.0.1', 'DRAINING', 'z2'), namedPorts: { http: 8080 } },
          ep('b', '10.1.0.2', 'HEALTHY', 'z2'),
        ]),
        { localCluster: 'a', healthCheckPortName: 'health' },
      ),
    ],
    [
      'assignment: evacuated cluster at the last priority, below zone and cluster tiers',
      'endpoint',
      buildLoadAssignment(
        svc('echo', [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('a', '10.0.0.2', 'HEALTHY', 'z2'), ep('b', '10.1.0.1', 'HEALTHY', 'z1'), ep('c', '10.2.0.1', 'HEALTHY', 'z1')]),
        {
          localCluster: 'a',
          zone: { name: 'z1', minEndpoints: 1 },
          evacuate: { clusters: ['c'], drain: false },
        },
      ),
    ],
    [
      'assignment: evacuated own cluster sent DRAINING (Drain mode)',
      'endpoint',
      buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('b', '10.1.0.1', 'HEALTHY', 'z2')]), { localCluster: 'a', evacuate: { clusters: ['a'], drain: true } }),
    ],
    [
      'assignment: every cluster evacuated in Drain mode (nothing drained, one priority)',
      'endpoint',
      buildLoadAssignment(svc('echo', [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('b', '10.1.0.1', 'HEALTHY', 'z2')]), { localCluster: 'a', evacuate: { clusters: ['a', 'b'], drain: true } }),
    ],
    ['listener: api listener over RDS', 'listener', buildListener('echo')],
    ['route: catch-all virtual host', 'route', buildRouteConfiguration('echo')],
    ['route: ring hash on a header', 'route', buildRouteConfiguration('echo', RING_HASH)],
    [
      'route: a sidecar egress set with a ring-hash service',
      'route',
      buildEgressRouteConfiguration('herald~egress~0123456789abcdef', ['cart.shop', 'ledger.pay'], 'cluster.local', (service) =>
        routeAction(service, undefined, new Set(), hashPolicyFor(RING_HASH)),
      ),
    ],
    ['route: a sidecar egress set (names, ports, DNS forms)', 'route', buildEgressRouteConfiguration('herald~egress~0123456789abcdef', ['cart.shop', 'ledger.pay', 'flat', 'cart.shop.svc'])],
    ...ROUTE_SAMPLES.flatMap(([name, policy, healthy]): [string, ResourceKind, object][] => [
      [`route: ServicePolicy routes ${name}`, 'route', buildRouteConfiguration('cart.shop', policy, new Set(healthy))],
      [
        `route: a sidecar egress set, ServicePolicy routes ${name}`,
        'route',
        buildEgressRouteConfiguration('herald~egress~0123456789abcdef', ['cart.shop', 'ledger.pay'], undefined, (service) =>
          service === 'cart.shop' ? routeAction(service, policy.routes, new Set(healthy)) : routeAction(service, undefined),
        ),
      ],
    ]),
  ];
}

interopSuite('envoy-validate: builder output against Envoy PGV rules', (tools) => {
  let root: protobuf.Root;
  let encoder: ResourceEncoder;

  beforeAll(() => {
    root = loadEnvoyProtos();
    encoder = new ResourceEncoder(root);
  });

  /** Encodes a resource with protobufjs alone, bypassing Herald's encoder and builders. */
  function byHand(kind: ResourceKind, object: Record<string, unknown>): Buffer {
    const typeUrl = TYPE_URLS[kind];
    const type = root.lookupType(typeUrl.slice(typeUrl.indexOf('/') + 1));
    const any = root.lookupType('google.protobuf.Any');
    const value = type.encode(type.fromObject(object)).finish();
    return Buffer.from(any.encode(any.create({ type_url: typeUrl, value })).finish());
  }

  it('finds zero violations in every shape the builders produce', async () => {
    const shapes = builtShapes();
    const items: ValidateItem[] = shapes.map(([source, kind, object]) => ({ source, any: encoder.encodeAny(kind, object) }));
    const results = await runEnvoyValidate(items, { binary: tools.envoyValidate });
    expect(allViolations(results)).toEqual([]);
    // The checker really decoded each resource as the type it claims.
    expect(results.map((r) => [r.source, r.typeUrl, r.name])).toEqual(
      shapes.map(([source, kind, object]) => [source, TYPE_URLS[kind], (object as { name?: string; cluster_name?: string }).name ?? (object as { cluster_name: string }).cluster_name]),
    );
  });

  // Negative controls: each must be caught, each by the rule it breaks.
  const locality = { region: 'r1', zone: 'z1' };
  const endpointAt = (port: number) => ({ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } });
  const hcm = (extra: Record<string, unknown>) => ({
    name: 'echo',
    api_listener: {
      api_listener: {
        '@type': HTTP_CONNECTION_MANAGER_TYPE,
        stat_prefix: 'echo',
        rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: 'echo' },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } }],
        ...extra,
      },
    },
  });
  const negatives: [string, ResourceKind, Record<string, unknown>, RegExp][] = [
    ['cluster with connect_timeout 0', 'cluster', { ...buildCluster('echo'), connect_timeout: { seconds: 0, nanos: 0 } }, /ConnectTimeout: value must be greater than 0s/],
    ['cluster with an empty name', 'cluster', { ...buildCluster('echo'), name: '' }, /Name: value length must be at least 1/],
    [
      'health check without an interval',
      'cluster',
      {
        ...buildCluster('echo', {}, 'HTTP/1.1', { healthCheck: { tcp: true } }),
        health_checks: [{ timeout: { seconds: 1 }, unhealthy_threshold: { value: 1 }, healthy_threshold: { value: 1 }, tcp_health_check: {} }],
      },
      /HealthChecks\[0\]\.Interval: value is required/,
    ],
    [
      'health check without a checker',
      'cluster',
      { ...buildCluster('echo'), health_checks: [{ timeout: { seconds: 1 }, interval: { seconds: 1 }, unhealthy_threshold: { value: 1 }, healthy_threshold: { value: 1 } }] },
      /HealthChecks\[0\]\.HealthChecker: value is required/,
    ],
    [
      'HttpProtocolOptions (inside the cluster map Any) with max_concurrent_streams 0',
      'cluster',
      {
        ...buildCluster('echo'),
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: { max_concurrent_streams: { value: 0 } } },
          },
        },
      },
      /\(HttpProtocolOptions\): ExplicitHttpConfig\.Http2ProtocolOptions\.MaxConcurrentStreams: value must be inside range/,
    ],
    [
      'endpoint port 70000',
      'endpoint',
      { cluster_name: 'echo', endpoints: [{ locality, load_balancing_weight: { value: 1 }, lb_endpoints: [endpointAt(70000)] }] },
      /Endpoints\[0\]\.LbEndpoints\[0\].*PortValue: value must be less than or equal to 65535/,
    ],
    [
      'health check port 70000 on an endpoint',
      'endpoint',
      {
        cluster_name: 'echo',
        endpoints: [
          {
            locality,
            load_balancing_weight: { value: 1 },
            lb_endpoints: [{ endpoint: { ...endpointAt(8080).endpoint, health_check_config: { port_value: 70000 } } }],
          },
        ],
      },
      /Endpoints\[0\]\.LbEndpoints\[0\].*HealthCheckConfig\.PortValue: value must be less than or equal to 65535/,
    ],
    [
      'locality weight 0',
      'endpoint',
      { cluster_name: 'echo', endpoints: [{ locality, load_balancing_weight: { value: 0 }, lb_endpoints: [endpointAt(8080)] }] },
      /Endpoints\[0\]\.LoadBalancingWeight.*value must be greater than or equal to 1/,
    ],
    [
      'priority above the allowed maximum',
      'endpoint',
      { cluster_name: 'echo', endpoints: [{ locality, priority: 200, load_balancing_weight: { value: 1 }, lb_endpoints: [endpointAt(8080)] }] },
      /Endpoints\[0\]\.Priority: value must be less than or equal to 128/,
    ],
    [
      'HttpConnectionManager (inside the listener Any) with empty stat_prefix',
      'listener',
      hcm({ stat_prefix: '' }),
      /api_listener\.api_listener\(HttpConnectionManager\): StatPrefix: value length must be at least 1/,
    ],
    [
      'Router (an Any inside the HttpConnectionManager Any) with a nameless upstream filter',
      'listener',
      hcm({ http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE, upstream_http_filters: [{ name: '' }] } }] }),
      /\(HttpConnectionManager\)\.http_filters\[0\]\.typed_config\(Router\): UpstreamHttpFilters\[0\]\.Name: value length must be at least 1/,
    ],
    [
      'route with an empty virtual host domain list',
      'route',
      { name: 'echo', virtual_hosts: [{ name: 'echo', domains: [], routes: [] }] },
      /VirtualHosts\[0\]\.Domains: value must contain at least 1 item/,
    ],
    [
      'route with a retry back-off of base interval 0 and weighted clusters of none',
      'route',
      {
        name: 'echo',
        virtual_hosts: [
          {
            name: 'echo',
            domains: ['*'],
            routes: [
              { match: { prefix: '' }, route: { weighted_clusters: { clusters: [] }, retry_policy: { retry_on: '5xx', retry_back_off: { base_interval: { seconds: 0, nanos: 0 } } } } },
            ],
          },
        ],
      },
      /WeightedClusters\.Clusters: value must contain at least 1 item[\s\S]*BaseInterval: value must be greater than 0s|BaseInterval: value must be greater than 0s[\s\S]*WeightedClusters\.Clusters: value must contain at least 1 item/,
    ],
  ];

  it.each(negatives)('reports a violation for %s', async (source, kind, object, expected) => {
    const [result] = await runEnvoyValidate([{ source, any: byHand(kind, object) }], { binary: tools.envoyValidate });
    expect(result!.source).toBe(source);
    expect(result!.typeUrl).toBe(TYPE_URLS[kind]);
    expect(result!.violations.join('\n')).toMatch(expected);
  });

  it('reports undecodable input as violations and keeps going', async () => {
    const any = root.lookupType('google.protobuf.Any');
    const unknownType = Buffer.from(any.encode(any.create({ type_url: 'type.googleapis.com/herald.NoSuchType', value: Buffer.alloc(0) })).finish());
    const results = await runEnvoyValidate(
      [
        { source: 'garbage', any: Buffer.from([0xff, 0xff, 0xff, 0xff]) },
        { source: 'unknown type', any: unknownType },
        { source: 'fine', any: encoder.encodeAny('cluster', buildCluster('echo')) },
      ],
      { binary: tools.envoyValidate },
    );
    expect(results.map((r) => r.source)).toEqual(['garbage', 'unknown type', 'fine']);
    expect(results[0]!.violations.join()).toMatch(/^decode: not a google\.protobuf\.Any/);
    expect(results[1]!.violations.join()).toMatch(/decode: cannot unpack "type\.googleapis\.com\/herald\.NoSuchType"/);
    expect(results[2]!.violations).toEqual([]);
  });

  it('validates any registered message given as JSON, the Anys inside it included', async () => {
    const sds = (secret: Record<string, unknown>) => ({
      resources: [{ '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 'ca', ...secret }],
    });
    const type = 'envoy.service.discovery.v3.DiscoveryResponse';
    const results = await runEnvoyValidate(
      [
        { source: 'good SDS file', type, message: sds({ validation_context: { trusted_ca: { filename: '/tls/ca.crt' }, watched_directory: { path: '/tls' } } }) },
        { source: 'bad SDS file', type, message: sds({ validation_context: { trusted_ca: { filename: '/tls/ca.crt' }, watched_directory: { path: '' } } }) },
        { source: 'misspelt field', type, message: { resourcez: [] } },
        { source: 'unknown type', type: 'herald.NoSuchType', message: {} },
      ],
      { binary: tools.envoyValidate },
    );
    expect(results[0]).toEqual({ source: 'good SDS file', typeUrl: `type.googleapis.com/${type}`, name: '', violations: [] });
    expect(results[1]!.violations).toEqual(['resources[0](Secret): ValidationContext.WatchedDirectory.Path: value length must be at least 1 runes']);
    expect(results[2]!.violations.join()).toMatch(/^decode: not a envoy\.service\.discovery\.v3\.DiscoveryResponse/);
    expect(results[3]!.violations.join()).toMatch(/^decode: unknown message type "herald\.NoSuchType"/);
  });

  it('validates bootstraps given as JSON, nested typed configs included', async () => {
    const bootstrap = (statPrefix: string) => ({
      node: { id: 'sidecar-1', cluster: 'echo', locality: { region: 'r1', zone: 'z1' } },
      dynamic_resources: {
        ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'herald_xds' } }] },
        cds_config: { ads: {}, resource_api_version: 'V3' },
      },
      static_resources: {
        listeners: [
          {
            name: 'egress',
            address: { socket_address: { address: '127.0.0.1', port_value: 15001 } },
            filter_chains: [
              {
                filters: [
                  {
                    name: 'envoy.filters.network.http_connection_manager',
                    typed_config: {
                      '@type': HTTP_CONNECTION_MANAGER_TYPE,
                      stat_prefix: statPrefix,
                      route_config: { name: 'egress' },
                      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } }],
                    },
                  },
                ],
              },
            ],
          },
        ],
        clusters: [
          {
            name: 'herald_xds',
            type: 'STRICT_DNS',
            connect_timeout: '1s',
            load_assignment: {
              cluster_name: 'herald_xds',
              endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'herald.herald.svc', port_value: 18000 } } } }] }],
            },
          },
        ],
      },
    });
    const results = await runEnvoyValidate(
      [
        { source: 'good bootstrap', bootstrap: bootstrap('egress') },
        { source: 'bad bootstrap', bootstrap: bootstrap('') },
        { source: 'misspelt bootstrap', bootstrap: { nodee: {} } },
      ],
      { binary: tools.envoyValidate },
    );
    expect(results[0]).toMatchObject({ source: 'good bootstrap', typeUrl: 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap', name: 'sidecar-1', violations: [] });
    expect(results[1]!.violations.join('\n')).toMatch(/static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\(HttpConnectionManager\): StatPrefix/);
    expect(results[2]!.violations.join()).toMatch(/^decode: not an envoy\.config\.bootstrap\.v3\.Bootstrap/);
  });
});
