// A minimal Delta (incremental) xDS client that keeps every served google.protobuf.Any exactly as
// it came off the wire — DeltaDiscoveryResponse.resources[].resource, byte for byte — so the
// checker sees what an Envoy on a Delta stream would decode.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export const DELTA_ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
const identity = (b: Buffer) => b;

export interface RawDeltaResource {
  name: string;
  version: string;
  /** The serialized Any of Resource.resource, as served; empty when the field was absent. */
  any: Buffer;
}

export interface RawDeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  resources: RawDeltaResource[];
  removed: string[];
}

function splitResource(bytes: Uint8Array): RawDeltaResource {
  const reader = protobuf.Reader.create(bytes);
  const out: RawDeltaResource = { name: '', version: '', any: Buffer.alloc(0) };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) out.version = reader.string();
    else if (field === 2 && (tag & 7) === 2) out.any = Buffer.from(reader.bytes());
    else if (field === 3 && (tag & 7) === 2) out.name = reader.string();
    else reader.skipType(tag & 7);
  }
  return out;
}

/** Splits a DeltaDiscoveryResponse by hand so each resource keeps its served Any bytes. */
export function splitDeltaResponse(bytes: Uint8Array): RawDeltaResponse {
  const reader = protobuf.Reader.create(bytes);
  const out: RawDeltaResponse = { system_version_info: '', type_url: '', nonce: '', resources: [], removed: [] };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) out.system_version_info = reader.string();
    else if (field === 2 && (tag & 7) === 2) out.resources.push(splitResource(reader.bytes()));
    else if (field === 4 && (tag & 7) === 2) out.type_url = reader.string();
    else if (field === 5 && (tag & 7) === 2) out.nonce = reader.string();
    else if (field === 6 && (tag & 7) === 2) out.removed.push(reader.string());
    else reader.skipType(tag & 7);
  }
  return out;
}

export class RawDeltaClient {
  readonly responses: RawDeltaResponse[] = [];
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly request: protobuf.Type;
  private readonly listeners = new Set<() => void>();
  private sentNode = false;
  error: Error | undefined;

  constructor(
    root: protobuf.Root,
    address: string,
    private readonly nodeId: string,
    path: string = DELTA_ADS_PATH,
  ) {
    this.request = root.lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.enable_channelz': 0 });
    this.call = this.client.makeBidiStreamRequest(path, identity, identity);
    this.call.on('data', (bytes: Buffer) => {
      const response = splitDeltaResponse(bytes);
      this.responses.push(response);
      // ACK at once, as Envoy would after applying it.
      this.send({ type_url: response.type_url, response_nonce: response.nonce });
      for (const listener of this.listeners) listener();
    });
    this.call.on('error', (err: Error) => {
      this.error = err;
    });
  }

  /**
   * Adds names to the subscription of a type. The first request of a type with no names is a
   * wildcard subscription (the legacy Delta wildcard Envoy sends for CDS and LDS).
   */
  subscribe(typeUrl: string, names: string[]): void {
    this.send({ type_url: typeUrl, resource_names_subscribe: names });
  }

  /** Resources of a type, by name, as the client holds them after every response so far. */
  held(typeUrl: string): Map<string, RawDeltaResource> {
    const held = new Map<string, RawDeltaResource>();
    for (const r of this.responses) {
      if (r.type_url !== typeUrl) continue;
      for (const name of r.removed) held.delete(name);
      for (const resource of r.resources) held.set(resource.name, resource);
    }
    return held;
  }

  /** Waits (bounded) until `done` holds over the responses received so far. */
  waitFor(done: (responses: RawDeltaResponse[]) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (done(this.responses)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.responses)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} not met within ${timeoutMs} ms (${this.responses.length} delta responses; ${this.error?.message ?? 'no stream error'})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }

  private send(body: Record<string, unknown>): void {
    if (!this.sentNode) {
      body.node = { id: this.nodeId, cluster: 'interop', locality: { region: 'r1', zone: 'z1' }, user_agent_name: 'herald-interop-raw-delta' };
      this.sentNode = true;
    }
    this.call.write(Buffer.from(this.request.encode(this.request.fromObject(body)).finish()));
  }
}
