// A partial protoc-gen-validate checker for tests: reads the `(validate.rules)` options that the
// loaded Envoy protos carry and applies the common ones to a *decoded* message, the way Envoy
// would on receipt. Covers: string min_len/max_bytes, numeric gt/gte/lt/lte (also on wrapper
// types), duration required/gt/gte/lt, message required, repeated min_items, enum defined_only,
// required oneofs; descends into google.protobuf.Any. Other rules are ignored.

import protobuf from 'protobufjs';

type Rules = Record<string, Record<string, unknown> | undefined>;
type Msg = Record<string, unknown>;

const NUMERIC_KINDS = ['uint32', 'int32', 'uint64', 'int64', 'double', 'float', 'sint32', 'fixed32'];
const WRAPPER = /^\.google\.protobuf\.(U?Int(32|64)|Double|Float)Value$/;

function rulesOf(field: protobuf.Field): Rules | undefined {
  for (const option of (field.parsedOptions ?? []) as unknown[]) {
    const rules = (option as Record<string, unknown>)['(validate.rules)'];
    if (rules) return rules as Rules;
  }
  return undefined;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value && typeof (value as { toNumber?: unknown }).toNumber === 'function') return (value as { toNumber(): number }).toNumber();
  return Number(value);
}

function durationNanos(d: unknown): number {
  const m = (d ?? {}) as Msg;
  return toNumber(m.seconds ?? 0) * 1e9 + toNumber(m.nanos ?? 0);
}

function isSet(msg: Msg, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, name) && msg[name] !== null && msg[name] !== undefined;
}

function compare(at: string, actual: number, bounds: Record<string, unknown>, read: (v: unknown) => number, out: string[]): void {
  if ('gt' in bounds && !(actual > read(bounds.gt))) out.push(`${at}: must be > ${read(bounds.gt)}, is ${actual}`);
  if ('gte' in bounds && !(actual >= read(bounds.gte))) out.push(`${at}: must be ≥ ${read(bounds.gte)}, is ${actual}`);
  if ('lt' in bounds && !(actual < read(bounds.lt))) out.push(`${at}: must be < ${read(bounds.lt)}, is ${actual}`);
  if ('lte' in bounds && !(actual <= read(bounds.lte))) out.push(`${at}: must be ≤ ${read(bounds.lte)}, is ${actual}`);
}

function checkNumeric(at: string, value: unknown, rules: Rules, out: string[]): void {
  for (const kind of NUMERIC_KINDS) {
    const bounds = rules[kind];
    if (bounds) compare(at, toNumber(value), bounds, toNumber, out);
  }
}

function checkScalar(field: protobuf.Field, at: string, value: unknown, rules: Rules, out: string[]): void {
  const str = rules.string;
  if (str && typeof value === 'string') {
    if (str.ignore_empty && value === '') return;
    if (typeof str.min_len === 'number' && value.length < str.min_len) out.push(`${at}: shorter than ${str.min_len}`);
    if (typeof str.max_bytes === 'number' && Buffer.byteLength(value) > str.max_bytes) out.push(`${at}: longer than ${str.max_bytes} bytes`);
  }
  checkNumeric(at, value, rules, out);
  const enumRules = rules.enum;
  if (enumRules?.defined_only && field.resolvedType instanceof protobuf.Enum) {
    if (!(toNumber(value) in field.resolvedType.valuesById)) out.push(`${at}: undefined enum value ${String(value)}`);
  }
}

function checkAny(type: protobuf.Type, msg: Msg, path: string, out: string[]): void {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a decoded Any's type_url is a string; anything else shows in the message as it is
  const typeUrl = String(msg.type_url ?? '');
  const inner = type.root.lookup(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
  if (!(inner instanceof protobuf.Type)) {
    out.push(`${path}: unknown Any type ${typeUrl}`);
    return;
  }
  validateMessage(inner, inner.decode(msg.value as Uint8Array) as unknown as Msg, `${path}<${inner.name}>`, out);
}

/** Appends every broken rule found in `msg` (a decoded protobufjs message) to `out`. */
export function validateMessage(type: protobuf.Type, msg: Msg, path: string, out: string[] = []): string[] {
  if (type.fullName === '.google.protobuf.Any') {
    checkAny(type, msg, path, out);
    return out;
  }
  for (const oneof of type.oneofsArray) {
    if (oneof.options?.['(validate.required)'] && !oneof.oneof.some((name) => isSet(msg, name))) {
      out.push(`${path}.${oneof.name}: one of ${oneof.oneof.join('|')} required`);
    }
  }
  for (const field of type.fieldsArray) {
    const at = `${path}.${field.name}`;
    const rules = rulesOf(field) ?? {};
    const present = isSet(msg, field.name);
    const value = msg[field.name];
    if (field.partOf && !present) continue;
    const nested = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (field.repeated) {
      const items = (value ?? []) as unknown[];
      const minItems = rules.repeated?.min_items;
      if (typeof minItems === 'number' && items.length < minItems) out.push(`${at}: fewer than ${minItems} items`);
      if (nested) items.forEach((item, i) => validateMessage(nested, item as Msg, `${at}[${i}]`, out));
      continue;
    }
    if (field.map) {
      if (nested) for (const [k, v] of Object.entries((value ?? {}) as Msg)) validateMessage(nested, v as Msg, `${at}[${k}]`, out);
      continue;
    }
    if (nested) {
      if (!present) {
        if (rules.message?.required || rules.duration?.required) out.push(`${at}: required`);
        continue;
      }
      if (rules.duration) compare(at, durationNanos(value), rules.duration, durationNanos, out);
      if (WRAPPER.test(nested.fullName)) checkNumeric(at, (value as Msg).value ?? 0, rules, out);
      validateMessage(nested, value as Msg, at, out);
      continue;
    }
    checkScalar(field, at, value, rules, out);
  }
  return out;
}
