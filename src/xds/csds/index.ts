// csds: the ClientStatusDiscoveryService, which reports what every stream was sent and ACKed.
export { csdsService, type CsdsService, csdsServiceDefinition } from './csds.js';
