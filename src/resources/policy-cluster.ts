// Pure: what a ServicePolicy adds to a service's Cluster. Every field maps to one Envoy field;
// a field left unset adds nothing, so a service without a policy keeps its bytes.
import {
  statisticalEjections,
  type CircuitBreakersPolicy,
  type HealthCheckPolicy,
  type LbPolicyName,
  type LoadBalancingPolicy,
  type OutlierDetectionPolicy,
  type ServicePolicySpec,
  type UpstreamProtocol,
} from '../model/index.js';
import type {
  AnyOf,
  CircuitBreakersResource,
  RetryBudgetResource,
  ClusterResource,
  Duration,
  HealthCheckResource,
  LoadBalancingPolicyEntry,
  OutlierDetectionResource,
  RouteHashPolicy,
} from './types.js';

export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const HTTP_PROTOCOL_OPTIONS_TYPE = `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS_KEY}`;

const LB_TYPES: Readonly<Record<LbPolicyName | 'WrrLocality', { name: string; type: string }>> = {
  RoundRobin: { name: 'envoy.load_balancing_policies.round_robin', type: 'envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin' },
  LeastRequest: { name: 'envoy.load_balancing_policies.least_request', type: 'envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest' },
  Random: { name: 'envoy.load_balancing_policies.random', type: 'envoy.extensions.load_balancing_policies.random.v3.Random' },
  RingHash: { name: 'envoy.load_balancing_policies.ring_hash', type: 'envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash' },
  WrrLocality: { name: 'envoy.load_balancing_policies.wrr_locality', type: 'envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality' },
};

function ms(value: number): Duration {
  return { seconds: Math.floor(value / 1000), nanos: (value % 1000) * 1_000_000 };
}

function entry(policy: LbPolicyName | 'WrrLocality', config: Record<string, unknown> = {}): LoadBalancingPolicyEntry {
  const { name, type } = LB_TYPES[policy];
  return { typed_extension_config: { name, typed_config: { '@type': `type.googleapis.com/${type}`, ...config } } };
}

/**
 * The balancer list, or undefined when plain round robin (lb_policy) already says it. A client
 * takes the first entry it supports (gRFC A52; Envoy does the same), and every client supports
 * round_robin, so it comes last: a client without the chosen balancer falls back instead of
 * NACKing. gRPC clients get the list inside wrr_locality first, which keeps the per-locality
 * weights they honour under lb_policy ROUND_ROBIN; Envoy has no wrr_locality and skips it.
 * A ring hash is the exception: it places every endpoint of every locality on one ring (gRFC
 * A42), so it comes first, alone, and the wrr_locality list is the fallback.
 */
export function loadBalancingPolicies(lb: LoadBalancingPolicy): { policies: LoadBalancingPolicyEntry[] } | undefined {
  const policy = lb.policy ?? 'RoundRobin';
  if (policy === 'RoundRobin' && lb.slowStartWindowMs === undefined) return undefined;
  if (policy === 'RingHash') {
    // XX_HASH said outright: grpc-go and grpc-js NACK DEFAULT_HASH, which Envoy reads as XX_HASH.
    const ringHash = entry('RingHash', { hash_function: 'XX_HASH' });
    return { policies: [ringHash, entry('WrrLocality', { endpoint_picking_policy: { policies: [entry('RoundRobin')] } }), entry('RoundRobin')] };
  }
  const slowStart = lb.slowStartWindowMs === undefined ? {} : { slow_start_config: { slow_start_window: ms(lb.slowStartWindowMs) } };
  const chosen = entry(policy, policy === 'Random' ? {} : slowStart);
  const picking = policy === 'RoundRobin' ? [chosen] : [chosen, entry('RoundRobin')];
  return { policies: [entry('WrrLocality', { endpoint_picking_policy: { policies: picking } }), ...picking] };
}

/** What a route to a service carries for its policy's balancer: the ring hash's header, if any. */
export function hashPolicyFor(spec: ServicePolicySpec): RouteHashPolicy[] | undefined {
  const header = spec.loadBalancing?.policy === 'RingHash' ? spec.loadBalancing.hashHeader : undefined;
  return header === undefined ? undefined : [{ header: { header_name: header } }];
}

function u32(value: number | undefined): { value: number } | undefined {
  return value === undefined ? undefined : { value };
}

