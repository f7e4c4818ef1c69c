/**
 * Maps the resource names of one kind to small dense integers, shared by every stream of a
 * server, so per-stream records can be typed arrays indexed by slot instead of each stream
 * keeping its own table of names (one table per stream would grow with streams × names).
 *
 * Contract:
 * - `slotOf(name)` returns the name's slot, assigning one if the name has none. It does not
 *   count as a reference: whoever keeps a slot calls `retain(slot)` at once, and `release(slot)`
 *   when done. Use `peek(name)` for a lookup that must not assign.
 * - A slot whose count falls back to 0 is freed at once: its name is dropped and the slot goes
 *   to the next new name, lowest free slot first, so live slots stay packed near 0 and a
 *   client that subscribes to 50,000 made-up names and leaves costs nothing afterwards beyond
 *   the registry's high-water mark of (small) bookkeeping.
 * - A slot assigned by `slotOf` and never retained stays assigned (count 0) until a
 *   retain/release pair frees it.
 * - `retain`/`release` of a slot that is not assigned, or `release` below 0, throw: either
 *   would let two names share a slot.
 */
export class NameSlots {
  private readonly byName = new Map<string, number>();
  /** Per slot; undefined when the slot is free. */
  private readonly names: (string | undefined)[] = [];
  private counts = new Uint32Array(16);
  /** Binary min-heap of free slots below `names.length`. */
  private readonly free: number[] = [];

  /** `intern` may map a newly seen name to a shared copy (names arrive decoded per stream). */
  constructor(private readonly intern: (name: string) => string = (name) => name) {}

  /** One past the highest slot ever assigned: per-slot arrays never need more. */
  get capacity(): number {
    return this.names.length;
  }

  /** Number of names that hold a slot. */
  get size(): number {
    return this.byName.size;
  }

  /** The slot of `name`, assigning the lowest free one if it has none (unreferenced: see retain). */
  slotOf(name: string): number {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    const slot = this.free.length > 0 ? this.popFree() : this.names.length;
    if (slot === this.names.length) {
      this.names.push(undefined);
      if (slot >= this.counts.length) {
        const counts = new Uint32Array(this.counts.length * 2);
        counts.set(this.counts);
        this.counts = counts;
      }
    }
    const kept = this.intern(name);
    this.names[slot] = kept;
    this.counts[slot] = 0;
    this.byName.set(kept, slot);
    return slot;
  }

  /** The slot of `name`, or -1 when it has none. */
  peek(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  nameOf(slot: number): string {
    const name = this.names[slot];
    if (name === undefined) throw new RangeError(`name slot ${slot} is not assigned`);
    return name;
  }

  /** How many holders the slot has (0 for a free or never-retained slot). */
  references(slot: number): number {
    return this.names[slot] === undefined ? 0 : this.counts[slot]!;
  }

  retain(slot: number): void {
    if (this.names[slot] === undefined) throw new RangeError(`retain of unassigned name slot ${slot}`);
    this.counts[slot] += 1;
  }

  /** Drops one reference; the last one frees the slot for the next new name. */
  release(slot: number): void {
    const name = this.names[slot];
    if (name === undefined || this.counts[slot] === 0) throw new RangeError(`release of unreferenced name slot ${slot}`);
    this.counts[slot] -= 1;
    if (this.counts[slot] !== 0) return;
    this.byName.delete(name);
    this.names[slot] = undefined;
    this.pushFree(slot);
  }

  private pushFree(slot: number): void {
    const heap = this.free;
    let at = heap.length;
    heap.push(slot);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]! <= slot) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = slot;
  }

  private popFree(): number {
    const heap = this.free;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
      if (heap[child]! >= last) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = last;
    return top;
  }
}

/**
 * The length a per-slot array (indexed by a NameSlots registry of `registryCapacity`) grows to
 * when it must cover `slot` and is `length` long. A stream learns most of its names at once (600
 * per type for a typical Envoy), and in a connect storm each small step cost a fresh allocation
 * for every stream, so the array goes straight to the registry's size when that is at most twice
 * what it needs; past that (a registry swollen by another client's made-up names) it doubles. A
 * slot at the registry's top means the registry is growing with this array: then it grows by at
 * least 1.25×, or every new name would copy it.
 */
export function slotArrayGrowth(slot: number, length: number, registryCapacity: number): number {
  const needed = Math.max(slot + 1, 8, length * 2);
  const capacity = registryCapacity <= 2 * needed ? Math.max(slot + 1, registryCapacity) : needed;
  return slot + 1 >= registryCapacity ? Math.max(capacity, Math.ceil(length * 1.25)) : capacity;
}

/**
 * The length a per-slot array holding `count` entries should take now that about `records` more
 * are coming (a subscription or a full-state response), or undefined to leave it: the
 * registry's size in one step when all of them would fill at least half of it.
 */
export function slotArrayReserve(length: number, count: number, records: number, registryCapacity: number): number | undefined {
  return registryCapacity > length && registryCapacity <= 2 * (count + records) ? registryCapacity : undefined;
}
