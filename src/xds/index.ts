// The xDS server's public face: everything outside src/xds imports from here only.
export { XdsServer, type XdsServerOptions } from './server.js';
export type { ScopeExpansion } from './route-scopes.js';
export type { DependencySetListener, PerspectiveListener } from './declarations.js';
export type { HeldPerspective } from './bookkeeping/index.js';
export { DEFAULT_XDS_LIMITS, LIMIT_FLAGS, type XdsLimits } from './transport/index.js';
export { checkClientClaim, identityOf, subjectAltNames, type ClientIdentityPolicy, type IdentityRefusal, type PeerCertificateFields } from './transport/index.js';
export { type CsdsLimits, DEFAULT_CSDS_LIMITS } from './csds/index.js';
export type { ClientInfo, ObservedStream, SentResource, StreamObserver, XdsApi, XdsProtocol } from './transport/index.js';
export type { AckedResource, NackInfo, TypeInfo } from './protocol/index.js';
export type { NodeInfo } from './wire/index.js';
