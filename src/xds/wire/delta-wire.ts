// A DeltaDiscoveryResponse written field by field (field numbers from
// envoy/service/discovery/v3/discovery.proto). Each resource travels inside a
// discovery.v3.Resource wrapper {version=1, resource=2, name=3}; the wrapper is
// encoded once per resource version and shared by every stream.
import type { CachedResource } from '../../cache/index.js';
import { addControlPlane, MessageWriter, tag } from './proto-writer.js';

export interface DeltaResponseParts {
  systemVersionInfo: string;
  /** Serialized discovery.v3.Resource wrappers, in order. */
  resources: readonly Buffer[];
  typeUrl: string;
  removedResources: readonly string[];
  nonce: string;
  /** ControlPlane.identifier; omitted when undefined. */
  controlPlaneId?: string | undefined;
}

const SYSTEM_VERSION_INFO = tag(1);
const RESOURCES = tag(2);
const TYPE_URL = tag(4);
const NONCE = tag(5);
const REMOVED_RESOURCES = tag(6);
const CONTROL_PLANE = tag(7);

const RESOURCE_VERSION = tag(1);
const RESOURCE_ANY = tag(2);
const RESOURCE_NAME = tag(3);

/** Serializes a discovery.v3.Resource around an already serialized google.protobuf.Any. */
export function encodeResourceWrapper(name: string, version: string, any: Buffer): Buffer {
  return new MessageWriter().string(RESOURCE_VERSION, version).bytes(RESOURCE_ANY, any).string(RESOURCE_NAME, name).finish();
}

/**
 * Serializes a DeltaDiscoveryResponse. Empty strings are left out, as proto3 does. With
 * `grpcPrefix`, the bytes start with the gRPC message prefix, ready for the wire.
 */
export function encodeDeltaDiscoveryResponse(parts: DeltaResponseParts, grpcPrefix = false): Buffer {
  const message = new MessageWriter().string(SYSTEM_VERSION_INFO, parts.systemVersionInfo);
  for (const resource of parts.resources) message.bytes(RESOURCES, resource);
  message.string(TYPE_URL, parts.typeUrl).string(NONCE, parts.nonce);
  // A repeated string keeps empty elements: their position is the value.
  for (const name of parts.removedResources) message.bytes(REMOVED_RESOURCES, Buffer.from(name, 'utf8'));
  addControlPlane(message, CONTROL_PLANE, parts.controlPlaneId);
  return message.finish(grpcPrefix);
}

/**
 * Resource wrappers keyed by the cached Any buffer: the cache keeps one buffer per resource
 * version, so a wrapper is built once per version and dropped with the buffer by the GC.
 */
export class ResourceWrappers {
  private readonly byAny = new WeakMap<Buffer, { name: string; version: string; bytes: Buffer }>();

  get(resource: CachedResource): Buffer {
    const hit = this.byAny.get(resource.any);
    if (hit && hit.name === resource.name && hit.version === resource.version) return hit.bytes;
    const bytes = encodeResourceWrapper(resource.name, resource.version, resource.any);
    this.byAny.set(resource.any, { name: resource.name, version: resource.version, bytes });
    return bytes;
  }
}
