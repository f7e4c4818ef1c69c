// One source of truth for the rules: the CRD the apiserver enforces and Herald's validator must
// say the same thing. Every bound, enum and CEL rule is compared, in both directions.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TERMINATING_FALLBACK, POLICY_SECTIONS } from '../../src/model/index.js';
import { FIELD_RULES, SECTION_RULES, validatePolicySpec, type FieldRule } from '../../src/policy/index.js';
import { POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION } from '../../src/sources/kube/index.js';

type Obj = Record<string, any>;
// client-node's loader gives the typed model (V1JSONSchemaProps): `enum` is `_enum`,
// `x-kubernetes-validations` is `x_kubernetes_validations`; a list's `items` stays as written.
// KEY puts both spellings in one.
const crd = loadYaml<V1CustomResourceDefinition>(readFileSync(fileURLToPath(new URL('../../deploy/crd/servicepolicies.yaml', import.meta.url)), 'utf8')) as Obj;
const version = (crd.spec.versions as Obj[]).find((v) => v.name === POLICY_VERSION)!;
const specSchema = version.schema.openAPIV3Schema.properties.spec as Obj;

const KEY: Readonly<Record<string, string>> = {
  _enum: 'enum',
  x_kubernetes_list_type: 'x-kubernetes-list-type',
  x_kubernetes_validations: 'x-kubernetes-validations',
};
const key = (k: string): string => KEY[k] ?? k;

/** A rule as the OpenAPI schema states it, CEL rules left to their own test. */
function schemaOf(rule: FieldRule): Obj {
  switch (rule.type) {
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
      return { type: 'integer', minimum: rule.minimum, maximum: rule.maximum };
    case 'string':
      return 'enum' in rule ? { type: 'string', enum: [...rule.enum] } : { type: 'string', pattern: rule.pattern, maxLength: rule.maxLength };
    case 'array':
      return { type: 'array', items: schemaOf(rule.items), minItems: rule.minItems, maxItems: rule.maxItems, ...(rule.listType ? { 'x-kubernetes-list-type': rule.listType } : {}) };
    case 'object':
      return {
        type: 'object',
        properties: Object.fromEntries(Object.entries(rule.properties).map(([k, v]) => [k, schemaOf(v)])),
        ...(rule.required ? { required: [...rule.required] } : {}),
      };
  }
}

/** The CRD's schema node without CEL rules, descriptions and unset keys, nested nodes included. */
function withoutCel(schema: Obj): Obj {
  return Object.fromEntries(
    Object.entries(schema).flatMap(([raw, v]) => {
      const k = key(raw);
      if (v === undefined || k === 'x-kubernetes-validations' || k === 'description') return [];
      if (k === 'properties') return [[k, Object.fromEntries(Object.entries(v as Obj).map(([name, node]) => [name, withoutCel(node as Obj)]))]];
      return [[k, k === 'items' ? withoutCel(v as Obj) : v]];
    }),
  );
}

/** The schema node at `at` below a section (through object properties). */
function nodeAt(section: string, at: readonly string[]): Obj {
  return at.reduce((node, key) => node.properties[key] as Obj, specSchema.properties[section] as Obj);
}

