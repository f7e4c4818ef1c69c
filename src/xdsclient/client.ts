import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { DEPENDENCIES_METADATA, KUBE_CLUSTER_METADATA, TYPE_URLS, systemClock, type Clock } from '../model/index.js';
import { XdsCodec, backoffDelay, type Assignment, type DecodedResponse, type RequestInit } from './codec.js';
import { decodeRouteTable, matchVirtualHost, type RouteTable } from './routes.js';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
/** google.rpc.Code INVALID_ARGUMENT, what Envoy puts in error_detail when it rejects a config. */
const INVALID_ARGUMENT = 3;

export interface AdsClientOptions {
  /**
   * host:port of the ADS server, or several: each new stream goes to the next one in turn, like
   * Envoy's round robin over a STRICT_DNS cluster of Herald replicas, so a replica that ends its
   * streams hands its clients to the others.
   */
  target: string | readonly string[];
  nodeId: string;
  /** node.cluster (the service this simulated sidecar belongs to). */
  cluster?: string;
  zone?: string;
  region?: string;
  /** Node metadata herald.io/dependencies: the services this sidecar calls (its CDS scope); unset: the whole mesh. */
  dependencies?: readonly string[];
  /** Node metadata herald.io/kube-cluster: the kube cluster it runs in (its priorities); unset: the replica's --local-cluster. */
  kubeCluster?: string;
  /**
   * Node.client_features, e.g. `envoy.lb.does_not_support_overprovisioning` to be served as the
   * proxyless gRPC clients that announce it are (spilled priorities); unset: none, as Envoy.
   */
  clientFeatures?: readonly string[];
  /** RouteConfigurations to take over RDS, as a static listener with `rds` in the bootstrap does. */
  routeConfigs?: readonly string[];
  protos: protobuf.Root;
  credentials?: grpc.ChannelCredentials;
  /** Return an error message to NACK a response instead of applying it (tests). */
  nackIf?: (typeUrl: string, resources: Record<string, unknown>[]) => string | undefined;
  clock?: Clock;
  /** Reconnect backoff; defaults to 500 ms base, 5 s cap. */
  backoff?: { baseMs?: number; capMs?: number };
  random?: () => number;
  channelOptions?: grpc.ChannelOptions;
}

export interface AdsClientStats {
  streams: number;
  responses: number;
  acks: number;
  nacks: number;
  lastNack: { typeUrl: string; nonce: string; message: string } | undefined;
}

export interface AdsClientEvents {
  clusters: (names: string[]) => void;
  assignment: (name: string, assignment: Assignment, receivedAtMs: number) => void;
  nack: (typeUrl: string, message: string) => void;
  /** Stream failures; emitted only when someone listens, so a demo client cannot crash the process. */
  error: (err: Error) => void;
  /** A stream ended (gRPC status code and details); the client reconnects after a backoff. */
  streamEnd: (target: string, code: grpc.status, details: string) => void;
  /** Any state change; waitFor() re-checks on it. */
  change: () => void;
}

interface TypeState {
  /** Last version applied; kept across reconnects like Envoy does. */
  acked: string;
  /** Latest nonce seen on the current stream. */
  nonce: string;
  /** Whether a request for this type went out on the current stream. */
  requested: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- typed overloads of EventEmitter methods the class inherits
export interface AdsClient {
  on<K extends keyof AdsClientEvents>(event: K, listener: AdsClientEvents[K]): this;
  once<K extends keyof AdsClientEvents>(event: K, listener: AdsClientEvents[K]): this;
  off<K extends keyof AdsClientEvents>(event: K, listener: AdsClientEvents[K]): this;
  emit<K extends keyof AdsClientEvents>(event: K, ...args: Parameters<AdsClientEvents[K]>): boolean;
}

/**
 * A small SotW ADS client that behaves like an Envoy sidecar: wildcard CDS, EDS for exactly the
 * EDS clusters it holds, an ACK or NACK for every response, last ACKed versions and an empty
 * nonce after a reconnect. It keeps its last config while disconnected, as Envoy does.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class AdsClient extends EventEmitter {
  private readonly options: AdsClientOptions;
  private readonly codec: XdsCodec;
  private readonly clock: Clock;
  private readonly targets: readonly string[];
  /** One channel per target, made on first use. */
  private readonly channels = new Map<string, grpc.Client>();
  private targetIndex = 0;
  private streamTarget: string | undefined;
  private readonly cds: TypeState = { acked: '', nonce: '', requested: false };
  private readonly eds: TypeState = { acked: '', nonce: '', requested: false };
  private readonly rds: TypeState = { acked: '', nonce: '', requested: false };
  private readonly routeTables = new Map<string, RouteTable>();
  private readonly routeType: protobuf.Type;
  private clusterNames: string[] = [];
  /** EDS names currently subscribed, sorted. */
  private edsNames: string[] = [];
  private readonly assignments = new Map<string, Assignment>();
  private call: grpc.ClientDuplexStream<RequestInit, DecodedResponse> | undefined;
  private firstOnStream = true;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private readonly counters: AdsClientStats = { streams: 0, responses: 0, acks: 0, nacks: 0, lastNack: undefined };

