import * as grpc from '@grpc/grpc-js';
import type { Clock, ResourceKind } from '../../model/index.js';
import type { CachedResource, ResourceCache, ResourceView } from '../../cache/index.js';
import type { ObservedStream, StreamObservers } from './observers.js';
import type { TransportPaths } from './fast-path.js';
import type { HeraldMetrics, Logger } from '../../telemetry/index.js';
import type { AckedResource, NackInfo, Subscription, TypeInfo } from '../protocol/index.js';
import type { NodeInfo } from '../wire/index.js';
import type { ResourceStatus } from '../bookkeeping/index.js';
import { isUndecodable, type UndecodableRequest, type WithNodeMessage } from '../wire/index.js';
import type { ApiSpec, XdsApi, XdsProtocol } from './api-specs.js';
import type { SubscriptionIndex } from '../protocol/index.js';
import type { NameSetTable } from '../bookkeeping/index.js';
import type { NameSlotsByKind } from '../protocol/index.js';
import type { SharedResponses } from '../bookkeeping/index.js';
import type { PacedStream, WritePacer } from './write-pacer.js';
import type { ResponseTally } from '../bookkeeping/index.js';
import type { ResourceWrappers } from '../wire/index.js';
import { adoptMessageSplitter, callWriter, type CallWriter, type ServerCall } from './grpcjs-call.js';
import { GRPC_PREFIX_BYTES } from '../wire/index.js';
import { nodeBytes, type KeptNode, type KeptNodes } from '../bookkeeping/index.js';

export interface ClientInfo {
  id: string;
  api: XdsApi;
  protocol: XdsProtocol;
  peer: string;
  node: NodeInfo | undefined;
  connectedAtMs: number;
  types: Partial<Record<ResourceKind, TypeInfo>>;
}

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
  /** Orders large writes across streams so a reconnecting fleet does not flood memory and the event loop. */
  pacer: WritePacer;
  /** Clients' Nodes, their extension lists shared by every stream that sent the same one. */
  nodes: KeptNodes;
  /** SotW responses encoded once for every stream that is sent the same content. */
  responses: SharedResponses;
  /** Per-type response counts, summed and handed to the metrics once per turn: a drain writes to every stream. */
  responseTally: ResponseTally;
  wrappers: ResourceWrappers;
  /** Whether streams may use grpc-js internals (grpcjs-call.ts), and which paths they took. */
  paths: TransportPaths;
  controlPlaneId: string | undefined;
  clock: Clock;
  maxResponseBytes: number | undefined;
  maxListedNames: number;
  isReady(): boolean;
  /** Drops the stream from the server's table; called once, when it ends. */
  forget(stream: ServedStream): void;
}

/** The part of a planned response the stream itself reads; the encoder reads the rest. */
export interface PlannedSend {
  kind: ResourceKind;
  resources: readonly CachedResource[];
}

/** What a stream asks of its protocol machine (SotwState or DeltaState). */
export interface ProtocolMachine<Planned extends PlannedSend> {
  readonly node: NodeInfo | undefined;
  markDirty(kind: ResourceKind, names: Iterable<string>): boolean;
  subscription(kind: ResourceKind): Subscription | undefined;
  flush(view: ResourceView): Planned[];
  info(maxNames: number): Partial<Record<ResourceKind, TypeInfo>>;
  resourceStatuses(view: ResourceView): Iterable<ResourceStatus>;
  dispose(): void;
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
  | { type: 'stale'; kind: ResourceKind }
  /** `stale`: the nonce was stale, so any ACK/NACK part was void (Delta still applies subscriptions). */
  | { type: 'accepted'; outcome: AcceptedRequest; stale: boolean };

/** What differs between SotW and Delta for a stream: its machine, how a request reaches it, how a response is encoded. */
export interface ProtocolAdapter<Planned extends PlannedSend = PlannedSend> {
  readonly state: ProtocolMachine<Planned>;
  handle(request: object): HandledRequest;
  /** Serializes one planned response into the protocol's response message, gRPC prefix included. */
  encode(response: Planned): Buffer;
}

/**
 * One open xDS stream over gRPC: call wiring, failure handling, drain bookkeeping and clean-up,
 * the same for SotW and Delta; the protocol adapter holds what differs.
 */
export class ServedStream implements PacedStream, ObservedStream {
  readonly api: XdsApi;
  readonly protocol: XdsProtocol;
  readonly connectedAtMs: number;
  peer = 'unknown';
  closed = false;
  /** The first Node the client sent, with every field it set, kept encoded (for CSDS). */
  private keptNode: KeptNode | undefined;
  private warnedIgnored = false;
  private readonly writer: CallWriter;

