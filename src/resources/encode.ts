// Turns built resource objects into the bytes every stream shares: one google.protobuf.Any per
// resource version, encoded once. A DiscoveryResponse's `resources` field is these bytes.

import protobuf from 'protobufjs';
import { KINDS, kindOfTypeUrl, messageName, perKind, TYPE_URLS, type ResourceKind } from '../model/index.js';
import { checkMessage } from './check.js';

export interface DecodedAny {
  typeUrl: string;
  /** The resource's name (`cluster_name` for a ClusterLoadAssignment); '' when it has none. */
  name: string;
  /** The inner message as a plain object: enums by name, 64-bit numbers as numbers, Anys expanded. */
  message: Record<string, unknown>;
}

/** The name xDS addresses a resource by. */
export function resourceName(kind: ResourceKind, object: object): string {
  const name = (object as Record<string, unknown>)[KINDS[kind].nameField];
  return typeof name === 'string' ? name : '';
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  enums: String,
  longs: Number,
  // json turns nested Anys into their `@type` form, which is what a reader wants to see.
  json: true,
};

export class ResourceEncoder {
  private readonly any: protobuf.Type;
  private readonly types: Record<ResourceKind, protobuf.Type>;

  constructor(private readonly root: protobuf.Root) {
    this.any = root.lookupType('google.protobuf.Any');
    this.types = perKind((kind) => root.lookupType(messageName(kind)));
  }

  /**
   * Serialized google.protobuf.Any { type_url: TYPE_URLS[kind], value: resource }.
   * Throws an Error naming the resource when the object does not fit the proto.
   */
  encodeAny(kind: ResourceKind, object: object): Buffer {
    const type = this.types[kind];
    const fail = (reason: string): never => {
      throw new Error(`invalid ${kind} resource "${resourceName(kind, object)}": ${reason}`);
    };
    const shapeProblem = checkMessage(type, object, type.name);
    if (shapeProblem) fail(shapeProblem);
    let message: protobuf.Message;
    try {
      message = type.fromObject(object as Record<string, unknown>);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const verifyProblem = type.verify(message);
    if (verifyProblem) fail(verifyProblem);
    const value = type.encode(message).finish();
    return toBuffer(this.any.encode(this.any.create({ type_url: TYPE_URLS[kind], value })).finish());
  }

  /** For tests and debug output: the inverse of encodeAny, for any type the root knows. */
  decodeAny(anyBytes: Uint8Array): DecodedAny {
    const any = this.any.decode(anyBytes) as unknown as { type_url: string; value: Uint8Array };
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const inner = this.root.lookup(typeName);
    if (!(inner instanceof protobuf.Type)) throw new Error(`decodeAny: unknown type "${any.type_url}"`);
    const message = inner.toObject(inner.decode(any.value), TO_OBJECT_OPTIONS);
    const kind = kindOfTypeUrl(any.type_url);
    const name: unknown = kind ? message[KINDS[kind].nameField] : message.name;
    return { typeUrl: any.type_url, name: typeof name === 'string' ? name : '', message };
  }
}
