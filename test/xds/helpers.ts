import * as grpc from '@grpc/grpc-js';
import type { WritePacerOptions } from '../../src/xds/transport/write-pacer.js';
import type protobuf from 'protobufjs';
import { Registry } from 'prom-client';
import type { AccessGuard } from '../../src/access/index.js';
import { ResourceCache } from '../../src/cache/index.js';
import { DrainTracker, type DrainResult } from '../../src/drains/index.js';
import { TYPE_URLS, type ResourceKind } from '../../src/model/index.js';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { HeraldMetrics, silentLogger, type Logger } from '../../src/telemetry/index.js';
import { type CsdsLimits, type ScopeExpansion, XdsServer, type XdsLimits } from '../../src/xds/index.js';

let shared: protobuf.Root | undefined;
export function protos(): protobuf.Root {
  return (shared ??= loadEnvoyProtos());
}

/** A serialized google.protobuf.Any holding a real Envoy resource whose content depends on `tag`. */
export function resourceAny(kind: ResourceKind, name: string, tag: string): Buffer {
  const root = protos();
  const Any = root.lookupType('google.protobuf.Any');
  let type: protobuf.Type;
  let body: Record<string, unknown>;
  switch (kind) {
    case 'cluster':
      type = root.lookupType('envoy.config.cluster.v3.Cluster');
      body = { name, type: 'EDS', alt_stat_name: tag, eds_cluster_config: { eds_config: { ads: {} } } };
      break;
    case 'endpoint':
      type = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
      body = {
        cluster_name: name,
        endpoints: [
          { locality: { zone: tag }, load_balancing_weight: { value: 1 }, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 8080 } } } }] },
        ],
      };
      break;
    case 'listener':
      type = root.lookupType('envoy.config.listener.v3.Listener');
      body = { name, stat_prefix: tag };
      break;
    case 'route':
      type = root.lookupType('envoy.config.route.v3.RouteConfiguration');
      body = { name, virtual_hosts: [{ name: tag, domains: ['*'] }] };
      break;
  }
  const value = type.encode(type.fromObject(body)).finish();
  return Buffer.from(Any.encode(Any.fromObject({ type_url: TYPE_URLS[kind], value })).finish());
}

export interface DecodedResource {
  name: string;
  /** The field that `tag` went into, to see which content arrived. */
  tag: string;
}

export interface Response {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: DecodedResource[];
  kind: ResourceKind;
}

function decodeResource(kind: ResourceKind, any: { value: Uint8Array }): DecodedResource {
  const root = protos();
  switch (kind) {
    case 'cluster': {
      const c = root.lookupType('envoy.config.cluster.v3.Cluster').decode(any.value) as unknown as { name: string; alt_stat_name: string };
      return { name: c.name, tag: c.alt_stat_name };
    }
    case 'endpoint': {
      const e = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment').decode(any.value) as unknown as { cluster_name: string; endpoints: Array<{ locality: { zone: string } }> };
      return { name: e.cluster_name, tag: e.endpoints[0]?.locality.zone ?? '' };
    }
    case 'listener': {
      const l = root.lookupType('envoy.config.listener.v3.Listener').decode(any.value) as unknown as { name: string; stat_prefix: string };
      return { name: l.name, tag: l.stat_prefix };
    }
    case 'route': {
      const r = root.lookupType('envoy.config.route.v3.RouteConfiguration').decode(any.value) as unknown as { name: string; virtual_hosts: Array<{ name: string }> };
      return { name: r.name, tag: r.virtual_hosts[0]?.name ?? '' };
    }
  }
}

const KIND_BY_URL = new Map<string, ResourceKind>(Object.entries(TYPE_URLS).map(([kind, url]) => [url, kind as ResourceKind]));

export interface RequestFields {
  version_info?: string;
  node?: Record<string, unknown>;
  resource_names?: string[];
  response_nonce?: string;
  error_detail?: { code: number; message: string };
  type_url?: string;
}

const PATHS = {
  ads: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
  cds: '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters',
  eds: '/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints',
  lds: '/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners',
  rds: '/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes',
} as const;

/** A raw xDS test client: sends DiscoveryRequests, queues decoded DiscoveryResponses. */
export class TestStream {
  readonly received: Response[] = [];
  status: grpc.StatusObject | undefined;
  private readonly call: grpc.ClientDuplexStream<Buffer, Response>;