  constructor(options: AdsClientOptions) {
    super();
    // Each pending waitFor() holds a 'change' listener; a demo may have many at once.
    this.setMaxListeners(64);
    this.options = options;
    this.codec = new XdsCodec(options.protos);
    this.routeType = options.protos.lookupType('envoy.config.route.v3.RouteConfiguration');
    this.clock = options.clock ?? systemClock;
    this.targets = typeof options.target === 'string' ? [options.target] : [...options.target];
    if (this.targets.length === 0) throw new Error('AdsClient needs at least one target');
  }

  /** Opens the stream; idempotent. */
  start(): this {
    if (this.started || this.closed) return this;
    this.started = true;
    this.openStream();
    return this;
  }

  /** Stops the stream and any pending reconnect; the client cannot be restarted. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    for (const channel of this.channels.values()) channel.close();
    this.emit('change');
    return Promise.resolve();
  }

  /** Cluster names from the last accepted CDS response, in the order received. */
  clusters(): string[] {
    return [...this.clusterNames];
  }

  /** EDS names the client is subscribed to, sorted. */
  subscriptions(): string[] {
    return [...this.edsNames];
  }

  assignment(name: string): Assignment | undefined {
    return this.assignments.get(name);
  }

  /** A RouteConfiguration taken over RDS (see routeConfigs). */
  routes(name: string): RouteTable | undefined {
    return this.routeTables.get(name);
  }

  /** The cluster a request with this Host would go to through the named RouteConfiguration, as Envoy picks it. */
  routeFor(routeConfig: string, host: string): string | undefined {
    const table = this.routeTables.get(routeConfig);
    return table && matchVirtualHost(table, host)?.cluster;
  }

  ackedVersion(typeUrl: string): string | undefined {
    if (typeUrl === TYPE_URLS.cluster) return this.cds.acked;
    if (typeUrl === TYPE_URLS.endpoint) return this.eds.acked;
    return undefined;
  }

  get connected(): boolean {
    return this.call !== undefined;
  }

  /** The server the current stream goes to; undefined while disconnected. */
  get currentTarget(): string | undefined {
    return this.call === undefined ? undefined : this.streamTarget;
  }

  stats(): AdsClientStats {
    return { ...this.counters };
  }

