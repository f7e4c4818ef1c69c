// The few protobuf wire-format pieces Herald's hand-written encoders need. Responses are
// assembled from already serialized parts (cached google.protobuf.Any messages), so they are
// copied into one buffer sized up front instead of being re-encoded by protobufjs.

const WIRE_LEN = 2;
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

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.size);
    let offset = 0;
    for (const { fieldTag, bytes } of this.fields) {
      out[offset++] = fieldTag;
      offset = writeVarint(out, offset, bytes.length);
      offset += bytes.copy(out, offset);
    }
    if (offset !== this.size) throw new Error(`message size mismatch: wrote ${offset} of ${this.size} bytes`);
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
