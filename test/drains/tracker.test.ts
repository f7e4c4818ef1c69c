import { describe, expect, it } from 'vitest';
import { DrainTracker, type DrainNotice, type DrainResult } from '../../src/drains/index.js';
import type { StreamObserver } from '../../src/xds/index.js';

function setup(subscribers: Record<string, string[]>, timeoutMs?: number) {
  let now = 1_000;
  const results: DrainResult[] = [];
  const tracker = new DrainTracker({
    clock: () => now,
    subscribersOf: (name) => subscribers[name] ?? [],
    onComplete: (result) => results.push(result),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  return { tracker, results, advance: (ms: number) => (now += ms), now: () => now };
}

const notice = (over: Partial<DrainNotice> = {}): DrainNotice => ({
  service: 'svc',
  cluster: 'k1',
  podKey: 'ns/pod-1',
  ip: '10.0.0.1',
  port: 8080,
  observedAtMs: 1_000,
  seq: 10,
  ...over,
});

describe('DrainTracker', () => {
  it('completes immediately with zero clients when nobody subscribes', () => {
    const { tracker, results } = setup({});
    tracker.track(notice());
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ clients: 0, acked: 0, complete: true });
    expect(tracker.pending()).toEqual([]);
  });

  it('completes when every subscribed stream ACKed a seq at least as new', () => {
    const { tracker, results, advance } = setup({ svc: ['s1', 's2'] });
    tracker.track(notice());
    advance(20);
    tracker.sentOne('s1', 'svc', 10);
    tracker.sentOne('s2', 'svc', 11);
    advance(30);
    tracker.ackedOne('s1', 'svc', 9); // older than the notice: does not count
    tracker.ackedOne('s1', 'svc', 10);
    expect(results).toHaveLength(0);
    expect(tracker.pending()[0]).toMatchObject({ clients: 2, sent: 2, acked: 1 });
    tracker.ackedOne('s2', 'other', 12); // another service: does not count
    expect(results).toHaveLength(0);
    advance(50);
    tracker.ackedOne('s2', 'svc', 11);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ clients: 2, acked: 2, complete: true, podKey: 'ns/pod-1' });
    expect(results[0]!.deliveredSeconds).toBeCloseTo(0.02);
    expect(results[0]!.propagationSeconds).toBeCloseTo(0.1);
    expect(tracker.pending()).toEqual([]);
  });

  // The pipeline tracks from cache.apply()'s onApplied hook, before the fan-out: a send cannot precede track().
  it('does not count a send made before track()', () => {
    const { tracker, advance } = setup({ svc: ['s1', 's2'] });
    tracker.sentOne('s1', 'svc', 10);
    advance(5);
    tracker.track(notice());
    tracker.sentOne('s2', 'svc', 10);
    expect(tracker.pending()[0]).toMatchObject({ clients: 2, sent: 1, acked: 0 });
  });

  it('completes when the remaining streams go away', () => {
    const { tracker, results } = setup({ svc: ['s1', 's2'] });
    tracker.track(notice());
    tracker.ackedOne('s1', 'svc', 10);
    tracker.streamGone('s2');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ clients: 2, acked: 1, complete: true });
  });

  it('ignores streams that subscribed after tracking', () => {
    const subs: Record<string, string[]> = { svc: ['s1'] };
    const { tracker, results } = setup(subs);
    tracker.track(notice());
    subs.svc!.push('late');
    tracker.ackedOne('s1', 'svc', 10);
    expect(results).toHaveLength(1);
    expect(results[0]!.clients).toBe(1);
  });

  it('gives up at the timeout, marked incomplete', async () => {
    const { tracker, results } = setup({ svc: ['s1'] }, 30);
    tracker.track(notice());
    const deadline = Date.now() + 5_000;
    while (results.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ complete: false, clients: 1, acked: 0 });
    tracker.ackedOne('s1', 'svc', 10);
    expect(results).toHaveLength(1);
  });

  it('tracks several drains of one service independently', () => {
    const { tracker, results } = setup({ svc: ['s1'] });
    tracker.track(notice({ podKey: 'ns/a', seq: 10 }));
    tracker.track(notice({ podKey: 'ns/b', seq: 20 }));
    tracker.ackedOne('s1', 'svc', 15);
    expect(results.map((r) => r.podKey)).toEqual(['ns/a']);
    tracker.ackedOne('s1', 'svc', 20);
    expect(results.map((r) => r.podKey)).toEqual(['ns/a', 'ns/b']);
  });

  it('counts the fan-out that follows track(), then completes on later ACKs', () => {
    const { tracker, results, advance } = setup({ svc: ['s1', 's2'] });
    tracker.track(notice());
    advance(10);
    tracker.sentOne('s1', 'svc', 10);
    tracker.sentOne('s2', 'svc', 9); // too old
    expect(tracker.pending()[0]).toMatchObject({ acked: 0, sent: 1 });
    advance(10);
    tracker.sentOne('s2', 'svc', 10);
    tracker.sentOne('s1', 'svc', 10); // again: counted once, and does not move the delivery time
    tracker.ackedOne('s1', 'svc', 10);
    expect(tracker.pending()[0]).toMatchObject({ acked: 1, sent: 2 });
    tracker.ackedOne('s2', 'svc', 10);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ acked: 2, complete: true });
    expect(results[0]!.deliveredSeconds).toBeCloseTo(0.02);
    expect(results[0]!.propagationSeconds).toBeCloseTo(0.02);

    // A second pod of the service drains: a new seq, tracked and then sent again.
    tracker.track(notice({ podKey: 'ns/pod-2', seq: 11 }));
    tracker.sentOne('s1', 'svc', 11);
    tracker.sentOne('s2', 'svc', 11);
    expect(tracker.pending()[0]).toMatchObject({ podKey: 'ns/pod-2', clients: 2, sent: 2, acked: 0 });
    tracker.ackedOne('s1', 'svc', 11);
    tracker.ackedOne('s2', 'svc', 11);
    expect(results).toHaveLength(2);
    expect(results[1]).toMatchObject({ podKey: 'ns/pod-2', clients: 2, acked: 2, complete: true });
  });

  it('credits each service only with its own sends when one fan-out carries many', () => {
    const names = Array.from({ length: 40 }, (_, i) => `svc-${i}`);
    const subs = Object.fromEntries([...names, 'svc-late'].map((n) => [n, ['s1', 's2']]));
    const { tracker, results, advance } = setup(subs);
    tracker.track(notice({ service: 'svc-late', observedAtMs: 1_000 }));
    tracker.track(notice({ service: 'svc-3', podKey: 'ns/pod-3', observedAtMs: 1_000 }));
    for (const name of names) {
      advance(1);
      tracker.sentOne('s1', name, 10);
      tracker.sentOne('s2', name, 9);
    }
    // s2 alone is sent a service that s1 never saw.
    tracker.sentOne('s2', 'svc-late', 10);
    expect(tracker.pending()[0]).toMatchObject({ service: 'svc-late', clients: 2, sent: 1, acked: 0 });
    expect(tracker.pending()[1]).toMatchObject({ service: 'svc-3', clients: 2, sent: 1, acked: 0 });
    tracker.ackedOne('s1', 'svc-3', 10);
    tracker.ackedOne('s2', 'svc-3', 10);
    expect(results).toHaveLength(1);
    // s1 was sent svc-3 at 1_004 (the 4th name) and s2 not seq 10: delivery is timed from s1's send.
    expect(results[0]!.deliveredSeconds).toBeCloseTo(0.004);
  });

  it('times delivery from the last qualifying send, across clock ticks and seqs', () => {
    const { tracker, results, advance } = setup({ svc: ['s1', 's2', 's3', 's4'] });
    tracker.track(notice());
    tracker.sentOne('s1', 'svc', 9); // older than the notice
    advance(5);
    tracker.sentOne('s2', 'svc', 10);
    tracker.sentOne('s3', 'svc', 11);
    advance(5);
    tracker.sentOne('s1', 'svc', 10);
    tracker.sentOne('s4', 'svc', 9);
    advance(5);
    tracker.sentOne('s5', 'svc', 10); // not subscribed when tracked
    expect(tracker.pending()[0]).toMatchObject({ sent: 3, acked: 0 });
    for (const s of ['s1', 's2', 's3', 's4']) tracker.ackedOne(s, 'svc', 11);
    expect(results).toHaveLength(1);
    expect(results[0]!.deliveredSeconds).toBeCloseTo(0.01);
  });

  it('does not remember ACKs made before track(): the daemon cannot produce them', () => {
    const { tracker, results } = setup({ svc: ['s1'] });
    tracker.ackedOne('s1', 'svc', 10);
    tracker.track(notice());
    expect(results).toHaveLength(0);
    expect(tracker.pending()[0]).toMatchObject({ acked: 0 });
  });

  it('credits a stream that replaced a gone one with its own sends only', () => {
    const subs: Record<string, string[]> = { svc: ['s2', 's3'] };
    const { tracker } = setup(subs);
    tracker.track(notice({ seq: 11 }));
    tracker.streamGone('s2');
    tracker.sentOne('s2', 'svc', 11); // a write already on its way when the stream went
    tracker.sentOne('s3', 'svc', 11);
    expect(tracker.pending()[0]).toMatchObject({ clients: 2, sent: 1, acked: 0 });
    subs.svc = ['s3', 's4'];
    tracker.track(notice({ podKey: 'ns/pod-2', seq: 12 }));
    tracker.sentOne('s2', 'svc', 12);
    expect(tracker.pending()[1]).toMatchObject({ clients: 2, sent: 0 });
  });

  it('completes every drain one ACK satisfies', () => {
    const { tracker, results } = setup({ svc: ['s1'], other: ['s1'] });
    tracker.track(notice({ podKey: 'ns/a', seq: 10 }));
    tracker.track(notice({ podKey: 'ns/b', seq: 11 }));
    tracker.track(notice({ podKey: 'ns/c', seq: 13 }));
    tracker.track(notice({ podKey: 'ns/o', service: 'other', seq: 12 }));
    tracker.ackedOne('s1', 'svc', 12);
    expect(results.map((r) => r.podKey)).toEqual(['ns/a', 'ns/b']);
    expect(tracker.pending().map((p) => p.podKey)).toEqual(['ns/c', 'ns/o']);
  });

  it('forgets a stream that went away', () => {
    const { tracker, results } = setup({ svc: ['s1'] });
    tracker.sentOne('s1', 'svc', 10);
    tracker.ackedOne('s1', 'svc', 10);
    tracker.streamGone('s1');
    tracker.track(notice());
    expect(results).toHaveLength(0);
    expect(tracker.pending()[0]).toMatchObject({ clients: 1, sent: 0, acked: 0 });
  });
});

