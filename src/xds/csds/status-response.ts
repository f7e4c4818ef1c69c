// Builds a ClientStatusResponse a piece at a time. A client may hold any number of resources
// and any number of clients may be connected, so the answer is never built in one go: the walk
// over the selected streams and their resource statuses lets the event loop turn whenever a
// slice has run its time, and stops as soon as nobody waits for the answer or it outgrows its cap.
//
// The encoding is assembled from parts. A ClientStatusResponse is `repeated ClientConfig
// config = 1`, and a ClientConfig is `node = 1` and `repeated GenericXdsConfig
// generic_xds_configs = 3`, so each is the concatenation of its fields: every ClientConfig is
// written as a tag and a length before its parts, the Node as the client encoded it, and the
// GenericXdsConfigs in chunks that protobufjs encodes (a ClientConfig holding only a chunk of
// them encodes to exactly those fields).
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { TYPE_URLS } from '../../model/index.js';
import type { ResourceStatus } from '../bookkeeping/index.js';
import type { ObservedStream } from '../transport/index.js';
import type { CsdsLimits } from './limits.js';
import type { NodeIdTest } from './node-filter.js';
import { Abandoned, RequestError } from './request-error.js';

/** What CSDS reads of a stream. */
export type CsdsStream = Pick<ObservedStream, 'id' | 'node' | 'nodeBytes' | 'resourceStatuses'>;

export interface BuildRequest {
  /** The streams to walk; read lazily, so a stream that closes before it is reached is not reported. */
  streams: Iterable<CsdsStream>;
  selects: NodeIdTest;
  /** Whether a stream is still open: one that closed while it was being walked is left out. */
  isOpen: (stream: CsdsStream) => boolean;
  /** True once nobody waits for the answer: the build stops at its next pause. */
  abandoned: () => boolean;
  limits: Pick<CsdsLimits, 'maxResponseBytes' | 'sliceMs'>;
}

/** GenericXdsConfigs encoded together: large enough to amortize protobufjs, small enough to check the clock often. */
const CHUNK_ENTRIES = 256;
/** A length-delimited field's tag (field number < 16) and a length varint below 2^35. */
const MAX_FIELD_HEADER_BYTES = 6;

const CONFIG_FIELD = 1;
const NODE_FIELD = 1;

/** The tag and length that open a length-delimited field. */
function fieldHeader(field: number, length: number): Uint8Array {
  const bytes = [(field << 3) | 2];
  let rest = length;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
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

/** Keeps time for one build: when its slice is used up, it waits for the event loop to turn. */
class Slices {
  private started = performance.now();

  constructor(
    private readonly sliceMs: number,
    private readonly abandoned: () => boolean,
  ) {}

  get due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  /** Lets the event loop turn; throws Abandoned when nobody waits for the answer any more. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.abandoned()) throw new Abandoned();
    this.started = performance.now();
  }
}

/** Encoded parts and their total size. */
class PartList {
  readonly parts: Uint8Array[] = [];
  bytes = 0;

  add(part: Uint8Array): void {
    this.parts.push(part);
    this.bytes += part.length;
  }
}

function tooLarge(maxBytes: number): RequestError {
  return new RequestError(
    grpc.status.RESOURCE_EXHAUSTED,
    `the client status would be larger than the limit maxResponseBytes (${maxBytes} bytes); narrow node_matchers to fewer clients`,
    'csds_response_too_large',
  );
}

export class StatusResponseBuilder {
  private readonly ClientConfig: protobuf.Type;

  constructor(root: protobuf.Root) {
    this.ClientConfig = root.lookupType('envoy.service.status.v3.ClientConfig');
  }

  /** The serialized ClientStatusResponse; rejects with a RequestError past the cap, or Abandoned. */
  async build(request: BuildRequest): Promise<Buffer> {
    const slices = new Slices(request.limits.sliceMs, request.abandoned);
    const maxBytes = request.limits.maxResponseBytes;
    const response = new PartList();
    for (const stream of request.streams) {
      if (slices.due) await slices.pause();
      if (!request.selects(stream.node?.id ?? '')) continue;
      const config = new PartList();
      const add = (part: Uint8Array): void => {
        // Room is kept for the config's own header, written once its size is known.
        if (response.bytes + config.bytes + part.length + MAX_FIELD_HEADER_BYTES > maxBytes) throw tooLarge(maxBytes);
        config.add(part);
      };
      // The Node as the client sent it; a stream that has not spoken yet has none.
      const node = stream.nodeBytes();
      if (node) {
        add(fieldHeader(NODE_FIELD, node.length));
        add(node);
      }
      let chunk: Record<string, unknown>[] = [];
      const encodeChunk = (): void => {
        if (chunk.length > 0) add(this.ClientConfig.encode(this.ClientConfig.fromObject({ generic_xds_configs: chunk })).finish());
        chunk = [];
      };
      for (const status of stream.resourceStatuses()) {
        chunk.push(genericConfig(status));
        if (chunk.length >= CHUNK_ENTRIES) encodeChunk();
        if (slices.due) {
          encodeChunk();
          await slices.pause();
        }
      }
      encodeChunk();
      if (!request.isOpen(stream)) continue;
      response.add(fieldHeader(CONFIG_FIELD, config.bytes));
      for (const part of config.parts) response.add(part);
    }
    return Buffer.concat(response.parts, response.bytes);
  }
}
