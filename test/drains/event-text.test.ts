import { describe, expect, it } from 'vitest';
import { drainEventBody, drainEventContent, drainEventKey, formatSeconds, kubeEventWriter, microTime, type DrainRecord } from '../../src/drains/index.js';
import { buildDrainConfig } from '../../src/config/index.js';

function drain(over: Partial<DrainRecord> = {}): DrainRecord {
  return {
    service: 'cart.shop',
    cluster: 'dc1',
    podKey: 'shop/cart-7f9c',
    ip: '10.1.2.3',
    port: 8080,
    seq: 4,
    observedAtMs: 1_000,
    clients: 2431,
    sent: 2431,
    acked: 2431,
    gone: 0,
    deliveredSeconds: 0.05,
    propagationSeconds: 0.084,
    complete: true,
    completedAtMs: 1_084,
    neverAckedNodes: [],
    ...over,
  };
}

describe('drain Event text', () => {
  const cases: [string, Partial<DrainRecord>, string, string][] = [
    ['complete', {}, 'HeraldDrained', 'DRAINING acknowledged by 2,431/2,431 xDS clients of Herald replica herald-0 84 ms after termination began (service cart.shop)'],
    [
      'complete, some clients gone',
      { acked: 2429, gone: 2, propagationSeconds: 1.25 },
      'HeraldDrained',
      'DRAINING acknowledged by 2,429/2,431 xDS clients of Herald replica herald-0 (2 disconnected before ACKing) 1.3 s after termination began (service cart.shop)',
    ],
    ['nobody subscribed', { clients: 0, sent: 0, acked: 0 }, 'HeraldDrained', 'No xDS client of Herald replica herald-0 uses service cart.shop: nothing to drain'],
    [
      'incomplete',
      { complete: false, acked: 2428, gone: 0, propagationSeconds: 30, neverAckedNodes: ['a.shop', 'b.shop', 'c.shop'] },
      'HeraldDrainIncomplete',
      'DRAINING not acknowledged by 3/2,431 xDS clients of Herald replica herald-0 30 s after termination began: a.shop, b.shop, c.shop; 2,428 ACKed (service cart.shop)',
    ],
    [
      'incomplete, more than named',
      { complete: false, clients: 10, sent: 10, acked: 2, gone: 1, propagationSeconds: 30, neverAckedNodes: ['a', 'b'] },
      'HeraldDrainIncomplete',
      'DRAINING not acknowledged by 7/10 xDS clients of Herald replica herald-0 30 s after termination began: a, b, ...; 2 ACKed (1 disconnected before ACKing) (service cart.shop)',
    ],
  ];
  for (const [name, over, reason, note] of cases) {
    it(name, () => {
      const content = drainEventContent(drain(over), 'herald-0', 'uid-1');
      expect(content).toMatchObject({ cluster: 'dc1', namespace: 'shop', pod: 'cart-7f9c', uid: 'uid-1', reason, note });
      expect(content.type).toBe(reason === 'HeraldDrained' ? 'Normal' : 'Warning');
      expect(drainEventKey(content)).toBe(`dc1/shop/cart-7f9c/${reason}`);
    });
  }

  it('formats durations for reading', () => {
    expect([0.0004, 0.084, 1, 9.96, 12.4, 95].map(formatSeconds)).toEqual(['0 ms', '84 ms', '1.0 s', '10.0 s', '12 s', '95 s']);
  });
});

describe('drain Event body (events.k8s.io/v1)', () => {
  const content = drainEventContent(drain(), 'herald-0', 'uid-1');
  it('is a singleton without a series, with microsecond times', () => {
    const body = drainEventBody({ key: 'k', latest: content, count: 1, firstAtMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678), lastAtMs: 0 }, 'herald-0', 'herald-abc');
    expect(body).toMatchObject({
      metadata: { name: 'cart-7f9c.herald-abc', namespace: 'shop' },
      eventTime: '2026-01-02T03:04:05.678000Z',
      reportingController: 'herald.io/drain-receipts',
      reportingInstance: 'herald-0',
      action: 'Drain',
      reason: 'HeraldDrained',
      type: 'Normal',
      regarding: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'cart-7f9c', uid: 'uid-1' },
    });
    expect(body.series).toBeUndefined();
  });
  it('carries repeats as a series', () => {
    const body = drainEventBody({ key: 'k', latest: content, count: 3, firstAtMs: 0, lastAtMs: 2_000 }, 'herald-0', 'herald-abc');
    expect(body.series).toEqual({ count: 3, lastObservedTime: microTime(2_000) });
  });
  it('keeps the name within 253 characters', () => {
    const long = { ...content, pod: 'p'.repeat(253) };
    expect(drainEventBody({ key: 'k', latest: long, count: 1, firstAtMs: 0, lastAtMs: 0 }, 'r', 'herald-0123456789').metadata!.name!.length).toBe(253);
  });
});

describe('buildDrainConfig', () => {
  it('is off by default and names the replica after the pod', () => {
    expect(buildDrainConfig({}, { POD_NAME: 'herald-5d8f' })).toEqual({ drainTimeoutMs: 60_000, replicaName: 'herald-5d8f', events: undefined });
  });
  it('reads the Event rate limit', () => {
    expect(buildDrainConfig({ drainEvents: true, drainEventsQps: 2.5, drainEventsBurst: 10, drainEventsQueue: 100, replicaName: 'r1', drainTimeout: '30s' }, {})).toEqual({
      drainTimeoutMs: 30_000,
      replicaName: 'r1',
      events: { perSecond: 2.5, burst: 10, capacity: 100 },
    });
  });
  it.each([
    [{ drainEvents: true, drainEventsQps: 0 }, /--drain-events-qps/],
    [{ drainEvents: true, drainEventsBurst: 1.5 }, /--drain-events-burst/],
    [{ drainTimeout: '2h' }, /at most 1h/],
    [{ replicaName: 'x'.repeat(129) }, /128/],
  ])('refuses %o', (raw, message) => {
    expect(() => buildDrainConfig(raw, {})).toThrow(message);
  });
});

describe('kubeEventWriter', () => {
  it("writes each Event to its pod's own cluster, and fails for a cluster it has no client for", async () => {
    const written: Record<string, unknown[]> = { dc1: [], dc2: [] };
    const api = (cluster: string) => ({ createNamespacedEvent: async (req: unknown) => void written[cluster]!.push(req) }) as never;
    const write = kubeEventWriter({
      apis: new Map([
        ['dc1', api('dc1')],
        ['dc2', api('dc2')],
      ]),
      replica: 'herald-0',
    });
    const content = drainEventContent(drain({ cluster: 'dc2' }), 'herald-0', undefined);
    await write({ key: 'k', latest: content, count: 1, firstAtMs: 0, lastAtMs: 0 });
    expect(written['dc1']).toEqual([]);
    expect(written['dc2']).toEqual([expect.objectContaining({ namespace: 'shop', body: expect.objectContaining({ reason: 'HeraldDrained', reportingInstance: 'herald-0' }) })]);
    await expect(write({ key: 'k', latest: { ...content, cluster: 'dc3' }, count: 1, firstAtMs: 0, lastAtMs: 0 })).rejects.toThrow('no Kubernetes client for cluster dc3');
  });
});
