import { describe, expect, it } from 'vitest';
import type { CachedResource, ResourceView } from '../../src/cache/index.js';
import { NameSlots } from '../../src/xds/bookkeeping/name-slots.js';
import { ResourceLedger, type ResourceStatus } from '../../src/xds/bookkeeping/resource-ledger.js';
import type { SlotColumns } from '../../src/xds/bookkeeping/slot-columns.js';

function viewOf(versions: Record<string, string>): ResourceView {
  return {
    get: (_kind, name) => (versions[name] === undefined ? undefined : ({ name, version: versions[name] } as unknown as CachedResource)),
    list: () => [],
    version: () => '',
  };
}

/** The ledger's rules, one plain object per record: what the array-backed ledger must match. */
class ModelLedger {
  readonly records = new Map<string, { state: string; sent?: string; acked?: string; at: number; nack?: ResourceStatus['error'] }>();
  requested(name: string, now: number): void {
    if (!this.records.has(name)) this.records.set(name, { state: 'requested', at: now });
  }
  sent(name: string, version: string, now: number): void {
    const r = this.records.get(name);
    if (r) Object.assign(r, { state: 'sent', sent: version, at: now });
    else this.records.set(name, { state: 'sent', sent: version, at: now });
  }
  absent(name: string, now: number): void {
    if (this.records.get(name)?.state !== 'absent') this.records.set(name, { state: 'absent', at: now });
  }
  forget(name: string): void {
    this.records.delete(name);
  }
  answered(names: string[], nack: { message: string } | undefined, now: number): void {
    for (const name of names) {
      const r = this.records.get(name);
      if (r?.state !== 'sent') continue;
      r.at = now;
      if (nack) Object.assign(r, { state: 'nacked', nack: { details: nack.message, version: r.sent ?? '', atMs: now } });
      else Object.assign(r, { state: 'acked', acked: r.sent, nack: undefined });
    }
  }
  statuses(view: ResourceView): Array<Omit<ResourceStatus, 'kind'>> {
    return [...this.records]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, r]) => {
        const current = view.get('cluster', name)?.version;
        const version = r.acked ?? '';
        const [clientStatus, configStatus] =
          r.state === 'sent'
            ? [r.acked !== undefined ? 'ACKED' : 'REQUESTED', 'STALE']
            : r.state === 'acked'
              ? ['ACKED', current === r.acked ? 'SYNCED' : 'STALE']
              : r.state === 'nacked'
                ? ['NACKED', 'ERROR']
                : r.state === 'absent'
                  ? ['DOES_NOT_EXIST', current !== undefined ? 'NOT_SENT' : 'SYNCED']
                  : ['REQUESTED', 'NOT_SENT'];
        return { name, version, clientStatus, configStatus, updatedAtMs: r.at, error: r.nack } as Omit<ResourceStatus, 'kind'>;
      });
  }
}

/** The ledger's per-record columns: states, times, version references. */
const columnsOf = (ledger: ResourceLedger) => (Reflect.get(ledger, 'records') as SlotColumns).columns;

