import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { systemClock, TYPE_URLS, type Clock, type ResourceKind } from '../model/index.js';
import type { DrainTracker, ResourceCache, ChangeSet } from '../cache/index.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import { StreamState, type NodeInfo, type TypeInfo } from './stream-state.js';
import { API_SPECS, isUndecodable, makeRequestDecoder, serviceDefinition, type ApiSpec, type IncomingRequest, type XdsApi } from './services.js';
import { SubscriptionIndex } from './subscriptions.js';
import { encodeDiscoveryResponse } from './wire.js';

type Call = grpc.ServerDuplexStream<IncomingRequest, Buffer>;

export interface XdsServerOptions {
  cache: ResourceCache;
  /** Told what each stream was sent and ACKed; only sent()/acked()/streamGone() are used. */
  drains: Pick<DrainTracker, 'sent' | 'acked' | 'streamGone'>;
  protos: protobuf.Root;
  metrics: HeraldMetrics;
  logger: Logger;
  /** No response leaves before this resolves: an early partial CDS would make Envoys delete clusters. */
  ready: Promise<void>;
  /** Sends GOAWAY after this age so long-lived streams spread over new replicas. */
  maxConnectionAgeMs?: number;
  /** After max connection age, how long open streams may go on before the connection closes (default 30 s). */
  maxConnectionAgeGraceMs?: number;
  /** Soft cap on resource bytes per EDS/RDS response (see StreamStateOptions). */
  maxResponseBytes?: number;
  /** Transport security for listen(); insecure when absent (a mesh-internal port). */
  credentials?: grpc.ServerCredentials | undefined;
  /** ControlPlane.identifier in every response. */
  controlPlaneId?: string;
  clock?: Clock;
  /** Longest subscription name list shown per type in clients(). */
  maxListedNames?: number;
}

export interface ClientInfo {
  id: string;
  api: XdsApi;
  peer: string;
  node: NodeInfo | undefined;
  connectedAtMs: number;
  types: Partial<Record<ResourceKind, TypeInfo>>;
}

interface Stream {
  id: string;
  api: XdsApi;
  peer: string;
  connectedAtMs: number;
  call: Call;
  state: StreamState;
  closed: boolean;
  warnedIgnored: boolean;
}

const DEFAULT_CONNECTION_AGE_GRACE_MS = 30_000;

/** State-of-the-world xDS over gRPC: ADS plus the per-type CDS/EDS/LDS/RDS services. */
export class XdsServer {
  private readonly cache: ResourceCache;
  private readonly drains: XdsServerOptions['drains'];
  private readonly metrics: HeraldMetrics;
  private readonly logger: Logger;
  private readonly controlPlaneId: string | undefined;
  private readonly clock: Clock;
  private readonly maxListedNames: number;
  private readonly maxResponseBytes: number | undefined;
  private readonly credentials: grpc.ServerCredentials | undefined;
  private readonly server: grpc.Server;
  private readonly streams = new Map<string, Stream>();
  private readonly index = new SubscriptionIndex();
  private readonly unsubscribeCache: () => void;
  private nextStreamId = 1;
  private isReady = false;
  private closing = false;

  constructor(options: XdsServerOptions) {
    this.cache = options.cache;
    this.drains = options.drains;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.controlPlaneId = options.controlPlaneId;
    this.clock = options.clock ?? systemClock;
    this.maxListedNames = options.maxListedNames ?? 100;
    this.maxResponseBytes = options.maxResponseBytes;
    this.credentials = options.credentials;

    const serverOptions: grpc.ServerOptions = { 'grpc.enable_channelz': 0 };
    if (options.maxConnectionAgeMs !== undefined) {
      serverOptions['grpc.max_connection_age_ms'] = options.maxConnectionAgeMs;
      // SotW streams never finish by themselves: without a grace limit GOAWAY would move nobody.
      serverOptions['grpc.max_connection_age_grace_ms'] = options.maxConnectionAgeGraceMs ?? DEFAULT_CONNECTION_AGE_GRACE_MS;
    }
    this.server = new grpc.Server(serverOptions);
    const decode = makeRequestDecoder(options.protos);
    for (const spec of API_SPECS) {
      this.server.addService(serviceDefinition(spec, decode), {
        [spec.method]: (call: Call) => this.accept(spec, call),
      });
    }

    this.unsubscribeCache = this.cache.onChange((changes) => this.onCacheChange(changes));
    options.ready.then(
      () => {
        if (this.closing) return;
        this.isReady = true;
        this.logger.info({ streams: this.streams.size }, 'xDS ready: answering streams');
        for (const stream of this.streams.values()) this.flush(stream);
      },
      (err: unknown) => this.logger.error({ err }, 'xDS readiness failed; no responses will be sent'),
    );
  }

