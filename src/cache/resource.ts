import { createHash } from 'node:crypto';
import type { ResourceKind } from '../model/index.js';

/** One resource as every stream will receive it: a serialized google.protobuf.Any. */
export interface CachedResource {
  kind: ResourceKind;
  name: string;
  /** Content hash of `any`: equal bytes, equal version. */
  version: string;
  /**
   * Global, monotonic change number. Unlike `version` it also moves when the bytes stay the same
   * but a stream must get the resource again (an assignment after its cluster changed).
   */
  seq: number;
  any: Buffer;
}

/** Short stable hash of encoded bytes: equal bytes, equal version. */
export function contentVersion(any: Uint8Array): string {
  return createHash('sha256').update(any).digest('hex').slice(0, 16);
}
