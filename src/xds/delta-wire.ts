// A DeltaDiscoveryResponse written field by field (field numbers from
// envoy/service/discovery/v3/discovery.proto). Each resource travels inside a
// discovery.v3.Resource wrapper {version=1, resource=2, name=3}; the wrapper is
// encoded once per resource version and shared by every stream.
import type { CachedResource } from '../cache/index.js';
import { fieldSize, tag, writeVarint } from './wire.js';

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
const CONTROL_PLANE_IDENTIFIER = tag(1);

const RESOURCE_VERSION = tag(1);
const RESOURCE_ANY = tag(2);
const RESOURCE_NAME = tag(3);

class Writer {
  private offset = 0;
  constructor(readonly out: Buffer) {}
  put(fieldTag: number, bytes: Buffer): void {
    this.out[this.offset++] = fieldTag;
    this.offset = writeVarint(this.out, this.offset, bytes.length);
    this.offset += bytes.copy(this.out, this.offset);
  }
  header(fieldTag: number, length: number): void {
    this.out[this.offset++] = fieldTag;
    this.offset = writeVarint(this.out, this.offset, length);
  }
  done(): Buffer {
    if (this.offset !== this.out.length) throw new Error(`size mismatch: wrote ${this.offset} of ${this.out.length} bytes`);
    return this.out;
  }
}

/** Serializes a discovery.v3.Resource around an already serialized google.protobuf.Any. */
export function encodeResourceWrapper(name: string, version: string, any: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const versionBytes = Buffer.from(version, 'utf8');
  let size = fieldSize(any.length);
  if (versionBytes.length > 0) size += fieldSize(versionBytes.length);
  if (nameBytes.length > 0) size += fieldSize(nameBytes.length);
  const w = new Writer(Buffer.allocUnsafe(size));
  if (versionBytes.length > 0) w.put(RESOURCE_VERSION, versionBytes);
  w.put(RESOURCE_ANY, any);
  if (nameBytes.length > 0) w.put(RESOURCE_NAME, nameBytes);
  return w.done();
}

/** Serializes a DeltaDiscoveryResponse. Empty strings are left out, as proto3 does. */
export function encodeDeltaDiscoveryResponse(parts: DeltaResponseParts): Buffer {
  const version = Buffer.from(parts.systemVersionInfo, 'utf8');
  const typeUrl = Buffer.from(parts.typeUrl, 'utf8');
  const nonce = Buffer.from(parts.nonce, 'utf8');
  const removed = parts.removedResources.map((name) => Buffer.from(name, 'utf8'));
  const controlPlaneId = parts.controlPlaneId === undefined ? undefined : Buffer.from(parts.controlPlaneId, 'utf8');
  const controlPlaneBody = controlPlaneId && controlPlaneId.length > 0 ? fieldSize(controlPlaneId.length) : 0;

  let size = 0;
  if (version.length > 0) size += fieldSize(version.length);
  for (const resource of parts.resources) size += fieldSize(resource.length);
  if (typeUrl.length > 0) size += fieldSize(typeUrl.length);
  if (nonce.length > 0) size += fieldSize(nonce.length);
  // A repeated string keeps empty elements: their position is the value.
  for (const name of removed) size += fieldSize(name.length);
  if (controlPlaneId !== undefined) size += fieldSize(controlPlaneBody);

  const w = new Writer(Buffer.allocUnsafe(size));
  if (version.length > 0) w.put(SYSTEM_VERSION_INFO, version);
  for (const resource of parts.resources) w.put(RESOURCES, resource);
  if (typeUrl.length > 0) w.put(TYPE_URL, typeUrl);
  if (nonce.length > 0) w.put(NONCE, nonce);
  for (const name of removed) w.put(REMOVED_RESOURCES, name);
  if (controlPlaneId !== undefined) {
    w.header(CONTROL_PLANE, controlPlaneBody);
    if (controlPlaneId.length > 0) w.put(CONTROL_PLANE_IDENTIFIER, controlPlaneId);
  }
  return w.done();
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
