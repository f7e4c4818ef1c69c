// The few protobuf wire-format pieces Herald's hand-written encoders need. Responses are
// assembled from already serialized parts (cached google.protobuf.Any messages), so they are
// copied into one buffer sized up front instead of being re-encoded by protobufjs.

const WIRE_LEN = 2;
/** gRPC's length prefix before every message: a compressed flag byte and a uint32 length. */
export const GRPC_PREFIX_BYTES = 5;
/** Tag byte of a length-delimited field numbered 1..15. */
export const tag = (field: number): number => (field << 3) | WIRE_LEN;

export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

export function writeVarint(out: Buffer, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** Size of a length-delimited field (one-byte tag) holding `length` bytes. */
export const fieldSize = (length: number): number => 1 + varintSize(length) + length;

/**
 * Collects the length-delimited fields of one message in order, then writes them into a
 * single buffer of exactly the summed size. Fields are kept by reference until finish().
 */
export class MessageWriter {
  private readonly fields: Array<{ fieldTag: number; bytes: Buffer }> = [];
  private size = 0;

  /** Adds a bytes (or embedded message) field; written even when empty. */
  bytes(fieldTag: number, bytes: Buffer): this {
    this.fields.push({ fieldTag, bytes });
    this.size += fieldSize(bytes.length);
    return this;
  }

  /** Adds a singular string field; an empty one is left out, as proto3 does. */
  string(fieldTag: number, value: string): this {
    return value === '' ? this : this.bytes(fieldTag, Buffer.from(value, 'utf8'));
  }

  /**
   * The message bytes. With `grpcPrefix`, they follow the 5-byte gRPC message prefix (flag 0,
   * big-endian length), so a response can be written to the wire without being copied again.
   */
  finish(grpcPrefix = false, trailingBytes = 0): Buffer {
    const prefix = grpcPrefix ? GRPC_PREFIX_BYTES : 0;
    const out = Buffer.allocUnsafe(prefix + this.size);
    if (grpcPrefix) {
      out[0] = 0;
      // Bytes the caller sends right after these belong to the same message.
      out.writeUInt32BE(this.size + trailingBytes, 1);
    }
    let offset = prefix;
    for (const { fieldTag, bytes } of this.fields) {
      out[offset++] = fieldTag;
      offset = writeVarint(out, offset, bytes.length);
      offset += bytes.copy(out, offset);
    }
    if (offset - prefix !== this.size) throw new Error(`message size mismatch: wrote ${offset - prefix} of ${this.size} bytes`);
    return out;
  }
}

const CONTROL_PLANE_IDENTIFIER = tag(1);

/**
 * Adds the config.core.v3.ControlPlane field (at `fieldTag`) both response types carry; left
 * out when no identifier is configured, present but empty when it is the empty string.
 */
export function addControlPlane(writer: MessageWriter, fieldTag: number, identifier: string | undefined): void {
  if (identifier === undefined) return;
  writer.bytes(fieldTag, new MessageWriter().string(CONTROL_PLANE_IDENTIFIER, identifier).finish());
}
