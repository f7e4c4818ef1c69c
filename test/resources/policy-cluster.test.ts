import { beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import type { ServicePolicySpec, UpstreamProtocol } from '../../src/model/index.js';
import {
  buildCluster,
  buildEgressRouteConfiguration,
  buildLoadAssignment,
  buildRouteConfiguration,
  hashPolicyFor,
  HTTP_PROTOCOL_OPTIONS_KEY,
  HTTP_PROTOCOL_OPTIONS_TYPE,
  loadEnvoyProtos,
  ResourceEncoder,
  routeAction,
  TRANSLATORS,
} from '../../src/resources/index.js';
import { ep, svc } from './fixtures.js';
import { POLICY_SAMPLES } from './policy-samples.js';
import { validateMessage } from './pgv.js';

let root: protobuf.Root;
let encoder: ResourceEncoder;
beforeAll(() => {
  root = loadEnvoyProtos();
  encoder = new ResourceEncoder(root);
});

const RR = {
  typed_extension_config: {
    name: 'envoy.load_balancing_policies.round_robin',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin' },
  },
};
const wrr = (policies: object[]) => ({
  typed_extension_config: {
    name: 'envoy.load_balancing_policies.wrr_locality',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality', endpoint_picking_policy: { policies } },
  },
});

/** What a policy adds to the plain cluster: the fields that differ. */
function added(policy: ServicePolicySpec, protocol: UpstreamProtocol = 'HTTP/1.1'): Record<string, unknown> {
  const plain = buildCluster('cart.shop', {}, protocol) as unknown as Record<string, unknown>;
  const withPolicy = buildCluster('cart.shop', {}, protocol, policy) as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.entries(withPolicy).filter(([key, value]) => JSON.stringify(plain[key]) !== JSON.stringify(value)));
}

