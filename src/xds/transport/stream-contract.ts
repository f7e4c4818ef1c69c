// The contract between a served stream, the server that creates it and the per-protocol
// adapters: what every stream shares with the server, and what SotW and Delta each supply.
import type { Clock, EnvoySupport, Perspective, ResourceKind } from '../../model/index.js';
import type { CachedResource, ResourceCache, ResourceView } from '../../cache/index.js';
import type { HeraldMetrics, Logger } from '../../telemetry/index.js';
import type { AckedResource, NackInfo, NameSlotsByKind, NonceSource, Subscription, SubscriptionIndex, TypeInfo } from '../protocol/index.js';
import type { HeldPerspective, NameSetTable, PerspectiveInfo, PerspectiveTable, ResourceStatus, ResponseTally, Scope, ScopeTable, SharedResponses, KeptNodes } from '../bookkeeping/index.js';
import type { NodeInfo, ResourceWrappers } from '../wire/index.js';
import type { XdsApi, XdsProtocol } from './api-specs.js';
import type { ConnectionTable } from './connections.js';
import type { TransportPaths } from './fast-path.js';
import type { Framed } from './framed.js';
import type { XdsLimits } from './limits.js';
import type { ClientIdentityPolicy } from './client-identity.js';
import type { LogOnce } from './log-once.js';
import type { StreamObservers } from './observers.js';
import type { WritePacer } from './write-pacer.js';

export interface ClientInfo {
  id: string;
  api: XdsApi;
  protocol: XdsProtocol;
  peer: string;
  node: NodeInfo | undefined;
  /** For an Envoy client: whether its version keeps DRAINING hosts out of panic/spillover arithmetic. */
  envoySupport?: EnvoySupport;
  connectedAtMs: number;
  /** What the client's wildcard subscriptions cover: the services it declared it calls, or the whole mesh. */
  scope: ScopeInfo;
  /** Where it declared it stands (kube cluster, zone, whether it ignores overprovisioning) and which view it reads. */
  perspective: PerspectiveInfo;
  types: Partial<Record<ResourceKind, TypeInfo>>;
}

export type ScopeInfo =
  | { declared: false }
  | {
      declared: true;
      /** How many services it declared, and the first of them (sorted). */
      count: number;
      names: string[];
      /** Declared services Herald serves no cluster for (yet), and the first of them. */
      unknownCount: number;
      unknown: string[];
      /** Services the scope covers because a declared one routes to them (split backends), and the first of them. */
      viaRoutesCount: number;
      viaRoutes: string[];
    };

/** What every stream shares with the server; passed in, never global. */
export interface StreamContext {
  cache: ResourceCache;
  /** Told of every stream's opening, sends, ACK/NACKs and closing. */
  observers: StreamObservers;
  metrics: HeraldMetrics;
  logger: Logger;
  index: SubscriptionIndex;
  /** Resource name → slot per kind, shared by every stream's per-resource records. */
  nameSlots: NameSlotsByKind;
  /** Resource version → slot per kind, for every stream's CSDS records. */
  versionSlots: NameSlotsByKind;
  /** Interned SotW subscription lists, shared by every stream. */
  nameSets: NameSetTable;
  /** Interned declared dependency lists, shared by every stream. */
  scopes: ScopeTable;
  /** Interned declared perspectives, shared by every stream: which cache variants a stream reads. */
  perspectives: PerspectiveTable;
  /** Orders large writes across streams so a reconnecting fleet does not flood memory and the event loop. */
  pacer: WritePacer;
  /** Clients' Nodes, their extension lists shared by every stream that sent the same one. */
  nodes: KeptNodes;
  /** SotW responses encoded once for every stream that is sent the same content. */
  responses: SharedResponses;
  /** Per-type response counts, summed and handed to the metrics once per turn: a drain writes to every stream. */
  responseTally: ResponseTally;
  wrappers: ResourceWrappers;
  limits: XdsLimits;
  /** Which clients were already logged about for crossing a limit or claiming a node their certificate does not allow. */
  limitLog: LogOnce;
  /** Set when client certificates are required: each stream's node must be one its certificate allows. */
  clientIdentity: ClientIdentityPolicy | undefined;
  /** Counts streams per connection, for the idle and handshake timeouts. */
  connections: ConnectionTable;
  /** Response nonces for every stream. */
  nonces: NonceSource;
  /** Whether streams may use grpc-js internals (grpcjs-call.ts), and which paths they took. */
  paths: TransportPaths;
  controlPlaneId: string | undefined;
  clock: Clock;
  maxResponseBytes: number | undefined;
  maxListedNames: number;
  isReady(): boolean;
  /** Drops the stream from the server's table; called once, when it ends. */
  forget(stream: { readonly id: string }): void;
}

/** The part of a planned response the stream itself reads; the encoder reads the rest. */
export interface PlannedSend {
  kind: ResourceKind;
  resources: readonly CachedResource[];
}

/** What a stream asks of its protocol machine (SotwState or DeltaState). */
export interface ProtocolMachine<Planned extends PlannedSend> {
  readonly node: NodeInfo | undefined;
  /** The services the client declared it calls; undefined when it declared none. */
  readonly scope: Scope | undefined;
  /** Where the client declared it stands: the cache variants it reads. */
  readonly perspective: HeldPerspective;
  /** What its first Node declared, held or refused. */
  readonly declaredPerspective: Perspective;
  markDirty(kind: ResourceKind, names: Iterable<string>): boolean;
  subscription(kind: ResourceKind): Subscription | undefined;
  flush(view: ResourceView): Planned[];
  info(maxNames: number): Partial<Record<ResourceKind, TypeInfo>>;
  resourceStatuses(view: ResourceView): Iterable<ResourceStatus>;
  dispose(): void;
  /** Resource names subscribed, summed over types. */
  nameCount(): number;
  /** The shared scope gained and lost names through routes; whether a response is due. */
  scopeChanged(added: readonly string[], removed: readonly string[]): boolean;
}

/** The parts of a request outcome that are the same in both protocols. */
export interface AcceptedRequest {
  kind: ResourceKind;
  acked: readonly AckedResource[] | undefined;
  nack: NackInfo | undefined;
  subscriptionChanged: boolean;
}

/** What one request came to, in the terms the stream acts on. */
export type HandledRequest =
  | { type: 'ignored'; reason: string; typeUrl: string }
  /** A SotW request with a stale nonce: nothing else happens. */
  | { type: 'stale'; kind: ResourceKind; unknownNonce: boolean }
  /** `stale`: the nonce was stale, so any ACK/NACK part was void (Delta still applies subscriptions). */
  | { type: 'accepted'; outcome: AcceptedRequest; stale: boolean; unknownNonce: boolean };

/** What differs between SotW and Delta for a stream: its machine, how a request reaches it, how a response is encoded. */
export interface ProtocolAdapter<Planned extends PlannedSend = PlannedSend> {
  readonly state: ProtocolMachine<Planned>;
  handle(request: object): HandledRequest;
  /** How many names the request itself lists (resource_names, or Delta's subscribe) when more than `limit`; else undefined. */
  namesOver(request: object, limit: number): number | undefined;
  /** Serializes one planned response into the protocol's response message, gRPC prefix included. */
  encode(response: Planned): Framed;
}
