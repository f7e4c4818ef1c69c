// The policies the no-NACK property test serves are all valid (an invalid one would be rejected
// by Herald and never reach a client), and between them they set every field of every section.
import { describe, expect, it } from 'vitest';
import { POLICY_SECTIONS } from '../../src/model/index.js';
import { FIELD_RULES, validatePolicySpec } from '../../src/policy/index.js';
import { Rng } from './random-mesh.js';
import { randomPolicy } from './random-policy.js';

describe('randomPolicy', () => {
  const specs = Array.from({ length: 400 }, (_, seed) => randomPolicy(new Rng(seed), seed % 2 === 0, { self: 'cart', others: ['cart-canary', 'made-up'] }));

  it('draws only policies Herald accepts', () => {
    for (const spec of specs) expect(validatePolicySpec(spec)).toEqual({ ok: true, spec });
  });

  it('sets every field of every section somewhere, and every balancer', () => {
    const seen = new Set(specs.flatMap((spec) => Object.entries(spec).flatMap(([section, fields]) => Object.keys(fields as object).map((f) => `${section}.${f}`))));
    expect([...seen].sort()).toEqual(POLICY_SECTIONS.flatMap((section) => Object.keys(FIELD_RULES[section]).map((f) => `${section}.${f}`)).sort());
    expect(new Set(specs.map((spec) => spec.loadBalancing?.policy))).toEqual(new Set([undefined, ...(FIELD_RULES.loadBalancing.policy as { enum: readonly string[] }).enum]));
  });
});
