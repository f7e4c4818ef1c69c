// csds: the ClientStatusDiscoveryService, which reports what every stream was sent and ACKed.
export { csdsService, type CsdsOptions, type CsdsService, csdsServiceDefinition } from './csds.js';
export { csdsLimits, type CsdsLimits, DEFAULT_CSDS_LIMITS } from './limits.js';
