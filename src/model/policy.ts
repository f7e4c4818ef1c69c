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

/** A validated spec. A section or field left out changes nothing in what Herald emits. */
export interface ServicePolicySpec {
  connection?: ConnectionPolicy;
  loadBalancing?: LoadBalancingPolicy;
  circuitBreakers?: CircuitBreakersPolicy;
  outlierDetection?: OutlierDetectionPolicy;
}

export const POLICY_SECTIONS = ['connection', 'loadBalancing', 'circuitBreakers', 'outlierDetection'] as const;
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
