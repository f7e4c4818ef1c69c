// A ServicePolicy (servicepolicies.herald.io/v1alpha1) as the stages share it: the spec Herald
// validated, and the object a source observed before validation.

export const LB_POLICIES = ['RoundRobin', 'LeastRequest', 'Random', 'RingHash'] as const;
export type LbPolicyName = (typeof LB_POLICIES)[number];

export interface ConnectionPolicy {
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxRequestsPerConnection?: number;
}

export interface LoadBalancingPolicy {
  policy?: LbPolicyName;
  panicThresholdPercent?: number;
  slowStartWindowMs?: number;
  /** RingHash only (and required there): the request header whose value picks the endpoint. */
  hashHeader?: string;
}

export interface CircuitBreakersPolicy {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
  /**
   * Retries allowed as a percentage of the requests in flight (Envoy's retry_budget), with at
   * least `retryBudgetMinConcurrency` concurrent retries. Envoy ignores max_retries once a
   * budget is set, so the rules refuse maxRetries next to either field.
   */
  retryBudgetPercent?: number;
  retryBudgetMinConcurrency?: number;
  perHostMaxConnections?: number;
}

export interface OutlierDetectionPolicy {
  consecutive5xx?: number;
  consecutiveGatewayErrors?: number;
  intervalMs?: number;
  baseEjectionTimeMs?: number;
  maxEjectionPercent?: number;
  /** Success-rate ejection (the one gRPC clients make too) is on when any of these three is set. */
  successRateMinimumHosts?: number;
  successRateRequestVolume?: number;
  /** In thousandths: 1900 ejects below mean − 1.9 standard deviations. */
  successRateStdevFactor?: number;
  /** Failure-percentage ejection is on when any of these three is set. */
  failurePercentageThreshold?: number;
  failurePercentageMinimumHosts?: number;
  failurePercentageRequestVolume?: number;
}

/** Active health checking by Envoy sidecars: exactly one of httpPath, grpcServiceName, tcp. */
export interface HealthCheckPolicy {
  httpPath?: string;
  /** The service name of a grpc.health.v1 check; empty asks about the whole server. */
  grpcServiceName?: string;
  tcp?: boolean;
  /** Checks go to this port instead of the endpoint's traffic port. */
  port?: number;
  /**
   * Checks go to each pod's container port of this name; a pod without one is checked on its
   * traffic port (and reported). Not with `port`.
   */
  portName?: string;
  intervalMs?: number;
  timeoutMs?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
}

/** Envoy's retry_on conditions for HTTP (x-envoy-retry-on); gRPC clients skip them. */
export const HTTP_RETRY_CONDITIONS = ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream'] as const;
/** gRPC status conditions (x-envoy-retry-grpc-on), the only ones gRPC clients act on (gRFC A44). */
export const GRPC_RETRY_CONDITIONS = ['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'] as const;
export const RETRY_CONDITIONS = [...HTTP_RETRY_CONDITIONS, ...GRPC_RETRY_CONDITIONS] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

export interface RetryBackoffPolicy {
  baseIntervalMs: number;
  maxIntervalMs?: number;
}

export interface RetriesPolicy {
  /** Retries after the first attempt (Envoy's num_retries). */
  attempts?: number;
  retryOn: RetryCondition[];
  perTryTimeoutMs?: number;
  backoff?: RetryBackoffPolicy;
}

/** One backend of a split: a service of the policy's own namespace, by its label value. */
export interface SplitBackend {
  service: string;
  weight: number;
}

export interface RoutesPolicy {
  timeoutMs?: number;
  retries?: RetriesPolicy;
  split?: SplitBackend[];
}

export const ZONE_PREFERENCES = ['PreferSameZone', 'None'] as const;
export type ZonePreference = (typeof ZONE_PREFERENCES)[number];
export const TERMINATING_FALLBACKS = ['Enabled', 'Disabled'] as const;
export type TerminatingFallback = (typeof TERMINATING_FALLBACKS)[number];
/** locality.terminatingFallback when unset: on, as kube-proxy serves Ready terminating endpoints when nothing else can. */
export const DEFAULT_TERMINATING_FALLBACK: TerminatingFallback = 'Enabled';
export const EVACUATE_MODES = ['LastPriority', 'Drain'] as const;
export type EvacuateMode = (typeof EVACUATE_MODES)[number];

export interface LocalityPolicy {
  /** PreferSameZone: each client gets its own zone of its own kube cluster as priority 0. */
  zone?: ZonePreference;
  /** HEALTHY endpoints the client's zone needs before it is a priority of its own. */
  zoneMinEndpoints?: number;
  /** Enabled (also when unset): a service with no HEALTHY endpoint is served its terminating-but-Ready ones; Disabled turns that off. */
  terminatingFallback?: TerminatingFallback;
  /**
   * Mesh defaults only: kube clusters (Herald's names) being evacuated. Their endpoints go below
   * every other cluster's for every client, whatever the service's own locality section says.
   */
  evacuate?: string[];
  /** LastPriority (unset): evacuated endpoints are the last priority. Drain: they are sent DRAINING while the service has a HEALTHY endpoint elsewhere. */
  evacuateMode?: EvacuateMode;
}

/** A validated spec. A section or field left out changes nothing in what Herald emits. */
export interface ServicePolicySpec {
  connection?: ConnectionPolicy;
  loadBalancing?: LoadBalancingPolicy;
  circuitBreakers?: CircuitBreakersPolicy;
  outlierDetection?: OutlierDetectionPolicy;
  healthCheck?: HealthCheckPolicy;
  routes?: RoutesPolicy;
  locality?: LocalityPolicy;
}

export const POLICY_SECTIONS = ['connection', 'loadBalancing', 'circuitBreakers', 'outlierDetection', 'healthCheck', 'routes', 'locality'] as const;
export type PolicySection = (typeof POLICY_SECTIONS)[number];

/** One ServicePolicy object as a source saw it; `spec` is not validated yet. */
export interface PolicyObject {
  /** The kube cluster it was read from. */
  cluster: string;
  namespace: string;
  name: string;
  generation: number;
  spec: unknown;
  /** The object's `Accepted` condition as last written (by any replica), when it has one. */
  accepted?: AcceptedCondition | undefined;
}

/**
 * The `Accepted` condition Herald writes to a ServicePolicy's status (with --policy-status), and
 * which replica wrote it.
 */
export interface AcceptedCondition {
  status: 'True' | 'False';
  /** `Valid` or `Invalid`. */
  reason: string;
  /** On rejection, every field path with what is wrong with it. */
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
  /** The replica that wrote it (status.acceptedBy.replica) and the kube cluster it runs in, if it knows. */
  writer: { replica: string; cluster?: string | undefined };
}

/**
 * The statistical ejections an outlierDetection section asks for: each is on when any of its
 * fields is set. These are the only ejections proxyless gRPC clients make (gRFC A50).
 */
export function statisticalEjections(od: OutlierDetectionPolicy): { successRate: boolean; failurePercentage: boolean } {
  return {
    successRate: od.successRateMinimumHosts !== undefined || od.successRateRequestVolume !== undefined || od.successRateStdevFactor !== undefined,
    failurePercentage: od.failurePercentageThreshold !== undefined || od.failurePercentageMinimumHosts !== undefined || od.failurePercentageRequestVolume !== undefined,
  };
}
