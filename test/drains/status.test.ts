import { describe, expect, it } from 'vitest';
import { DrainHistory, podDrainStatus, type DrainRecord, type PendingDrain, type PodFacts } from '../../src/drains/index.js';

const notice = { service: 'cart.shop', cluster: 'a', podKey: 'shop/cart-1', ip: '10.0.0.1', port: 8080, seq: 7 };

function finished(over: Partial<DrainRecord> = {}): DrainRecord {
  return {
    ...notice,
    observedAtMs: 1_000,
    clients: 3,
    sent: 3,
    acked: 3,
    gone: 0,
    deliveredSeconds: 0.01,
    propagationSeconds: 0.02,
    complete: true,
    completedAtMs: 1_020,
    neverAckedNodes: [],
    ...over,
  };
}

const pending: PendingDrain = { ...notice, observedAtMs: 5_000, clients: 4, sent: 4, acked: 2, gone: 1, ageSeconds: 0.5 };
const terminating: PodFacts = { cluster: 'a', podKey: 'shop/cart-1', ip: '10.0.0.1', terminating: true, terminatingSinceMs: 1_000, inMesh: true };

describe('podDrainStatus', () => {
  const cases: { name: string; input: Parameters<typeof podDrainStatus>[0]; state: string; drained: boolean; counts?: number[]; waitingFor?: string[] }[] = [
    { name: 'nothing known', input: { pod: undefined, pending: [], pendingWaitingFor: [], history: [] }, state: 'unknown', drained: false },
    {
      name: 'known, not terminating (even with an older drain of that name)',
      input: { pod: { ...terminating, terminating: false, terminatingSinceMs: undefined }, pending: [], pendingWaitingFor: [], history: [finished()] },
      state: 'serving',
      drained: false,
    },
    {
      name: 'a drain in flight',
      input: { pod: terminating, pending: [pending], pendingWaitingFor: ['envoy-9'], history: [] },
      state: 'draining',
      drained: false,
      counts: [4, 4, 2, 1],
      waitingFor: ['envoy-9'],
    },
    { name: 'finished and complete', input: { pod: terminating, pending: [], pendingWaitingFor: [], history: [finished()] }, state: 'drained', drained: true, counts: [3, 3, 3, 0] },
    {
      name: 'terminating and served by the terminating fallback: not drained, even after an earlier drain',
      input: { pod: { ...terminating, servedByFallback: true }, pending: [], pendingWaitingFor: [], history: [finished()] },
      state: 'fallback',
      drained: false,
      counts: [0, 0, 0, 0],
    },
    {
      name: 'finished, time ran out',
      input: { pod: terminating, pending: [], pendingWaitingFor: [], history: [finished({ complete: false, acked: 2, neverAckedNodes: ['stuck-1'] })] },
      state: 'incomplete',
      drained: false,
      counts: [3, 3, 2, 0],
      waitingFor: ['stuck-1'],
    },
    {
      name: 'a drain of an older pod of that name is not this one',
      input: { pod: { ...terminating, terminatingSinceMs: 9_000 }, pending: [], pendingWaitingFor: [], history: [finished()] },
      state: 'draining',
      drained: false,
      counts: [0, 0, 0, 0],
    },
    { name: 'gone from the store, history says drained', input: { pod: undefined, pending: [], pendingWaitingFor: [], history: [finished()] }, state: 'drained', drained: true },
    {
      name: 'terminating without an endpoint (no port, no label)',
      input: { pod: { ...terminating, inMesh: false }, pending: [], pendingWaitingFor: [], history: [] },
      state: 'not_in_mesh',
      drained: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const status = podDrainStatus(c.input);
      expect(status.state).toBe(c.state);
      expect(status.drained).toBe(c.drained);
      if (c.counts) expect([status.clients, status.sent, status.acked, status.gone]).toEqual(c.counts);
      expect(status.waitingFor).toEqual(c.waitingFor ?? []);
    });
  }
});

describe('DrainHistory', () => {
  it('keeps the newest drains per pod and drops the least recently drained pod past its bound', () => {
    const history = new DrainHistory(2, 2);
    history.record(finished({ completedAtMs: 1 }));
    history.record(finished({ completedAtMs: 2 }));
    history.record(finished({ completedAtMs: 3 }));
    expect(history.ofPod('a', 'shop/cart-1').map((d) => d.completedAtMs)).toEqual([3, 2]);
    history.record(finished({ podKey: 'shop/cart-2', ip: '10.0.0.2', completedAtMs: 4 }));
    history.record(finished({ podKey: 'shop/cart-3', ip: '10.0.0.3', completedAtMs: 5 }));
    expect(history.size).toBe(2);
    expect(history.ofPod('a', 'shop/cart-1')).toEqual([]);
    expect(history.ofIp('10.0.0.3').map((d) => d.podKey)).toEqual(['shop/cart-3']);
    expect(history.ofPod('b', 'shop/cart-2')).toEqual([]);
  });

  it('refuses bounds that are not positive integers', () => {
    expect(() => new DrainHistory(0)).toThrow(RangeError);
    expect(() => new DrainHistory(1, 1.5)).toThrow(RangeError);
  });
});
