import type * as grpc from '@grpc/grpc-js';
import { TYPE_URLS, type ResourceKind } from '../../src/model/index.js';
import { protos, until, type DecodedResource } from './helpers.js';

const KIND_BY_URL = new Map<string, ResourceKind>(Object.entries(TYPE_URLS).map(([kind, url]) => [url, kind as ResourceKind]));

export const DELTA_PATHS = {
  ads: '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
  cds: '/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters',
  eds: '/envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints',
  lds: '/envoy.service.listener.v3.ListenerDiscoveryService/DeltaListeners',
  rds: '/envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes',
} as const;

export interface DeltaResource extends DecodedResource {
  /** Resource.version: the per-resource version. */
  version: string;
}

export interface DeltaResponse {
  kind: ResourceKind;
  system_version_info: string;
  nonce: string;
  resources: DeltaResource[];
  removed: string[];
}

export interface DeltaFields {
  node?: Record<string, unknown>;
  subscribe?: string[];
  unsubscribe?: string[];
  initial?: Record<string, string>;
  nonce?: string;
  error?: { code: number; message: string };
  type_url?: string;
}

/** Tag field of each test resource (see resourceAny in helpers.ts). */
function decodeTagged(kind: ResourceKind, value: Uint8Array): DecodedResource {
  const root = protos();
  switch (kind) {
    case 'cluster': {
      const c = root.lookupType('envoy.config.cluster.v3.Cluster').decode(value) as unknown as { name: string; alt_stat_name: string };
      return { name: c.name, tag: c.alt_stat_name };
    }
    case 'endpoint': {
      const e = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment').decode(value) as unknown as { cluster_name: string; endpoints: Array<{ locality: { zone: string } }> };
      return { name: e.cluster_name, tag: e.endpoints[0]?.locality.zone ?? '' };
    }
    case 'listener': {
      const l = root.lookupType('envoy.config.listener.v3.Listener').decode(value) as unknown as { name: string; stat_prefix: string };
      return { name: l.name, tag: l.stat_prefix };
    }
    case 'route': {
      const r = root.lookupType('envoy.config.route.v3.RouteConfiguration').decode(value) as unknown as { name: string; virtual_hosts: Array<{ name: string }> };
      return { name: r.name, tag: r.virtual_hosts[0]?.name ?? '' };
    }
  }
}

/** A raw Delta xDS test client: sends DeltaDiscoveryRequests, queues decoded DeltaDiscoveryResponses. */
export class DeltaTestStream {
  readonly received: DeltaResponse[] = [];
  status: grpc.StatusObject | undefined;
  private readonly call: grpc.ClientDuplexStream<Buffer, DeltaResponse>;

  constructor(client: grpc.Client, api: keyof typeof DELTA_PATHS = 'ads') {
    const Resp = protos().lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
    this.call = client.makeBidiStreamRequest(
      DELTA_PATHS[api],
      (b: Buffer) => b,
      (bytes: Buffer) => {
        const raw = Resp.toObject(Resp.decode(bytes), { defaults: true }) as {
          system_version_info: string;
          type_url: string;
          nonce: string;
          removed_resources: string[];
          resources: Array<{ name: string; version: string; resource: { type_url: string; value: Uint8Array } }>;
        };
        const kind = KIND_BY_URL.get(raw.type_url)!;
        return {
          kind,
          system_version_info: raw.system_version_info,
          nonce: raw.nonce,
          removed: raw.removed_resources,
          resources: raw.resources.map((r) => {
            const decoded = decodeTagged(kind, r.resource.value);
            if (decoded.name !== r.name) throw new Error(`Resource.name ${r.name} != resource name ${decoded.name}`);
            return { ...decoded, version: r.version };
          }),
        };
      },
    );
    this.call.on('data', (r: DeltaResponse) => this.received.push(r));
    this.call.on('status', (s) => (this.status = s));
    this.call.on('error', () => undefined);
  }

  request(kind: ResourceKind, fields: DeltaFields = {}): void {
    const Request = protos().lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    const message = Request.fromObject({
      type_url: fields.type_url ?? TYPE_URLS[kind],
      node: fields.node,
      resource_names_subscribe: fields.subscribe ?? [],
      resource_names_unsubscribe: fields.unsubscribe ?? [],
      initial_resource_versions: fields.initial ?? {},
      response_nonce: fields.nonce ?? '',
      error_detail: fields.error,
    });
    this.call.write(Buffer.from(Request.encode(message).finish()));
  }

  ack(r: DeltaResponse, fields: DeltaFields = {}): void {
    this.request(r.kind, { nonce: r.nonce, ...fields });
  }

  nack(r: DeltaResponse, message = 'rejected by test'): void {
    this.request(r.kind, { nonce: r.nonce, error: { code: 3, message } });
  }

  writeRaw(bytes: Buffer): void {
    this.call.write(bytes);
  }

  async next(timeoutMs = 5_000): Promise<DeltaResponse> {
    await until(() => this.received.length > 0, timeoutMs, 'a delta response');
    return this.received.shift()!;
  }

  async nothingFor(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.received.length > 0) throw new Error(`unexpected response: ${JSON.stringify(this.received[0])}`);
  }

  cancel(): void {
    this.call.cancel();
  }

  end(): void {
    this.call.end();
  }
}