  constructor(client: grpc.Client, api: keyof typeof PATHS = 'ads') {
    const Request = protos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const Resp = protos().lookupType('envoy.service.discovery.v3.DiscoveryResponse');
    this.call = client.makeBidiStreamRequest(
      PATHS[api],
      (b: Buffer) => b,
      (bytes: Buffer) => {
        const raw = Resp.toObject(Resp.decode(bytes), { defaults: true }) as { version_info: string; type_url: string; nonce: string; resources: Array<{ value: Uint8Array }> };
        const kind = KIND_BY_URL.get(raw.type_url)!;
        return { version_info: raw.version_info, type_url: raw.type_url, nonce: raw.nonce, kind, resources: raw.resources.map((r) => decodeResource(kind, r)) };
      },
    );
    this.call.on('data', (r: Response) => this.received.push(r));
    this.call.on('status', (s) => (this.status = s));
    this.call.on('error', () => undefined);
    this.request = (kind: ResourceKind, fields: RequestFields = {}) => {
      this.call.write(Buffer.from(Request.encode(Request.fromObject({ type_url: TYPE_URLS[kind], ...fields })).finish()));
    };
  }

  readonly request: (kind: ResourceKind, fields?: RequestFields) => void;

  writeRaw(bytes: Buffer): void {
    this.call.write(bytes);
  }

  ack(r: Response, names: string[] = []): void {
    this.request(r.kind, { version_info: r.version_info, response_nonce: r.nonce, resource_names: names });
  }

  nack(r: Response, names: string[] = [], version = ''): void {
    this.request(r.kind, { version_info: version, response_nonce: r.nonce, resource_names: names, error_detail: { code: 3, message: 'rejected by test' } });
  }

  /** The next response not yet taken, waiting up to timeoutMs. */
  async next(timeoutMs = 5_000): Promise<Response> {
    await until(() => this.received.length > 0, timeoutMs, 'a response');
    return this.received.shift()!;
  }

  /** Waits `ms` and asserts no response arrived. */
  async nothingFor(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.received.length > 0) throw new Error(`unexpected response: ${JSON.stringify(this.received[0])}`);
  }

  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Harness {
  cache: ResourceCache;
  server: XdsServer;
  metrics: HeraldMetrics;
  drains: DrainTracker;
  drainResults: DrainResult[];
  port: number;
  client(): grpc.Client;
  stream(api?: keyof typeof PATHS): TestStream;
  /** `onApplied` runs where the pipeline tracks drains: after the cache holds the update, before the fan-out. */
  put(kind: ResourceKind, name: string, tag: string, onApplied?: () => void): void;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    ready?: Promise<void>;
    maxConnectionAgeMs?: number;
    maxConnectionAgeGraceMs?: number;
    writePacing?: WritePacerOptions;
    grpcFastPath?: boolean;
    csdsLimits?: Partial<CsdsLimits>;
    csdsAccess?: AccessGuard;
    limits?: Partial<XdsLimits>;
    logger?: Logger;
    scopeExpansion?: ScopeExpansion;
    scopeLingerMs?: number;
  } = {},
): Promise<Harness> {
  const cache = new ResourceCache();
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  const drainResults: DrainResult[] = [];
  const server = new XdsServer({
    cache,
    protos: protos(),
    metrics,
    logger: options.logger ?? silentLogger(),
    ready: options.ready ?? Promise.resolve(),
    controlPlaneId: 'herald-test',
    maxConnectionAgeMs: options.maxConnectionAgeMs,
    maxConnectionAgeGraceMs: options.maxConnectionAgeGraceMs,
    ...(options.writePacing ? { writePacing: options.writePacing } : {}),
    ...(options.grpcFastPath !== undefined ? { grpcFastPath: options.grpcFastPath } : {}),
    ...(options.csdsLimits ? { csdsLimits: options.csdsLimits } : {}),
    ...(options.csdsAccess ? { csdsAccess: options.csdsAccess } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.scopeExpansion ? { scopeExpansion: options.scopeExpansion } : {}),
    ...(options.scopeLingerMs !== undefined ? { scopeLingerMs: options.scopeLingerMs } : {}),
  });
  const drains = new DrainTracker({
    clock: () => Date.now(),
    subscribersOf: (name) => server.subscribersOf('endpoint', name),
    onComplete: (result) => drainResults.push(result),
  });
  server.observe(drains);
  const port = await server.listen('127.0.0.1', 0);
  const clients: grpc.Client[] = [];
  const client = (): grpc.Client => {
    const c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  };
  return {
    cache,
    server,
    metrics,
    drains,
    drainResults,
    port,
    client,
    stream: (api = 'ads') => new TestStream(client(), api),
    put: (kind, name, tag, onApplied) => void cache.apply([{ kind, name, any: resourceAny(kind, name, tag) }], onApplied),
    close: async () => {
      for (const c of clients) c.close();
      drains.close();
      await server!.close(1_000);
    },
  };
}
