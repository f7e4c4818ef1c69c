import { describe, expect, it } from 'vitest';
import { EventQueue, type AggregatedEvent } from '../../src/drains/event-queue.js';
import { TokenBucket } from '../../src/drains/token-bucket.js';

/** A fake clock with timers that fire only when the test advances time. */
function fakeTime() {
  let now = 1_000_000;
  const timers = new Set<{ at: number; fn: () => void }>();
  return {
    clock: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const timer = { at: now + ms, fn };
      timers.add(timer);
      return timer;
    },
    clearTimer: (handle: unknown) => void timers.delete(handle as { at: number; fn: () => void }),
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers.delete(due);
        now = due.at;
        due.fn();
      }
      now = end;
    },
  };
}

describe('TokenBucket', () => {
  const cases: { name: string; perSecond: number; burst: number; steps: [number, boolean][] }[] = [
    {
      name: 'a full bucket gives its burst at once',
      perSecond: 1,
      burst: 3,
      steps: [
        [0, true],
        [0, true],
        [0, true],
        [0, false],
      ],
    },
    {
      name: 'refills at the rate',
      perSecond: 10,
      burst: 1,
      steps: [
        [0, true],
        [50, false],
        [100, true],
        [150, false],
        [200, true],
      ],
    },
    {
      name: 'never holds more than the burst',
      perSecond: 10,
      burst: 2,
      steps: [
        [10_000, true],
        [10_000, true],
        [10_000, false],
      ],
    },
    {
      name: 'a clock stepping back refills nothing',
      perSecond: 10,
      burst: 1,
      steps: [
        [1_000, true],
        [500, false],
        [1_000, false],
        [1_100, true],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bucket = new TokenBucket(c.perSecond, c.burst, 0);
      expect(c.steps.map(([at]) => bucket.take(at))).toEqual(c.steps.map(([, ok]) => ok));
    });
  }
  it('says how long until the next token', () => {
    const bucket = new TokenBucket(4, 1, 0);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.msUntilToken(0)).toBe(250);
    expect(bucket.msUntilToken(200)).toBe(50);
    expect(bucket.msUntilToken(250)).toBe(0);
  });
  it('refuses a rate or burst that cannot work', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });
});

describe('EventQueue', () => {
  function setup(over: { perSecond?: number; burst?: number; capacity?: number } = {}) {
    const time = fakeTime();
    const sent: (AggregatedEvent<string> & { sentAtMs: number })[] = [];
    const dropped: Record<string, number> = {};
    const queue = new EventQueue<string>({
      clock: time.clock,
      perSecond: over.perSecond ?? 10,
      burst: over.burst ?? 2,
      capacity: over.capacity ?? 100,
      send: async (event) => void sent.push({ ...event, sentAtMs: time.clock() }),
      onDrop: (reason, count) => (dropped[reason] = (dropped[reason] ?? 0) + count),
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
    });
    return { time, sent, dropped, queue };
  }

  it('sends a burst at once, then no faster than the rate, and loses nothing', () => {
    const { time, sent, dropped, queue } = setup({ perSecond: 10, burst: 5, capacity: 1_000 });
    for (let i = 0; i < 300; i++) queue.push(`pod-${i}`, `drained ${i}`);
    expect(sent.length).toBe(5);
    time.advance(10_000);
    expect(sent.length).toBe(105);
    time.advance(20_000);
    expect(sent.map((e) => e.key)).toEqual(Array.from({ length: 300 }, (_, i) => `pod-${i}`));
    expect(dropped).toEqual({});
    // In every window, at most burst + rate × window.
    for (let i = 0; i < sent.length; i++) {
      for (let j = i; j < sent.length; j++) {
        const windowMs = sent[j]!.sentAtMs - sent[i]!.sentAtMs;
        expect(j - i + 1).toBeLessThanOrEqual(5 + Math.floor((windowMs * 10) / 1000));
      }
    }
  });

  it('merges repeats of a waiting event into one, with their count and the newest text', () => {
    const { time, sent, queue } = setup({ perSecond: 1, burst: 1 });
    queue.push('a', 'first');
    queue.push('b', 'b once');
    time.advance(100);
    queue.push('b', 'b twice');
    queue.push('b', 'b thrice');
    time.advance(5_000);
    expect(sent.map((e) => [e.key, e.count, e.latest])).toEqual([
      ['a', 1, 'first'],
      ['b', 3, 'b thrice'],
    ]);
    expect(sent[1]!.lastAtMs - sent[1]!.firstAtMs).toBe(100);
  });

  it('drops new events past its capacity and counts them, keeping the ones it holds', () => {
    const { time, sent, dropped, queue } = setup({ perSecond: 1, burst: 1, capacity: 3 });
    for (let i = 0; i < 10; i++) queue.push(`pod-${i}`, 'x');
    expect(queue.depth).toBe(3);
    expect(dropped).toEqual({ queue_full: 6 });
    time.advance(10_000);
    expect(sent.map((e) => e.key)).toEqual(['pod-0', 'pod-1', 'pod-2', 'pod-3']);
  });

  it('counts what still waits at close as dropped, and sends nothing after', () => {
    const { time, sent, dropped, queue } = setup({ perSecond: 1, burst: 1 });
    queue.push('a', 'x');
    queue.push('b', 'x');
    queue.close();
    queue.push('c', 'x');
    time.advance(10_000);
    expect(sent.map((e) => e.key)).toEqual(['a']);
    expect(dropped).toEqual({ shutdown: 2 });
  });
});
