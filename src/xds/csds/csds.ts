// envoy.service.status.v3.ClientStatusDiscoveryService: what each connected xDS client was
// sent, ACKed and NACKed, per resource — the data behind `herald status`. Anyone who reaches
// the xDS port can call it, so it is bounded everywhere (see limits.ts): patterns are checked
// and run on RE2, answers are built in slices that let the event loop turn (status-response.ts),
// a few are built at once while a short queue waits, and a caller that leaves stops its build.
// It hands out every client's Node (metadata included), so only a trusted caller gets an answer
// (loopback or the admin token, as for the admin pages' debug views).
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { accessGuard, addressOfPeer, refusalMessage, type AccessGuard } from '../../access/index.js';
import { LogOnce, type HeraldMetrics, type Logger } from '../../telemetry/index.js';
import type { StreamObserver } from '../transport/index.js';
import { csdsLimits, type CsdsLimits } from './limits.js';
import { nodeFilter, type RawStatusRequest } from './node-filter.js';
import { Abandoned, RequestError } from './request-error.js';
import { type CsdsStream, StatusResponseBuilder } from './status-response.js';
import { WorkGate } from './work-gate.js';

const SERVICE = 'envoy.service.status.v3.ClientStatusDiscoveryService';

export interface CsdsOptions {
  logger: Logger;
  /** Refused requests count in herald_xds_rejected_requests_total{reason="csds_…"}. */
  metrics: HeraldMetrics;
  /** Overrides of DEFAULT_CSDS_LIMITS. */
  limits?: Partial<CsdsLimits>;
  /** Told when a CSDS call starts and ends on a connection (by grpc-js peer), so it counts as a stream there. */
  calls?: { opened(peer: string): void; closed(peer: string): void };
  /** Who may call; default: loopback callers only. Refusals count in herald_csds_requests_refused_total. */
  access?: AccessGuard;
}

type DecodedRequest = RawStatusRequest | { undecodable: string };

