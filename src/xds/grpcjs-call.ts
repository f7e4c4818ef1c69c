import type { ServerHttp2Stream } from 'node:http2';
import { GRPC_PREFIX_BYTES } from './proto-writer.js';
import type { ServerCall } from './stream-base.js';

/** Writes gRPC-framed messages (prefix included) to one server call. */
export interface CallWriter {
  /** True when bytes go to the HTTP/2 stream as they are, without grpc-js re-framing them. */
  readonly direct: boolean;
  /** Queues one framed message; `done` runs once it has left or failed. */
  write(framed: Buffer, done: () => void): void;
}

/** The members of grpc-js's per-call object (BaseServerInterceptingCall) the direct path uses. */
interface GrpcJsCall {
  stream: ServerHttp2Stream;
  maybeSendMetadata(): void;
  checkCancelled(): boolean;
}

/**
 * The grpc-js call behind a ServerDuplexStream, when it has the shape this module relies on:
 * a call without server interceptors, as Herald registers its handlers.
 */
function grpcJsCallOf(call: ServerCall): GrpcJsCall | undefined {
  const inner = (call as unknown as { call?: Partial<GrpcJsCall> }).call;
  if (!inner || typeof inner !== 'object') return undefined;
  if (typeof inner.maybeSendMetadata !== 'function' || typeof inner.checkCancelled !== 'function') return undefined;
  const stream = inner.stream;
  if (!stream || typeof stream.write !== 'function' || typeof stream.respond !== 'function') return undefined;
  return inner as GrpcJsCall;
}

/**
 * A writer for `call`. grpc-js frames every message by copying it into a fresh buffer, and a
 * write passes through two Writable streams and its interceptor chain. Herald sends one encoded
 * response to thousands of streams (a drain) and ~1 MB first responses to every reconnecting
 * Envoy, so that copy was the largest single cost of a connect storm. The direct path hands the
 * same framed bytes to each HTTP/2 stream after grpc-js has sent the response headers; the
 * trailers grpc-js sends at the end still follow the data, since both go through the same
 * HTTP/2 stream in order.
 *
 * It relies on grpc-js internals, so it is taken only when they have the expected shape
 * (test/xds/call-writer.test.ts pins that for the installed grpc-js); otherwise, or with
 * `direct: false`, messages go through grpc-js's public write.
 */
export function callWriter(call: ServerCall, options: { direct?: boolean } = {}): CallWriter {
  const inner = options.direct === false ? undefined : grpcJsCallOf(call);
  if (!inner) return publicWriter(call);
  return {
    direct: true,
    write(framed, done) {
      const stream = inner.stream;
      // Like grpc-js: no writes once the call is over (writing after end would raise on the stream).
      if (inner.checkCancelled() || stream.writableEnded) {
        done();
        return;
      }
      inner.maybeSendMetadata();
      // A failed write destroys the HTTP/2 stream; grpc-js then reports the call cancelled.
      stream.write(framed, () => done());
    },
  };
}

function publicWriter(call: ServerCall): CallWriter {
  return {
    direct: false,
    write(framed, done) {
      call.write(framed.subarray(GRPC_PREFIX_BYTES), done);
    },
  };
}
