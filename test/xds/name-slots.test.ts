import { describe, expect, it } from 'vitest';
import { NameSlots } from '../../src/xds/bookkeeping/name-slots.js';

describe('NameSlots', () => {
  it('assigns dense slots, finds them again and maps them back to names', () => {
    const slots = new NameSlots();
    expect(slots.peek('a')).toBe(-1);
    expect([slots.slotOf('a'), slots.slotOf('b'), slots.slotOf('c'), slots.slotOf('a')]).toEqual([0, 1, 2, 0]);
    expect(slots.peek('b')).toBe(1);
    expect(slots.peek('zz')).toBe(-1);
    expect([slots.nameOf(0), slots.nameOf(1), slots.nameOf(2)]).toEqual(['a', 'b', 'c']);
    expect(slots.capacity).toBe(3);
    expect(slots.size).toBe(3);
    expect(() => slots.nameOf(3)).toThrow(RangeError);
  });

  it('frees a slot when its last reference goes and gives the lowest free slot to the next new name', () => {
    const slots = new NameSlots();
    const held = ['n0', 'n1', 'n2', 'n3', 'n4'].map((name) => slots.slotOf(name));
    for (const slot of held) slots.retain(slot);
    slots.retain(1);
    slots.release(3);
    slots.release(1);
    expect(slots.peek('n1')).toBe(1);
    expect(slots.references(1)).toBe(1);
    slots.release(1);
    expect(slots.peek('n1')).toBe(-1);
    expect(slots.peek('n3')).toBe(-1);
    expect(() => slots.nameOf(1)).toThrow(RangeError);
    expect(slots.size).toBe(3);
    // 1 and 3 are free: the lowest goes first, then the other, then the range grows.
    expect(slots.slotOf('x')).toBe(1);
    expect(slots.slotOf('y')).toBe(3);
    expect(slots.slotOf('z')).toBe(5);
    expect(slots.nameOf(3)).toBe('y');
    expect(slots.capacity).toBe(6);
  });

  it('refuses reference counts that would let two names share a slot', () => {
    const slots = new NameSlots();
    const a = slots.slotOf('a');
    expect(() => slots.release(a)).toThrow(RangeError);
    slots.retain(a);
    slots.release(a);
    expect(() => slots.release(a)).toThrow(RangeError);
    expect(() => slots.retain(a)).toThrow(RangeError);
    expect(() => slots.retain(7)).toThrow(RangeError);
  });

  it('does not grow when 50,000 names are retained and released over and over', () => {
    const slots = new NameSlots();
    const round = (tag: string): void => {
      const taken: number[] = [];
      for (let i = 0; i < 50_000; i++) {
        const slot = slots.slotOf(`${tag}-${i}`);
        slots.retain(slot);
        taken.push(slot);
      }
      expect(Math.max(...taken)).toBe(49_999);
      for (const slot of taken) slots.release(slot);
    };
    round('first');
    expect(slots.size).toBe(0);
    expect(slots.capacity).toBe(50_000);
    for (const tag of ['second', 'third']) round(tag);
    expect(slots.capacity).toBe(50_000);
    expect(slots.size).toBe(0);
    expect(slots.peek('third-17')).toBe(-1);
  });

  it('keeps slots packed under random churn (lowest free first, matching a model)', () => {
    const slots = new NameSlots();
    const model = new Map<string, { slot: number; refs: number }>();
    let seed = 11;
    const next = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let step = 0; step < 20_000; step++) {
      const name = `r${next(400)}`;
      const known = model.get(name);
      if (known && next(2) === 0) {
        slots.release(known.slot);
        if (--known.refs === 0) model.delete(name);
        continue;
      }
      let expectedSlot = known?.slot;
      if (expectedSlot === undefined) {
        const used = new Set([...model.values()].map((e) => e.slot));
        expectedSlot = 0;
        while (used.has(expectedSlot)) expectedSlot++;
      }
      const slot = slots.slotOf(name);
      expect(slot).toBe(expectedSlot);
      slots.retain(slot);
      model.set(name, { slot, refs: (known?.refs ?? 0) + 1 });
    }
    expect(slots.size).toBe(model.size);
    for (const [name, { slot, refs }] of model) {
      expect(slots.peek(name)).toBe(slot);
      expect(slots.nameOf(slot)).toBe(name);
      expect(slots.references(slot)).toBe(refs);
    }
    expect(slots.capacity).toBeLessThanOrEqual(400);
  });

  it('keeps names through the interner only when it assigns a slot', () => {
    const seen: string[] = [];
    const slots = new NameSlots((name) => (seen.push(name), name));
    slots.retain(slots.slotOf('a'));
    slots.slotOf('a');
    slots.peek('b');
    slots.release(slots.slotOf('a'));
    slots.slotOf('a');
    expect(seen).toEqual(['a', 'a']);
  });
});
