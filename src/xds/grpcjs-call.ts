// What Herald does below grpc-js's public API for one server call, each only where grpc-js's
// internals have the shape relied on (test/xds/grpcjs-call.test.ts pins it for the installed
// grpc-js); otherwise the public API is used.
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

/** The members of grpc-js's per-call object (BaseServerInterceptingCall) used here. */
interface GrpcJsCall {
  stream: ServerHttp2Stream;
  maybeSendMetadata(): void;
  checkCancelled(): boolean;
  decoder?: Partial<GrpcJsDecoder>;
}

/** grpc-js's StreamDecoder: the fields that hold on to the last request's bytes. */
interface GrpcJsDecoder {
  write(data: Buffer): Buffer[];
  readState: number;
  readCompressFlag: Buffer;
  readPartialMessage: Buffer[];
}

/** StreamDecoder's state between two messages, when the fields below are dead until rewritten. */
const DECODER_BETWEEN_MESSAGES = 0;
/** Shared by every call: the decoder only ever reads this byte (it copies it into each message). */
const NO_FLAG = Buffer.alloc(1);

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
 * (test/xds/grpcjs-call.test.ts pins that for the installed grpc-js); otherwise, or with
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

/**
 * A function that lets go of the request bytes grpc-js's decoder keeps after a message: a
 * one-byte slice of the message's first chunk and slices of its body, kept until the next
 * message starts. A slice keeps its whole buffer alive, so every stream held its last request:
 * an Envoy's EDS ACK repeats every name it watches (~6 KB at 600 services), 58 MB at 10,000
 * streams. Called after each request; it only touches the decoder between two messages, when
 * those fields are rewritten before they are read again. Undefined when the decoder does not
 * have the expected shape.
 */
export function requestBytesReleaser(call: ServerCall): (() => void) | undefined {
  const decoder = grpcJsCallOf(call)?.decoder;
  if (!decoder || typeof decoder.write !== 'function' || typeof decoder.readState !== 'number') return undefined;
  if (!Buffer.isBuffer(decoder.readCompressFlag) || !Array.isArray(decoder.readPartialMessage)) return undefined;
  const held = decoder as GrpcJsDecoder;
  return () => {
    if (held.readState !== DECODER_BETWEEN_MESSAGES) return;
    held.readCompressFlag = NO_FLAG;
    if (held.readPartialMessage.length > 0) held.readPartialMessage = [];
  };
}
