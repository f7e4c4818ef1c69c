// A ServicePolicy (servicepolicies.herald.io/v1alpha1) as the stages share it: the spec Herald
// validated, and the object a source observed before validation.

export const LB_POLICIES = ['RoundRobin', 'LeastRequest', 'Random'] as const;
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
}

export interface CircuitBreakersPolicy {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
  perHostMaxConnections?: number;
}

export interface OutlierDetectionPolicy {
  consecutive5xx?: number;
  consecutiveGatewayErrors?: number;
  intervalMs?: number;
  baseEjectionTimeMs?: number;
  maxEjectionPercent?: number;
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

/** A validated spec. A section or field left out changes nothing in what Herald emits. */
export interface ServicePolicySpec {
  connection?: ConnectionPolicy;
  loadBalancing?: LoadBalancingPolicy;
  circuitBreakers?: CircuitBreakersPolicy;
  outlierDetection?: OutlierDetectionPolicy;
  routes?: RoutesPolicy;
}

export const POLICY_SECTIONS = ['connection', 'loadBalancing', 'circuitBreakers', 'outlierDetection', 'routes'] as const;
export type PolicySection = (typeof POLICY_SECTIONS)[number];

/** One ServicePolicy object as a source saw it; `spec` is not validated yet. */
export interface PolicyObject {
  /** The kube cluster it was read from. */
  cluster: string;
  namespace: string;
  name: string;
  generation: number;
  spec: unknown;
}
