import { describe, expect, it } from 'vitest';
import { NameSlots } from '../../src/xds/bookkeeping/name-slots.js';
import { SentSeqs } from '../../src/xds/bookkeeping/sent-seqs.js';
import type { SlotColumns } from '../../src/xds/bookkeeping/slot-columns.js';

describe('SentSeqs', () => {
  it('behaves like a Map of name → seq under random operations, sharing slots with another holder', () => {
    const slots = new NameSlots();
    const sent = new SentSeqs(slots);
    const other = new SentSeqs(slots);
    const model = new Map<string, number>();
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const name = `n${random(300)}`;
      const op = random(10);
      if (op < 5) {
        const seq = 1 + random(1000);
        sent.set(name, seq);
        model.set(name, seq);
      } else if (op < 8) {
        expect(sent.delete(name)).toBe(model.delete(name));
      } else if (op < 9) {
        if (random(4) === 0) sent.reserve(random(400));
        other.set(name, 1);
      } else {
        other.delete(name);
      }
      expect(sent.get(name)).toBe(model.get(name));
      expect(sent.size).toBe(model.size);
    }
    expect([...sent.keys()].sort()).toEqual([...model.keys()].sort());
    for (const name of model.keys()) expect(sent.get(name)).toBe(model.get(name));
    sent.dispose();
    expect(sent.size).toBe(0);
    other.dispose();
    expect(slots.size).toBe(0);
  });

  it('keeps seqs past 32 bits exactly', () => {
    const sent = new SentSeqs();
    sent.set('a', 7);
    sent.set('b', 2 ** 32 + 5);
    sent.set('c', 2 ** 40);
    expect([sent.get('a'), sent.get('b'), sent.get('c')]).toEqual([7, 2 ** 32 + 5, 2 ** 40]);
    expect(sent.size).toBe(3);
  });

  it('deletes while iterating, refuses seq 0, and knows nothing of names it never held', () => {
    const sent = new SentSeqs();
    for (const name of ['a', 'b', 'c']) sent.set(name, 5);
    for (const name of sent.keys()) if (name !== 'b') sent.delete(name);
    expect([...sent.keys()]).toEqual(['b']);
    expect(() => sent.set('x', 0)).toThrow(RangeError);
    expect(sent.get('never')).toBeUndefined();
    expect(sent.delete('never')).toBe(false);
  });
});

describe('SentSeqs.reserve', () => {
  it('makes room for a few coming seqs at once, takes the registry size in one step when they fill half of it, and keeps what it holds', () => {
    const lengthOf = (sent: SentSeqs) => (Reflect.get(sent, 'records') as SlotColumns).columns[0]!.length;
    const slots = new NameSlots();
    const filler = new SentSeqs(slots);
    for (let i = 0; i < 1_000; i++) filler.set(`c${i}`, i + 1);
    const sent = new SentSeqs(slots);
    sent.set('c3', 9);
    expect(lengthOf(sent)).toBe(8);
    // A few more coming: sparse, room for exactly them at once (1 held + 10).
    sent.reserve(10);
    expect(lengthOf(sent)).toBe(11);
    sent.reserve(2);
    expect(lengthOf(sent)).toBe(11);
    sent.reserve(600);
    expect(lengthOf(sent)).toBe(1_000);
    expect(sent.get('c3')).toBe(9);
    const sizes = new Set<number>();
    for (let i = 0; i < 600; i++) {
      sent.set(`c${i}`, 2);
      sizes.add(lengthOf(sent));
    }
    expect([...sizes]).toEqual([1_000]);
  });
});

describe('SentSeqs growth', () => {
  it('grows geometrically while the registry grows with it (every name new), not one slot at a time', () => {
    const lengthOf = (sent: SentSeqs) => (Reflect.get(sent, 'records') as SlotColumns).columns[0]!.length;
    const sent = new SentSeqs(new NameSlots());
    const lengths = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      sent.set(`fresh-${i}`, i + 1);
      lengths.add(lengthOf(sent));
    }
    expect(lengthOf(sent)).toBeGreaterThanOrEqual(10_000);
    expect(lengths.size).toBeLessThan(40);
  });
});
