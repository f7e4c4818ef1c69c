// A minimal SotW ADS client that keeps every served google.protobuf.Any exactly as it came off
// the wire: the bytes an Envoy would decode, not a decode-and-re-encode of them.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const identity = (b: Buffer) => b;

export interface RawResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  /** Each element is one serialized Any, byte for byte as served. */
  resources: Buffer[];
}

/** Splits a DiscoveryResponse by hand so `resources` keep their served bytes. */
export function splitResponse(bytes: Uint8Array): RawResponse {
  const reader = protobuf.Reader.create(bytes);
  const out: RawResponse = { version_info: '', type_url: '', nonce: '', resources: [] };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) out.version_info = reader.string();
    else if (field === 2 && (tag & 7) === 2) out.resources.push(Buffer.from(reader.bytes()));
    else if (field === 4 && (tag & 7) === 2) out.type_url = reader.string();
    else if (field === 5 && (tag & 7) === 2) out.nonce = reader.string();
    else reader.skipType(tag & 7);
  }
  return out;
}

export class RawAdsClient {
  readonly responses: RawResponse[] = [];
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly request: protobuf.Type;
  private readonly listeners = new Set<() => void>();
  private readonly names = new Map<string, string[]>();
  private sentNode = false;
  error: Error | undefined;

  constructor(
    root: protobuf.Root,
    address: string,
    private readonly nodeId: string,
  ) {
    this.request = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.enable_channelz': 0 });
    this.call = this.client.makeBidiStreamRequest(ADS_PATH, identity, identity);
    this.call.on('data', (bytes: Buffer) => {
      const response = splitResponse(bytes);
      this.responses.push(response);
      // ACK at once, as Envoy would after applying it.
      this.send(response.type_url, this.names.get(response.type_url) ?? [], response.version_info, response.nonce);
      for (const listener of this.listeners) listener();
    });
    this.call.on('error', (err: Error) => {
      this.error = err;
    });
  }

  /** Subscribes to names of a type ([] = wildcard), replacing the previous subscription. */
  subscribe(typeUrl: string, names: string[]): void {
    this.names.set(typeUrl, names);
    const last = this.responses.findLast((r) => r.type_url === typeUrl);
    this.send(typeUrl, names, last?.version_info ?? '', last?.nonce ?? '');
  }

  /** Waits (bounded) until `done` holds over the responses received so far. */
  waitFor(done: (responses: RawResponse[]) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (done(this.responses)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.responses)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} not met within ${timeoutMs} ms (${this.responses.length} responses; ${this.error?.message ?? 'no stream error'})`));
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

  private send(typeUrl: string, names: string[], version: string, nonce: string): void {
    const body: Record<string, unknown> = { type_url: typeUrl, resource_names: names, version_info: version, response_nonce: nonce };
    if (!this.sentNode) {
      body.node = { id: this.nodeId, cluster: 'interop', locality: { region: 'r1', zone: 'z1' }, user_agent_name: 'herald-interop-raw' };
      this.sentNode = true;
    }
    this.call.write(Buffer.from(this.request.encode(this.request.fromObject(body)).finish()));
  }
}
