import * as grpc from '@grpc/grpc-js';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import type protobuf from 'protobufjs';
import { perKind, systemClock, type Clock, type ResourceKind } from '../model/index.js';
import type { ResourceCache, ChangeSet } from '../cache/index.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import type { AccessGuard } from '../access/index.js';
import {
  API_SPECS,
  TransportPaths,
  ConnectionTable,
  LIMIT_FLAGS,
  LogOnce,
  withDefaultLimits,
  type XdsLimits,
  type ApiSpec,
  type ClientInfo,
  type ClientIdentityPolicy,
  ConnectionAdmission,
  DEFAULT_WRITE_PACING,
  deltaAdapter,
  listenSockets,
  ServedStream,
  type ServerCall,
  serviceDefinition,
  sotwAdapter,
  type StreamContext,
  streamMetricsObserver,
  envoyVersionObserver,
  scopeObserver,
  ScopeMembers,
  type StreamObserver,
  StreamObservers,
  WritePacer,
  type WritePacerOptions,
} from './transport/index.js';
import { makeDeltaRequestDecoder, makeRequestDecoder, ResourceWrappers } from './wire/index.js';
import { newNameSlotsByKind, NonceSource, SubscriptionIndex } from './protocol/index.js';
import { KeptNodes, NameSetTable, type PerspectiveTable, ResponseTally, ScopeTable, SharedResponses } from './bookkeeping/index.js';
import { GuardedListeners, perspectiveTable, type DependencySetListener, type PerspectiveListener } from './declarations.js';
import { guardedBackends, RouteScopes, type ScopeExpansion } from './route-scopes.js';
import { type CsdsLimits, csdsService, type CsdsService, csdsServiceDefinition } from './csds/index.js';

export interface XdsServerOptions {
  cache: ResourceCache;
  /** Told of every stream's opening, sends, ACK/NACKs and closing (more can be added with observe()). */
  observers?: readonly StreamObserver[];
  protos: protobuf.Root;
  metrics: HeraldMetrics;
  logger: Logger;
  /** No response leaves before this resolves: an early partial CDS would make Envoys delete clusters. */
  ready: Promise<void>;
  /** Sends GOAWAY after this age so long-lived streams spread over new replicas. */
  maxConnectionAgeMs?: number;
  /** After max connection age, how long open streams may go on before the connection closes (default 30 s). */
  maxConnectionAgeGraceMs?: number;
  /** Soft cap on resource bytes per EDS/RDS response (see SotwStateOptions). */
  maxResponseBytes?: number;
  /** Transport security for listen(); insecure when absent (a mesh-internal port). */
  credentials?: grpc.ServerCredentials | undefined;
  /**
   * Set with credentials that require client certificates: a stream whose first request claims
   * a node its certificate does not allow ends with PERMISSION_DENIED (see transport/client-identity.ts).
   */
  clientIdentity?: ClientIdentityPolicy | undefined;
  /** ControlPlane.identifier in every response. */
  controlPlaneId?: string;
  clock?: Clock;
  /** Longest subscription name list shown per type in clients(). */
  maxListedNames?: number;
  /** Accept queue length of the listening socket (the kernel caps it at net.core.somaxconn). */
  listenBacklog?: number;
  /** Listening sockets per address where SO_REUSEPORT is available (see transport/accept-sockets.ts); default 8. */
  acceptSockets?: number;
  /** How many bytes of large responses may be unsent at once (see WritePacer). */
  writePacing?: WritePacerOptions;
  /**
   * False keeps every stream on grpc-js's public API (see grpcjs-call.ts): responses go through
   * its write and requests through its decoder (a copy per message either way). For
   * tests, and an escape hatch should a grpc-js release change shape in a way the checks miss.
   */
  grpcFastPath?: boolean;
  /** What scoped clients receive besides the services they declare; absent: just those. */
  scopeExpansion?: ScopeExpansion;
  /**
   * How long a backend a declared service stops routing to stays in its clients' scopes, so the
   * route that no longer names it reaches them before its cluster goes (Envoy's order: clusters
   * are removed after the routes that used them). Default 5 s; 0 takes it away at once.
   */
  scopeLingerMs?: number;
  /** Bounds on what one client can make the server hold or do; unset fields take DEFAULT_XDS_LIMITS. */
  limits?: Partial<XdsLimits>;
  /** Distinct perspectives held at once (see bookkeeping/perspectives.ts); default 64. */
  maxPerspectives?: number;
  /** Bounds of the work CSDS requests may cause (see DEFAULT_CSDS_LIMITS). */
  csdsLimits?: Partial<CsdsLimits>;
  /** Who may call CSDS (see access/); default: loopback callers only. */
  csdsAccess?: AccessGuard;
}