describe('deploy/crd/servicepolicies.yaml and src/policy/rules.ts', () => {
  it('is the CRD Herald lists and watches', () => {
    expect(crd.metadata.name).toBe(`${POLICY_PLURAL}.${POLICY_GROUP}`);
    expect([crd.spec.group, crd.spec.scope, crd.spec.names.plural, version.served, version.storage]).toEqual([POLICY_GROUP, 'Namespaced', POLICY_PLURAL, true, true]);
  });

  it('has the same sections and fields', () => {
    expect(Object.keys(specSchema.properties).sort()).toEqual([...POLICY_SECTIONS].sort());
    for (const section of POLICY_SECTIONS) expect(Object.keys(specSchema.properties[section].properties).sort()).toEqual(Object.keys(FIELD_RULES[section]).sort());
  });

  it('tells kubectl explain the default Herald applies to an unset terminatingFallback', () => {
    const field = specSchema.properties.locality.properties.terminatingFallback as Obj;
    expect(field.description).toContain(`Unset: ${DEFAULT_TERMINATING_FALLBACK}.`);
    expect(field.description).toMatch(/^Whether terminating pods that are still Ready are served HEALTHY/);
  });

  it.each(POLICY_SECTIONS.flatMap((section) => Object.entries(FIELD_RULES[section]).map(([field, rule]) => ({ path: `${section}.${field}`, section, field, rule }))))(
    '$path has the same type and bounds',
    ({ section, field, rule }) => {
      expect(withoutCel(specSchema.properties[section].properties[field] as Obj)).toEqual(schemaOf(rule));
    },
  );

  it('carries the same CEL rules, with the same messages and field paths', () => {
    /** Every node of a section's schema that may carry CEL, with its path below the section. */
    const nodes = (node: Obj, at: string[]): [string[], Obj][] => [
      [at, node],
      ...Object.entries((node.properties ?? {}) as Obj).flatMap(([key, child]) => nodes(child as Obj, [...at, key])),
    ];
    const fromCrd = POLICY_SECTIONS.flatMap((section) =>
      nodes(specSchema.properties[section] as Obj, []).flatMap(([at, node]) =>
        ((node.x_kubernetes_validations ?? node['x-kubernetes-validations'] ?? []) as Obj[]).map((v) => ({ section, at, rule: v.rule, message: v.message, fieldPath: v.fieldPath })),
      ),
    );
    const fromHerald = SECTION_RULES.map((r) => ({
      section: r.section,
      at: [...(r.at ?? [])],
      rule: r.rule,
      message: r.message,
      fieldPath: r.field === undefined ? undefined : `.${r.field}`,
    }));
    const order = (rules: { section: string; at: string[]; rule: string }[]) =>
      [...rules].sort((a, b) => JSON.stringify([a.section, a.at, a.rule]).localeCompare(JSON.stringify([b.section, b.at, b.rule])));
    expect(order(fromCrd)).toEqual(order(fromHerald));
    // Each of Herald's rules sits on a node the CRD has.
    for (const r of SECTION_RULES) expect(nodeAt(r.section, r.at ?? []).type, `${r.section}.${(r.at ?? []).join('.')}`).toBeDefined();
  });

  it('each bound is live in Herald: one past it is rejected at the path the apiserver names', () => {
    for (const section of POLICY_SECTIONS) {
      for (const [field, rule] of Object.entries(FIELD_RULES[section])) {
        if (rule.type === 'object' || rule.type === 'array') continue;
        const bad = rule.type === 'boolean' ? 'yes' : rule.type === 'integer' ? rule.maximum + 1 : 'enum' in rule ? 'Nope' : 'x'.repeat(rule.maxLength + 1);
        // outlierDetection needs a trigger and healthCheck a checker to pass their CEL rules; the bound under test comes last.
        const valid = section === 'outlierDetection' ? { consecutive5xx: 1 } : section === 'healthCheck' ? { tcp: true } : {};
        const result = validatePolicySpec({ [section]: { ...valid, [field]: bad } });
        expect(result.ok ? [] : result.errors.map((e) => e.path)).toContain(`spec.${section}.${field}`);
      }
    }
  });

  it('each nested bound is live in Herald too, at the path the apiserver names', () => {
    const cases: [unknown, string][] = [
      [{ retries: { retryOn: ['5xx'], attempts: 11 } }, 'spec.routes.retries.attempts'],
      [{ retries: { retryOn: ['teapot'] } }, 'spec.routes.retries.retryOn[0]'],
      [{ retries: { retryOn: [] } }, 'spec.routes.retries.retryOn'],
      [{ retries: { retryOn: ['5xx', '5xx'] } }, 'spec.routes.retries.retryOn'],
      [{ retries: { attempts: 2 } }, 'spec.routes.retries.retryOn'],
      [{ retries: { retryOn: ['reset'], backoff: { maxIntervalMs: 10 } } }, 'spec.routes.retries.backoff.baseIntervalMs'],
      [{ retries: { retryOn: ['reset'], backoff: { baseIntervalMs: 3_600_001 } } }, 'spec.routes.retries.backoff.baseIntervalMs'],
      [{ retries: { retryOn: ['reset'], backoff: { baseIntervalMs: 100, maxIntervalMs: 99 } } }, 'spec.routes.retries.backoff.maxIntervalMs'],
      [{ split: [] }, 'spec.routes.split'],
      [{ split: Array.from({ length: 11 }, (_, i) => ({ service: `s${i}`, weight: 1 })) }, 'spec.routes.split'],
      [{ split: [{ service: 'a', weight: 10_001 }] }, 'spec.routes.split[0].weight'],
      [{ split: [{ service: '-a', weight: 1 }] }, 'spec.routes.split[0].service'],
      [{ split: [{ service: 'a'.repeat(64), weight: 1 }] }, 'spec.routes.split[0].service'],
      [{ split: [{ service: 'a' }] }, 'spec.routes.split[0].weight'],
      [{ split: [{ service: 'a', weight: 1, extra: 1 }] }, 'spec.routes.split[0].extra'],
      [{ split: [{ service: 'a', weight: 0 }] }, 'spec.routes.split'],
      [
        {
          split: [
            { service: 'a', weight: 1 },
            { service: 'a', weight: 2 },
          ],
        },
        'spec.routes.split',
      ],
    ];
    for (const [routes, path] of cases) {
      const result = validatePolicySpec({ routes });
      expect(result.ok ? [] : result.errors.map((e) => e.path), JSON.stringify(routes)).toContain(path);
    }
  });
});
