// What Herald does below grpc-js's public API for one server call, each only where grpc-js's
// internals have the shape relied on (test/xds/grpcjs-call.test.ts pins it for the installed
// grpc-js); otherwise the public API is used.
import { constants as http2constants, type ServerHttp2Stream } from 'node:http2';
import { MessageSplitter } from '../wire/index.js';
import { GRPC_PREFIX_BYTES } from '../wire/index.js';
import type * as grpc from '@grpc/grpc-js';
import type { Framed } from './framed.js';

export type ServerCall = grpc.ServerDuplexStream<object, Buffer>;

/** Writes gRPC-framed messages (prefix included) to one server call. */
export interface CallWriter {
  /** True when bytes go to the HTTP/2 stream as they are, without grpc-js re-framing them. */
  readonly direct: boolean;
  /** Queues one framed message; `done` runs once it has left or failed. */
  write(framed: Framed, done: () => void): void;
}

/** The members of grpc-js's per-call object (BaseServerInterceptingCall) used here. */
interface GrpcJsCall {
  stream: ServerHttp2Stream;
  maybeSendMetadata(): void;
  checkCancelled(): boolean;
  decoder?: Partial<GrpcJsDecoder>;
}

/** grpc-js's StreamDecoder, as far as telling that it is one, idle, goes. */
interface GrpcJsDecoder {
  write(data: Buffer): Buffer[];
  readState: number;
  readCompressFlag: Buffer;
  readPartialMessage: Buffer[];
  maxReadMessageLength: number;
}

/** StreamDecoder's state between two messages. */
const DECODER_BETWEEN_MESSAGES = 0;

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
 * response to thousands of streams (a drain) and large first responses to every reconnecting
 * Envoy, so that copy is the largest single cost of a connect storm left to grpc-js. The direct path hands the
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
      if (Buffer.isBuffer(framed)) {
        stream.write(framed, () => done());
        return;
      }
      // Corked, the two parts leave in one writev.
      stream.cork();
      stream.write(framed[0]);
      stream.write(framed[1], () => done());
      stream.uncork();
    },
  };
}

function publicWriter(call: ServerCall): CallWriter {
  return {
    direct: false,
    write(framed, done) {
      // grpc-js frames the message itself: it is given the bytes after the prefix, in one piece.
      const message = Buffer.isBuffer(framed) ? framed.subarray(GRPC_PREFIX_BYTES) : Buffer.concat([framed[0].subarray(GRPC_PREFIX_BYTES), framed[1]]);
      call.write(message, done);
    },
  };
}

/**
 * Puts a MessageSplitter in place of grpc-js's request decoder; false (nothing changed) when the
 * decoder does not have the expected shape or has already begun a message. grpc-js's decoder
 * copies every message into a fresh buffer and keeps slices of the last one (its first chunk
 * and body) until the next message starts, and a slice keeps its whole chunk alive: every
 * stream would hold its last request, an Envoy's EDS ACK that repeats every name it watches,
 * and every ACK of a drain would be copied once more.
 * Call it when the call is handed to Herald, before any request has been read.
 */
export function adoptMessageSplitter(call: ServerCall, onTooLarge?: (length: number) => void): MessageSplitter | undefined {
  const inner = grpcJsCallOf(call);
  const decoder = inner?.decoder;
  if (!inner || !decoder || typeof decoder.write !== 'function' || typeof decoder.readState !== 'number') return undefined;
  if (!Buffer.isBuffer(decoder.readCompressFlag) || !Array.isArray(decoder.readPartialMessage) || typeof decoder.maxReadMessageLength !== 'number') return undefined;
  if (decoder.readState !== DECODER_BETWEEN_MESSAGES || decoder.readPartialMessage.length > 0) return undefined;
  const splitter = new MessageSplitter(decoder.maxReadMessageLength, onTooLarge);
  inner.decoder = splitter as unknown as Partial<GrpcJsDecoder>;
  return splitter;
}

/**
 * Resets the call's HTTP/2 stream with ENHANCE_YOUR_CALM, which gRPC clients read as
 * RESOURCE_EXHAUSTED. For a client that does not read: a status in trailers would wait behind
 * the data it does not take, forever. False when grpc-js's internals are not as expected.
 */
export function resetCall(call: ServerCall): boolean {
  const stream = grpcJsCallOf(call)?.stream;
  if (!stream || typeof stream.close !== 'function' || stream.closed) return false;
  stream.close(http2constants.NGHTTP2_ENHANCE_YOUR_CALM);
  return true;
}