const DEFAULT_CONNECTION_AGE_GRACE_MS = 30_000;
/** Far longer than a route takes to reach a connected client, short enough that a removed canary's cluster goes soon. */
const DEFAULT_SCOPE_LINGER_MS = 5_000;
/** grpc-js would listen with Node's 511: a fleet reconnecting at once overflows it and SYNs are dropped. */
const DEFAULT_LISTEN_BACKLOG = 4096;
const DEFAULT_ACCEPT_SOCKETS = 8;

/** xDS over gRPC: ADS and the per-type services, state-of-the-world and Delta, plus CSDS. */
export class XdsServer {
  private readonly cache: ResourceCache;
  private readonly logger: Logger;
  private readonly credentials: grpc.ServerCredentials | undefined;
  private readonly server: grpc.Server;
  private readonly streams = new Map<string, ServedStream>();
  private readonly index = new SubscriptionIndex();
  private readonly context: StreamContext;
  private readonly csds: CsdsService;
  private readonly unsubscribeCache: () => void;
  private readonly unsubscribeExpansion: () => void;
  private readonly routeScopes: RouteScopes<ServedStream>;
  private nextStreamId = 1;
  private isReady = false;
  private closing = false;
  private accepting = true;
  private readonly listenBacklog: number;
  private readonly listeners: net.Server[] = [];
  private readonly admissions: ConnectionAdmission[] = [];
  private readonly acceptSockets: number;
  private readonly observers: StreamObservers;
  private readonly connections: ConnectionTable;
  private readonly timeoutSweep: NodeJS.Timeout;
  private readonly dependencySetListeners: GuardedListeners<DependencySetListener>;
  private readonly perspectiveListeners: GuardedListeners<PerspectiveListener>;
  private readonly perspectives: PerspectiveTable;

