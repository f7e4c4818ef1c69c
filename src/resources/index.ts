// Public face of the resources stage: pure builders, the encoder and the proto loader.

export {
  buildCluster,
  buildListener,
  buildLoadAssignment,
  durationFromMs,
  localityWeight,
  HTTP_CONNECTION_MANAGER_TYPE,
  HTTP_PROTOCOL_OPTIONS_KEY,
  HTTP_PROTOCOL_OPTIONS_TYPE,
  ROUTER_FILTER_NAME,
  ROUTER_TYPE,
} from './builders.js';
export type { ClusterOptions, HealthCheckOptions } from './builders.js';
export {
  assignedEndpoints,
  assignmentKey,
  assignmentKeySpills,
  assignmentOptions,
  DEFAULT_ZONE_MIN_ENDPOINTS,
  evacuatedEndpoints,
  priorityOf,
  replicaAssignmentOptions,
  servedEndpoints,
  unresolvedHealthCheckPorts,
  type LoadAssignmentOptions,
} from './locality.js';
export { OVERPROVISIONING_PERCENT, priorityLoads, SPILL_WEIGHT_TOTAL, spillPlacement, type PriorityCounts, type SpillLocality, type SpillPlacement } from './failover.js';
export { ResourceEncoder, resourceName } from './encode.js';
export type { DecodedAny } from './encode.js';
export { loadEnvoyProtos } from './protos.js';
export { hashPolicyFor } from './policy-cluster.js';
export { buildEgressRouteConfiguration, buildRouteConfiguration, DEFAULT_CLUSTER_DOMAIN, egressDomains, serviceRoutes } from './routes.js';
export { liveWeights, routeAction, routeBackends, splitBackendName, type LiveWeight } from './policy-routes.js';
export { kindsReading, serviceProtocol, TRANSLATORS, type KindTranslator, type TranslationSettings, type TranslatorInput } from './translators.js';
export type * from './types.js';