describe('buildCluster with a ServicePolicy', () => {
  it.each<[string, ServicePolicySpec, Record<string, unknown>]>([
    ['an empty policy', {}, {}],
    ['explicit RoundRobin alone: lb_policy already says it', { loadBalancing: { policy: 'RoundRobin' } }, {}],
    ['connect timeout', { connection: { connectTimeoutMs: 1500 } }, { connect_timeout: { seconds: 1, nanos: 500_000_000 } }],
    [
      'idle timeout on HTTP/1.1: explicit HTTP/1.1 beside the common options',
      { connection: { idleTimeoutMs: 60_000, maxRequestsPerConnection: 10 } },
      {
        typed_extension_protocol_options: {
          [HTTP_PROTOCOL_OPTIONS_KEY]: {
            '@type': HTTP_PROTOCOL_OPTIONS_TYPE,
            common_http_protocol_options: { idle_timeout: { seconds: 60, nanos: 0 }, max_requests_per_connection: { value: 10 } },
            explicit_http_config: { http_protocol_options: {} },
          },
        },
      },
    ],
    ['panic threshold', { loadBalancing: { panicThresholdPercent: 0 } }, { common_lb_config: { update_merge_window: { seconds: 0, nanos: 0 }, healthy_panic_threshold: { value: 0 } } }],
    [
      'least request: inside wrr_locality for gRPC, then alone, round robin last',
      { loadBalancing: { policy: 'LeastRequest' } },
      {
        load_balancing_policy: {
          policies: [
            wrr([
              {
                typed_extension_config: {
                  name: 'envoy.load_balancing_policies.least_request',
                  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest' },
                },
              },
              RR,
            ]),
            {
              typed_extension_config: {
                name: 'envoy.load_balancing_policies.least_request',
                typed_config: { '@type': 'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest' },
              },
            },
            RR,
          ],
        },
      },
    ],
    [
      'ring hash: first and alone (one ring over every locality), then the wrr_locality fallback, round robin last',
      { loadBalancing: { policy: 'RingHash', hashHeader: 'x-user' } },
      {
        load_balancing_policy: {
          policies: [
            {
              typed_extension_config: {
                name: 'envoy.load_balancing_policies.ring_hash',
                typed_config: { '@type': 'type.googleapis.com/envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash', hash_function: 'XX_HASH' },
              },
            },
            wrr([RR]),
            RR,
          ],
        },
      },
    ],
    [
      'round robin with slow start: the round robin entry carries it',
      { loadBalancing: { slowStartWindowMs: 2000 } },
      {
        load_balancing_policy: {
          policies: [
            wrr([
              {
                typed_extension_config: {
                  ...RR.typed_extension_config,
                  typed_config: { ...RR.typed_extension_config.typed_config, slow_start_config: { slow_start_window: { seconds: 2, nanos: 0 } } },
                },
              },
            ]),
            {
              typed_extension_config: {
                ...RR.typed_extension_config,
                typed_config: { ...RR.typed_extension_config.typed_config, slow_start_config: { slow_start_window: { seconds: 2, nanos: 0 } } },
              },
            },
          ],
        },
      },
    ],
    [
      'circuit breakers',
      { circuitBreakers: { maxRequests: 5, maxRetries: 0, perHostMaxConnections: 2 } },
      {
        circuit_breakers: {
          thresholds: [{ priority: 'DEFAULT', max_requests: { value: 5 }, max_retries: { value: 0 } }],
          per_host_thresholds: [{ priority: 'DEFAULT', max_connections: { value: 2 } }],
        },
      },
    ],
    [
      'a retry budget with both fields',
      { circuitBreakers: { maxRequests: 5, retryBudgetPercent: 25, retryBudgetMinConcurrency: 0 } },
      {
        circuit_breakers: {
          thresholds: [{ priority: 'DEFAULT', max_requests: { value: 5 }, retry_budget: { budget_percent: { value: 25 }, min_retry_concurrency: { value: 0 } } }],
        },
      },
    ],
    [
      "a retry budget's percent alone: Envoy's minimum concurrency applies",
      { circuitBreakers: { retryBudgetPercent: 0 } },
      { circuit_breakers: { thresholds: [{ priority: 'DEFAULT', retry_budget: { budget_percent: { value: 0 } } }] } },
    ],
    [
      "a retry budget's minimum concurrency alone",
      { circuitBreakers: { retryBudgetMinConcurrency: 7 } },
      { circuit_breakers: { thresholds: [{ priority: 'DEFAULT', retry_budget: { min_retry_concurrency: { value: 7 } } }] } },
    ],
    [
      'outlier detection on gateway errors only: the default 5xx and success-rate detectors are off',
      { outlierDetection: { consecutiveGatewayErrors: 3, baseEjectionTimeMs: 30_000 } },
      {
        outlier_detection: {
          enforcing_consecutive_5xx: { value: 0 },
          consecutive_gateway_failure: { value: 3 },
          enforcing_consecutive_gateway_failure: { value: 100 },
          enforcing_success_rate: { value: 0 },
          base_ejection_time: { seconds: 30, nanos: 0 },
        },
      },
    ],
    [
      'outlier detection on 5xx',
      { outlierDetection: { consecutive5xx: 4, intervalMs: 250, maxEjectionPercent: 20 } },
      { outlier_detection: { consecutive_5xx: { value: 4 }, enforcing_success_rate: { value: 0 }, interval: { seconds: 0, nanos: 250_000_000 }, max_ejection_percent: { value: 20 } } },
    ],
    [
      'success rate: enforced at 100, unset fields at their defaults (grpc-js needs all three), the default 5xx detector off, failure percentage left off',
      { outlierDetection: { successRateStdevFactor: 1500, successRateRequestVolume: 10 } },
      {
        outlier_detection: {
          enforcing_consecutive_5xx: { value: 0 },
          enforcing_success_rate: { value: 100 },
          success_rate_minimum_hosts: { value: 5 },
          success_rate_request_volume: { value: 10 },
          success_rate_stdev_factor: { value: 1500 },
        },
      },
    ],
    [
      'failure percentage: enforced at 100, the unset volume at its default, success rate off',
      { outlierDetection: { failurePercentageThreshold: 0, failurePercentageMinimumHosts: 2 } },
      {
        outlier_detection: {
          enforcing_consecutive_5xx: { value: 0 },
          enforcing_success_rate: { value: 0 },
          enforcing_failure_percentage: { value: 100 },
          failure_percentage_threshold: { value: 0 },
          failure_percentage_minimum_hosts: { value: 2 },
          failure_percentage_request_volume: { value: 50 },
        },
      },
    ],
  ])('%s', (_name, policy, want) => {
    expect(added(policy)).toEqual(want);
  });

  const hcBase = { timeout: { seconds: 1, nanos: 0 }, interval: { seconds: 10, nanos: 0 }, unhealthy_threshold: { value: 3 }, healthy_threshold: { value: 2 } };
  const withFirstHc = { update_merge_window: { seconds: 0, nanos: 0 }, ignore_new_hosts_until_first_hc: true };
  it.each<[string, ServicePolicySpec, UpstreamProtocol, Record<string, unknown>]>([
    ['HTTP path, defaults for the rest', { healthCheck: { httpPath: '/healthz' } }, 'HTTP/1.1', { ...hcBase, http_health_check: { path: '/healthz' } }],
    [
      'HTTP path on an HTTP/2 service: the check speaks HTTP/2 too',
      { healthCheck: { httpPath: '/healthz', intervalMs: 2500, timeoutMs: 250, healthyThreshold: 1, unhealthyThreshold: 5 } },
      'HTTP/2',
      {
        timeout: { seconds: 0, nanos: 250_000_000 },
        interval: { seconds: 2, nanos: 500_000_000 },
        unhealthy_threshold: { value: 5 },
        healthy_threshold: { value: 1 },
        http_health_check: { path: '/healthz', codec_client_type: 'HTTP2' },
      },
    ],
    ['gRPC service', { healthCheck: { grpcServiceName: 'cart.v1.Cart' } }, 'HTTP/2', { ...hcBase, grpc_health_check: { service_name: 'cart.v1.Cart' } }],
    ['TCP connect', { healthCheck: { tcp: true } }, 'HTTP/1.1', { ...hcBase, tcp_health_check: {} }],
  ])('health check, %s: always with ignore_new_hosts_until_first_hc and ignore_health_on_host_removal', (_name, policy, protocol, check) => {
    const got = added(policy, protocol);
    expect(got.health_checks).toEqual([check]);
    expect(got.common_lb_config).toEqual(withFirstHc);
    expect(got.ignore_health_on_host_removal).toBe(true);
  });

  it("a policy's health check replaces the one of Herald's options", () => {
    const cluster = buildCluster('cart.shop', { healthCheck: { path: '/old', intervalMs: 1000, timeoutMs: 100, unhealthyThreshold: 1, healthyThreshold: 1 } }, 'HTTP/1.1', {
      healthCheck: { tcp: true },
    });
    expect(cluster.health_checks).toEqual([{ ...hcBase, tcp_health_check: {} }]);
  });

  it('the health check port goes on every endpoint of the assignment, and nothing without it', () => {
    const service = svc('cart.shop', [ep('a', '10.0.0.1'), ep('b', '10.0.0.2', 'DRAINING', 'z2')]);
    const ports = (assignment: ReturnType<typeof buildLoadAssignment>) => assignment.endpoints.flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.health_check_config ?? null));
    expect(ports(buildLoadAssignment(service, { healthCheckPort: 9090 }))).toEqual([{ port_value: 9090 }, { port_value: 9090 }]);
    expect(ports(buildLoadAssignment(service))).toEqual([null, null]);
    const translated = TRANSLATORS.endpoint.build(service, { clusterOptions: {}, localCluster: undefined }, { healthCheck: { tcp: true, port: 8081 } }, new Set());
    expect(ports(translated as ReturnType<typeof buildLoadAssignment>)).toEqual([{ port_value: 8081 }, { port_value: 8081 }]);
  });

  it('HTTP/2 with connection options: one HttpProtocolOptions carries HTTP/2 and the common options', () => {
    expect(added({ connection: { idleTimeoutMs: 5000 } }, 'HTTP/2')).toEqual({
      typed_extension_protocol_options: {
        [HTTP_PROTOCOL_OPTIONS_KEY]: {
          '@type': HTTP_PROTOCOL_OPTIONS_TYPE,
          common_http_protocol_options: { idle_timeout: { seconds: 5, nanos: 0 } },
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    });
  });

  it('an empty policy is the same bytes as no policy, for both protocols', () => {
    for (const protocol of ['HTTP/1.1', 'HTTP/2'] as const) {
      expect(encoder.encodeAny('cluster', buildCluster('cart.shop', {}, protocol, {})).equals(encoder.encodeAny('cluster', buildCluster('cart.shop', {}, protocol)))).toBe(true);
    }
  });

  it.each(POLICY_SAMPLES.flatMap(([name, policy]) => (['HTTP/1.1', 'HTTP/2'] as const).map((protocol) => [`${name}, ${protocol}`, policy, protocol] as const)))(
    '%s encodes and passes the protoc-gen-validate rules',
    (_name, policy, protocol) => {
      const any = encoder.encodeAny('cluster', buildCluster('cart.shop', {}, protocol, policy));
      const decoded = encoder.decodeAny(any);
      expect(decoded.name).toBe('cart.shop');
      const type = root.lookupType('envoy.config.cluster.v3.Cluster');
      const anyType = root.lookupType('google.protobuf.Any');
      const inner = type.decode((anyType.decode(any) as unknown as { value: Uint8Array }).value);
      expect(validateMessage(type, inner as unknown as Record<string, unknown>, type.name)).toEqual([]);
    },
  );
});