  /** Binds and starts serving; returns the bound port (useful with port 0). */
  async listen(host: string, port: number, credentials?: grpc.ServerCredentials): Promise<number> {
    const creds = credentials ?? this.credentials ?? grpc.ServerCredentials.createInsecure();
    const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  /** Ends every stream, then shuts down gracefully for up to graceMs, then forcefully. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.unsubscribeCache();
    for (const stream of [...this.streams.values()]) {
      this.release(stream);
      try {
        stream.call.end();
      } catch {
        // The call may already be gone; nothing left to end.
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stream ids subscribed to a resource, by name or wildcard. */
  subscribersOf(kind: ResourceKind, name: string): Iterable<string> {
    return this.index.subscribers(kind, name);
  }

  clients(): ClientInfo[] {
    return [...this.streams.values()].map((stream) => ({
      id: stream.id,
      api: stream.api,
      peer: stream.peer,
      node: stream.state.node,
      connectedAtMs: stream.connectedAtMs,
      types: stream.state.info(this.maxListedNames),
    }));
  }

  private accept(spec: ApiSpec, call: Call): void {
    if (this.closing) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'control plane shutting down' });
      return;
    }
    let peer = 'unknown';
    try {
      peer = call.getPeer();
    } catch {
      // Peer is only for display.
    }
    const stream: Stream = {
      id: String(this.nextStreamId++),
      api: spec.api,
      peer,
      connectedAtMs: this.clock(),
      call,
      state: new StreamState({ kinds: spec.kinds, ads: spec.api === 'ads', clock: this.clock, maxResponseBytes: this.maxResponseBytes }),
      closed: false,
      warnedIgnored: false,
    };
    this.streams.set(stream.id, stream);
    this.metrics.xdsStreams.inc({ api: spec.api });
    this.logger.debug({ stream: stream.id, api: spec.api, peer }, 'xDS stream opened');

    call.on('data', (request: IncomingRequest) => {
      try {
        this.onRequest(stream, request);
      } catch (err) {
        this.logger.error({ err, stream: stream.id }, 'xDS request handling failed; ending stream');
        this.fail(stream, grpc.status.INTERNAL, 'control plane failed to handle the request');
      }
    });
    call.on('end', () => {
      // The client half-closed: a SotW stream with no more requests is done.
      this.release(stream);
      try {
        call.end();
      } catch {
        // Already ended.
      }
    });
    call.on('cancelled', () => this.release(stream));
    call.on('error', () => this.release(stream));
    call.on('close', () => this.release(stream));
  }

  private onRequest(stream: Stream, request: IncomingRequest): void {
    if (stream.closed) return;
    if (isUndecodable(request)) {
      this.metrics.xdsRejectedRequests.inc({ reason: 'undecodable' });
      this.logger.warn({ stream: stream.id, peer: stream.peer, error: request.undecodable }, 'undecodable DiscoveryRequest; ending stream');
      this.fail(stream, grpc.status.INVALID_ARGUMENT, `undecodable DiscoveryRequest: ${request.undecodable}`);
      return;
    }
    const outcome = stream.state.handleRequest(request);
    switch (outcome.type) {
      case 'ignored':
        this.metrics.xdsRejectedRequests.inc({ reason: outcome.reason });
        if (!stream.warnedIgnored) {
          stream.warnedIgnored = true;
          this.logger.warn({ stream: stream.id, api: stream.api, typeUrl: request.typeUrl.slice(0, 200), reason: outcome.reason }, 'ignoring xDS request for a type not served');
        }
        return;
      case 'stale':
        this.metrics.xdsStaleNonces.inc({ type: outcome.kind });
        return;
      case 'request':
        break;
    }
    const { kind } = outcome;
    if (outcome.acked && kind === 'endpoint') {
      const acked = outcome.acked;
      this.guard('drains.acked', () => {
        for (const [name, seq] of acked) this.drains.acked(stream.id, name, seq);
      });
    }
    if (outcome.nack) {
      this.metrics.xdsNacks.inc({ type: kind });
      this.logger.warn(
        { stream: stream.id, node: stream.state.node?.id, type: kind, rejectedVersion: outcome.nack.rejectedVersion, message: outcome.nack.message.slice(0, 1000) },
        'xDS NACK',
      );
    }
    if (outcome.subscriptionChanged) {
      const subscription = stream.state.subscription(kind);
      if (subscription) this.index.update(stream.id, kind, subscription);
    }
    this.flush(stream);
  }

  private onCacheChange(changes: ChangeSet): void {
    const touched = new Set<Stream>();
    for (const [kind, names] of changes) {
      for (const [id, relevant] of this.index.interested(kind, names)) {
        const stream = this.streams.get(id);
        if (stream && stream.state.markDirty(kind, relevant)) touched.add(stream);
      }
    }
    // Marking is all that happens for a stream still waiting on an ACK: nobody waits on anybody.
    for (const stream of touched) this.guard('flush', () => this.flush(stream));
  }

  /** Drain bookkeeping and fan-out run inside other stages' calls: a bug there must not end streams or throw into the cache. */
  private guard(what: string, action: () => void): void {
    try {
      action();
    } catch (err) {
      this.logger.error({ err, what }, 'xDS internal error');
    }
  }

  private flush(stream: Stream): void {
    if (!this.isReady || stream.closed) return;
    for (const response of stream.state.flush(this.cache)) {
      const bytes = encodeDiscoveryResponse({
        versionInfo: response.versionInfo,
        resources: response.resources.map((resource) => resource.any),
        typeUrl: TYPE_URLS[response.kind],
        nonce: response.nonce,
        controlPlaneId: this.controlPlaneId,
      });
      try {
        stream.call.write(bytes);
      } catch (err) {
        this.logger.warn({ err, stream: stream.id }, 'xDS write failed; ending stream');
        this.release(stream);
        return;
      }
      this.metrics.xdsResponses.inc({ type: response.kind });
      this.metrics.xdsResponseBytes.inc({ type: response.kind }, bytes.length);
      if (response.kind === 'endpoint') {
        this.guard('drains.sent', () => {
          for (const resource of response.resources) this.drains.sent(stream.id, resource.name, resource.seq);
        });
      }
    }
  }

  private fail(stream: Stream, code: grpc.status, details: string): void {
    this.release(stream);
    try {
      stream.call.emit('error', { code, details });
    } catch {
      // The call is already finished.
    }
  }

  /** Forgets a stream; idempotent, called from every way a stream can end. */
  private release(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.index.remove(stream.id);
    this.guard('drains.streamGone', () => this.drains.streamGone(stream.id));
    this.metrics.xdsStreams.dec({ api: stream.api });
    this.logger.debug({ stream: stream.id, api: stream.api, node: stream.state.node?.id }, 'xDS stream closed');
  }
}
