// Shapes shared by the SotW and Delta state machines and by clients() readers.
import type { ResourceKind } from '../model/index.js';
import type { CachedResource } from '../cache/index.js';

/** The parts of a DiscoveryRequest the protocol needs, decoded. */
export interface XdsRequest {
  versionInfo: string;
  node: NodeInfo | undefined;
  resourceNames: readonly string[];
  /**
   * The encoded resource_names fields (one contiguous run of the request's bytes), when the
   * decoder kept them: equal runs mean an equal list, so the subscription is unchanged. Unequal
   * runs say nothing (order may differ).
   */
  resourceNamesRun?: Buffer | undefined;
  typeUrl: string;
  responseNonce: string;
  errorDetail: { code: number; message: string } | undefined;
}

export interface NodeInfo {
  id: string;
  cluster: string;
  locality: { region: string; zone: string; subZone: string } | undefined;
  userAgent: string;
}

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
}

export interface TypeInfo {
  subscription: { wildcard: boolean; names: string[]; nameCount: number };
  lastSent: { version: string; nonce: string; atMs: number } | undefined;
  ackedVersion: string | undefined;
  pending: boolean;
  dirty: boolean;
  /** behind: a response is unACKed or changes wait; nacked: the last answer was a NACK; else synced. */
  sync: 'synced' | 'behind' | 'nacked';
  lastNack: NackInfo | undefined;
  counts: { requests: number; responses: number; acks: number; nacks: number; staleNonces: number };
}

/** The parts of a DeltaDiscoveryRequest the protocol needs, decoded. */
export interface DeltaRequest {
  node: NodeInfo | undefined;
  typeUrl: string;
  subscribe: readonly string[];
  unsubscribe: readonly string[];
  /** name → version the client already holds; honoured on the first request per type only. */
  initialVersions: Readonly<Record<string, string>>;
  responseNonce: string;
  errorDetail: { code: number; message: string } | undefined;
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
      acked: readonly AckedResource[] | undefined;
      nack: NackInfo | undefined;
      subscriptionChanged: boolean;
    };
