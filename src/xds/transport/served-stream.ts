import * as grpc from '@grpc/grpc-js';
import { envoySupport, type ResourceKind } from '../../model/index.js';
import type { ObservedStream } from './observers.js';
import { framedLength, type Framed } from './framed.js';
import { LIMIT_FLAGS, type XdsLimits } from './limits.js';
import type { NodeInfo } from '../wire/index.js';
import type { ResourceStatus } from '../bookkeeping/index.js';
import { isUndecodable, type UndecodableRequest, type WithNodeMessage } from '../wire/index.js';
import type { ApiSpec, XdsApi, XdsProtocol } from './api-specs.js';
import type { PacedStream } from './write-pacer.js';
import type { MessageSplitter } from '../wire/index.js';
import { adoptMessageSplitter, callWriter, resetCall, type CallWriter, type ServerCall } from './grpcjs-call.js';
import { GRPC_PREFIX_BYTES } from '../wire/index.js';
import { nodeBytes, perspectiveInfo, type KeptNode, type Scope } from '../bookkeeping/index.js';
import { checkClientClaim, type PeerCertificateFields } from './client-identity.js';
import type { AcceptedRequest, ClientInfo, PlannedSend, ProtocolAdapter, ProtocolMachine, ScopeInfo, StreamContext } from './stream-contract.js';

/**
 * One open xDS stream over gRPC: call wiring, failure handling, drain bookkeeping and clean-up,
 * the same for SotW and Delta; the protocol adapter holds what differs.
 */
export class ServedStream implements PacedStream, ObservedStream {
  readonly api: XdsApi;
  readonly protocol: XdsProtocol;
  private readonly kinds: readonly ResourceKind[];
  readonly connectedAtMs: number;
  peer = 'unknown';
  closed = false;
  /** The first Node the client sent, with every field it set, kept encoded (for CSDS). */
  private keptNode: KeptNode | undefined;
  private warnedIgnored = false;
  /** Whether the first request has been seen (and, with client identity on, its node checked). */
  private sawFirstRequest = false;
  /** Whether observers have heard of the stream's Node. */
  private identified = false;
  private readonly writer: CallWriter;
  /** Response bytes handed to the pacer or the call and not yet taken by the socket. */
  private unsentBytes = 0;
  /** Writes handed to the call and not yet completed, and since when there have been any. */
  private writing = 0;
  private writingSince: number | undefined;
  /** The names this stream counts for in its peer address's total. */
  private namesCounted = 0;
  /** Herald's own request decoder on the fast path: it knows how long a message has been half-read. */
  private readonly splitter: MessageSplitter | undefined;

