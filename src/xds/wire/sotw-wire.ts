// A DiscoveryResponse written field by field: the resources are already serialized
// google.protobuf.Any messages from the cache, so they are copied, never re-encoded.
import { addControlPlane, MessageWriter, tag } from './proto-writer.js';

export interface ResponseParts {
  versionInfo: string;
  /** Serialized google.protobuf.Any messages, in order. */
  resources: readonly Buffer[];
  typeUrl: string;
  nonce: string;
  /** ControlPlane.identifier; omitted when undefined. */
  controlPlaneId?: string | undefined;
}

const VERSION_INFO = tag(1);
const RESOURCES = tag(2);
const TYPE_URL = tag(4);
const NONCE = tag(5);
const CONTROL_PLANE = tag(6);

/** Length of the nonces Herald mints: random, so a client cannot answer a response it never read. */
export const NONCE_CHARS = 16;
/** The nonce field as it ends a response: tag, length, NONCE_CHARS ASCII bytes. */
export const NONCE_FIELD_BYTES = 2 + NONCE_CHARS;

/**
 * Serializes a DiscoveryResponse. Empty strings are left out, as proto3 does. With
 * `grpcPrefix`, the bytes start with the gRPC message prefix, ready for the wire.
 */
export function encodeDiscoveryResponse(parts: ResponseParts, grpcPrefix = false): Buffer {
  const message = new MessageWriter().string(VERSION_INFO, parts.versionInfo);
  for (const resource of parts.resources) message.bytes(RESOURCES, resource);
  message.string(TYPE_URL, parts.typeUrl).string(NONCE, parts.nonce);
  addControlPlane(message, CONTROL_PLANE, parts.controlPlaneId);
  return message.finish(grpcPrefix);
}

/**
 * A framed DiscoveryResponse without its nonce, whose prefix counts a nonce field of
 * NONCE_FIELD_BYTES to follow: one encoding shared by every stream sent the same content, each
 * stream adding its own nonce (protobuf fields may come in any order).
 */
export function encodeSharedResponseHead(parts: Omit<ResponseParts, 'nonce'>): Buffer {
  return fieldsBeforeNonce(parts).finish(true, NONCE_FIELD_BYTES);
}

/** The nonce field that ends a response begun by encodeSharedResponseHead (its fields come before the nonce). */
export function nonceField(nonce: string): Buffer {
  if (nonce.length !== NONCE_CHARS) throw new Error(`nonce must be ${NONCE_CHARS} ASCII characters, got ${nonce.length}`);
  const out = Buffer.allocUnsafe(NONCE_FIELD_BYTES);
  out[0] = NONCE;
  out[1] = NONCE_CHARS;
  out.write(nonce, 2, 'latin1');
  return out;
}

function fieldsBeforeNonce(parts: Omit<ResponseParts, 'nonce'>): MessageWriter {
  const message = new MessageWriter().string(VERSION_INFO, parts.versionInfo);
  for (const resource of parts.resources) message.bytes(RESOURCES, resource);
  message.string(TYPE_URL, parts.typeUrl);
  addControlPlane(message, CONTROL_PLANE, parts.controlPlaneId);
  return message;
}
