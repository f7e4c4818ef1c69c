/** Reading protobuf wire format just far enough to find fields, without decoding messages. */
import { varintSize, writeVarint } from './proto-writer.js';

export function readVarint(bytes: Uint8Array, at: { pos: number }): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = bytes[at.pos++];
    if (byte === undefined) throw new RangeError('truncated varint');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
  throw new RangeError('varint too long');
}

/**
 * [start, end) of the top-level fields with `tag` when they form one contiguous run (as every
 * encoder writes a repeated field); undefined when absent, split by other fields, or the bytes
 * are malformed, so that the caller falls back to a full decode (which accepts or rejects them).
 */
export function fieldRun(bytes: Uint8Array, tag: number): { start: number; end: number } | undefined {
  const at = { pos: 0 };
  let start = -1;
  let end = -1;
  try {
    while (at.pos < bytes.length) {
      const fieldStart = at.pos;
      const key = readVarint(bytes, at);
      const wire = key & 7;
      if (wire === 0) readVarint(bytes, at);
      else if (wire === 2) {
        const length = readVarint(bytes, at);
        at.pos += length;
      } else if (wire === 1) at.pos += 8;
      else if (wire === 5) at.pos += 4;
      else return undefined;
      if (at.pos > bytes.length) return undefined;
      if (key !== tag) continue;
      if (start < 0) start = fieldStart;
      else if (end !== fieldStart) return undefined;
      end = at.pos;
    }
  } catch {
    return undefined;
  }
  return start < 0 ? undefined : { start, end };
}

/** The content of a length-delimited field that occurs exactly once, as a view; else undefined. */
export function singleMessageField(bytes: Uint8Array, tag: number): Uint8Array | undefined {
  const run = fieldRun(bytes, tag);
  if (run === undefined) return undefined;
  const at = { pos: run.start };
  readVarint(bytes, at);
  const length = readVarint(bytes, at);
  return at.pos + length === run.end ? bytes.subarray(at.pos, run.end) : undefined;
}

/**
 * `bytes` without the run of `innerTag` fields inside its field `tag`, whose content `field` is
 * (a view of `bytes`, as singleMessageField gives it; the field's length prefix is rewritten),
 * and how many bytes went; undefined when the inner run is not there as one run.
 */
export function withoutNestedRun(bytes: Uint8Array, field: Uint8Array, tag: number, innerTag: number): { stripped: Buffer; removed: number } | undefined {
  const inner = fieldRun(field, innerTag);
  if (inner === undefined) return undefined;
  const removed = inner.end - inner.start;
  const contentStart = field.byteOffset - bytes.byteOffset;
  const fieldStart = contentStart - varintSize(tag) - varintSize(field.length);
  const header = Buffer.allocUnsafe(varintSize(tag) + varintSize(field.length - removed));
  writeVarint(header, writeVarint(header, 0, tag), field.length - removed);
  const stripped = Buffer.concat([bytes.subarray(0, fieldStart), header, field.subarray(0, inner.start), field.subarray(inner.end), bytes.subarray(contentStart + field.length)]);
  return { stripped, removed };
}

/** Node.extensions: field 9, length-delimited. */
export const EXTENSIONS_TAG = (9 << 3) | 2;

/** How many fields a run of length-delimited fields holds (each a one-byte tag, a length, its bytes). */
export function countFields(run: Uint8Array): number {
  const at = { pos: 0 };
  let count = 0;
  while (at.pos < run.length) {
    at.pos += 1;
    const length = readVarint(run, at);
    at.pos += length;
    count += 1;
  }
  return count;
}
