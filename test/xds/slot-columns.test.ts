import { describe, expect, it } from 'vitest';
import { NameSlots } from '../../src/xds/bookkeeping/name-slots.js';
import { ResourceLedger } from '../../src/xds/bookkeeping/resource-ledger.js';
import { SentSeqs } from '../../src/xds/bookkeeping/sent-seqs.js';
import { SlotColumns } from '../../src/xds/bookkeeping/slot-columns.js';

/** A slot → [a, b] model checked against SlotColumns after every step. */
function check(columns: SlotColumns, model: Map<number, [number, number]>): void {
  const seen = new Map<number, [number, number]>();
  for (let index = 0; index < columns.length; index++) {
    const a = columns.columns[0]![index]!;
    if (a === 0) continue;
    seen.set(columns.slotAt(index), [a, columns.columns[1]![index]!]);
  }
  expect(seen).toEqual(model);
  for (const [slot, values] of model) {
    const index = columns.indexOf(slot);
    expect([columns.columns[0]![index], columns.columns[1]![index]]).toEqual(values);
  }
}

describe('SlotColumns', () => {
  it('matches a model of slot → values through random adds and removes, sparse and after it turns dense', () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const registry = 5_000;
    const columns = new SlotColumns([new Uint32Array(0), new Uint16Array(0)]);
    const model = new Map<number, [number, number]>();
    let sawDense = false;
    for (let step = 0; step < 4_000; step++) {
      // Few slots early (sparse), more later, so the holder crosses to dense midway.
      const slot = random(step < 1_500 ? 90 : registry);
      const index = columns.indexOf(slot);
      const held = index >= 0 && columns.columns[0]![index] !== 0;
      expect(held).toBe(model.has(slot));
      if (held && random(3) === 0) {
        columns.columns[0]![index] = 0;
        columns.remove(index);
        model.delete(slot);
      } else {
        const at = held ? index : index >= 0 ? index : columns.add(slot, registry);
        const values: [number, number] = [1 + random(1_000), random(60_000)];
        columns.columns[0]![at] = values[0];
        columns.columns[1]![at] = values[1];
        model.set(slot, values);
      }
      sawDense ||= columns.dense;
      if (step % 97 === 0 || step === 3_999) check(columns, model);
    }
    expect(sawDense).toBe(true);
  });

  it('keeps a holder of a few names of a big registry as small as what it holds', () => {
    const slots = new NameSlots();
    const unscoped = new SentSeqs(slots);
    for (let i = 0; i < 600; i++) unscoped.set(`svc-${i}`, 1);
    const scoped = new SentSeqs(slots);
    const ledger = new ResourceLedger(slots);
    // Twenty names spread over the registry, the top slot among them.
    for (let i = 0; i < 20; i++) {
      scoped.set(`svc-${599 - i * 30}`, 2);
      ledger.sent(`svc-${599 - i * 30}`, 'v', 1);
    }
    const columnsOf = (holder: object) => (Reflect.get(holder, 'records') as SlotColumns).columns;
    expect(columnsOf(unscoped)[0]!.length).toBeGreaterThanOrEqual(600);
    expect(columnsOf(scoped)[0]!.length).toBeLessThanOrEqual(32);
    for (const column of columnsOf(ledger)) expect(column.length).toBeLessThanOrEqual(32);
    expect(scoped.get('svc-599')).toBe(2);
    expect(scoped.get('svc-598')).toBeUndefined();
    expect(ledger.size).toBe(20);
    // Past 64 names the holder goes dense, keeping what it held.
    for (let i = 0; i < 100; i++) scoped.set(`svc-${i}`, 3);
    expect(columnsOf(scoped)[0]!.length).toBe(600);
    expect(scoped.get('svc-599')).toBe(2);
    // 100 new names, three of which (svc-29, -59, -89) it already held.
    expect(scoped.size).toBe(117);
  });

  it('walks a sparse holder safely while records are forgotten', () => {
    const ledger = new ResourceLedger(new NameSlots());
    for (const name of ['a', 'b', 'c', 'd']) ledger.requested(name, 1);
    const seen: string[] = [];
    for (const status of ledger.eachStatus('cluster', { get: () => undefined, list: () => [], version: () => '' })) {
      seen.push(status.name);
      if (status.name === 'a') ledger.forget('b');
    }
    expect(seen).toEqual(['a', 'c', 'd']);
    const sent = new SentSeqs();
    for (const name of ['a', 'b', 'c']) sent.set(name, 1);
    const kept: string[] = [];
    for (const name of sent.keys()) {
      kept.push(name);
      sent.delete(name);
    }
    expect(kept).toEqual(['a', 'b', 'c']);
    expect(sent.size).toBe(0);
  });
});
