// One source of truth for the rules: the CRD the apiserver enforces and Herald's validator must
// say the same thing. Every bound, enum and CEL rule is compared, in both directions.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { POLICY_SECTIONS } from '../../src/model/index.js';
import { FIELD_RULES, SECTION_RULES, validatePolicySpec } from '../../src/policy/index.js';
import { POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION } from '../../src/sources/kube/index.js';

type Obj = Record<string, any>;
// client-node's loader gives the typed model (V1JSONSchemaProps): `enum` is `_enum`,
// `x-kubernetes-validations` is `x_kubernetes_validations`.
const crd = loadYaml<V1CustomResourceDefinition>(readFileSync(fileURLToPath(new URL('../../deploy/crd/servicepolicies.yaml', import.meta.url)), 'utf8')) as Obj;
const version = (crd.spec.versions as Obj[]).find((v) => v.name === POLICY_VERSION)!;
const specSchema = version.schema.openAPIV3Schema.properties.spec as Obj;

describe('deploy/crd/servicepolicies.yaml and src/policy/rules.ts', () => {
  it('is the CRD Herald lists and watches', () => {
    expect(crd.metadata.name).toBe(`${POLICY_PLURAL}.${POLICY_GROUP}`);
    expect([crd.spec.group, crd.spec.scope, crd.spec.names.plural, version.served, version.storage]).toEqual([POLICY_GROUP, 'Namespaced', POLICY_PLURAL, true, true]);
  });

  it('has the same sections and fields', () => {
    expect(Object.keys(specSchema.properties).sort()).toEqual([...POLICY_SECTIONS].sort());
    for (const section of POLICY_SECTIONS) expect(Object.keys(specSchema.properties[section].properties).sort()).toEqual(Object.keys(FIELD_RULES[section]).sort());
  });

  it.each(POLICY_SECTIONS.flatMap((section) => Object.entries(FIELD_RULES[section]).map(([field, rule]) => ({ path: `${section}.${field}`, section, field, rule }))))(
    '$path has the same type and bounds',
    ({ section, field, rule }) => {
      const schema = specSchema.properties[section].properties[field] as Obj;
      expect(Object.fromEntries(Object.entries(schema).flatMap(([k, v]) => (v === undefined ? [] : [[k === '_enum' ? 'enum' : k, v]])))).toEqual(
        rule.type === 'boolean'
          ? { type: 'boolean' }
          : rule.type === 'integer'
            ? { type: 'integer', minimum: rule.minimum, maximum: rule.maximum }
            : 'enum' in rule
              ? { type: 'string', enum: [...rule.enum] }
              : { type: 'string', pattern: rule.pattern, maxLength: rule.maxLength },
      );
    },
  );

  it('carries the same CEL rules, with the same messages and field paths', () => {
    const fromCrd = POLICY_SECTIONS.flatMap((section) =>
      ((specSchema.properties[section].x_kubernetes_validations ?? []) as Obj[]).map((v) => ({ section, rule: v.rule, message: v.message, fieldPath: v.fieldPath })),
    );
    expect(fromCrd).toEqual(SECTION_RULES.map((r) => ({ section: r.section, rule: r.rule, message: r.message, fieldPath: `.${r.field}` })));
  });

  it('each bound is live in Herald: one past it is rejected at the path the apiserver names', () => {
    for (const section of POLICY_SECTIONS) {
      for (const [field, rule] of Object.entries(FIELD_RULES[section])) {
        const bad = rule.type === 'boolean' ? 'yes' : rule.type === 'integer' ? rule.maximum + 1 : 'enum' in rule ? 'Nope' : 'x'.repeat(rule.maxLength + 1);
        // outlierDetection needs a trigger and healthCheck a checker to pass their CEL rules; the bound under test comes last.
        const valid = section === 'outlierDetection' ? { consecutive5xx: 1 } : section === 'healthCheck' ? { tcp: true } : {};
        const result = validatePolicySpec({ [section]: { ...valid, [field]: bad } });
        expect(result.ok ? [] : result.errors.map((e) => e.path)).toContain(`spec.${section}.${field}`);
      }
    }
  });
});
