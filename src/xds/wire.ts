// A DiscoveryResponse written field by field: the resources are already serialized
// google.protobuf.Any messages from the cache, so they are copied, never re-encoded.

export interface ResponseParts {
  versionInfo: string;
  /** Serialized google.protobuf.Any messages, in order. */
  resources: readonly Buffer[];
  typeUrl: string;
  nonce: string;
  /** ControlPlane.identifier; omitted when undefined. */
  controlPlaneId?: string | undefined;
}

const WIRE_LEN = 2;
/** Tag byte of a length-delimited field numbered 1..15. */
export const tag = (field: number): number => (field << 3) | WIRE_LEN;

const VERSION_INFO = tag(1);
const RESOURCES = tag(2);
const TYPE_URL = tag(4);
const NONCE = tag(5);
const CONTROL_PLANE = tag(6);
const CONTROL_PLANE_IDENTIFIER = tag(1);

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

/** Serializes a DiscoveryResponse. Empty strings are left out, as proto3 does. */
export function encodeDiscoveryResponse(parts: ResponseParts): Buffer {
  const version = Buffer.from(parts.versionInfo, 'utf8');
  const typeUrl = Buffer.from(parts.typeUrl, 'utf8');
  const nonce = Buffer.from(parts.nonce, 'utf8');
  const controlPlaneId = parts.controlPlaneId === undefined ? undefined : Buffer.from(parts.controlPlaneId, 'utf8');
  const controlPlaneBody = controlPlaneId && controlPlaneId.length > 0 ? fieldSize(controlPlaneId.length) : 0;

  let size = 0;
  if (version.length > 0) size += fieldSize(version.length);
  for (const resource of parts.resources) size += fieldSize(resource.length);
  if (typeUrl.length > 0) size += fieldSize(typeUrl.length);
  if (nonce.length > 0) size += fieldSize(nonce.length);
  if (controlPlaneId !== undefined) size += fieldSize(controlPlaneBody);

  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  const put = (fieldTag: number, bytes: Buffer): void => {
    out[offset++] = fieldTag;
    offset = writeVarint(out, offset, bytes.length);
    offset += bytes.copy(out, offset);
  };
  if (version.length > 0) put(VERSION_INFO, version);
  for (const resource of parts.resources) put(RESOURCES, resource);
  if (typeUrl.length > 0) put(TYPE_URL, typeUrl);
  if (nonce.length > 0) put(NONCE, nonce);
  if (controlPlaneId !== undefined) {
    out[offset++] = CONTROL_PLANE;
    offset = writeVarint(out, offset, controlPlaneBody);
    if (controlPlaneId.length > 0) put(CONTROL_PLANE_IDENTIFIER, controlPlaneId);
  }
  if (offset !== size) throw new Error(`DiscoveryResponse size mismatch: wrote ${offset} of ${size} bytes`);
  return out;
}
