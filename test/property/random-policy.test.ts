// The policies the no-NACK property test serves are all valid (an invalid one would be rejected
// by Herald and never reach a client), and between them they set every field of every section.
import { describe, expect, it } from 'vitest';
import { POLICY_SECTIONS } from '../../src/model/index.js';
import { FIELD_RULES, validatePolicySpec } from '../../src/policy/index.js';
import { Rng } from './random-mesh.js';
import { randomPolicy } from './random-policy.js';

describe('randomPolicy', () => {
  // Every third as a mesh-defaults object, which alone may evacuate kube clusters.
  const evacuable = (seed: number) => (seed % 3 === 0 ? ['east', 'west'] : undefined);
  const specs = Array.from({ length: 400 }, (_, seed) => randomPolicy(new Rng(seed), seed % 2 === 0, { self: 'cart', others: ['cart-canary', 'made-up'] }, evacuable(seed)));

  it('draws only policies Herald accepts', () => {
    for (const spec of specs) expect(validatePolicySpec(spec)).toEqual({ ok: true, spec });
  });

  it('evacuates only in mesh-defaults objects, and only real clusters', () => {
    specs.forEach((spec, seed) => {
      const evacuate = spec.locality?.evacuate;
      if (evacuable(seed) === undefined) expect(spec.locality ?? {}).not.toHaveProperty('evacuate');
      else for (const cluster of evacuate ?? []) expect(evacuable(seed)).toContain(cluster);
    });
  });

  it('sets every field of every section somewhere, and every balancer', () => {
    const seen = new Set(specs.flatMap((spec) => Object.entries(spec).flatMap(([section, fields]) => Object.keys(fields as object).map((f) => `${section}.${f}`))));
    expect([...seen].sort()).toEqual(POLICY_SECTIONS.flatMap((section) => Object.keys(FIELD_RULES[section]).map((f) => `${section}.${f}`)).sort());
    expect(new Set(specs.map((spec) => spec.loadBalancing?.policy))).toEqual(new Set([undefined, ...(FIELD_RULES.loadBalancing.policy as { enum: readonly string[] }).enum]));
  });
});
