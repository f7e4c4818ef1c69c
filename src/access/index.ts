// access: who may read the admin pages and CSDS (loopback or a bearer token), and the Host check.
export { accessGuard, type AccessGuard, type AccessGuardOptions, type AccessRequest } from './guard.js';
export { bearerToken, decideAccess, isBearerToken, refusalMessage, type AccessDecision, type AccessInput, type RefusalReason } from './decide.js';
export { allowedHostSet, isAllowedHost } from './host.js';
export { addressOfPeer, isLoopbackAddress } from './peer.js';
export { TokenFile, tokenOf, type TokenFileOptions } from './token-file.js';
