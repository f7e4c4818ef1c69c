import { describe, expect, it } from 'vitest';
import { WritePacer, type PacedStream } from '../../src/xds/transport/write-pacer.js';

/** A stream whose transport finishes a write only when the test says so. */
class FakeStream implements PacedStream {
  closed = false;
  readonly written: string[] = [];
  readonly pending: Array<() => void> = [];
  constructor(readonly name: string) {}
  writeNow(bytes: Buffer, done: () => void): boolean {
    if (this.closed) return false;
    this.written.push(bytes.toString());
    this.pending.push(done);
    return true;
  }
  finish(): void {
    this.pending.shift()?.();
  }
}

const big = (label: string): Buffer => Buffer.from(label.padEnd(100, '.'));
const text = (label: string): string => label.padEnd(100, '.');

describe('WritePacer', () => {
  it('lets large writes out while the unsent total stays under the bound, first come first served', () => {
    const pacer = new WritePacer({ maxInFlightBytes: 250, pacedFromBytes: 50, slowAfterMs: 60_000 });
    const streams = ['a', 'b', 'c', 'd'].map((n) => new FakeStream(n));
    for (const s of streams) pacer.submit(s, big(`first ${s.name}`));
    expect(streams.map((s) => s.written.length)).toEqual([1, 1, 0, 0]);
    expect(pacer.queued).toBe(2);
    expect(pacer.unsentBytes).toBe(200);
    streams[1]!.finish();
    expect(streams.map((s) => s.written.length)).toEqual([1, 1, 1, 0]);
    streams[0]!.finish();
    streams[2]!.finish();
    expect(streams[3]!.written).toEqual([text('first d')]);
    expect(pacer.queued).toBe(0);
  });

  it('sends small writes at once unless their stream has a write waiting, keeping each stream in order', () => {
    const pacer = new WritePacer({ maxInFlightBytes: 100, pacedFromBytes: 50, slowAfterMs: 60_000 });
    const busy = new FakeStream('busy');
    const other = new FakeStream('other');
    pacer.submit(busy, big('one'));
    pacer.submit(other, big('two'));
    pacer.submit(other, Buffer.from('small after two'));
    pacer.submit(busy, Buffer.from('small drain'));
    expect(busy.written).toEqual([text('one'), 'small drain']);
    expect(other.written).toEqual([]);
    busy.finish();
    expect(other.written).toEqual([text('two'), 'small after two']);
  });

  it('lets one write larger than the bound go alone rather than never', () => {
    const pacer = new WritePacer({ maxInFlightBytes: 10, pacedFromBytes: 5, slowAfterMs: 60_000 });
    const s = new FakeStream('s');
    pacer.submit(s, big('huge'));
    pacer.submit(s, big('next'));
    expect(s.written).toEqual([text('huge')]);
    s.finish();
    expect(s.written).toEqual([text('huge'), text('next')]);
  });

  it('forgets a stream that ended: its queued writes go nowhere and its unsent bytes free room', () => {
    const pacer = new WritePacer({ maxInFlightBytes: 150, pacedFromBytes: 50, slowAfterMs: 60_000 });
    const gone = new FakeStream('gone');
    const next = new FakeStream('next');
    pacer.submit(gone, big('held'));
    pacer.submit(gone, big('queued'));
    pacer.submit(next, big('waiting'));
    expect(next.written).toEqual([]);
    gone.closed = true;
    // grpc-js never calls back for a cancelled call: the pacer must not wait for it.
    pacer.streamGone(gone);
    expect(gone.written).toEqual([text('held')]);
    expect(next.written).toEqual([text('waiting')]);
    expect(pacer.unsentBytes).toBe(100);
    expect(pacer.submit(gone, Buffer.from('late'))).toBe(false);
  });
});

describe('WritePacer and clients that do not read', () => {
  it('stops counting a write that stays unsent past slowAfterMs, so the next stream is not held up', async () => {
    const pacer = new WritePacer({ maxInFlightBytes: 150, pacedFromBytes: 50, slowAfterMs: 30 });
    const stuck = new FakeStream('stuck');
    const next = new FakeStream('next');
    pacer.submit(stuck, big('never read'));
    pacer.submit(next, big('waiting'));
    expect(next.written).toEqual([]);
    const deadline = Date.now() + 5000;
    while (next.written.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(next.written).toEqual([text('waiting')]);
    // The late completion of the stuck write does not free its room twice.
    stuck.finish();
    expect(pacer.unsentBytes).toBe(100);
  });
});
