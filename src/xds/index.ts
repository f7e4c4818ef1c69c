export { XdsServer, type XdsServerOptions, type ClientInfo } from './server.js';
export { StreamState, type XdsRequest, type NodeInfo, type TypeInfo, type NackInfo, type PlannedResponse } from './stream-state.js';
export { encodeDiscoveryResponse, type ResponseParts } from './wire.js';
export { API_SPECS, type XdsApi } from './services.js';
export { DeltaState, type DeltaRequest, type PlannedDeltaResponse, type DeltaOutcome } from './delta-state.js';
export { encodeDeltaDiscoveryResponse, encodeResourceWrapper, type DeltaResponseParts } from './delta-wire.js';
export type { ResourceStatus, ClientResourceStatus, ConfigSyncStatus } from './resource-ledger.js';
export type { XdsProtocol } from './services.js';
