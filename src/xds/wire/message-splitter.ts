import { GRPC_PREFIX_BYTES } from './proto-writer.js';

/**
 * Splits the data chunks of one gRPC request stream into messages, each returned with its
 * 5-byte prefix. A message that lies within one chunk is returned as a slice of it, not a copy:
 * an Envoy's EDS ACK repeats every name it watches, and a drain brings one from every stream
 * at once. Only a message split across chunks is gathered
 * into a new buffer, once, when its last byte arrives. Nothing is kept between messages.
 */
export class MessageSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Prefix plus body of the message being gathered, once its prefix is complete. */
  private total: number | undefined;
  /** When the message being gathered began (performance.now()); undefined between messages. */
  private gatheringSince: number | undefined;

  /** `maxMessageBytes` -1 for no limit, as grpc-js's option; `onTooLarge` hears of a message over it before the refusal. */
  constructor(
    private readonly maxMessageBytes: number,
    private readonly onTooLarge?: (length: number) => void,
  ) {}

  /** The messages completed by `data`. Throws when a message announces more than the limit. */
  write(data: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    let at = 0;
    while (at < data.length) {
      if (this.pendingBytes === 0 && data.length - at >= GRPC_PREFIX_BYTES) {
        const total = GRPC_PREFIX_BYTES + this.bodyLength(data, at);
        if (data.length - at >= total) {
          messages.push(data.subarray(at, at + total));
          at += total;
          continue;
        }
      }
      const wanted = this.total ?? GRPC_PREFIX_BYTES;
      const take = Math.min(data.length - at, wanted - this.pendingBytes);
      this.gatheringSince ??= performance.now();
      this.pending.push(data.subarray(at, at + take));
      this.pendingBytes += take;
      at += take;
      if (this.pendingBytes < wanted) continue;
      if (this.total === undefined) {
        const prefix = Buffer.concat(this.pending, GRPC_PREFIX_BYTES);
        this.pending = [prefix];
        this.total = GRPC_PREFIX_BYTES + this.bodyLength(prefix, 0);
        if (this.total > GRPC_PREFIX_BYTES) continue;
      }
      messages.push(this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes));
      this.pending = [];
      this.pendingBytes = 0;
      this.total = undefined;
      this.gatheringSince = undefined;
    }
    return messages;
  }

  /** How long the message being gathered has been waiting for its remaining bytes (ms); 0 between messages. */
  gatheringForMs(now = performance.now()): number {
    return this.gatheringSince === undefined ? 0 : now - this.gatheringSince;
  }

  private bodyLength(buffer: Buffer, at: number): number {
    const length = buffer.readUInt32BE(at + 1);
    if (this.maxMessageBytes !== -1 && length > this.maxMessageBytes) {
      this.onTooLarge?.(length);
      throw new Error(`Received message larger than max (${length} vs ${this.maxMessageBytes})`);
    }
    return length;
  }
}
