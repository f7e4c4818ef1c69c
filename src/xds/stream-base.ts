import * as grpc from '@grpc/grpc-js';
import type { Clock, ResourceKind } from '../model/index.js';
import type { CachedResource, DrainTracker, ResourceCache, ResourceView } from '../cache/index.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import type { AckedResource, NackInfo, NodeInfo, Subscription, TypeInfo } from './types.js';
import type { ResourceStatus } from './resource-ledger.js';
import { isUndecodable, type ApiSpec, type UndecodableRequest, type WithNodeMessage, type XdsApi, type XdsProtocol } from './services.js';
import type { SubscriptionIndex } from './subscriptions.js';
import type { NameSetTable } from './name-sets.js';
import type { NameSlotsByKind } from './protocol-state-base.js';
import type { SharedResponses } from './shared-responses.js';
import type { PacedStream, WritePacer } from './write-pacer.js';
import type { ResponseTally } from './response-tally.js';
import type { ResourceWrappers } from './delta-wire.js';
import { adoptMessageSplitter, callWriter, type CallWriter } from './grpcjs-call.js';
import { GRPC_PREFIX_BYTES } from './proto-writer.js';
import { nodeBytes, type KeptNode, type KeptNodes } from './kept-nodes.js';

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
  drains: Pick<DrainTracker, 'sent' | 'acked' | 'streamGone'>;
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
  /** False keeps streams on grpc-js's public API (see grpcjs-call.ts); by default its internals are used where they have the expected shape. */
  grpcJsInternals: boolean | undefined;
  controlPlaneId: string | undefined;
  clock: Clock;
  maxResponseBytes: number | undefined;
  maxListedNames: number;
  isReady(): boolean;
  /** Drops the stream from the server's table; called once, when it ends. */
  forget(stream: ServedStream): void;
}

export type ServerCall = grpc.ServerDuplexStream<object, Buffer>;

/** The part of a planned response the stream itself reads; the encoder reads the rest. */
export interface PlannedSend {
  kind: ResourceKind;
  resources: readonly CachedResource[];
}

/** What a stream asks of its protocol machine (StreamState or DeltaState). */
export interface ProtocolMachine<Planned extends PlannedSend> {
  readonly node: NodeInfo | undefined;
  markDirty(kind: ResourceKind, names: Iterable<string>): boolean;
  subscription(kind: ResourceKind): Subscription | undefined;
  flush(view: ResourceView): Planned[];
  info(maxNames: number): Partial<Record<ResourceKind, TypeInfo>>;
  resourceStatuses(view: ResourceView): ResourceStatus[];
  dispose(): void;
}

/** The parts of a request outcome that are the same in both protocols. */
export interface AcceptedRequest {
  kind: ResourceKind;
  acked: readonly AckedResource[] | undefined;
  nack: NackInfo | undefined;
  subscriptionChanged: boolean;
}

/**
 * One open xDS stream over gRPC: call wiring, failure handling, drain bookkeeping and clean-up
 * shared by the SotW and Delta protocols. Subclasses read the protocol's request outcomes and
 * encode its responses.
 */
export abstract class ServedStream<
  Planned extends PlannedSend = PlannedSend,
  State extends ProtocolMachine<Planned> = ProtocolMachine<Planned>,
> implements PacedStream {
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
    protected readonly ctx: StreamContext,
    readonly id: string,
    spec: ApiSpec,
    private readonly call: ServerCall,
    protected readonly state: State,
  ) {
    this.api = spec.api;
    this.protocol = spec.protocol;
    this.connectedAtMs = ctx.clock();
    const internals = ctx.grpcJsInternals !== false;
    this.writer = callWriter(call, { direct: internals });
    if (internals) adoptMessageSplitter(call);
    try {
      this.peer = call.getPeer();
    } catch {
      // Peer is only for display.
    }
  }

  protected abstract handle(request: object): void;
  /** Serializes one planned response into the protocol's response message, gRPC prefix included. */
  protected abstract encode(response: Planned): Buffer;

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
      if (!this.write(response.kind, this.encode(response))) return;
      if (response.kind === 'endpoint') {
        this.guard('drains.sent', () => {
          for (const resource of response.resources) this.ctx.drains.sent(this.id, resource.name, resource.seq);
        });
      }
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

  resourceStatuses(): ResourceStatus[] {
    return this.state.resourceStatuses(this.ctx.cache);
  }

  /** Acts on a request the protocol accepted: drain ACKs, NACK reporting, subscription index, then sends what is due. */
  protected accepted(outcome: AcceptedRequest): void {
    const { kind, acked } = outcome;
    if (acked && kind === 'endpoint') {
      this.guard('drains.acked', () => {
        for (const { name, seq } of acked) this.ctx.drains.acked(this.id, name, seq);
      });
    }
    if (outcome.nack) this.nacked(kind, outcome.nack.rejectedVersion, outcome.nack.message);
    if (outcome.subscriptionChanged) {
      const subscription = this.state.subscription(kind);
      if (subscription) this.ctx.index.update(this.id, kind, subscription);
    }
    this.flush();
  }

  start(): void {
    const call = this.call;
    this.ctx.metrics.xdsStreams.inc({ api: this.api });
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
    this.handle(request);
  }

  protected ignored(reason: string, typeUrl: string): void {
    this.ctx.metrics.xdsRejectedRequests.inc({ reason });
    if (this.warnedIgnored) return;
    this.warnedIgnored = true;
    this.ctx.logger.warn({ stream: this.id, api: this.api, typeUrl: typeUrl.slice(0, 200), reason }, 'ignoring xDS request for a type not served');
  }

  private nacked(kind: ResourceKind, rejectedVersion: string, message: string): void {
    this.ctx.metrics.xdsNacks.inc({ type: kind });
    this.ctx.logger.warn(
      { stream: this.id, api: this.api, node: this.node?.id, type: kind, rejectedVersion, message: message.slice(0, 1000) },
      'xDS NACK',
    );
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
    this.guard('drains.streamGone', () => this.ctx.drains.streamGone(this.id));
    this.ctx.metrics.xdsStreams.dec({ api: this.api });
    this.ctx.logger.debug({ stream: this.id, api: this.api, node: this.node?.id }, 'xDS stream closed');
  }
}
