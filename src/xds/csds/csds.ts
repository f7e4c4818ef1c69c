// envoy.service.status.v3.ClientStatusDiscoveryService: what each connected xDS client was
// sent, ACKed and NACKed, per resource — the data behind `herald status`. Answers are built
// on demand with protobufjs: this is a diagnostic path, not the xDS hot path. Anyone who
// reaches the xDS port can call it: node_matchers are bounded and run on RE2 (node-filter.ts).
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { TYPE_URLS } from '../../model/index.js';
import type { HeraldMetrics, Logger } from '../../telemetry/index.js';
import type { ResourceStatus } from '../bookkeeping/index.js';
import type { ObservedStream, StreamObserver } from '../transport/index.js';
import { csdsLimits, type CsdsLimits } from './limits.js';
import { nodeFilter, type RawStatusRequest } from './node-filter.js';
import { RequestError } from './request-error.js';

const SERVICE = 'envoy.service.status.v3.ClientStatusDiscoveryService';

/** What CSDS reads of a stream. */
export type CsdsStream = Pick<ObservedStream, 'id' | 'node' | 'nodeBytes' | 'resourceStatuses'>;

export interface CsdsOptions {
  logger: Logger;
  /** Refused requests count in herald_xds_rejected_requests_total{reason="csds_…"}. */
  metrics: HeraldMetrics;
  /** Overrides of DEFAULT_CSDS_LIMITS. */
  limits?: Partial<CsdsLimits>;
}

const timestamp = (ms: number): { seconds: number; nanos: number } => {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.floor((ms - seconds * 1000) * 1e6) };
};

function genericConfig(status: ResourceStatus): Record<string, unknown> {
  const config: Record<string, unknown> = {
    type_url: TYPE_URLS[status.kind],
    name: status.name,
    version_info: status.version,
    last_updated: timestamp(status.updatedAtMs),
    config_status: status.configStatus,
    client_status: status.clientStatus,
  };
  if (status.error) {
    config.error_state = { details: status.error.details, version_info: status.error.version, last_update_attempt: timestamp(status.error.atMs) };
  }
  return config;
}

/** Builds the serialized ClientStatusResponse for a decoded request. */
/** Builds ClientStatusResponses over the streams `streams()` yields (the open ones). */
export function makeStatusResponder(root: protobuf.Root, streams: () => Iterable<CsdsStream>, limits: CsdsLimits): (request: RawStatusRequest) => Buffer {
  const Response = root.lookupType('envoy.service.status.v3.ClientStatusResponse');
  const Node = root.lookupType('envoy.config.core.v3.Node');
  return (request) => {
    const selects = nodeFilter(request, limits);
    const configs: Record<string, unknown>[] = [];
    for (const stream of streams()) {
      if (!selects(stream.node?.id ?? '')) continue;
      const config: Record<string, unknown> = { generic_xds_configs: Array.from(stream.resourceStatuses(), genericConfig) };
      // The Node as the client sent it; a stream that has not spoken yet has none.
      const node = stream.nodeBytes();
      if (node) config.node = Node.decode(node);
      configs.push(config);
    }
    return Buffer.from(Response.encode(Response.fromObject({ config: configs })).finish());
  };
}

export function csdsServiceDefinition(root: protobuf.Root): grpc.ServiceDefinition {
  const Request = root.lookupType('envoy.service.status.v3.ClientStatusRequest');
  const decode = (bytes: Buffer): RawStatusRequest | { undecodable: string } => {
    try {
      return Request.decode(bytes) as unknown as RawStatusRequest;
    } catch (err) {
      return { undecodable: err instanceof Error ? err.message : String(err) };
    }
  };
  const identity = (value: Buffer): Buffer => value;
  const method = (name: string, streaming: boolean) => ({
    path: `/${SERVICE}/${name}`,
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: identity,
    requestDeserialize: decode,
    responseSerialize: identity,
    responseDeserialize: identity,
  });
  return { FetchClientStatus: method('FetchClientStatus', false), StreamClientStatus: method('StreamClientStatus', true) };
}

export interface CsdsService {
  handlers: grpc.UntypedServiceImplementation;
  /** Keeps the set of open streams CSDS reports on. */
  observer: StreamObserver;
  /** Ends open StreamClientStatus calls, so a watching `herald status` does not hold up shutdown. */
  endAll(): void;
}

export function csdsService(root: protobuf.Root, options: CsdsOptions): CsdsService {
  const open = new Set<grpc.ServerDuplexStream<RawStatusRequest, Buffer>>();
  const streams = new Map<string, CsdsStream>();
  const observer: StreamObserver = {
    opened: (stream) => void streams.set(stream.id, stream),
    closed: (stream) => void streams.delete(stream.id),
  };
  const respond = makeStatusResponder(root, () => streams.values(), csdsLimits(options.limits));
  const answer = (request: RawStatusRequest | { undecodable: string }): Buffer => {
    if ('undecodable' in request) throw new RequestError(grpc.status.INVALID_ARGUMENT, `undecodable ClientStatusRequest: ${request.undecodable}`, 'csds_undecodable');
    return respond(request);
  };
  const asStatus = (err: unknown): Partial<grpc.StatusObject> => {
    if (err instanceof RequestError) {
      options.metrics.xdsRejectedRequests.inc({ reason: err.reason });
      return { code: err.code, details: err.message };
    }
    options.logger.error({ err }, 'CSDS request failed');
    return { code: grpc.status.INTERNAL, details: 'control plane failed to build the client status' };
  };
  const handlers: grpc.UntypedServiceImplementation = {
    FetchClientStatus: (call: grpc.ServerUnaryCall<RawStatusRequest, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      try {
        callback(null, answer(call.request));
      } catch (err) {
        callback(asStatus(err) as grpc.ServiceError, null);
      }
    },
    StreamClientStatus: (call: grpc.ServerDuplexStream<RawStatusRequest, Buffer>) => {
      open.add(call);
      const done = (): void => void open.delete(call);
      call.on('data', (request: RawStatusRequest) => {
        try {
          call.write(answer(request));
        } catch (err) {
          done();
          call.emit('error', asStatus(err));
        }
      });
      call.on('end', () => {
        done();
        call.end();
      });
      call.on('cancelled', done);
      call.on('close', done);
      call.on('error', done);
    },
  };
  return {
    handlers,
    observer,
    endAll: () => {
      for (const call of [...open]) {
        open.delete(call);
        try {
          call.end();
        } catch {
          // Already finished.
        }
      }
    },
  };
}
