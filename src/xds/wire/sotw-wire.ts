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