/** Only the fields that are set: `undefined` values are dropped so they cannot reach the encoder. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/** Either field sets a budget; Envoy takes its own default (20 %, 3) for the one left out. */
function retryBudget(cb: CircuitBreakersPolicy): RetryBudgetResource | undefined {
  if (cb.retryBudgetPercent === undefined && cb.retryBudgetMinConcurrency === undefined) return undefined;
  return defined({ budget_percent: cb.retryBudgetPercent === undefined ? undefined : { value: cb.retryBudgetPercent }, min_retry_concurrency: u32(cb.retryBudgetMinConcurrency) });
}

export function circuitBreakers(cb: CircuitBreakersPolicy): CircuitBreakersResource | undefined {
  const threshold = defined({
    max_connections: u32(cb.maxConnections),
    max_pending_requests: u32(cb.maxPendingRequests),
    max_requests: u32(cb.maxRequests),
    max_retries: u32(cb.maxRetries),
    retry_budget: retryBudget(cb),
  });
  const out: CircuitBreakersResource = {};
  if (Object.keys(threshold).length > 0) out.thresholds = [{ priority: 'DEFAULT', ...threshold }];
  if (cb.perHostMaxConnections !== undefined) out.per_host_thresholds = [{ priority: 'DEFAULT', max_connections: { value: cb.perHostMaxConnections } }];
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Envoy's defaults for the statistical ejections (gRFC A50 takes the same). Sent explicitly with
 * an ejection that is on: grpc-js (1.14) lays the fields it receives over its defaults, an unset
 * one included, and with the minimum hosts or request volume left undefined its success-rate
 * sweep throws in a timer and ends the client's process.
 */
const SUCCESS_RATE_DEFAULTS = { minimumHosts: 5, requestVolume: 100, stdevFactor: 1900 };
const FAILURE_PERCENTAGE_DEFAULTS = { threshold: 85, minimumHosts: 5, requestVolume: 50 };

/**
 * Only the ejections the policy asks for. Envoy's consecutive-5xx and success-rate detectors
 * enforce by default (and gRPC clients run success rate unless its enforcement is 0), so both
 * are switched off unless set; gateway-error and failure-percentage ejection are off by default
 * and get enforcement 100 when set. gRPC clients act on the last two kinds only and NACK a
 * percentage above 100, which the rules' bounds rule out.
 */
export function outlierDetection(od: OutlierDetectionPolicy): OutlierDetectionResource {
  const { successRate, failurePercentage } = statisticalEjections(od);
  const sr = SUCCESS_RATE_DEFAULTS;
  const fp = FAILURE_PERCENTAGE_DEFAULTS;
  return defined({
    consecutive_5xx: u32(od.consecutive5xx),
    enforcing_consecutive_5xx: od.consecutive5xx === undefined ? { value: 0 } : undefined,
    consecutive_gateway_failure: u32(od.consecutiveGatewayErrors),
    enforcing_consecutive_gateway_failure: od.consecutiveGatewayErrors === undefined ? undefined : { value: 100 },
    enforcing_success_rate: { value: successRate ? 100 : 0 },
    success_rate_minimum_hosts: successRate ? { value: od.successRateMinimumHosts ?? sr.minimumHosts } : undefined,
    success_rate_request_volume: successRate ? { value: od.successRateRequestVolume ?? sr.requestVolume } : undefined,
    success_rate_stdev_factor: successRate ? { value: od.successRateStdevFactor ?? sr.stdevFactor } : undefined,
    enforcing_failure_percentage: failurePercentage ? { value: 100 } : undefined,
    failure_percentage_threshold: failurePercentage ? { value: od.failurePercentageThreshold ?? fp.threshold } : undefined,
    failure_percentage_minimum_hosts: failurePercentage ? { value: od.failurePercentageMinimumHosts ?? fp.minimumHosts } : undefined,
    failure_percentage_request_volume: failurePercentage ? { value: od.failurePercentageRequestVolume ?? fp.requestVolume } : undefined,
    interval: od.intervalMs === undefined ? undefined : ms(od.intervalMs),
    base_ejection_time: od.baseEjectionTimeMs === undefined ? undefined : ms(od.baseEjectionTimeMs),
    max_ejection_percent: u32(od.maxEjectionPercent),
  });
}

/**
 * The upstream HTTP options: HTTP/2 services need explicit HTTP/2, a policy's idle timeout and
 * requests per connection go in the common options of the same message. HttpProtocolOptions
 * requires a protocol choice, so an HTTP/1.1 service with connection options says HTTP/1.1
 * explicitly, which is what Envoy did without it.
 */
export function httpProtocolOptions(protocol: UpstreamProtocol, spec: ServicePolicySpec): AnyOf | undefined {
  const connection = spec.connection ?? {};
  const common = defined({
    idle_timeout: connection.idleTimeoutMs === undefined ? undefined : ms(connection.idleTimeoutMs),
    max_requests_per_connection: u32(connection.maxRequestsPerConnection),
  });
  const hasCommon = Object.keys(common).length > 0;
  if (protocol === 'HTTP/1.1' && !hasCommon) return undefined;
  return {
    '@type': HTTP_PROTOCOL_OPTIONS_TYPE,
    ...(hasCommon ? { common_http_protocol_options: common } : {}),
    explicit_http_config: protocol === 'HTTP/2' ? { http2_protocol_options: {} } : { http_protocol_options: {} },
  };
}

/** What a healthCheck section leaves out: Envoy requires each, and has no default for any. */
export const HEALTH_CHECK_DEFAULTS = { intervalMs: 10_000, timeoutMs: 1_000, healthyThreshold: 2, unhealthyThreshold: 3 };

/**
 * The Envoy health check of a healthCheck section (validated: exactly one checker). An HTTP
 * check speaks HTTP/1.1 unless told otherwise, which an HTTP/2-only (h2c, gRPC) server does not
 * answer, so an HTTP/2 service's check says HTTP2; gRPC checks are always HTTP/2.
 */
export function healthCheck(hc: HealthCheckPolicy, protocol: UpstreamProtocol): HealthCheckResource {
  const d = HEALTH_CHECK_DEFAULTS;
  const out: HealthCheckResource = {
    timeout: ms(hc.timeoutMs ?? d.timeoutMs),
    interval: ms(hc.intervalMs ?? d.intervalMs),
    unhealthy_threshold: { value: hc.unhealthyThreshold ?? d.unhealthyThreshold },
    healthy_threshold: { value: hc.healthyThreshold ?? d.healthyThreshold },
  };
  if (hc.httpPath !== undefined) out.http_health_check = { path: hc.httpPath, ...(protocol === 'HTTP/2' ? { codec_client_type: 'HTTP2' as const } : {}) };
  else if (hc.grpcServiceName !== undefined) out.grpc_health_check = { service_name: hc.grpcServiceName };
  else out.tcp_health_check = {};
  return out;
}

/** The cluster with the policy's fields set (a new object; `cluster` is not changed). */
export function withPolicy(cluster: ClusterResource, spec: ServicePolicySpec, protocol: UpstreamProtocol = 'HTTP/1.1'): ClusterResource {
  const out: ClusterResource = { ...cluster, common_lb_config: { ...cluster.common_lb_config } };
  if (spec.connection?.connectTimeoutMs !== undefined) out.connect_timeout = ms(spec.connection.connectTimeoutMs);
  const lb = spec.loadBalancing;
  if (lb !== undefined) {
    if (lb.panicThresholdPercent !== undefined) out.common_lb_config.healthy_panic_threshold = { value: lb.panicThresholdPercent };
    const policies = loadBalancingPolicies(lb);
    if (policies !== undefined) out.load_balancing_policy = policies;
  }
  const breakers = spec.circuitBreakers === undefined ? undefined : circuitBreakers(spec.circuitBreakers);
  if (breakers !== undefined) out.circuit_breakers = breakers;
  if (spec.outlierDetection !== undefined) out.outlier_detection = outlierDetection(spec.outlierDetection);
  if (spec.healthCheck !== undefined) {
    out.health_checks = [healthCheck(spec.healthCheck, protocol)];
    // New hosts stay out of the balancer until checked, so a large scale-up cannot tip the
    // cluster into panic routing; a host removed from EDS goes at once instead of lingering
    // while it still passes checks.
    out.common_lb_config.ignore_new_hosts_until_first_hc = true;
    out.ignore_health_on_host_removal = true;
  }
  return out;
}