  constructor(
    private readonly ctx: StreamContext,
    readonly id: string,
    spec: ApiSpec,
    private readonly call: ServerCall,
    private readonly adapter: ProtocolAdapter,
  ) {
    this.api = spec.api;
    this.protocol = spec.protocol;
    this.connectedAtMs = ctx.clock();
    const fastPath = ctx.paths.enabled;
    this.writer = callWriter(call, { direct: fastPath });
    const splitter = fastPath && adoptMessageSplitter(call);
    ctx.paths.record(this.writer.direct ? 'direct' : 'grpc-js', splitter ? 'splitter' : 'grpc-js');
    try {
      this.peer = call.getPeer();
    } catch {
      // Peer is only for display.
    }
  }

  private get state(): ProtocolMachine<PlannedSend> {
    return this.adapter.state;
  }

  get node(): NodeInfo | undefined {
    return this.state.node;
  }

  /** Notes changed resources; true when this stream cares and should be flushed. */
  markDirty(kind: ResourceKind, names: Iterable<string>): boolean {
    return this.state.markDirty(kind, names);
  }

  /** Writes whatever is due now; a no-op before readiness. */
  flush(): void {
    if (!this.ctx.isReady() || this.closed) return;
    for (const response of this.state.flush(this.ctx.cache)) {
      if (!this.write(response.kind, this.adapter.encode(response))) return;
      this.ctx.observers.sent(this, response.kind, response.resources);
    }
  }

  info(): ClientInfo {
    return {
      id: this.id,
      api: this.api,
      protocol: this.protocol,
      peer: this.peer,
      node: this.state.node,
      connectedAtMs: this.connectedAtMs,
      types: this.state.info(this.ctx.maxListedNames),
    };
  }

  /** The client's first Node as it encoded it; undefined before it sent one. */
  nodeBytes(): Uint8Array | undefined {
    return this.keptNode && nodeBytes(this.keptNode);
  }

  resourceStatuses(): Iterable<ResourceStatus> {
    return this.state.resourceStatuses(this.ctx.cache);
  }

  /** Acts on a request the protocol accepted: drain ACKs, NACK reporting, subscription index, then sends what is due. */
  private accepted(outcome: AcceptedRequest): void {
    const { kind, acked, nack } = outcome;
    if (acked || nack) this.ctx.observers.answered(this, kind, acked, nack);
    if (nack) this.nacked(kind, nack.rejectedVersion, nack.message);
    if (outcome.subscriptionChanged) {
      const subscription = this.state.subscription(kind);
      if (subscription) this.ctx.index.update(this.id, kind, subscription);
    }
    this.flush();
  }

  start(): void {
    const call = this.call;
    this.ctx.observers.opened(this);
    this.ctx.logger.debug({ stream: this.id, api: this.api, peer: this.peer }, 'xDS stream opened');
    call.on('data', (request: object) => {
      if (this.closed) return;
      try {
        this.receive(request);
      } catch (err) {
        this.ctx.logger.error({ err, stream: this.id }, 'xDS request handling failed; ending stream');
        this.fail(grpc.status.INTERNAL, 'control plane failed to handle the request');
      }
    });
    call.on('end', () => {
      // The client half-closed: a stream with no more requests is done.
      this.release();
      this.end();
    });
    call.on('cancelled', () => this.release());
    call.on('error', () => this.release());
    call.on('close', () => this.release());
  }

