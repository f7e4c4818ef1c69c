import { decideAccess, type AccessDecision } from './decide.js';
import { isLoopbackAddress } from './peer.js';

export interface AccessRequest {
  /** The caller's IP address (no port), or undefined when unknown. */
  peerAddress: string | undefined;
  authorization: string | undefined;
}

/** Decides whether a caller may read the debug pages, the UI or CSDS. */
export interface AccessGuard {
  check(request: AccessRequest): AccessDecision;
}

export interface AccessGuardOptions {
  /** The token in effect now (see TokenFile); absent = only loopback callers are trusted. */
  token?: () => string | undefined;
  /** Which peers count as local; injectable so tests on a loopback-only machine can play a remote caller. */
  isLoopback?: (address: string | undefined) => boolean;
}

export function accessGuard(options: AccessGuardOptions = {}): AccessGuard {
  const isLoopback = options.isLoopback ?? isLoopbackAddress;
  return {
    check: (request) => decideAccess({ loopbackPeer: isLoopback(request.peerAddress), authorization: request.authorization, token: options.token?.() }),
  };
}
