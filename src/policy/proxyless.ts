// Pure: which set fields of a policy proxyless gRPC clients do not act on. They accept the
// Cluster (nothing here makes them NACK) and go on as if the field were unset; Envoy applies
// all of them. The reasons follow the gRFCs the clients implement (A27 CDS, A32 circuit
// breaking, A50 outlier detection, A52 custom LB policies, A31 timeouts, A44 retries, A28
// weighted clusters); docs/XDS-CLIENTS.md lists the fields.
import { HTTP_RETRY_CONDITIONS, statisticalEjections, type RetriesPolicy, type ServicePolicySpec } from '../model/index.js';

export interface IgnoredField {
  /** As in the object, e.g. `spec.connection.idleTimeoutMs`. */
  field: string;
  why: string;
}

const REASONS: Readonly<Record<string, string>> = {
  'connection.connectTimeoutMs': 'gRPC uses its own connection timeout and backoff',
  'connection.idleTimeoutMs': 'gRPC does not read the upstream HTTP protocol options',
  'connection.maxRequestsPerConnection': 'gRPC does not read the upstream HTTP protocol options',
  'loadBalancing.panicThresholdPercent': 'gRPC has no panic mode',
  'loadBalancing.slowStartWindowMs': 'gRPC round robin and least request have no slow start',
  'circuitBreakers.maxConnections': 'gRPC applies max_requests only',
  'circuitBreakers.maxPendingRequests': 'gRPC applies max_requests only',
  'circuitBreakers.maxRetries': 'gRPC applies max_requests only',
  'circuitBreakers.perHostMaxConnections': 'gRPC applies max_requests only',
  'circuitBreakers.retryBudgetPercent': 'gRPC applies max_requests only',
  'circuitBreakers.retryBudgetMinConcurrency': 'gRPC applies max_requests only',
  'outlierDetection.consecutive5xx': 'gRPC ejects on success rate and failure percentage only',
  'outlierDetection.consecutiveGatewayErrors': 'gRPC ejects on success rate and failure percentage only',
};

/** Used by gRPC's success-rate and failure-percentage ejection, and ignored without either. */
const EJECTION_TIMING = new Set(['outlierDetection.intervalMs', 'outlierDetection.baseEjectionTimeMs', 'outlierDetection.maxEjectionPercent']);
const NO_GRPC_EJECTION = 'no ejection a gRPC client makes is set (consecutive errors are Envoy-only)';

/** Every healthCheck field: only Envoy runs Cluster.health_checks. */
const HEALTH_CHECK = 'gRPC clients do not run active health checks (Cluster.health_checks); they use EDS health only';

/** Balancers a gRPC client may lack: it then takes round_robin, the policy list's last entry. */
const LB_FALLBACK: Readonly<Record<string, string>> = {
  LeastRequest: 'gRPC clients that implement least request (gRFC A48) use it; the others (grpc-js and C-core among them) fall back to round robin',
  Random: 'no gRPC client has a random balancer; all fall back to round robin',
};

/**
 * Retries (gRFC A44): gRPC clients retry on gRPC status conditions only and have no per-try
 * timeout; attempts and back-off they honour (at most 4 retries).
 */
function ignoredRetries(retries: RetriesPolicy): IgnoredField[] {
  const out: IgnoredField[] = [];
  const http = retries.retryOn.filter((c) => (HTTP_RETRY_CONDITIONS as readonly string[]).includes(c));
  if (http.length === retries.retryOn.length) out.push({ field: 'spec.routes.retries', why: 'no condition in retryOn is a gRPC status, so gRPC clients never retry' });
  else if (http.length > 0) out.push({ field: 'spec.routes.retries.retryOn', why: `gRPC clients retry on gRPC status conditions only; they skip ${http.join(', ')}` });
  if (retries.perTryTimeoutMs !== undefined) out.push({ field: 'spec.routes.retries.perTryTimeoutMs', why: 'gRPC clients have no per-try timeout' });
  return out;
}

export function ignoredByProxyless(spec: ServicePolicySpec): IgnoredField[] {
  const out: IgnoredField[] = [];
  const od = spec.outlierDetection === undefined ? undefined : statisticalEjections(spec.outlierDetection);
  const grpcEjects = od !== undefined && (od.successRate || od.failurePercentage);
  for (const [section, fields] of Object.entries(spec) as [string, Record<string, unknown>][]) {
    for (const [field, value] of Object.entries(fields)) {
      const path = `${section}.${field}`;
      if (section === 'healthCheck') {
        out.push({ field: `spec.${path}`, why: HEALTH_CHECK });
        continue;
      }
      if (path === 'routes.retries') {
        out.push(...ignoredRetries(value as RetriesPolicy));
        continue;
      }
      const why = path === 'loadBalancing.policy' ? LB_FALLBACK[String(value)] : EJECTION_TIMING.has(path) ? (grpcEjects ? undefined : NO_GRPC_EJECTION) : REASONS[path];
      if (why !== undefined) out.push({ field: `spec.${path}`, why });
    }
  }
  return out;
}