  constructor(
    private readonly ctx: StreamContext,
    readonly id: string,
    spec: ApiSpec,
    private readonly call: ServerCall,
    private readonly adapter: ProtocolAdapter,
  ) {
    this.api = spec.api;
    this.protocol = spec.protocol;
    this.kinds = spec.kinds;
    this.connectedAtMs = ctx.clock();
    const fastPath = ctx.paths.enabled;
    this.writer = callWriter(call, { direct: fastPath });
    // grpc-js ends the call (RESOURCE_EXHAUSTED) when the splitter refuses; the count and the log line are Herald's.
    this.splitter = fastPath ? adoptMessageSplitter(call, (length) => this.tooLarge(length)) : undefined;
    ctx.paths.record(this.writer.direct ? 'direct' : 'grpc-js', this.splitter ? 'splitter' : 'grpc-js');
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

  /** The shared scope the stream holds (from its first request), if it declared one. */
  get scope(): Scope | undefined {
    return this.state.scope;
  }

  get declaredDependencies(): readonly string[] | undefined {
    return this.state.scope?.declared;
  }

  /** Notes changed resources; true when this stream cares and should be flushed. */
  markDirty(kind: ResourceKind, names: Iterable<string>): boolean {
    return this.state.markDirty(kind, names);
  }

  /**
   * Its scope gained and lost names through routes: the subscription index regroups its
   * wildcard subscriptions under the scope's new Set (so drains of a gained service reach it),
   * and the protocol marks what its next responses add or remove. True when it should be flushed.
   */
  rescoped(added: readonly string[], removed: readonly string[]): boolean {
    for (const kind of this.kinds) {
      const subscription = this.state.subscription(kind);
      if (subscription?.wildcard) this.ctx.index.update(this.id, kind, subscription);
    }
    return this.state.scopeChanged(added, removed);
  }

  /** Writes whatever is due now; a no-op before readiness. */
  flush(): void {
    if (!this.ctx.isReady() || this.closed) return;
    for (const response of this.state.flush(this.ctx.cache.viewFor(this.state.perspective.key))) {
      if (!this.write(response.kind, this.adapter.encode(response))) return;
      this.ctx.observers.sent(this, response.kind, response.resources);
    }
  }

  info(): ClientInfo {
    const support = envoySupport(this.state.node);
    return {
      id: this.id,
      api: this.api,
      protocol: this.protocol,
      peer: this.peer,
      node: this.state.node,
      ...(support ? { envoySupport: support } : {}),
      connectedAtMs: this.connectedAtMs,
      scope: this.scopeInfo(),
      perspective: perspectiveInfo(this.state.declaredPerspective, this.state.perspective),
      types: this.state.info(this.ctx.maxListedNames),
    };
  }

  private scopeInfo(): ScopeInfo {
    const scope = this.state.scope;
    if (!scope) return { declared: false };
    const max = this.ctx.maxListedNames;
    const unknown = scope.declared.filter((name) => this.ctx.cache.get('cluster', name) === undefined);
    return {
      declared: true,
      count: scope.declared.length,
      names: scope.declared.slice(0, max),
      unknownCount: unknown.length,
      unknown: unknown.slice(0, max),
      viaRoutesCount: scope.viaRoutes.length,
      viaRoutes: scope.viaRoutes.slice(0, max),
    };
  }

  /** The client's first Node as it encoded it; undefined before it sent one. */
  nodeBytes(): Uint8Array | undefined {
    return this.keptNode && nodeBytes(this.keptNode);
  }

  resourceStatuses(): Iterable<ResourceStatus> {
    return this.state.resourceStatuses(this.ctx.cache.viewFor(this.state.perspective.key));
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
    this.ctx.connections.streamOpened(this.peer);
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
    const { maxNodeBytes, maxNamesPerStream } = this.ctx.limits;
    if (node !== undefined && node.length > maxNodeBytes) {
      this.refuse('maxNodeBytes', grpc.status.INVALID_ARGUMENT, `the Node is ${node.length} bytes, over the limit of ${maxNodeBytes}`);
      return;
    }
    if (!this.sawFirstRequest) {
      this.sawFirstRequest = true;
      if (this.ctx.clientIdentity && !this.claimAllowed((request as { node?: NodeInfo }).node)) return;
    }
    // A request that alone lists too many names is refused before any work is done on it.
    const listed = this.adapter.namesOver(request, maxNamesPerStream);
    if (listed !== undefined) {
      this.refuse('maxNamesPerStream', grpc.status.RESOURCE_EXHAUSTED, `the request lists ${listed} resource names, over the limit of ${maxNamesPerStream} per stream`);
      return;
    }
    if (this.keptNode === undefined && node !== undefined) this.keptNode = this.ctx.nodes.keep(node);
    const handled = this.adapter.handle(request);
    // After the protocol took the request (it reads the Node's scope), before anything is sent.
    if (!this.identified) {
      const claimed = (request as { node?: NodeInfo }).node;
      if (claimed) {
        this.identified = true;
        this.ctx.observers.identified(this, claimed);
      }
    }
    if (handled.type === 'accepted' && handled.outcome.subscriptionChanged && !this.namesWithinLimits()) return;
    switch (handled.type) {
      case 'ignored':
        this.ignored(handled.reason, handled.typeUrl);
        return;
      case 'stale':
        this.staleNonce(handled.kind, handled.unknownNonce);
        return;
      case 'accepted':
        if (handled.stale) this.staleNonce(handled.outcome.kind, handled.unknownNonce);
        this.accepted(handled.outcome);
    }
  }

  /**
   * With client certificates required, the node a stream claims must be one its certificate
   * allows (client-identity.ts); otherwise the stream ends with PERMISSION_DENIED, counted and
   * logged once per peer address.
   */
  private claimAllowed(node: NodeInfo | undefined): boolean {
    const refused = checkClientClaim(peerCertificate(this.call), node, this.ctx.clientIdentity!);
    if (!refused) return true;
    this.ctx.metrics.xdsIdentityRefused.inc({ reason: refused.reason });
    if (this.ctx.limitLog.shouldLog(`identity ${this.peerAddress()}`)) {
      this.ctx.logger.warn(
        { stream: this.id, api: this.api, peer: this.peer, node: node?.id.slice(0, 200), reason: refused.reason, detail: refused.detail },
        'xDS stream refused: the client certificate does not allow the node it claims',
      );
    }
    this.fail(grpc.status.PERMISSION_DENIED, refused.detail);
    return false;
  }

  private peerAddress(): string {
    return this.peer.slice(0, this.peer.lastIndexOf(':'));
  }

  /** A request answering a response other than the last one: ignored; one never sent is counted apart. */
  private staleNonce(kind: ResourceKind, unknown: boolean): void {
    this.ctx.metrics.xdsStaleNonces.inc({ type: kind });
    if (unknown) this.ctx.metrics.xdsRejectedRequests.inc({ reason: 'unknown_nonce' });
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
  private write(kind: ResourceKind, bytes: Framed): boolean {
    const length = framedLength(bytes);
    this.unsentBytes += length;
    const { maxUnsentBytesPerStream } = this.ctx.limits;
    if (this.unsentBytes > maxUnsentBytesPerStream) {
      // A client that does not read its responses is gone as far as the mesh is concerned.
      this.refuse(
        'maxUnsentBytesPerStream',
        grpc.status.RESOURCE_EXHAUSTED,
        `${this.unsentBytes} bytes of responses wait for the client to read them, over the limit of ${maxUnsentBytesPerStream}`,
        { reset: true },
      );
      return false;
    }
    if (!this.ctx.pacer.submit(this, bytes, length)) return false;
    this.ctx.responseTally.add(kind, length - GRPC_PREFIX_BYTES);
    return true;
  }

  /** For the pacer: hands framed bytes to the call; false (and the stream released) when the call is gone. */
  writeNow(bytes: Framed, done: () => void): boolean {
    if (this.closed) return false;
    try {
      if (this.writing++ === 0) this.writingSince = performance.now();
      const length = framedLength(bytes);
      this.writer.write(bytes, () => {
        if (--this.writing === 0) this.writingSince = undefined;
        this.unsentBytes -= length;
        done();
      });
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

  /**
   * Ends the stream when its writes have not reached the client for too long (it stopped
   * reading), or when a request message has been begun and not finished for too long (its bytes
   * are held meanwhile; only on the fast path, as grpc-js's decoder does not say).
   */
  checkTimeouts(now: number): void {
    if (this.closed) return;
    const { writeStallTimeoutMs } = this.ctx.limits;
    const stalled = this.writingSince === undefined ? 0 : now - this.writingSince;
    if (stalled > writeStallTimeoutMs) {
      this.refuse('writeStallTimeoutMs', grpc.status.RESOURCE_EXHAUSTED, `the client has taken no response for ${Math.round(stalled)} ms, over the limit of ${writeStallTimeoutMs} ms`, {
        reset: true,
      });
      return;
    }
    if (!this.splitter) return;
    const waited = this.splitter.gatheringForMs(now);
    const { requestReadTimeoutMs } = this.ctx.limits;
    if (waited > requestReadTimeoutMs) {
      this.refuse(
        'requestReadTimeoutMs',
        grpc.status.DEADLINE_EXCEEDED,
        `a request message was begun ${Math.round(waited)} ms ago and not finished, over the limit of ${requestReadTimeoutMs} ms`,
      );
    }
  }

  /** A request message over --max-request-bytes: grpc-js ends the call; it is counted and logged here. */
  private tooLarge(length: number): void {
    this.reportLimit('maxRequestBytes', `a request message of ${length} bytes, over the limit of ${this.ctx.limits.maxRequestBytes}`);
  }

  /** Counts the stream's names against the per-stream and per-peer limits; false (stream ended) past either. */
  private namesWithinLimits(): boolean {
    const { maxNamesPerStream, maxNamesPerPeer } = this.ctx.limits;
    const names = this.state.nameCount();
    const peerNames = this.ctx.connections.namesChanged(this.peer, names - this.namesCounted);
    this.namesCounted = names;
    if (names > maxNamesPerStream) {
      this.refuse('maxNamesPerStream', grpc.status.RESOURCE_EXHAUSTED, `the stream subscribes to ${names} resource names, over the limit of ${maxNamesPerStream}`);
      return false;
    }
    if (peerNames > maxNamesPerPeer) {
      this.refuse('maxNamesPerPeer', grpc.status.RESOURCE_EXHAUSTED, `the streams from this address subscribe to ${peerNames} resource names, over the limit of ${maxNamesPerPeer}`);
      return false;
    }
    return true;
  }

  /** Ends the stream for crossing a limit: a status naming it, a metric, and one log line per client. */
  /** Counts a crossed limit and logs it once per client and window; the details for the status. */
  private reportLimit(limit: keyof XdsLimits, what: string): string {
    const details = `${what} (${LIMIT_FLAGS[limit]})`;
    this.ctx.metrics.xdsLimitExceeded.inc({ limit: LIMIT_FLAGS[limit].slice(2) });
    // Keyed by peer address, not node id: a client chooses its node id, so a fresh one per stream would buy a log line each.
    if (this.ctx.limitLog.shouldLog(`${limit} ${this.peerAddress()}`)) {
      this.ctx.logger.warn(
        { stream: this.id, api: this.api, node: this.node?.id, peer: this.peer, limit: LIMIT_FLAGS[limit], value: this.ctx.limits[limit] },
        `xDS stream ended: ${details}`,
      );
    }
    return details;
  }

  private refuse(limit: keyof XdsLimits, code: grpc.status, what: string, options: { reset?: boolean } = {}): void {
    const details = this.reportLimit(limit, what);
    this.fail(code, details);
    // A client that does not read would never see the status behind its unread data.
    if (options.reset) resetCall(this.call);
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
    this.ctx.connections.streamClosed(this.peer);
    this.ctx.connections.namesChanged(this.peer, -this.namesCounted);
    this.namesCounted = 0;
    this.ctx.logger.debug({ stream: this.id, api: this.api, node: this.node?.id }, 'xDS stream closed');
  }
}

/** The verified client certificate of the call's connection; undefined without TLS or a certificate. */
function peerCertificate(call: ServerCall): PeerCertificateFields | undefined {
  try {
    return call.getAuthContext().sslPeerCertificate;
  } catch {
    return undefined;
  }
}