  constructor(options: XdsServerOptions) {
    this.cache = options.cache;
    this.logger = options.logger;
    this.credentials = options.credentials;
    this.listenBacklog = options.listenBacklog ?? DEFAULT_LISTEN_BACKLOG;
    this.acceptSockets = options.acceptSockets ?? DEFAULT_ACCEPT_SOCKETS;
    const limits = withDefaultLimits(options.limits);
    const metrics = options.metrics;
    const connectionLog = new LogOnce();
    this.connections = new ConnectionTable(limits, {
      refused: (reason, address) => {
        metrics.xdsConnectionsRefused.inc({ reason });
        if (connectionLog.shouldLog(`${reason} ${address}`)) {
          const limit = reason === 'max_connections' ? 'maxConnections' : 'maxConnectionsPerPeer';
          this.logger.warn({ peer: address, limit: LIMIT_FLAGS[limit], value: limits[limit] }, 'xDS connection refused: over a connection limit');
        }
      },
      closed: (reason, address) => {
        metrics.xdsConnectionsClosed.inc({ reason });
        if (connectionLog.shouldLog(`${reason} ${address}`)) this.logger.info({ peer: address, reason }, 'xDS connection closed: it opened no stream in time or kept none open');
      },
      count: (open) => metrics.xdsConnections.set(open),
    });
    this.observers = new StreamObservers(options.logger);
    this.dependencySetListeners = new GuardedListeners(options.logger, 'dependency set listener');
    this.perspectiveListeners = new GuardedListeners(options.logger, 'perspective listener');
    this.observers.add(streamMetricsObserver(options.metrics));
    this.observers.add(envoyVersionObserver(options.metrics, options.logger));
    for (const observer of options.observers ?? []) this.observers.add(observer);
    const expansion = options.scopeExpansion;
    const scopes = new ScopeTable(
      {
        added: (scope) => this.dependencySetListeners.each((listener) => listener.added(scope.declared)),
        removed: (scope) => this.dependencySetListeners.each((listener) => listener.removed(scope.declared)),
      },
      expansion && guardedBackends(expansion, options.logger),
    );
    this.observers.add(scopeObserver(options.cache, scopes, options.metrics, options.logger));
    const scopeMembers = new ScopeMembers<ServedStream>((id) => this.streams.get(id), options.logger);
    this.observers.add(scopeMembers);
    this.perspectives = perspectiveTable(metrics, options.logger, options.maxPerspectives, this.perspectiveListeners);
    this.context = {
      cache: options.cache,
      observers: this.observers,
      metrics: options.metrics,
      logger: options.logger,
      index: this.index,
      nameSets: new NameSetTable(),
      scopes,
      perspectives: this.perspectives,
      nameSlots: newNameSlotsByKind(),
      nonces: new NonceSource(),
      versionSlots: newNameSlotsByKind(),
      responses: new SharedResponses(),
      nodes: new KeptNodes(),
      pacer: new WritePacer(options.writePacing ?? DEFAULT_WRITE_PACING),
      responseTally: new ResponseTally(perKind((type) => ({ responses: options.metrics.xdsResponses.labels({ type }), bytes: options.metrics.xdsResponseBytes.labels({ type }) }))),
      wrappers: new ResourceWrappers(),
      paths: new TransportPaths(options.grpcFastPath !== false, options.metrics.xdsStreamPaths, options.logger),
      controlPlaneId: options.controlPlaneId,
      clock: options.clock ?? systemClock,
      maxResponseBytes: options.maxResponseBytes,
      maxListedNames: options.maxListedNames ?? 100,
      limits,
      limitLog: new LogOnce(),
      clientIdentity: options.clientIdentity,
      connections: this.connections,
      isReady: () => this.isReady,
      forget: (stream) => {
        if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
      },
    };

    const serverOptions: grpc.ServerOptions = {
      'grpc.enable_channelz': 0,
      'grpc.max_receive_message_length': limits.maxRequestBytes,
      'grpc.max_concurrent_streams': limits.maxStreamsPerConnection,
      'grpc-node.max_session_memory': limits.maxSessionMemoryMib,
    };
    if (options.maxConnectionAgeMs !== undefined) {
      serverOptions['grpc.max_connection_age_ms'] = options.maxConnectionAgeMs;
      // xDS streams never finish by themselves: without a grace limit GOAWAY would move nobody.
      serverOptions['grpc.max_connection_age_grace_ms'] = options.maxConnectionAgeGraceMs ?? DEFAULT_CONNECTION_AGE_GRACE_MS;
    }
    this.server = new grpc.Server(serverOptions);
    const decodeSotw = makeRequestDecoder(options.protos);
    const decodeDelta = makeDeltaRequestDecoder(options.protos);
    // One addService per method: grpc-js keys handlers by path, so SotW and Delta methods of one service coexist.
    for (const spec of API_SPECS) {
      const decode = spec.protocol === 'delta' ? decodeDelta : decodeSotw;
      this.server.addService(serviceDefinition(spec, decode), {
        [spec.method]: (call: ServerCall) => this.accept(spec, call),
      });
    }
    this.csds = csdsService(options.protos, {
      logger: options.logger,
      metrics: options.metrics,
      limits: options.csdsLimits,
      ...(options.csdsAccess ? { access: options.csdsAccess } : {}),
      calls: { opened: (peer) => this.connections.streamOpened(peer), closed: (peer) => this.connections.streamClosed(peer) },
    });
    this.observers.add(this.csds.observer);
    this.server.addService(csdsServiceDefinition(options.protos), this.csds.handlers);

    // Stalled writes and half-read requests are looked for a few times per timeout; nothing on the hot path.
    this.timeoutSweep = setInterval(
      () => {
        const now = performance.now();
        // A Map may lose the entry being visited (a stream ended here) without disturbing the walk.
        for (const stream of this.streams.values()) stream.checkTimeouts(now);
      },
      Math.max(100, Math.min(1_000, limits.requestReadTimeoutMs / 4, limits.writeStallTimeoutMs / 4)),
    );
    this.timeoutSweep.unref();
    this.unsubscribeCache = this.cache.onChange((changes) => this.onCacheChange(changes));
    this.routeScopes = new RouteScopes({
      scopes,
      members: scopeMembers,
      clock: this.context.clock,
      lingerMs: options.scopeLingerMs ?? DEFAULT_SCOPE_LINGER_MS,
      flush: (touched) => this.flushTouched(touched),
    });
    this.unsubscribeExpansion = expansion?.onChange((services) => this.routeScopes.routesChanged(services)) ?? (() => undefined);
    options.ready.then(
      () => {
        if (this.closing) return;
        this.isReady = true;
        this.logger.info({ streams: this.streams.size }, 'xDS ready: answering streams');
        for (const stream of this.streams.values()) stream.flush();
      },
      (err: unknown) => this.logger.error({ err }, 'xDS readiness failed; no responses will be sent'),
    );
  }

