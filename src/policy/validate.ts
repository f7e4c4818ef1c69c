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

function fieldError(value: unknown, rule: FieldRule): string | undefined {
  if (rule.type === 'boolean') return typeof value === 'boolean' ? undefined : 'must be true or false';
  if (rule.type === 'string' && 'enum' in rule) {
    return typeof value === 'string' && rule.enum.includes(value) ? undefined : `must be one of ${rule.enum.join(', ')}`;
  }
  if (rule.type === 'string') {
    if (typeof value !== 'string') return 'must be a string';
    if (value.length > rule.maxLength) return `must be at most ${rule.maxLength} characters`;
    return new RegExp(rule.pattern).test(value) ? undefined : `must match ${rule.pattern}`;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer';
  if (value < rule.minimum) return `must be ≥ ${rule.minimum}`;
  if (value > rule.maximum) return `must be ≤ ${rule.maximum}`;
  return undefined;
}

function validateSection(section: PolicySection, value: unknown, errors: PolicyError[]): Record<string, unknown> | undefined {
  const path = `spec.${section}`;
  if (!isRecord(value)) {
    errors.push({ path, message: 'must be an object' });
    return undefined;
  }
  const rules = FIELD_RULES[section];
  const before = errors.length;
  const out: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(value)) {
    const rule = rules[field];
    if (rule === undefined) {
      errors.push({ path: `${path}.${field}`, message: 'unknown field' });
      continue;
    }
    const message = fieldError(fieldValue, rule);
    if (message !== undefined) errors.push({ path: `${path}.${field}`, message });
    else out[field] = fieldValue;
  }
  if (errors.length > before) return undefined;
  for (const rule of SECTION_RULES) {
    if (rule.section === section && !rule.holds(out)) errors.push({ path: `${path}.${rule.field}`, message: rule.message });
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
