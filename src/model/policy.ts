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

export const ZONE_PREFERENCES = ['PreferSameZone', 'None'] as const;
export type ZonePreference = (typeof ZONE_PREFERENCES)[number];
export const TERMINATING_FALLBACKS = ['Enabled', 'Disabled'] as const;
export type TerminatingFallback = (typeof TERMINATING_FALLBACKS)[number];

export interface LocalityPolicy {
  /** PreferSameZone: each client gets its own zone of its own kube cluster as priority 0. */
  zone?: ZonePreference;
  /** HEALTHY endpoints the client's zone needs before it is a priority of its own. */
  zoneMinEndpoints?: number;
  /** Enabled: a service with no HEALTHY endpoint is served its terminating-but-Ready ones (off when unset). */
  terminatingFallback?: TerminatingFallback;
}

/** A validated spec. A section or field left out changes nothing in what Herald emits. */
export interface ServicePolicySpec {
  connection?: ConnectionPolicy;
  loadBalancing?: LoadBalancingPolicy;
  circuitBreakers?: CircuitBreakersPolicy;
  outlierDetection?: OutlierDetectionPolicy;
  locality?: LocalityPolicy;
}

export const POLICY_SECTIONS = ['connection', 'loadBalancing', 'circuitBreakers', 'outlierDetection', 'locality'] as const;
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
