// Shapes shared by the SotW and Delta state machines and by clients() readers.
import type { ResourceKind } from '../../model/index.js';
import type { CachedResource } from '../../cache/index.js';

export interface NackInfo {
  /** The version the client says it still runs (its last accepted one). */
  version: string;
  /** The version of the response that was rejected. */
  rejectedVersion: string;
  message: string;
  atMs: number;
}

export interface Subscription {
  wildcard: boolean;
  names: ReadonlySet<string>;
  /** The client's scope (declared names and what they route to): its wildcard covers only these. Undefined: the whole mesh. */
  scope?: ReadonlySet<string> | undefined;
}

export interface TypeInfo {
  subscription: { wildcard: boolean; names: string[]; nameCount: number };
  /** The nonce is left out: shown on an admin page, it would let anyone answer for the client. */
  lastSent: { version: string; atMs: number } | undefined;
  ackedVersion: string | undefined;
  pending: boolean;
  dirty: boolean;
  /** behind: a response is unACKed or changes wait; nacked: the last answer was a NACK; else synced. */
  sync: 'synced' | 'behind' | 'nacked';
  lastNack: NackInfo | undefined;
  counts: { requests: number; responses: number; acks: number; nacks: number; staleNonces: number; unknownNonces: number };
}

export interface PlannedDeltaResponse {
  kind: ResourceKind;
  nonce: string;
  /** The kind's cache version, for debugging only: delta clients track per-resource versions. */
  systemVersion: string;
  resources: CachedResource[];
  removed: string[];
}

/** A resource of an ACKed response, as the drain tracker needs it. */
export interface AckedResource {
  readonly name: string;
  readonly seq: number;
}

export type DeltaOutcome =
  | { type: 'ignored'; reason: 'unknown_type_url' | 'type_not_served' }
  | {
      type: 'request';
      kind: ResourceKind;
      /** The nonce was not the pending one: any ACK/NACK part was ignored, subscriptions were not. */
      stale: boolean;
      /** Of a stale nonce: Herald never sent it on this stream (or too long ago to remember). */
      unknownNonce: boolean;
      acked: readonly AckedResource[] | undefined;
      nack: NackInfo | undefined;
      subscriptionChanged: boolean;
    };
