import { describe, expect, it } from 'vitest';
import type { ServicePolicySpec } from '../../src/model/index.js';
import { mergePolicy, resolveAcrossClusters, specKey, type SourcedSpec } from '../../src/policy/index.js';

const sourced = (cluster: string, name: string, spec: ServicePolicySpec, generation = 1, namespace = 'shop'): SourcedSpec => ({ spec, origin: { cluster, namespace, name, generation } });

describe('mergePolicy', () => {
  const defaults = sourced('east', 'mesh-defaults', { connection: { connectTimeoutMs: 500 }, circuitBreakers: { maxRequests: 1000 } }, 3, 'herald');
  it.each([
    { name: 'nothing', defaults: undefined, own: undefined, spec: {}, from: {} },
    { name: 'defaults only', defaults, own: undefined, spec: defaults.spec, from: { connection: 'defaults', circuitBreakers: 'defaults' } },
    {
      name: 'a section of its own replaces the defaults section whole',
      defaults,
      own: sourced('west', 'cart', { connection: { idleTimeoutMs: 9000 } }),
      spec: { connection: { idleTimeoutMs: 9000 }, circuitBreakers: { maxRequests: 1000 } },
      from: { connection: 'service', circuitBreakers: 'defaults' },
    },
    {
      name: 'own object without defaults',
      defaults: undefined,
      own: sourced('west', 'cart', { outlierDetection: { consecutive5xx: 2 } }),
      spec: { outlierDetection: { consecutive5xx: 2 } },
      from: { outlierDetection: 'service' },
    },
  ])('$name', ({ defaults: d, own, spec, from }) => {
    const merged = mergePolicy(d, own);
    expect(merged.spec).toEqual(spec);
    expect(Object.fromEntries(Object.entries(merged.from).map(([section, origin]) => [section, origin.role]))).toEqual(from);
    for (const origin of Object.values(merged.from)) expect(origin.cluster).toBe(origin.role === 'defaults' ? 'east' : 'west');
  });

  it('keys specs by content, not field order', () => {
    expect(specKey({ connection: { idleTimeoutMs: 1, connectTimeoutMs: 2 } })).toBe(specKey({ connection: { connectTimeoutMs: 2, idleTimeoutMs: 1 } }));
    expect(specKey({ connection: { idleTimeoutMs: 1 } })).not.toBe(specKey({ connection: { idleTimeoutMs: 2 } }));
  });
});

describe('resolveAcrossClusters', () => {
  const a = { circuitBreakers: { maxRequests: 10 } };
  const b = { circuitBreakers: { maxRequests: 20 } };
  it.each([
    { name: 'no copy', copies: [], order: ['east'], chosen: undefined, conflict: undefined },
    { name: 'one copy', copies: [sourced('west', 'cart', a)], order: ['east', 'west'], chosen: 'west', conflict: undefined },
    { name: 'equal copies agree, generations aside', copies: [sourced('west', 'cart', a, 7), sourced('east', 'cart', a, 2)], order: ['east', 'west'], chosen: 'east', conflict: undefined },
    {
      name: 'different copies: the first cluster of the order wins, reported',
      copies: [sourced('east', 'cart', a), sourced('west', 'cart', b)],
      order: ['west', 'east'],
      chosen: 'west',
      conflict: { clusters: ['west', 'east'], chosen: 'west' },
    },
    { name: 'a cluster not in the order is not read', copies: [sourced('east', 'cart', a), sourced('west', 'cart', b)], order: ['east'], chosen: 'east', conflict: undefined },
  ])('$name', ({ copies, order, chosen, conflict }) => {
    const resolved = resolveAcrossClusters(copies, order);
    expect(resolved?.chosen.origin.cluster).toBe(chosen);
    expect(resolved?.conflict).toEqual(conflict);
  });

  it('decides the same whatever order the copies arrive in', () => {
    const copies = [sourced('east', 'cart', a), sourced('west', 'cart', b), sourced('north', 'cart', a)];
    const order = ['north', 'west', 'east'];
    expect(resolveAcrossClusters([...copies].reverse(), order)).toEqual(resolveAcrossClusters(copies, order));
  });
});
