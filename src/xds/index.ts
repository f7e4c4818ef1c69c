export { XdsServer, type XdsServerOptions, type ClientInfo } from './server.js';
export { StreamState, type XdsRequest, type NodeInfo, type TypeInfo, type NackInfo, type PlannedResponse } from './stream-state.js';
export { encodeDiscoveryResponse, type ResponseParts } from './wire.js';
export { API_SPECS, type XdsApi } from './services.js';