  private receive(request: object): void {
    if (isUndecodable(request)) {
      const what = this.protocol === 'delta' ? 'DeltaDiscoveryRequest' : 'DiscoveryRequest';
      this.ctx.metrics.xdsRejectedRequests.inc({ reason: 'undecodable' });
      this.ctx.logger.warn({ stream: this.id, peer: this.peer, error: (request as UndecodableRequest).undecodable }, `undecodable ${what}; ending stream`);
      this.fail(grpc.status.INVALID_ARGUMENT, `undecodable ${what}: ${(request as UndecodableRequest).undecodable}`);
      return;
    }
    const node = (request as WithNodeMessage).nodeBytes;
    if (this.keptNode === undefined && node !== undefined) this.keptNode = this.ctx.nodes.keep(node);
    const handled = this.adapter.handle(request);
    switch (handled.type) {
      case 'ignored':
        this.ignored(handled.reason, handled.typeUrl);
        return;
      case 'stale':
        this.ctx.metrics.xdsStaleNonces.inc({ type: handled.kind });
        return;
      case 'accepted':
        if (handled.stale) this.ctx.metrics.xdsStaleNonces.inc({ type: handled.outcome.kind });
        this.accepted(handled.outcome);
    }
  }

  private ignored(reason: string, typeUrl: string): void {
    this.ctx.metrics.xdsRejectedRequests.inc({ reason });
    if (this.warnedIgnored) return;
    this.warnedIgnored = true;
    this.ctx.logger.warn({ stream: this.id, api: this.api, typeUrl: typeUrl.slice(0, 200), reason }, 'ignoring xDS request for a type not served');
  }

  private nacked(kind: ResourceKind, rejectedVersion: string, message: string): void {
    this.ctx.logger.warn({ stream: this.id, api: this.api, node: this.node?.id, type: kind, rejectedVersion, message: message.slice(0, 1000) }, 'xDS NACK');
  }

  /** Queues one response with the server's pacer; false (and the stream released) when the call is gone. */
  private write(kind: ResourceKind, bytes: Buffer): boolean {
    if (!this.ctx.pacer.submit(this, bytes)) return false;
    this.ctx.responseTally.add(kind, bytes.length - GRPC_PREFIX_BYTES);
    return true;
  }

  /** For the pacer: hands framed bytes to the call; false (and the stream released) when the call is gone. */
  writeNow(bytes: Buffer, done: () => void): boolean {
    if (this.closed) return false;
    try {
      this.writer.write(bytes, done);
      return true;
    } catch (err) {
      this.ctx.logger.warn({ err, stream: this.id }, 'xDS write failed; ending stream');
      this.release();
      return false;
    }
  }

  /** Drain bookkeeping runs inside other stages' calls: a bug there must not end streams. */
  private guard(what: string, action: () => void): void {
    try {
      action();
    } catch (err) {
      this.ctx.logger.error({ err, what }, 'xDS internal error');
    }
  }

  end(): void {
    try {
      this.call.end();
    } catch {
      // Already ended.
    }
  }

  /** Ends the stream with UNAVAILABLE, which tells Envoy to reconnect (to another replica) at once. */
  endUnavailable(details: string): void {
    this.fail(grpc.status.UNAVAILABLE, details);
  }

  private fail(code: grpc.status, details: string): void {
    this.release();
    try {
      this.call.emit('error', { code, details });
    } catch {
      // The call is already finished.
    }
  }

  /** Forgets the stream; idempotent, called from every way a stream can end. */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.forget(this);
    this.ctx.index.remove(this.id);
    this.guard('state.dispose', () => this.state.dispose());
    if (this.keptNode) this.ctx.nodes.release(this.keptNode);
    this.ctx.pacer.streamGone(this);
    this.ctx.observers.closed(this);
    this.ctx.logger.debug({ stream: this.id, api: this.api, node: this.node?.id }, 'xDS stream closed');
  }
}
