// The Envoy-shaped client over incremental (Delta) ADS: CDS wildcard, then an EDS subscription
// for each cluster it learns, every response ACKed by nonce, removals applied, all recorded.
import * as grpc from '@grpc/grpc-js';
import { CDS_URL, EDS_URL, decodeAny, protos, type DecodedAssignment, type DecodedCluster, type RawAny } from './envoy-like.js';

export const DELTA_ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';

export interface DeltaRequestFields {
  node?: Record<string, unknown>;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
}

export interface RecordedDeltaResponse {
  typeUrl: string;
  nonce: string;
  systemVersion: string;
  resources: Array<{ name: string; version: string; cluster?: DecodedCluster; assignment?: DecodedAssignment }>;
  removed: string[];
}

export function encodeDeltaRequest(fields: DeltaRequestFields): Buffer {
  const type = protos().lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  return Buffer.from(type.encode(type.fromObject(fields)).finish());
}

export function decodeDeltaResponse(bytes: Buffer): RecordedDeltaResponse {
  const type = protos().lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const raw = type.toObject(type.decode(bytes), { defaults: true, longs: Number }) as {
    system_version_info: string;
    type_url: string;
    nonce: string;
    removed_resources: string[];
    resources: Array<{ name: string; version: string; resource?: RawAny | null }>;
  };
  return {
    typeUrl: raw.type_url,
    nonce: raw.nonce,
    systemVersion: raw.system_version_info,
    removed: raw.removed_resources,
    resources: raw.resources.map((r) => {
      const decoded = r.resource ? decodeAny(r.resource) : { name: r.name };
      return { name: r.name, version: r.version, cluster: decoded.cluster, assignment: decoded.assignment };
    }),
  };
}

/** A well-behaved Delta Envoy on its own connection. */
export class DeltaEnvoyLike {
  readonly responses: RecordedDeltaResponse[] = [];
  readonly clusters = new Map<string, DecodedCluster>();
  readonly assignments = new Map<string, DecodedAssignment>();
  /** Per-resource versions held, as a reconnect would report them in initial_resource_versions. */
  readonly versions = { cds: new Map<string, string>(), eds: new Map<string, string>() };
  status: grpc.StatusObject | undefined;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly subscribedEds = new Set<string>();

  private initialEds: Record<string, string> | undefined;

  /** `held`: per-resource versions from an earlier stream, sent as a reconnecting Envoy does. */
  constructor(
    address: string,
    readonly nodeId: string,
    held?: { cds: Record<string, string>; eds: Record<string, string> },
    /** Record responses only; the test sends every request itself with send(). */
    private readonly manual = false,
  ) {
    this.initialEds = held?.eds;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0 });
    this.call = this.client.makeBidiStreamRequest(
      DELTA_ADS_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.call.on('data', (bytes: Buffer) => this.onResponse(decodeDeltaResponse(bytes)));
    this.call.on('status', (status: grpc.StatusObject) => (this.status = status));
    this.call.on('error', () => undefined);
    if (manual) return;
    // Wildcard CDS: the first request names nothing.
    this.send({
      node: { id: nodeId, cluster: 'conformance', user_agent_name: 'envoy-like-delta' },
      type_url: CDS_URL,
      ...(held ? { initial_resource_versions: held.cds } : {}),
    });
    if (held) {
      // A reconnecting Envoy still has its clusters, so it asks for their assignments at once.
      for (const [name, version] of Object.entries(held.cds)) {
        this.clusters.set(name, { name, edsName: name });
        this.versions.cds.set(name, version);
      }
      const names = Object.keys(held.eds).sort();
      for (const name of names) this.subscribedEds.add(name);
      this.initialEds = undefined;
      this.send({ type_url: EDS_URL, resource_names_subscribe: names, initial_resource_versions: held.eds });
    }
  }

  send(fields: DeltaRequestFields): void {
    this.call.write(encodeDeltaRequest(fields));
  }

  writeRaw(bytes: Buffer): void {
    this.call.write(bytes);
  }

  private onResponse(response: RecordedDeltaResponse): void {
    this.responses.push(response);
    if (this.manual) return;
    const cds = response.typeUrl === CDS_URL;
    for (const resource of response.resources) {
      if (cds && resource.cluster) {
        this.clusters.set(resource.name, resource.cluster);
        this.versions.cds.set(resource.name, resource.version);
      } else if (!cds && resource.assignment) {
        this.assignments.set(resource.name, resource.assignment);
        this.versions.eds.set(resource.name, resource.version);
      }
    }
    for (const name of response.removed) {
      if (cds) {
        this.clusters.delete(name);
        this.versions.cds.delete(name);
      } else {
        this.assignments.delete(name);
        this.versions.eds.delete(name);
      }
    }
    this.send({ type_url: response.typeUrl, response_nonce: response.nonce });
    if (!cds) return;
    // After the CDS ACK, (un)subscribe the assignments of exactly the clusters it now has.
    const wanted = new Set([...this.clusters.values()].map((c) => c.edsName));
    const subscribe = [...wanted].filter((name) => !this.subscribedEds.has(name)).sort();
    const unsubscribe = [...this.subscribedEds].filter((name) => !wanted.has(name)).sort();
    if (subscribe.length === 0 && unsubscribe.length === 0) return;
    for (const name of subscribe) this.subscribedEds.add(name);
    for (const name of unsubscribe) {
      this.subscribedEds.delete(name);
      this.assignments.delete(name);
    }
    // initial_resource_versions go on the first request of the type only.
    const initial = this.initialEds;
    this.initialEds = undefined;
    this.send({ type_url: EDS_URL, resource_names_subscribe: subscribe, resource_names_unsubscribe: unsubscribe, ...(initial ? { initial_resource_versions: initial } : {}) });
  }

  healthOf(edsName: string, ip: string): string | undefined {
    return this.assignments.get(edsName)?.endpoints.find((e) => e.address === ip)?.health;
  }

  responsesOf(typeUrl: string): RecordedDeltaResponse[] {
    return this.responses.filter((r) => r.typeUrl === typeUrl);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