describe('DrainTracker as a stream observer', () => {
  const stream = (id: string) => ({
    id,
    api: 'ads' as const,
    protocol: 'sotw' as const,
    peer: 'test',
    node: undefined,
    declaredDependencies: undefined,
    nodeBytes: () => undefined,
    resourceStatuses: () => [],
  });
  const nack = { version: '', rejectedVersion: 'v', message: 'no', atMs: 0 };

  it.each([
    { what: 'an endpoint send and ACK count', kind: 'endpoint' as const, sent: 1, acked: 1, complete: true },
    { what: 'a cluster of the same name does not', kind: 'cluster' as const, sent: 0, acked: 0, complete: false },
  ])('$what', ({ kind, sent, acked, complete }) => {
    const { tracker, results } = setup({ svc: ['s1'] });
    // Called as the xDS server calls it, through the observer interface.
    const observer: Required<StreamObserver> = tracker as DrainTracker & Required<StreamObserver>;
    tracker.track(notice());
    observer.sent(stream('s1'), kind, [{ name: 'svc', seq: 10 }]);
    expect(tracker.pending()[0]).toMatchObject({ sent });
    observer.answered(stream('s1'), kind, undefined, nack); // a NACK settles nothing
    expect(results).toHaveLength(0);
    observer.answered(stream('s1'), kind, [{ name: 'svc', seq: 10 }], undefined);
    expect(results.length === 1).toBe(complete);
    if (complete) expect(results[0]).toMatchObject({ sent, acked });
    else expect(tracker.pending()[0]).toMatchObject({ sent, acked });
  });

  it('stops waiting for a closed stream', () => {
    const { tracker, results } = setup({ svc: ['s1', 's2'] });
    tracker.track(notice());
    tracker.answered(stream('s1'), 'endpoint', [{ name: 'svc', seq: 10 }]);
    tracker.closed(stream('s2'));
    expect(results[0]).toMatchObject({ clients: 2, acked: 1, gone: 1, complete: true });
  });
});
