// Strict shape check of a plain object against a protobufjs Type, run before `fromObject`.
// protobufjs is lenient in ways that would hide builder bugs: `fromObject` drops unknown fields
// and misspelt enum names without a word, and `verify` only understands enums as numbers. A
// resource that silently loses a field (say, `update_merge_window`) is worse than one that fails.

import protobuf from 'protobufjs';

const ANY = '.google.protobuf.Any';
const UINT32_MAX = 0xffffffff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function isLongLike(value: unknown): boolean {
  return isPlainObject(value) && typeof value.low === 'number' && typeof value.high === 'number';
}

function checkScalar(type: string, value: unknown): string | null {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? null : 'string expected';
    case 'bool':
      return typeof value === 'boolean' ? null : 'boolean expected';
    case 'bytes':
      return value instanceof Uint8Array || typeof value === 'string' ? null : 'bytes expected';
    case 'double':
    case 'float':
      return typeof value === 'number' ? null : 'number expected';
    case 'uint32':
    case 'fixed32':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= UINT32_MAX ? null : 'uint32 expected';
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX ? null : 'int32 expected';
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      if (Number.isSafeInteger(value) || isLongLike(value)) return null;
      return typeof value === 'string' && /^-?\d+$/.test(value) ? null : '64-bit integer expected';
    default:
      return `unsupported scalar type ${type}`;
  }
}

function checkValue(field: protobuf.Field, value: unknown, path: string): string | null {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string') return value in resolved.values ? null : `${path}: unknown enum value "${value}"`;
    if (Number.isInteger(value) && (value as number) in resolved.valuesById) return null;
    return `${path}: enum value expected`;
  }
  if (resolved instanceof protobuf.Type) return checkMessage(resolved, value, path);
  const problem = checkScalar(field.type, value);
  return problem ? `${path}: ${problem}` : null;
}

function checkAnyPayload(anyType: protobuf.Type, object: Record<string, unknown>, path: string): string | null {
  const typeUrl = object['@type'];
  if (typeof typeUrl !== 'string') return `${path}.@type: string expected`;
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const inner = anyType.root.lookup(name);
  if (!(inner instanceof protobuf.Type)) return `${path}: unknown type "${typeUrl}"`;
  const { '@type': _ignored, ...fields } = object;
  return checkMessage(inner, fields, path);
}

/** Returns the first problem found, as "path: reason", or null when the object is well formed. */
export function checkMessage(type: protobuf.Type, object: unknown, path: string): string | null {
  if (!isPlainObject(object)) return `${path}: object expected`;
  if (type.fullName === ANY && '@type' in object) return checkAnyPayload(type, object, path);
  const oneofsSeen = new Map<string, string>();
  for (const [key, value] of Object.entries(object)) {
    const field = type.fields[key];
    const at = `${path}.${key}`;
    if (!field) return `${at}: no such field in ${type.fullName.slice(1)}`;
    if (value === undefined || value === null) continue;
    if (field.partOf) {
      const other = oneofsSeen.get(field.partOf.name);
      if (other !== undefined) return `${at}: oneof ${field.partOf.name} already set by ${other}`;
      oneofsSeen.set(field.partOf.name, key);
    }
    let problem: string | null = null;
    if (field.map) {
      if (!isPlainObject(value)) return `${at}: map expected`;
      for (const [k, v] of Object.entries(value)) {
        problem ??= checkValue(field, v, `${at}[${JSON.stringify(k)}]`);
      }
    } else if (field.repeated) {
      if (!Array.isArray(value)) return `${at}: array expected`;
      value.forEach((v, i) => {
        problem ??= checkValue(field, v, `${at}[${i}]`);
      });
    } else {
      problem = checkValue(field, value, at);
    }
    if (problem) return problem;
  }
  return null;
}
