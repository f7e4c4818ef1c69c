export { EndpointStore, type StoredPod } from './store.js';
export type { EndpointStoreOptions, DirtyServicesListener, StoreStats, ClusterStats, HealthCounts, StoreSkipReason } from './types.js';
export { endpointForPod, isTerminalPhase, type EndpointDecision, type SkipReason, type HealthOptions } from './health.js';
export { pickIpOwner, type IpClaim } from './ip-owner.js';
export { compareEndpoints, sameServiceEndpoints } from './service-view.js';
