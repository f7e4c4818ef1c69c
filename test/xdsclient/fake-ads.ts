// A tiny ADS server for tests: records every request per stream and lets the test answer by hand.
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { XdsCodec, type AnyResource, type DecodedResponse, type RequestInit } from '../../src/xdsclient/index.js';
import { TYPE_URLS } from '../../src/model/index.js';

export class FakeStream {
  readonly requests: RequestInit[] = [];
  private readonly waiting: ((r: RequestInit) => void)[] = [];
  private read = 0;
  cancelled = false;

  constructor(readonly call: grpc.ServerDuplexStream<RequestInit, DecodedResponse>) {
    call.on('data', (req: RequestInit) => {
      this.requests.push(req);
      this.waiting.shift()?.(req);
    });
    call.on('cancelled', () => {
      this.cancelled = true;
    });
    call.on('error', () => undefined);
  }

  /** The next request not yet consumed by this method, waiting up to timeoutMs for it. */
  next(timeoutMs = 5000): Promise<RequestInit> {
    if (this.read < this.requests.length) return Promise.resolve(this.requests[this.read++]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no request within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        this.read++;
        resolve(r);
      });
    });
  }

  send(typeUrl: string, version: string, nonce: string, resources: AnyResource[]): void {
    this.call.write({ type_url: typeUrl, version_info: version, nonce, resources });
  }
}

export class FakeAds {
  readonly codec: XdsCodec;
  readonly streams: FakeStream[] = [];
  private readonly server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  private readonly waiting: ((s: FakeStream) => void)[] = [];
  private taken = 0;
  port = 0;

  constructor(private readonly root: protobuf.Root) {
    this.codec = new XdsCodec(root);
    const codec = this.codec;
    this.server.addService(
      {
        StreamAggregatedResources: {
          path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
          requestStream: true,
          responseStream: true,
          requestSerialize: (r: RequestInit) => codec.encodeRequest(r),
          requestDeserialize: (b: Buffer) => codec.decodeRequest(b),
          responseSerialize: (r: DecodedResponse) => codec.encodeResponse(r),
          responseDeserialize: (b: Buffer) => codec.decodeResponse(b),
        },
      },
      {
        StreamAggregatedResources: (call: grpc.ServerDuplexStream<RequestInit, DecodedResponse>) => {
          const s = new FakeStream(call);
          this.streams.push(s);
          this.waiting.shift()?.(s);
        },
      },
    );
  }

  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) return reject(err);
        this.port = port;
        resolve(port);
      });
    });
  }

  /** The next stream not yet consumed by this method. */
  nextStream(timeoutMs = 5000): Promise<FakeStream> {
    if (this.taken < this.streams.length) return Promise.resolve(this.streams[this.taken++]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no stream within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((s) => {
        clearTimeout(timer);
        this.taken++;
        resolve(s);
      });
    });
  }

  stop(): void {
    for (const s of this.streams) s.call.end();
    this.server.forceShutdown();
  }

  cluster(name: string, opts: { serviceName?: string; type?: string } = {}): AnyResource {
    const type = this.root.lookupType('envoy.config.cluster.v3.Cluster');
    const obj: Record<string, unknown> = { name, type: opts.type ?? 'EDS' };
    if ((opts.type ?? 'EDS') === 'EDS') obj.eds_cluster_config = { eds_config: { ads: {} }, service_name: opts.serviceName ?? '' };
    return { type_url: TYPE_URLS.cluster, value: type.encode(type.fromObject(obj)).finish() };
  }

  assignment(obj: Record<string, unknown>): AnyResource {
    const type = this.root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
    return { type_url: TYPE_URLS.endpoint, value: type.encode(type.fromObject(obj)).finish() };
  }
}

export function endpoint(address: string, port: number, health: string): Record<string, unknown> {
  return { endpoint: { address: { socket_address: { address, port_value: port } } }, health_status: health };
}
