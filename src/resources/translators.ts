// One translator per resource kind: what it reads (its declared inputs) and the pure function
// that builds the resource of one service. The pipeline rebuilds a kind whenever one of its
// inputs changes; adding a kind adds a row here and its descriptor in model/kinds.ts.
import type { ResourceKind, ServiceEndpoints, ServicePolicySpec, UpstreamProtocol } from '../model/index.js';
import { buildCluster, buildListener, buildLoadAssignment, type ClusterOptions } from './builders.js';
import { buildRouteConfiguration } from './routes.js';

/**
 * What a resource is built from. `endpoints`: the service's endpoints in the store;
 * `protocol`: the service's upstream protocol in the store (ServiceEndpoints.protocol), which
 * changes far less often than its endpoints; `settings`: Herald's own configuration (cluster
 * options, the local kube cluster); `policy`: the service's effective ServicePolicy but its
 * routes section; `routes`: that section; `backends`: which of the services its split names
 * have a HEALTHY endpoint (that flips far less often than any endpoint changes).
 */
export type TranslatorInput = 'endpoints' | 'protocol' | 'settings' | 'policy' | 'routes' | 'backends';

export interface TranslationSettings {
  clusterOptions: ClusterOptions;
  /** The kube cluster whose endpoints get priority 0 (the others priority 1). */
  localCluster: string | undefined;
}

export interface KindTranslator {
  readonly kind: ResourceKind;
  readonly inputs: ReadonlySet<TranslatorInput>;
  /** `healthy`: the split backends (routeBackends) with a HEALTHY endpoint. */
  build(service: ServiceEndpoints, settings: TranslationSettings, policy: ServicePolicySpec, healthy: ReadonlySet<string>): object;
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
    inputs: new Set(['endpoints', 'settings', 'policy']),
    build: (svc, settings, policy) =>
      buildLoadAssignment(svc, {
        ...(settings.localCluster === undefined ? {} : { localCluster: settings.localCluster }),
        ...(policy.healthCheck?.port === undefined ? {} : { healthCheckPort: policy.healthCheck.port }),
      }),
  },
  listener: { kind: 'listener', inputs: new Set(['settings']), build: (svc) => buildListener(svc.service) },
  route: { kind: 'route', inputs: new Set(['settings', 'policy', 'routes', 'backends']), build: (svc, _settings, policy, healthy) => buildRouteConfiguration(svc.service, policy, healthy) },
};

/** The kinds to rebuild when `changed` inputs moved, in ADS push order. */
export function kindsReading(changed: ReadonlySet<TranslatorInput>, order: readonly ResourceKind[]): ResourceKind[] {
  return order.filter((kind) => [...TRANSLATORS[kind].inputs].some((input) => changed.has(input)));
}
