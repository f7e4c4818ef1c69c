// transport: the grpc-js glue. Accepting sockets, one served stream per gRPC call, paced
// writes, and the service definitions of every xDS API Herald serves.
export type { ServerCall } from './grpcjs-call.js';
export { grpcJsVersion, TransportPaths } from './fast-path.js';
export { ConnectionTable } from './connections.js';
export { DEFAULT_XDS_LIMITS, LIMIT_FLAGS, withDefaultLimits, type XdsLimits } from './limits.js';
export { LogOnce } from './log-once.js';
export { listenSockets } from './accept-sockets.js';
export { ConnectionAdmission } from './admission.js';
export { API_SPECS, type ApiSpec, serviceDefinition, type XdsApi, type XdsProtocol } from './api-specs.js';
export { deltaAdapter } from './delta-adapter.js';
export { scopeObserver } from './scope-observer.js';
export { type RescopedStream, ScopeMembers } from './scope-members.js';
export { type ObservedStream, type SentResource, type StreamObserver, StreamObservers, envoyVersionObserver, streamMetricsObserver } from './observers.js';
export { ServedStream } from './served-stream.js';
export { checkClientClaim, identityOf, subjectAltNames, type ClientIdentityPolicy, type IdentityRefusal, type IdentityRefusalReason, type PeerCertificateFields } from './client-identity.js';
export type { ClientInfo, StreamContext } from './stream-contract.js';
export { sotwAdapter } from './sotw-adapter.js';
export { DEFAULT_WRITE_PACING, WritePacer, type WritePacerOptions } from './write-pacer.js';
