import { createHash, timingSafeEqual } from 'node:crypto';

/** Why a caller was refused; the `reason` label of the refusal metrics. */
export type RefusalReason = 'no_credentials' | 'malformed_credentials' | 'bad_token';

export type AccessDecision = { allowed: true; via: 'loopback' | 'token' } | { allowed: false; reason: RefusalReason };

export interface AccessInput {
  /** The caller connected from a loopback address (see isLoopbackAddress). */
  loopbackPeer: boolean;
  /** The Authorization header (HTTP) or `authorization` metadata (gRPC), as sent. */
  authorization: string | undefined;
  /** The token callers must present; undefined when no --admin-token-file is configured. */
  token: string | undefined;
}

/**
 * Who may read what Herald knows about other clients (debug pages, the UI, CSDS): a caller on
 * loopback, or one presenting the configured bearer token. Anything else is refused; a
 * missing or unreadable credential and a wrong one are told apart so HTTP can answer 401 and
 * 403 (gRPC UNAUTHENTICATED and PERMISSION_DENIED) as the protocols intend.
 */
export function decideAccess(input: AccessInput): AccessDecision {
  if (input.loopbackPeer) return { allowed: true, via: 'loopback' };
  if (input.authorization === undefined || input.authorization.trim() === '') return { allowed: false, reason: 'no_credentials' };
  const presented = bearerToken(input.authorization);
  if (presented === undefined) return { allowed: false, reason: 'malformed_credentials' };
  if (input.token === undefined || !sameSecret(presented, input.token)) return { allowed: false, reason: 'bad_token' };
  return { allowed: true, via: 'token' };
}

/** RFC 6750's b64token: what an `authorization: Bearer` header can carry. */
const B64TOKEN = '[A-Za-z0-9\\-._~+/]+=*';
const BEARER_HEADER = new RegExp(`^\\s*bearer +(${B64TOKEN})\\s*$`, 'i');
const TOKEN_ONLY = new RegExp(`^${B64TOKEN}$`);

/** The token of `Bearer <token>` (scheme case-insensitive), else undefined. */
export function bearerToken(authorization: string): string | undefined {
  const match = BEARER_HEADER.exec(authorization);
  return match?.[1];
}

/** Whether a configured token could ever be presented in a Bearer header. */
export function isBearerToken(token: string): boolean {
  return TOKEN_ONLY.test(token);
}

/**
 * Compares in time independent of where the strings differ: both sides are hashed first, so
 * neither their contents nor (beyond the hash's cost) their lengths leak through timing.
 */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** What a refused caller is told (HTTP body or gRPC details): how to get in, never the token. */
export function refusalMessage(reason: RefusalReason): string {
  switch (reason) {
    case 'no_credentials':
      return "credentials required: connect through a loopback address (kubectl port-forward) or send 'authorization: Bearer <token>' with the token of --admin-token-file";
    case 'malformed_credentials':
      return "the authorization is not of the form 'Bearer <token>'";
    case 'bad_token':
      return 'the bearer token is not the one this Herald accepts';
  }
}