describe('ResourceLedger sharing one NameSlots', () => {
  it('keeps independent records per ledger over shared slots', () => {
    const slots = new NameSlots();
    const one = new ResourceLedger(slots);
    const two = new ResourceLedger(slots);
    one.sent('a', 'v1', 1);
    one.answered([{ name: 'a' }], undefined, 2);
    two.sent('a', 'v2', 3);
    two.answered([{ name: 'a' }], { message: 'bad' }, 4);
    two.requested('b', 5);
    const view = viewOf({ a: 'v1' });
    expect(one.statuses('cluster', view).map((r) => [r.name, r.clientStatus, r.configStatus, r.version, r.updatedAtMs])).toEqual([['a', 'ACKED', 'SYNCED', 'v1', 2]]);
    expect(two.statuses('cluster', view).map((r) => [r.name, r.clientStatus, r.configStatus, r.version, r.updatedAtMs])).toEqual([
      ['a', 'NACKED', 'ERROR', '', 4],
      ['b', 'REQUESTED', 'NOT_SENT', '', 5],
    ]);
    expect([one.size, two.size]).toEqual([1, 2]);
    expect(slots.references(slots.peek('a'))).toBe(2);
    // b is one ledger's record only: another ledger forgetting or answering it changes nothing.
    one.forget('b');
    one.answered([{ name: 'b' }], undefined, 9);
    expect(two.statuses('cluster', view)[1]).toMatchObject({ name: 'b', clientStatus: 'REQUESTED', updatedAtMs: 5 });
    expect(slots.references(slots.peek('b'))).toBe(1);
  });

  it('releases the slots it holds on forget and dispose, so they pass to new names', () => {
    const slots = new NameSlots();
    const one = new ResourceLedger(slots);
    const two = new ResourceLedger(slots);
    for (const name of ['a', 'b', 'c']) one.requested(name, 1);
    two.requested('b', 1);
    one.forget('a');
    expect(slots.peek('a')).toBe(-1);
    one.dispose();
    expect(one.size).toBe(0);
    expect(one.statuses('cluster', viewOf({}))).toEqual([]);
    expect(slots.peek('c')).toBe(-1);
    expect(slots.references(slots.peek('b'))).toBe(1);
    expect(slots.size).toBe(1);
    one.dispose();
    expect(slots.size).toBe(1);
    // Lowest free first: a's and c's slots go to new names, and a disposed ledger is usable again.
    one.sent('d', 'v', 2);
    two.requested('e', 3);
    expect([slots.peek('d'), slots.peek('e')].sort()).toEqual([0, 2]);
    expect(one.statuses('cluster', viewOf({})).map((r) => r.name)).toEqual(['d']);
    expect(two.statuses('cluster', viewOf({})).map((r) => r.name)).toEqual(['b', 'e']);
    two.dispose();
    one.dispose();
    expect(slots.size).toBe(0);
  });

  it('matches a per-record model across random operations on ledgers that share slots', () => {
    const slots = new NameSlots();
    const versionSlots = new NameSlots();
    const ledgers = [0, 1, 2].map(() => ({ real: new ResourceLedger(slots, versionSlots), model: new ModelLedger() }));
    let seed = 3;
    const next = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const versions: Record<string, string> = {};
    for (let step = 1; step <= 8_000; step++) {
      const pair = ledgers[next(ledgers.length)]!;
      const name = `svc-${next(60)}`;
      const op = next(20);
      if (op < 4) {
        pair.real.requested(name, step);
        pair.model.requested(name, step);
      } else if (op < 9) {
        const version = `v${next(4)}`;
        pair.real.sent(name, version, step);
        pair.model.sent(name, version, step);
      } else if (op < 11) {
        pair.real.absent(name, step);
        pair.model.absent(name, step);
      } else if (op < 13) {
        pair.real.forget(name);
        pair.model.forget(name);
      } else if (op < 19) {
        const names = [name, `svc-${next(60)}`, name];
        const nack = next(3) === 0 ? { message: `m${step}` } : undefined;
        pair.real.answered(
          names.map((name) => ({ name })),
          nack,
          step,
        );
        pair.model.answered(names, nack, step);
      } else if (next(20) === 0) {
        pair.real.dispose();
        pair.model.records.clear();
      } else if (next(4) === 0) {
        // A hint only: the records must read the same after it.
        pair.real.reserve(next(120));
      } else {
        versions[name] = `v${next(4)}`;
      }
      if (step % 97 === 0 || step === 8_000) {
        const view = viewOf(versions);
        for (const { real, model } of ledgers) {
          expect(real.size).toBe(model.records.size);
          expect(real.statuses('cluster', view).map(({ kind: _kind, ...rest }) => rest)).toEqual(model.statuses(view));
        }
      }
    }
    const live = new Set(ledgers.flatMap(({ model }) => [...model.records.keys()]));
    expect(slots.size).toBe(live.size);
    // A version keeps its slot while a record points at it: the one sent while unanswered, else the one the client runs.
    const liveVersions = new Set(ledgers.flatMap(({ model }) => [...model.records.values()].map((r) => (r.state === 'sent' ? r.sent : r.acked))).filter((v) => v !== undefined));
    expect(versionSlots.size).toBe(liveVersions.size);
    for (const { real } of ledgers) real.dispose();
    expect(slots.size).toBe(0);
    expect(versionSlots.size).toBe(0);
  });
  it('sizes its arrays to the shared registry, and grows geometrically while the registry grows with it', () => {
    const lengthOf = (ledger: ResourceLedger) => columnsOf(ledger)[0]!.length;
    const slots = new NameSlots();
    const first = new ResourceLedger(slots);
    const lengths = new Set<number>();
    // Every name is new to the registry, so its size only ever exceeds the ledger's by one.
    for (let i = 0; i < 10_000; i++) {
      first.requested(`fresh-${i}`, i);
      lengths.add(lengthOf(first));
    }
    expect(lengthOf(first)).toBeGreaterThanOrEqual(10_000);
    expect(lengthOf(first)).toBeLessThanOrEqual(12_500);
    expect(lengths.size).toBeLessThan(40);
    // A registry already holding the names: the next ledger ends at its size exactly.
    const second = new ResourceLedger(slots);
    for (let i = 0; i < 10_000; i++) second.sent(`fresh-${i}`, 'v', i);
    expect(lengthOf(second)).toBe(10_000);
    // A registry swollen by other names does not size a ledger that holds a few.
    const third = new ResourceLedger(slots);
    for (let i = 0; i < 5; i++) third.requested(`fresh-${i}`, i);
    expect(lengthOf(third)).toBe(8);
    // Told how many records come: room for exactly a few (sparse), the registry's size in one step when they fill half of it.
    const fourth = new ResourceLedger(slots);
    fourth.reserve(5);
    expect(lengthOf(fourth)).toBe(5);
    fourth.reserve(5_000);
    expect(lengthOf(fourth)).toBe(10_000);
    const sizes = new Set<number>();
    for (let i = 9_999; i >= 5_000; i--) {
      fourth.requested(`fresh-${i}`, i);
      sizes.add(lengthOf(fourth));
    }
    expect([...sizes]).toEqual([10_000]);
    // Records already held survive the resize.
    third.reserve(9_000);
    expect(lengthOf(third)).toBe(10_000);
    expect(third.statuses('cluster', viewOf({})).map((r) => [r.name, r.updatedAtMs])).toEqual([0, 1, 2, 3, 4].map((i) => [`fresh-${i}`, i]));
  });
});

