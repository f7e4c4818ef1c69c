// envoy.service.status.v3.ClientStatusDiscoveryService: what each connected xDS client was
// sent, ACKed and NACKed, per resource — the data behind `herald status`. Answers are built
// on demand with protobufjs: this is a diagnostic path, not the xDS hot path.
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { TYPE_URLS } from '../../model/index.js';
import type { Logger } from '../../telemetry/index.js';
import type { ResourceStatus } from '../bookkeeping/index.js';
import type { ObservedStream, StreamObserver } from '../transport/index.js';

const SERVICE = 'envoy.service.status.v3.ClientStatusDiscoveryService';

/** What CSDS reads of a stream. */
export type CsdsStream = Pick<ObservedStream, 'id' | 'node' | 'nodeBytes' | 'resourceStatuses'>;

export interface CsdsOptions {
  logger: Logger;
}

interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safe_regex?: { regex?: string } | null;
  ignore_case?: boolean;
}

interface RawStatusRequest {
  node_matchers?: Array<{ node_id?: StringMatcher | null; node_metadatas?: unknown[] }>;
}

type NodeIdTest = (id: string) => boolean;

class RequestError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function stringTest(m: StringMatcher): NodeIdTest {
  const fold = (value: string): string => (m.ignore_case ? value.toLowerCase() : value);
  if (m.exact !== undefined && m.exact !== '') return (id) => fold(id) === fold(m.exact!);
  if (m.prefix) return (id) => fold(id).startsWith(fold(m.prefix!));
  if (m.suffix) return (id) => fold(id).endsWith(fold(m.suffix!));
  if (m.contains) return (id) => fold(id).includes(fold(m.contains!));
  if (m.safe_regex?.regex !== undefined) {
    let re: RegExp;
    try {
      // RE2 (Envoy's engine) and JS agree on the common subset; a whole-string match as in Envoy.
      re = new RegExp(`^(?:${m.safe_regex.regex})$`);
    } catch (err) {
      throw new RequestError(grpc.status.INVALID_ARGUMENT, `bad node_id regex: ${err instanceof Error ? err.message : String(err)}`);
    }
    return (id) => re.test(id);
  }
  // An empty exact matcher matches the empty id only.
  return (id) => id === '';
}

/** Any matcher selects a node (OR); no matchers select every node. Metadata matchers are not supported. */
export function nodeFilter(request: RawStatusRequest): NodeIdTest {
  const matchers = request.node_matchers ?? [];
  if (matchers.length === 0) return () => true;
  const tests = matchers.map((matcher) => {
    if ((matcher.node_metadatas ?? []).length > 0) {
      throw new RequestError(grpc.status.UNIMPLEMENTED, 'node_metadatas matchers are not supported; match on node_id');
    }
    return matcher.node_id ? stringTest(matcher.node_id) : () => true;
  });
  return (id) => tests.some((test) => test(id));
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
export function makeStatusResponder(root: protobuf.Root, streams: () => Iterable<CsdsStream>): (request: RawStatusRequest) => Buffer {
  const Response = root.lookupType('envoy.service.status.v3.ClientStatusResponse');
  const Node = root.lookupType('envoy.config.core.v3.Node');
  return (request) => {
    const selects = nodeFilter(request);
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
  const respond = makeStatusResponder(root, () => streams.values());
  const answer = (request: RawStatusRequest | { undecodable: string }): Buffer => {
    if ('undecodable' in request) throw new RequestError(grpc.status.INVALID_ARGUMENT, `undecodable ClientStatusRequest: ${request.undecodable}`);
    return respond(request);
  };
  const asStatus = (err: unknown): Partial<grpc.StatusObject> => {
    if (err instanceof RequestError) return { code: err.code, details: err.message };
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