describe('routes with a ServicePolicy', () => {
  it('a RingHash policy puts its header in the hash policy of the proxyless route and of every egress virtual host', () => {
    const policy: ServicePolicySpec = { loadBalancing: { policy: 'RingHash', hashHeader: 'x-user' } };
    const hashed = { cluster: 'cart.shop', hash_policy: [{ header: { header_name: 'x-user' } }] };
    expect(hashPolicyFor(policy)).toEqual([{ header: { header_name: 'x-user' } }]);
    expect(buildRouteConfiguration('cart.shop', policy).virtual_hosts[0]!.routes[0]!.route).toEqual(hashed);
    const egress = buildEgressRouteConfiguration('r', ['cart.shop', 'ledger.pay'], 'cluster.local', (s) =>
      routeAction(s, undefined, new Set(), hashPolicyFor(s === 'cart.shop' ? policy : {})),
    );
    expect(egress.virtual_hosts.map((vh) => vh.routes[0]!.route)).toEqual([hashed, { cluster: 'ledger.pay' }]);
  });

  it.each<[string, ServicePolicySpec]>([
    ['no policy', {}],
    ['another balancer', { loadBalancing: { policy: 'LeastRequest' } }],
    ['a policy without loadBalancing', { circuitBreakers: { maxRequests: 1 } }],
  ])('%s: no hash policy, the route is the same bytes as without a policy', (_name, policy) => {
    expect(hashPolicyFor(policy)).toBeUndefined();
    expect(encoder.encodeAny('route', buildRouteConfiguration('cart.shop', policy)).equals(encoder.encodeAny('route', buildRouteConfiguration('cart.shop')))).toBe(true);
  });
});