  /** Resolves once `predicate(this)` holds; rejects after timeoutMs or when the client is closed. */
  waitFor(predicate: (client: AdsClient) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let ok: boolean;
        try {
          ok = predicate(this);
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (ok) finish(undefined);
        else if (this.closed) finish(new Error(`AdsClient ${this.options.nodeId} closed while waiting`));
      };
      const finish = (err: Error | undefined): void => {
        clearTimeout(timer);
        this.off('change', check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        finish(new Error(`AdsClient ${this.options.nodeId}: condition not met within ${timeoutMs} ms (clusters: ${this.clusterNames.join(',') || 'none'})`));
      }, timeoutMs);
      this.on('change', check);
      check();
    });
  }

  private channel(target: string): grpc.Client {
    let channel = this.channels.get(target);
    if (!channel) {
      channel = new grpc.Client(target, this.options.credentials ?? grpc.credentials.createInsecure(), {
        'grpc.enable_channelz': 0,
        ...this.options.channelOptions,
      });
      this.channels.set(target, channel);
    }
    return channel;
  }

  private openStream(): void {
    const target = this.targets[this.targetIndex % this.targets.length]!;
    this.targetIndex = (this.targetIndex + 1) % this.targets.length;
    this.streamTarget = target;
    const call = this.channel(target).makeBidiStreamRequest<RequestInit, DecodedResponse>(
      ADS_PATH,
      (req) => this.codec.encodeRequest(req),
      (bytes) => this.codec.decodeResponse(bytes),
    );
    this.call = call;
    this.counters.streams++;
    this.firstOnStream = true;
    this.cds.nonce = '';
    this.eds.nonce = '';
    this.cds.requested = false;
    this.eds.requested = false;
    this.rds.nonce = '';
    this.rds.requested = false;
    call.on('data', (res: DecodedResponse) => {
      if (call !== this.call) return;
      this.attempt = 0;
      this.onResponse(res);
    });
    call.on('error', (err: Error) => {
      if (call !== this.call || this.closed) return;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    call.on('status', (status: grpc.StatusObject) => {
      if (call !== this.call) return;
      this.call = undefined;
      this.emit('streamEnd', target, status.code, status.details);
      this.emit('change');
      this.scheduleReconnect();
    });
    this.send(this.cds, { type_url: TYPE_URLS.cluster, version_info: this.cds.acked, response_nonce: '', resource_names: [] });
    // After a reconnect, re-subscribe what we hold so the server can answer at once.
    if (this.edsNames.length > 0) this.sendEdsRequest();
    if (this.options.routeConfigs?.length) this.sendRdsRequest();
    this.emit('change');
  }

  private sendRdsRequest(errorDetail?: string): void {
    const req: RequestInit = { type_url: TYPE_URLS.route, version_info: this.rds.acked, response_nonce: this.rds.nonce, resource_names: [...(this.options.routeConfigs ?? [])] };
    if (errorDetail !== undefined) req.error_detail = { code: INVALID_ARGUMENT, message: errorDetail };
    this.send(this.rds, req);
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = backoffDelay(this.attempt++, this.options.backoff?.baseMs ?? 500, this.options.backoff?.capMs ?? 5000, this.options.random ?? Math.random);
    this.reconnectTimer = setTimeout(() => {
      if (!this.closed) this.openStream();
    }, delay);
  }

  /** The Node metadata the options declare, as a Struct; nothing when they declare none. */
  private nodeMetadata(): { metadata?: { fields: Record<string, unknown> } } {
    const fields: Record<string, unknown> = {};
    if (this.options.dependencies) fields[DEPENDENCIES_METADATA] = { listValue: { values: this.options.dependencies.map((name) => ({ stringValue: name })) } };
    if (this.options.kubeCluster !== undefined) fields[KUBE_CLUSTER_METADATA] = { stringValue: this.options.kubeCluster };
    return Object.keys(fields).length === 0 ? {} : { metadata: { fields } };
  }

  private send(state: TypeState, req: RequestInit): void {
    if (!this.call) return;
    if (this.firstOnStream) {
      req.node = {
        id: this.options.nodeId,
        cluster: this.options.cluster ?? '',
        locality: { region: this.options.region ?? '', zone: this.options.zone ?? '' },
        user_agent_name: 'herald-xdsclient',
        ...(this.options.clientFeatures ? { client_features: [...this.options.clientFeatures] } : {}),
        ...this.nodeMetadata(),
      };
      this.firstOnStream = false;
    }
    state.requested = true;
    this.call.write(req);
  }

  private sendEdsRequest(errorDetail?: string): void {
    const req: RequestInit = {
      type_url: TYPE_URLS.endpoint,
      version_info: this.eds.acked,
      response_nonce: this.eds.nonce,
      resource_names: [...this.edsNames],
    };
    if (errorDetail !== undefined) req.error_detail = { code: INVALID_ARGUMENT, message: errorDetail };
    this.send(this.eds, req);
  }

  private onResponse(res: DecodedResponse): void {
    this.counters.responses++;
    if (res.type_url === TYPE_URLS.cluster) this.onClusters(res);
    else if (res.type_url === TYPE_URLS.endpoint) this.onAssignments(res);
    else if (res.type_url === TYPE_URLS.route && this.options.routeConfigs?.length) this.onRoutes(res);
    // Other types were never requested; like Envoy, say nothing about them.
    this.emit('change');
  }

  private rejection(res: DecodedResponse): string | undefined {
    if (!this.options.nackIf) return undefined;
    return this.options.nackIf(
      res.type_url,
      res.resources.map((r) => this.codec.toPlain(r)),
    );
  }

  private onClusters(res: DecodedResponse): void {
    this.cds.nonce = res.nonce;
    let infos;
    try {
      infos = res.resources.map((r) => this.codec.decodeCluster(r));
      const reason = this.rejection(res);
      if (reason !== undefined) throw new Error(reason);
    } catch (err) {
      this.nack(this.cds, res, (err as Error).message);
      return;
    }
    this.cds.acked = res.version_info;
    this.clusterNames = infos.map((c) => c.name);
    const names = [...new Set(infos.flatMap((c) => (c.edsName === undefined ? [] : [c.edsName])))].sort();
    for (const name of this.assignments.keys()) if (!names.includes(name)) this.assignments.delete(name);
    const changed = names.length !== this.edsNames.length || names.some((n, i) => n !== this.edsNames[i]);
    this.edsNames = names;
    // Like Envoy, the EDS subscription update goes out before the CDS ACK. An empty list is
    // only sent to unsubscribe: as a first request it would mean "wildcard".
    if (changed && (names.length > 0 || this.eds.requested)) this.sendEdsRequest();
    this.counters.acks++;
    this.send(this.cds, { type_url: TYPE_URLS.cluster, version_info: res.version_info, response_nonce: res.nonce, resource_names: [] });
    this.emit('clusters', this.clusters());
  }

  private onAssignments(res: DecodedResponse): void {
    this.eds.nonce = res.nonce;
    const receivedAtMs = this.clock();
    let decoded: Assignment[];
    try {
      decoded = res.resources.map((r) => this.codec.decodeAssignment(r));
      const reason = this.rejection(res);
      if (reason !== undefined) throw new Error(reason);
    } catch (err) {
      this.nack(this.eds, res, (err as Error).message);
      return;
    }
    this.eds.acked = res.version_info;
    const updated: Assignment[] = [];
    for (const a of decoded) {
      // An assignment nobody subscribed to is ignored, as Envoy does.
      if (!this.edsNames.includes(a.cluster)) continue;
      this.assignments.set(a.cluster, a);
      updated.push(a);
    }
    this.counters.acks++;
    this.sendEdsRequest();
    for (const a of updated) this.emit('assignment', a.cluster, a, receivedAtMs);
  }

  private onRoutes(res: DecodedResponse): void {
    this.rds.nonce = res.nonce;
    let tables: RouteTable[];
    try {
      tables = res.resources.map((r) => decodeRouteTable(this.routeType, r));
      const reason = this.rejection(res);
      if (reason !== undefined) throw new Error(reason);
    } catch (err) {
      this.nack(this.rds, res, (err as Error).message);
      return;
    }
    this.rds.acked = res.version_info;
    // RDS is changed-only in SotW: what a response leaves out stays as it was.
    for (const table of tables) if (this.options.routeConfigs?.includes(table.name)) this.routeTables.set(table.name, table);
    this.counters.acks++;
    this.sendRdsRequest();
  }

  private nack(state: TypeState, res: DecodedResponse, message: string): void {
    this.counters.nacks++;
    this.counters.lastNack = { typeUrl: res.type_url, nonce: res.nonce, message };
    if (state === this.eds) this.sendEdsRequest(message);
    else if (state === this.rds) this.sendRdsRequest(message);
    else {
      this.send(state, {
        type_url: res.type_url,
        version_info: state.acked,
        response_nonce: res.nonce,
        resource_names: [],
        error_detail: { code: INVALID_ARGUMENT, message },
      });
    }
    this.emit('nack', res.type_url, message);
  }
}
