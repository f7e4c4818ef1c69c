import { describe, expect, it } from 'vitest';
import { MAX_DRAIN_WAIT_MS, parseDrainQuery, WaiterGate } from '../../src/admin/index.js';

describe('parseDrainQuery', () => {
  const ok: [string, object, number][] = [
    ['namespace=shop&name=cart-1', { namespace: 'shop', name: 'cart-1' }, 0],
    ['pod=shop/cart-1&cluster=dc1', { cluster: 'dc1', namespace: 'shop', name: 'cart-1' }, 0],
    ['ip=10.1.2.3&wait=10s', { ip: '10.1.2.3' }, 10_000],
    ['ip=fd00::1&wait=500ms', { ip: 'fd00::1' }, 500],
    ['ip=10.1.2.3&wait=1h', { ip: '10.1.2.3' }, MAX_DRAIN_WAIT_MS],
  ];
  for (const [query, pod, waitMs] of ok) {
    it(`reads ${query}`, () => {
      const parsed = parseDrainQuery(new URLSearchParams(query), true);
      expect(parsed).toMatchObject({ pod, waitMs });
    });
  }
  const bad: [string, RegExp][] = [
    ['', /name the pod/],
    ['namespace=shop', /go together/],
    ['pod=cart-1', /NAMESPACE\/NAME/],
    ['pod=shop/cart-1&name=x', /not both/],
    ['ip=10.1.2', /not an IP/],
    ['namespace=Shop&name=x', /object names/],
    ['cluster=a%20b&ip=10.0.0.1', /not a cluster name/],
    ['ip=10.0.0.1&wait=10', /needs a unit/],
  ];
  for (const [query, message] of bad) {
    it(`refuses '${query}'`, () => {
      const parsed = parseDrainQuery(new URLSearchParams(query), true);
      expect('error' in parsed && parsed.error).toMatch(message);
    });
  }
  it('takes wait only where waiting is served', () => {
    expect(parseDrainQuery(new URLSearchParams('ip=10.0.0.1&wait=1s'), false)).toEqual({ error: 'wait: only /debug/drains/wait waits' });
  });
});

describe('WaiterGate', () => {
  it('lets at most max in and counts leaves', () => {
    const gate = new WaiterGate(2);
    expect([gate.tryEnter(), gate.tryEnter(), gate.tryEnter()]).toEqual([true, true, false]);
    gate.leave();
    expect(gate.waiting).toBe(1);
    expect(gate.tryEnter()).toBe(true);
  });
});