  /** Binds and starts serving; returns the bound port (useful with port 0). */
  async listen(host: string, port: number, credentials?: grpc.ServerCredentials): Promise<number> {
    const creds = credentials ?? this.credentials ?? grpc.ServerCredentials.createInsecure();
    // grpc-js has no backlog option: accept here and hand each socket to it (TLS included).
    const injector = this.server.createConnectionInjector(creds);
    const admission = new ConnectionAdmission((socket) => injector.injectConnection(socket));
    this.admissions.push(admission);
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    // Like grpc-js, a name binds every address it resolves to (localhost: 127.0.0.1 and ::1).
    const addresses = net.isIP(bare) !== 0 ? [bare] : (await lookup(bare, { all: true })).map((a) => a.address);
    let bound = port;
    let firstError: unknown;
    for (const address of addresses) {
      let servers: net.Server[];
      try {
        servers = await listenSockets({
          address,
          port: bound,
          backlog: this.listenBacklog,
          sockets: this.acceptSockets,
          onConnection: (socket) => {
            if (this.connections.accept(socket)) admission.admit(socket);
          },
        });
      } catch (err) {
        firstError ??= err;
        // The reason, not a stack: an address in use is an operator's matter, not a bug.
        this.logger.warn({ address, port, code: (err as NodeJS.ErrnoException).code, error: err instanceof Error ? err.message : String(err) }, 'xDS listener could not bind one address');
        continue;
      }
      this.listeners.push(...servers);
      // Port 0: the other addresses take the port the first one got.
      bound = (servers[0]!.address() as net.AddressInfo).port;
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows the first bind error as it was caught
    if (this.listeners.length === 0) throw firstError ?? new Error(`no address to listen on for ${host}`);
    return bound;
  }

  /** Refuses new streams (UNAVAILABLE) while open ones go on being served: the first step of a hand-off. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Ends every stream, then shuts down gracefully for up to graceMs, then forcefully. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    // New connections are refused at once; those already accepted are grpc-js's to shut down.
    for (const listener of this.listeners.splice(0)) listener.close();
    for (const admission of this.admissions.splice(0)) admission.close();
    this.connections.close();
    clearInterval(this.timeoutSweep);
    this.unsubscribeCache();
    this.unsubscribeExpansion();
    this.routeScopes.close();
    for (const stream of [...this.streams.values()]) stream.endUnavailable('control plane shutting down; reconnect to another replica');
    this.csds.endAll();
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

  /** Adds an observer of every stream's events; the returned function removes it. */
  observe(observer: StreamObserver): () => void {
    return this.observers.add(observer);
  }

  /**
   * Follows the distinct dependency lists that connected clients declared: `added` when a list
   * gets its first client, `removed` when its last one goes. Called inside a stream's request
   * handling, so a listener must not call back into the server at once.
   */
  onDependencySets(listener: DependencySetListener): () => void {
    return this.dependencySetListeners.add(listener);
  }

  /**
   * Follows the distinct perspectives connected clients declared: `added` when one gets its
   * first stream, `removed` when its last one goes; a listener added late hears of those held
   * already. Called inside request handling, like onDependencySets: a listener that fills the
   * cache does it in a microtask, which ends before the client can answer its first response.
   */
  onPerspectives(listener: PerspectiveListener): () => void {
    const remove = this.perspectiveListeners.add(listener);
    for (const held of this.perspectives.held()) listener.added(held);
    return remove;
  }

  /** Stream ids subscribed to a resource, by name or wildcard. */
  subscribersOf(kind: ResourceKind, name: string): Iterable<string> {
    return this.index.subscribers(kind, name);
  }

  /** The node id an open stream's client sent, or undefined (no such stream, or no node yet). */
  nodeIdOf(streamId: string): string | undefined {
    return this.streams.get(streamId)?.node?.id;
  }

  clients(): ClientInfo[] {
    return [...this.streams.values()].map((stream) => stream.info());
  }

  private accept(spec: ApiSpec, call: ServerCall): void {
    if (this.closing || !this.accepting) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'control plane shutting down' });
      return;
    }
    const id = String(this.nextStreamId++);
    const adapter = spec.protocol === 'delta' ? deltaAdapter(this.context, spec) : sotwAdapter(this.context, spec);
    const stream = new ServedStream(this.context, id, spec, call, adapter);
    this.streams.set(id, stream);
    stream.start();
  }

  private onCacheChange(changes: ChangeSet): void {
    const touched = new Set<ServedStream>();
    for (const [kind, names] of changes) {
      this.index.forEachInterested(kind, names, (id, relevant) => {
        const stream = this.streams.get(id);
        if (stream && stream.markDirty(kind, relevant)) touched.add(stream);
      });
    }
    this.flushTouched(touched);
  }

  private flushTouched(touched: ReadonlySet<ServedStream>): void {
    // Marking is all that happens for a stream still waiting on an ACK: nobody waits on anybody.
    for (const stream of touched) {
      try {
        stream.flush();
      } catch (err) {
        this.logger.error({ err, what: 'flush', stream: stream.id }, 'xDS internal error');
      }
    }
  }
}
