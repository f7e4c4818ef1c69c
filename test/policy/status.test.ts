import { describe, expect, it } from 'vitest';
import type { AcceptedCondition } from '../../src/model/index.js';
import { acceptedCondition, shouldWriteAccepted } from '../../src/policy/index.js';
import { acceptedOf, acceptedStatusPatch } from '../../src/sources/kube/index.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:05:00.000Z';
const me = { replica: 'herald-a', cluster: 'east' };
const invalid = { generation: 3, errors: [{ path: 'spec.connection.connectTimeoutMs', message: 'must be ≤ 300000' }], keptGeneration: 2 };

describe('acceptedCondition', () => {
  it('says True for a valid generation and keeps the transition time while the status stays', () => {
    const first = acceptedCondition({ generation: 1, errors: [] }, me, undefined, T0);
    expect(first).toEqual({ status: 'True', reason: 'Valid', message: 'generation 1 is valid', observedGeneration: 1, lastTransitionTime: T0, writer: me });
    expect(acceptedCondition({ generation: 2, errors: [] }, me, first, T1).lastTransitionTime).toBe(T0);
  });

  it('says False with every field path and which generation stays, and moves the transition time', () => {
    const before = acceptedCondition({ generation: 2, errors: [] }, me, undefined, T0);
    expect(acceptedCondition(invalid, me, before, T1)).toEqual({
      status: 'False',
      reason: 'Invalid',
      message: 'spec.connection.connectTimeoutMs: must be ≤ 300000; generation 2 stays in effect',
      observedGeneration: 3,
      lastTransitionTime: T1,
      writer: me,
    });
    expect(acceptedCondition({ ...invalid, keptGeneration: undefined }, me, undefined, T1).message).toMatch(/; nothing from this object is applied$/);
  });

  it('bounds the message however many errors there are', () => {
    const errors = Array.from({ length: 500 }, (_, i) => ({ path: `spec.connection.field${i}`, message: 'unknown field' }));
    expect(acceptedCondition({ generation: 1, errors }, me, undefined, T0).message.length).toBeLessThanOrEqual(2_000);
  });
});

describe('shouldWriteAccepted: replicas never take turns overwriting each other', () => {
  const want = acceptedCondition(invalid, me, undefined, T1);
  const by = (replica: string, patch: Partial<AcceptedCondition> = {}): AcceptedCondition => ({ ...want, writer: { replica }, ...patch });
  it.each<[string, AcceptedCondition | undefined, boolean]>([
    ['no condition yet', undefined, true],
    ['a condition about an older generation', by('herald-b', { observedGeneration: 2, status: 'True', reason: 'Valid' }), true],
    ['the same verdict, written by another replica', by('herald-b'), false],
    ['the same verdict, older transition time', by('herald-a', { lastTransitionTime: T0 }), false],
    ["another replica's different verdict on this generation", by('herald-b', { status: 'True', reason: 'Valid', message: 'generation 3 is valid' }), false],
    ['its own different verdict on this generation', by('herald-a', { status: 'True', reason: 'Valid', message: 'generation 3 is valid' }), true],
    ['a condition about a newer generation than it has judged', by('herald-b', { observedGeneration: 4 }), false],
  ])('%s → %s', (_what, seen, expected) => {
    expect(shouldWriteAccepted(seen, want, 'herald-a')).toBe(expected);
  });
});

describe('the status as the apiserver holds it', () => {
  it('reads back what the patch writes', () => {
    const condition = acceptedCondition(invalid, me, undefined, T1);
    const patch = acceptedStatusPatch(condition) as { status: unknown };
    expect(patch.status).toEqual({
      conditions: [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: condition.message, observedGeneration: 3, lastTransitionTime: T1 }],
      acceptedBy: { replica: 'herald-a', cluster: 'east' },
    });
    expect(acceptedOf(patch.status)).toEqual(condition);
  });

  it.each([
    undefined,
    {},
    { conditions: 'x' },
    { conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }] },
    { conditions: [{ type: 'Accepted', status: 'Maybe', observedGeneration: 1 }] },
  ])('reads %j as no condition', (status) => {
    expect(acceptedOf(status)).toBeUndefined();
  });
});
