// One translator per resource kind: what it reads (its declared inputs) and the pure function
// that builds the resource of one service. The pipeline rebuilds a kind whenever one of its
// inputs changes; adding a kind adds a row here and its descriptor in model/kinds.ts.
import { DEFAULT_PERSPECTIVE, type Perspective, type ResourceKind, type ServiceEndpoints, type ServicePolicySpec, type UpstreamProtocol } from '../model/index.js';
import { buildCluster, buildListener, buildLoadAssignment, type ClusterOptions } from './builders.js';
import { assignmentKey, assignmentOptions, servedEndpoints } from './locality.js';
import { buildRouteConfiguration } from './routes.js';

/**
 * What a resource is built from. `endpoints`: the service's endpoints in the store;
 * `protocol`: the service's upstream protocol in the store (ServiceEndpoints.protocol), which
 * changes far less often than its endpoints; `settings`: Herald's own configuration (cluster
 * options, the local kube cluster); `policy`: the service's effective ServicePolicy but its
 * routes section; `routes`: that section; `backends`: which of the services its split names
 * have a HEALTHY endpoint (that flips far less often than any endpoint changes); `locality`:
 * the locality section alone, which the assignment reads.
 */
export type TranslatorInput = 'endpoints' | 'protocol' | 'settings' | 'policy' | 'routes' | 'backends' | 'locality';

export interface TranslationSettings {
  clusterOptions: ClusterOptions;
  /** The kube cluster whose endpoints get priority 0 (the others priority 1) for a client that declares none of its own. */
  localCluster: string | undefined;
}

export interface KindTranslator {
  readonly kind: ResourceKind;
  readonly inputs: ReadonlySet<TranslatorInput>;
  /**
   * The resource as a client of `perspective` sees it (the default perspective: the replica's own
   * view); `healthy`: the split backends (routeBackends) with a HEALTHY endpoint.
   */
  build(service: ServiceEndpoints, settings: TranslationSettings, policy: ServicePolicySpec, healthy: ReadonlySet<string>, perspective?: Perspective): object;
  /**
   * Only for kinds whose resource differs by perspective: a key such that two perspectives with
   * equal keys get equal resources, so the pipeline builds and encodes one per key.
   */
  variantKey?(service: ServiceEndpoints, settings: TranslationSettings, policy: ServicePolicySpec, perspective: Perspective): string;
}

/** The protocol the pipeline compares to decide whether `protocol` readers need a rebuild. */
export function serviceProtocol(service: ServiceEndpoints): UpstreamProtocol {
  return service.protocol?.protocol ?? 'HTTP/1.1';
}

/** Keyed by kind, so a kind without a translator does not compile. */
export const TRANSLATORS: Readonly<Record<ResourceKind, KindTranslator>> = {
  cluster: {
    kind: 'cluster',
    inputs: new Set(['protocol', 'settings', 'policy']),
    build: (svc, settings, policy) => buildCluster(svc.service, settings.clusterOptions, serviceProtocol(svc), policy),
  },
  endpoint: {
    kind: 'endpoint',
    inputs: new Set(['endpoints', 'settings', 'policy', 'locality']),
    build: (svc, settings, policy, _healthy, perspective = DEFAULT_PERSPECTIVE) => buildLoadAssignment(svc, assignmentOptions(perspective, settings.localCluster, policy)),
    variantKey: (svc, settings, policy, perspective) => {
      const options = assignmentOptions(perspective, settings.localCluster, policy);
      return assignmentKey(servedEndpoints(svc.endpoints, options.terminatingFallback === true).endpoints, options);
    },
  },
  listener: { kind: 'listener', inputs: new Set(['settings']), build: (svc) => buildListener(svc.service) },
  route: { kind: 'route', inputs: new Set(['settings', 'policy', 'routes', 'backends']), build: (svc, _settings, policy, healthy) => buildRouteConfiguration(svc.service, policy, healthy) },
};

/** The kinds to rebuild when `changed` inputs moved, in ADS push order. */
export function kindsReading(changed: ReadonlySet<TranslatorInput>, order: readonly ResourceKind[]): ResourceKind[] {
  return order.filter((kind) => [...TRANSLATORS[kind].inputs].some((input) => changed.has(input)));
}
