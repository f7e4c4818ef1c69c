// Pure: what a ServicePolicy's routes section makes of the route to a service. Envoy reads
// RouteAction.timeout; gRPC clients read max_stream_duration instead (gRFC A31), so a timeout
// sets both. A field left unset adds nothing: a service without the section keeps its bytes.
import type { RetriesPolicy, RoutesPolicy, ServicePolicySpec } from '../model/index.js';
import { durationFromMs } from './builders.js';
import type { RetryPolicyResource, RouteActionResource, RouteHashPolicy } from './types.js';

/**
 * The Herald service a split entry names: the service with that label value in the namespace of
 * `service` (the policy's own namespace), so a policy never reaches into another team's namespace.
 */
export function splitBackendName(service: string, label: string): string {
  const dot = service.lastIndexOf('.');
  return dot <= 0 ? label : `${label}${service.slice(dot)}`;
}

/** The services a service's split sends traffic to, as Herald names them (none without a split). */
export function routeBackends(service: string, spec: ServicePolicySpec): string[] {
  return (spec.routes?.split ?? []).map((entry) => splitBackendName(service, entry.service));
}

export interface LiveWeight {
  service: string;
  weight: number;
}

/**
 * The weights served: a backend without a HEALTHY endpoint (in any kube cluster) weighs 0 and is
 * left out, as is one configured at 0, so no client watches a cluster it cannot pick. If that
 * would leave nothing, the configured weights stand: every client rejects weighted clusters
 * that add up to 0, and with no backend healthy anywhere no choice is better than the one the
 * operator made (the first backend to become healthy then takes the traffic).
 */
export function liveWeights(service: string, routes: RoutesPolicy, healthy: ReadonlySet<string>): LiveWeight[] {
  const configured = (routes.split ?? []).filter((entry) => entry.weight > 0).map((entry) => ({ service: splitBackendName(service, entry.service), weight: entry.weight }));
  const live = configured.filter((entry) => healthy.has(entry.service));
  return live.length > 0 ? live : configured;
}

function retryPolicy(retries: RetriesPolicy): RetryPolicyResource {
  const out: RetryPolicyResource = { retry_on: retries.retryOn.join(',') };
  if (retries.attempts !== undefined) out.num_retries = { value: retries.attempts };
  if (retries.perTryTimeoutMs !== undefined) out.per_try_timeout = durationFromMs(retries.perTryTimeoutMs, 'perTryTimeoutMs');
  if (retries.backoff !== undefined) {
    const { baseIntervalMs, maxIntervalMs } = retries.backoff;
    out.retry_back_off = { base_interval: durationFromMs(baseIntervalMs, 'baseIntervalMs') };
    if (maxIntervalMs !== undefined) out.retry_back_off.max_interval = durationFromMs(maxIntervalMs, 'maxIntervalMs');
  }
  return out;
}

/**
 * The route action to a service; `healthy` holds the split backends with a HEALTHY endpoint,
 * `hashPolicy` the ring hash's header (hashPolicyFor).
 */
export function routeAction(service: string, routes: RoutesPolicy | undefined, healthy: ReadonlySet<string> = new Set(), hashPolicy?: RouteHashPolicy[]): RouteActionResource {
  if (routes === undefined) return hashPolicy === undefined ? { cluster: service } : { cluster: service, hash_policy: hashPolicy };
  const action: RouteActionResource =
    routes.split === undefined
      ? { cluster: service }
      : { weighted_clusters: { clusters: liveWeights(service, routes, healthy).map((w) => ({ name: w.service, weight: { value: w.weight } })) } };
  if (routes.timeoutMs !== undefined) {
    action.timeout = durationFromMs(routes.timeoutMs, 'timeoutMs');
    action.max_stream_duration = { max_stream_duration: durationFromMs(routes.timeoutMs, 'timeoutMs') };
  }
  if (routes.retries !== undefined) action.retry_policy = retryPolicy(routes.retries);
  if (hashPolicy !== undefined) action.hash_policy = hashPolicy;
  return action;
}
