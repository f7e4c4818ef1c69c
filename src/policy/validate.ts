// Herald's own check of a ServicePolicy spec, with the rules of rules.ts. All or nothing: a spec
// with any error yields no policy, so no part of a bad generation is ever applied.
import { POLICY_SECTIONS, type PolicySection, type ServicePolicySpec } from '../model/index.js';
import { FIELD_RULES, SECTION_RULES, type FieldRule } from './rules.js';

export interface PolicyError {
  /** As the apiserver names it, e.g. `spec.connection.connectTimeoutMs`. */
  path: string;
  message: string;
}

export type Validation = { ok: true; spec: ServicePolicySpec } | { ok: false; errors: PolicyError[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one value against its rule, pushing every error under `path`; the value as Herald keeps it, or undefined. */
function checkField(value: unknown, rule: FieldRule, path: string, errors: PolicyError[]): unknown {
  const fail = (message: string) => void errors.push({ path, message });
  if (rule.type === 'integer') {
    if (typeof value !== 'number' || !Number.isInteger(value)) return fail('must be an integer');
    if (value < rule.minimum) return fail(`must be ≥ ${rule.minimum}`);
    if (value > rule.maximum) return fail(`must be ≤ ${rule.maximum}`);
    return value;
  }
  if (rule.type === 'boolean') return typeof value === 'boolean' ? value : fail('must be true or false');
  if (rule.type === 'string') {
    if ('enum' in rule) return typeof value === 'string' && rule.enum.includes(value) ? value : fail(`must be one of ${rule.enum.join(', ')}`);
    if (typeof value !== 'string') return fail('must be a string');
    if (value.length > rule.maxLength) return fail(`must be at most ${rule.maxLength} characters`);
    return new RegExp(rule.pattern).test(value) ? value : fail(`must match ${rule.pattern}`);
  }
  if (rule.type === 'array') {
    if (!Array.isArray(value)) return fail('must be a list');
    if (value.length < rule.minItems) return fail(`must have at least ${rule.minItems} item(s)`);
    if (value.length > rule.maxItems) return fail(`must have at most ${rule.maxItems} items`);
    const before = errors.length;
    const out = value.map((item, i) => checkField(item, rule.items, `${path}[${i}]`, errors));
    if (errors.length > before) return undefined;
    if (rule.listType === 'set' && new Set(out.map((item) => JSON.stringify(item))).size !== out.length) return fail('must not list a value twice');
    return out;
  }
  return checkObject(value, rule.properties, rule.required ?? [], path, errors);
}

function checkObject(value: unknown, properties: Readonly<Record<string, FieldRule>>, required: readonly string[], path: string, errors: PolicyError[]): Record<string, unknown> | undefined {
  if (!isRecord(value)) {
    errors.push({ path, message: 'must be an object' });
    return undefined;
  }
  const before = errors.length;
  const out: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(value)) {
    const rule = properties[field];
    if (rule === undefined) {
      errors.push({ path: `${path}.${field}`, message: 'unknown field' });
      continue;
    }
    const checked = checkField(fieldValue, rule, `${path}.${field}`, errors);
    if (checked !== undefined) out[field] = checked;
  }
  for (const field of required) if (value[field] === undefined) errors.push({ path: `${path}.${field}`, message: 'is required' });
  return errors.length > before ? undefined : out;
}

/** The value at `at` inside a section, if set. */
function nodeAt(section: Record<string, unknown>, at: readonly string[]): unknown {
  let node: unknown = section;
  for (const key of at) node = isRecord(node) ? node[key] : undefined;
  return node;
}

function validateSection(section: PolicySection, value: unknown, errors: PolicyError[]): Record<string, unknown> | undefined {
  const path = `spec.${section}`;
  const before = errors.length;
  const out = checkObject(value, FIELD_RULES[section], [], path, errors);
  if (out === undefined) return undefined;
  for (const rule of SECTION_RULES) {
    if (rule.section !== section) continue;
    const at = rule.at ?? [];
    const node = nodeAt(out, at);
    if (node === undefined || rule.holds(node as Record<string, unknown>)) continue;
    errors.push({ path: [path, ...at, ...(rule.field === undefined ? [] : [rule.field])].join('.'), message: rule.message });
  }
  return errors.length > before ? undefined : out;
}

/** The spec as Herald will use it, or every error found (field paths in document order). */
export function validatePolicySpec(spec: unknown): Validation {
  const errors: PolicyError[] = [];
  if (spec === undefined || spec === null) return { ok: true, spec: {} };
  if (!isRecord(spec)) return { ok: false, errors: [{ path: 'spec', message: 'must be an object' }] };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(spec)) {
    if (!(POLICY_SECTIONS as readonly string[]).includes(key)) errors.push({ path: `spec.${key}`, message: 'unknown section' });
  }
  for (const section of POLICY_SECTIONS) {
    if (spec[section] === undefined) continue;
    const checked = validateSection(section, spec[section], errors);
    if (checked !== undefined) out[section] = checked;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec: out as ServicePolicySpec };
}