describe('ResourceLedger times', () => {
  const timesOf = (ledger: ResourceLedger) => ledger.statuses('cluster', viewOf({})).map((r) => [r.name, r.updatedAtMs]);

  it('keeps whole milliseconds exactly, far from the first time in either direction', () => {
    const ledger = new ResourceLedger();
    const start = 1_700_000_000_000;
    const fiftyDays = 50 * 86_400_000;
    ledger.requested('a', start);
    ledger.requested('b', start + 1);
    expect(columnsOf(ledger)[1]).toBeInstanceOf(Uint32Array);
    // Past what 32 bits of milliseconds hold, and before the first time.
    ledger.sent('c', 'v', start + fiftyDays);
    ledger.sent('d', 'v', start - 5);
    ledger.requested('e', 12);
    expect(timesOf(ledger)).toEqual([
      ['a', start],
      ['b', start + 1],
      ['c', start + fiftyDays],
      ['d', start - 5],
      ['e', 12],
    ]);
  });

  it('rounds a clock with fractions to the millisecond', () => {
    const ledger = new ResourceLedger();
    ledger.requested('a', 1_700_000_000_000.4);
    ledger.requested('b', 1_700_000_000_250.6);
    expect(timesOf(ledger)).toEqual([
      ['a', 1_700_000_000_000],
      ['b', 1_700_000_000_251],
    ]);
  });
});

describe('ResourceLedger version references', () => {
  it('holds them in 16 bits until a version slot does not fit, then widens and keeps every version', () => {
    const versionSlots = new NameSlots();
    const ledger = new ResourceLedger(new NameSlots(), versionSlots);
    const other = new ResourceLedger(new NameSlots(), versionSlots);
    ledger.sent('early', 'v-early', 1);
    ledger.answered([{ name: 'early' }], undefined, 2);
    expect(columnsOf(ledger)[2]).toBeInstanceOf(Uint16Array);
    // Another stream's ledger fills the shared registry past what 16 bits can reference.
    const versions = 0x10000;
    for (let i = 0; i < versions; i++) other.sent(`r${i}`, `v${i}`, 3);
    ledger.sent('late', 'v-late', 4);
    expect(columnsOf(ledger)[2]).toBeInstanceOf(Uint32Array);
    ledger.answered([{ name: 'late' }], undefined, 5);
    const view = viewOf({ early: 'v-early', late: 'v-late' });
    expect(ledger.statuses('cluster', view).map((r) => [r.name, r.version, r.configStatus])).toEqual([
      ['early', 'v-early', 'SYNCED'],
      ['late', 'v-late', 'SYNCED'],
    ]);
    // Forgetting the widened record lets its version slot go back to the registry.
    const before = versionSlots.size;
    ledger.forget('late');
    expect(versionSlots.size).toBe(before - 1);
  });
});
