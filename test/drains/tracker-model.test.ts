import { describe, expect, it } from 'vitest';
import { DrainTracker, type DrainNotice, type DrainResult } from '../../src/drains/index.js';

/** Small deterministic PRNG (mulberry32) so a failure replays. */
function random(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

interface ModelDrain {
  notice: DrainNotice;
  waiting: Set<string>;
  clients: number;
  sent: Map<string, number>;
  acked: number;
  gone: number;
  lastAckMs: number | undefined;
}

/**
 * Reference semantics with a long-lived per-stream history, driven in the daemon's call order:
 * track() between the cache update and its fan-out, ACKs in later turns, streams coming and
 * going in between. The tracker, which keeps nothing per stream outside its tracked drains,
 * must agree with it.
 */
async function runModel(seed: number, runs: number): Promise<void> {
  const pick = random(seed);
  const services = ['a', 'b', 'c'];
  const subscribers = new Map(services.map((s) => [s, new Set<string>()]));
  let now = 1_000;
  let seq = 0;
  let nextStream = 0;
  const live = new Set<string>();
  const latest = new Map<string, number>(); // service → its current seq
  const sentSeq = new Map<string, number>(); // stream|service → latest seq sent
  const results: DrainResult[] = [];
  const expected: DrainResult[] = [];
  const drains: ModelDrain[] = [];
  let compared = 0;
  const tracker = new DrainTracker({
    clock: () => now,
    subscribersOf: (name) => subscribers.get(name) ?? [],
    onComplete: (r) => results.push(r),
    timeoutMs: 3_600_000,
  });
  const finish = (d: ModelDrain): void => {
    drains.splice(drains.indexOf(d), 1);
    const sentTimes = [...d.sent.values()];
    const delivered = sentTimes.length > 0 ? Math.max(...sentTimes) : now;
    expected.push({
      ...d.notice,
      clients: d.clients,
      sent: d.sent.size,
      acked: d.acked,
      gone: d.gone,
      deliveredSeconds: Math.max(0, delivered - d.notice.observedAtMs) / 1000,
      propagationSeconds: Math.max(0, (d.lastAckMs ?? now) - d.notice.observedAtMs) / 1000,
      complete: true,
    });
  };
  const send = (stream: string, service: string, s: number): void => {
    sentSeq.set(`${stream}|${service}`, s);
    tracker.sentOne(stream, service, s);
    for (const d of drains) {
      if (d.notice.service === service && s >= d.notice.seq && d.waiting.has(stream) && !d.sent.has(stream)) d.sent.set(stream, now);
    }
  };

  for (let run = 0; run < runs; run++) {
    now += pick(20);
    const action = pick(10);
    if (action < 2 || live.size === 0) {
      const id = `s${nextStream++}`;
      live.add(id);
      for (const service of services) if (pick(2) === 0) subscribers.get(service)!.add(id);
      // Its first response carries what already exists.
      for (const service of services) if (latest.has(service) && subscribers.get(service)!.has(id)) send(id, service, latest.get(service)!);
    } else if (action < 5) {
      // A cache update: new seq, track() from the cache's onApplied hook, then the fan-out (clock may tick).
      const service = services[pick(services.length)]!;
      const s = ++seq;
      latest.set(service, s);
      const notice: DrainNotice = { service, cluster: 'k1', podKey: `ns/p${run}`, ip: '10.0.0.1', port: 80, observedAtMs: now - pick(50), seq: s };
      tracker.track(notice);
      const waiting = new Set(subscribers.get(service)!);
      const d: ModelDrain = { notice, waiting, clients: waiting.size, sent: new Map(), acked: 0, gone: 0, lastAckMs: undefined };
      drains.push(d);
      if (waiting.size === 0) finish(d);
      for (const stream of subscribers.get(service)!) {
        if (pick(4) === 0) continue; // a stream still waiting on an earlier ACK is only marked
        if (pick(3) === 0) now += 1;
        send(stream, service, s);
      }
    } else if (action < 8) {
      // ACKs arrive: each stream ACKs the latest it was sent of a random service.
      for (const stream of live) {
        const service = services[pick(services.length)]!;
        const got = sentSeq.get(`${stream}|${service}`);
        if (got === undefined || pick(2) === 0) continue;
        tracker.ackedOne(stream, service, got);
        for (const d of [...drains]) {
          if (d.notice.service !== service || got < d.notice.seq || !d.waiting.delete(stream)) continue;
          d.acked += 1;
          d.lastAckMs = now;
          if (d.waiting.size === 0) finish(d);
        }
      }
    } else if (action < 9) {
      // A stream re-sent the current state (e.g. after a new request).
      const stream = [...live][pick(live.size)]!;
      for (const service of services) if (latest.has(service) && subscribers.get(service)!.has(stream)) send(stream, service, latest.get(service)!);
    } else {
      const stream = [...live][pick(live.size)]!;
      live.delete(stream);
      for (const subs of subscribers.values()) subs.delete(stream);
      tracker.streamGone(stream);
      for (const d of [...drains]) {
        if (!d.waiting.delete(stream)) continue;
        d.gone += 1;
        if (d.waiting.size === 0) finish(d);
      }
    }
    // Results only ever append: compare what this run added.
    expect(results.slice(compared), `seed ${seed} run ${run}`).toEqual(expected.slice(compared));
    compared = expected.length;
    const pending = tracker.pending().map(({ ageSeconds: _age, ...p }) => p);
    const want = drains.map((d) => ({ ...d.notice, clients: d.clients, sent: d.sent.size, acked: d.acked, gone: d.gone }));
    expect(pending, `seed ${seed} run ${run}`).toEqual(want);
    await Promise.resolve();
  }
  expect(results).toEqual(expected);
  tracker.close();
}

describe('DrainTracker against a reference with full per-stream history', () => {
  it('agrees on every result and pending drain over random runs in the daemon call order', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) await runModel(seed, 300);
  });
});