export function csdsServiceDefinition(root: protobuf.Root): grpc.ServiceDefinition {
  const Request = root.lookupType('envoy.service.status.v3.ClientStatusRequest');
  const decode = (bytes: Buffer): DecodedRequest => {
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
  /** Ends open StreamClientStatus calls and stops every build, so `herald status` does not hold up shutdown. */
  endAll(): void;
}

/** The caller an answer is built for, as far as the build cares: whether it is still there. */
interface Caller {
  gone(): boolean;
  /** Calls `listener` once if the caller cancels; returns a function that stops listening. */
  onCancel(listener: () => void): () => void;
}

const cancelOf = (call: grpc.ServerUnaryCall<DecodedRequest, Buffer> | grpc.ServerDuplexStream<DecodedRequest, Buffer>) => (listener: () => void) => {
  call.once('cancelled', listener);
  return () => void call.removeListener('cancelled', listener);
};

/** The call's connection as grpc-js names it (ADDRESS:PORT): for counting streams per connection and for the access check. */
function peerOf(call: { getPeer?: () => string }): string {
  try {
    return typeof call.getPeer === 'function' ? call.getPeer() : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function csdsService(root: protobuf.Root, options: CsdsOptions): CsdsService {
  const limits = csdsLimits(options.limits);
  const open = new Set<grpc.ServerDuplexStream<DecodedRequest, Buffer>>();
  const streams = new Map<string, CsdsStream>();
  const observer: StreamObserver = {
    opened: (stream) => void streams.set(stream.id, stream),
    closed: (stream) => void streams.delete(stream.id),
  };
  const builder = new StatusResponseBuilder(root);
  const gate = new WorkGate(limits.maxConcurrent, limits.maxQueued);
  let closed = false;

  const answer = async (request: DecodedRequest, caller: Caller): Promise<Buffer> => {
    if ('undecodable' in request) throw new RequestError(grpc.status.INVALID_ARGUMENT, `undecodable ClientStatusRequest: ${request.undecodable}`, 'csds_undecodable');
    // Checked before queueing: a request past a limit is refused at once, whatever the load.
    const selects = nodeFilter(request, limits);
    const ticket = gate.enter();
    if (!ticket) {
      throw new RequestError(
        grpc.status.RESOURCE_EXHAUSTED,
        `CSDS is busy: ${limits.maxConcurrent} answers are being built and ${limits.maxQueued} requests wait (limits maxConcurrent, maxQueued); retry later`,
        'csds_busy',
      );
    }
    const stopListening = caller.onCancel(() => ticket.leave());
    try {
      const abandoned = (): boolean => closed || caller.gone();
      if (!(await ticket.turn) || abandoned()) throw new Abandoned();
      return await builder.build({ streams: streams.values(), selects, isOpen: (stream) => streams.get(stream.id) === stream, abandoned, limits });
    } finally {
      stopListening();
      ticket.leave();
    }
  };

  const asStatus = (err: unknown): grpc.StatusObject => {
    const status = { metadata: new grpc.Metadata() };
    if (err instanceof RequestError) {
      options.metrics.xdsRejectedRequests.inc({ reason: err.reason });
      return { ...status, code: err.code, details: err.message };
    }
    if (err instanceof Abandoned) {
      return closed ? { ...status, code: grpc.status.UNAVAILABLE, details: 'control plane shutting down' } : { ...status, code: grpc.status.CANCELLED, details: 'cancelled' };
    }
    options.logger.error({ err }, 'CSDS request failed');
    return { ...status, code: grpc.status.INTERNAL, details: 'control plane failed to build the client status' };
  };

  const logFailure = (err: unknown): void => options.logger.error({ err }, 'CSDS call failed');

  const access = options.access ?? accessGuard();
  const refusalLog = new LogOnce();
  /** The status to end a call with when its caller is not trusted, else undefined. */
  const refusal = (call: { metadata?: grpc.Metadata }, peer: string): grpc.StatusObject | undefined => {
    const authorization = call.metadata?.get('authorization')[0];
    const decision = access.check({ peerAddress: addressOfPeer(peer), authorization: typeof authorization === 'string' ? authorization : authorization?.toString('utf8') });
    if (decision.allowed) return undefined;
    options.metrics.csdsRequestsRefused.inc({ reason: decision.reason });
    if (refusalLog.shouldLog(`${decision.reason} ${peer}`)) options.logger.warn({ peer, reason: decision.reason }, 'CSDS call refused');
    const code = decision.reason === 'bad_token' ? grpc.status.PERMISSION_DENIED : grpc.status.UNAUTHENTICATED;
    return { code, details: `CSDS: ${refusalMessage(decision.reason)}`, metadata: new grpc.Metadata() };
  };

  /** Counts a call on its connection until the returned function is called (once). */
  const counted = (peer: string): (() => void) => {
    options.calls?.opened(peer);
    let over = false;
    return () => {
      if (over) return;
      over = true;
      options.calls?.closed(peer);
    };
  };
  const handlers: grpc.UntypedServiceImplementation = {
    FetchClientStatus: (call: grpc.ServerUnaryCall<DecodedRequest, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const peer = peerOf(call);
      const refused = refusal(call, peer);
      if (refused) return void callback(refused, null);
      const ended = counted(peer);
      answer(call.request, { gone: () => call.cancelled, onCancel: cancelOf(call) })
        .then(
          (bytes) => callback(null, bytes),
          (err: unknown) => callback(asStatus(err), null),
        )
        .catch(logFailure)
        .finally(ended);
    },
    StreamClientStatus: (call: grpc.ServerDuplexStream<DecodedRequest, Buffer>) => {
      const peer = peerOf(call);
      const refused = refusal(call, peer);
      if (refused) return void call.emit('error', refused);
      open.add(call);
      const ended = counted(peer);
      const done = (): void => {
        if (open.delete(call)) ended();
      };
      const caller: Caller = { gone: () => call.cancelled || !open.has(call), onCancel: cancelOf(call) };
      call.on('data', (request: DecodedRequest) => {
        // One answer at a time, in order: the next request stays unread (and the client under
        // flow control) until this one is written.
        call.pause();
        answer(request, caller)
          .then(
            (bytes) => {
              if (!open.has(call)) return;
              call.write(bytes);
              call.resume();
            },
            (err: unknown) => {
              if (!open.has(call)) return;
              done();
              call.emit('error', asStatus(err));
            },
          )
          .catch(logFailure);
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
      closed = true;
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
