import { slotArrayGrowth, slotArrayReserve } from './name-slots.js';

export type Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** Past this many records a holder goes dense: the binary search and the shifting insert stay short. */
const SPARSE_MAX = 64;

/**
 * A holder's per-record columns (parallel typed arrays) addressed by the records' slots in a
 * NameSlots registry the server's streams share.
 *
 * Dense, a column's index is the slot, so a column is as long as the registry whatever the holder
 * keeps: right for an Envoy subscribed to most of the mesh's clusters, a waste for one that
 * declared 20 of 600 (a scoped sidecar), which would pay for all 600 on every type. So a holder
 * starts sparse — its slots sorted in `keys`, found by binary search, each column as long as
 * the records — and turns dense, for good, once it holds more than SPARSE_MAX records or more
 * than a quarter of the registry (dense is then about as small and cheaper to read).
 *
 * Contract: `indexOf` gives where a slot's record sits, or -1. Dense, every slot below the
 * columns' length has an index: the caller tells a record from an empty position by its own
 * "none" value (a zero it keeps in a column). `add` gives the index for a new record (zeroed when
 * sparse); `remove` drops a sparse entry (dense, the caller zeroes the position instead). Column
 * arrays are replaced when they grow, so read `columns[k]` again after `add`, `reserve` or `widen`.
 */
export class SlotColumns {
  readonly columns: Column[];
  /** Sorted slots of the records while sparse (the first `used` entries); undefined once dense. */
  private keys: Uint32Array | undefined = new Uint32Array(0);
  private used = 0;

  constructor(columns: Column[]) {
    this.columns = columns;
  }

  get dense(): boolean {
    return this.keys === undefined;
  }

  /** How many indexes to walk: the column length when dense, the records when sparse. */
  get length(): number {
    return this.keys === undefined ? this.columns[0]!.length : this.used;
  }

  /** The slot whose record sits at `index`. */
  slotAt(index: number): number {
    return this.keys === undefined ? index : this.keys[index]!;
  }

  indexOf(slot: number): number {
    const keys = this.keys;
    if (keys === undefined) return slot < this.columns[0]!.length ? slot : -1;
    let low = 0;
    let high = this.used - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const key = keys[mid]!;
      if (key === slot) return mid;
      if (key < slot) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** The index for a new record at `slot`, which has none; `registryCapacity` is the registry's. */
  add(slot: number, registryCapacity: number): number {
    const keys = this.keys;
    if (keys === undefined) {
      if (slot >= this.columns[0]!.length) this.resizeDense(slotArrayGrowth(slot, this.columns[0]!.length, registryCapacity));
      return slot;
    }
    if (this.used + 1 > SPARSE_MAX || 4 * (this.used + 1) > registryCapacity) {
      this.toDense(slotArrayGrowth(Math.max(slot, this.maxKey()), 0, registryCapacity));
      return slot;
    }
    let at = this.used;
    while (at > 0 && keys[at - 1]! > slot) at -= 1;
    if (this.used === keys.length) this.resizeSparse(Math.max(8, keys.length * 2));
    const grown = this.keys!;
    grown.copyWithin(at + 1, at, this.used);
    grown[at] = slot;
    for (const column of this.columns) {
      column.copyWithin(at + 1, at, this.used);
      column[at] = 0;
    }
    this.used += 1;
    return at;
  }

  /** Drops the sparse entry at `index`; a no-op when dense. */
  remove(index: number): void {
    const keys = this.keys;
    if (keys === undefined) return;
    keys.copyWithin(index, index + 1, this.used);
    for (const column of this.columns) column.copyWithin(index, index + 1, this.used);
    this.used -= 1;
  }

  /** The slots of the records when sparse, copied (safe to change the holder while walking them); undefined when dense. */
  sparseSlots(): Uint32Array | undefined {
    return this.keys?.slice(0, this.used);
  }

  /**
   * About `records` more are coming to a holder of `count` (a subscription or a full-state
   * response): sparse, it makes room for them at once; when they would take it past sparse, it
   * goes dense in one step, at the registry's size when they fill half of it, rather than copying
   * on every step of a connect storm.
   */
  reserve(count: number, records: number, registryCapacity: number): void {
    if (this.keys !== undefined) {
      if (count + records <= SPARSE_MAX && 4 * (count + records) <= registryCapacity) {
        // Sized once for what is coming, not doubled on the way (each step a new array per column).
        if (this.keys.length < count + records) this.resizeSparse(count + records);
        return;
      }
      this.toDense(Math.max(this.maxKey() + 1, registryCapacity <= 2 * (count + records) ? registryCapacity : 0));
      return;
    }
    const capacity = slotArrayReserve(this.columns[0]!.length, count, records, registryCapacity);
    if (capacity !== undefined) this.resizeDense(capacity);
  }

  /** Replaces column `k` by a wider copy (e.g. 32-bit values past 2^32). */
  widen(k: number, wider: (column: Column) => Column): void {
    this.columns[k] = wider(this.columns[k]!);
  }

  /** Back to an empty sparse holder. */
  clear(empty: Column[]): void {
    for (let k = 0; k < empty.length; k++) this.columns[k] = empty[k]!;
    this.keys = new Uint32Array(0);
    this.used = 0;
  }

  private maxKey(): number {
    return this.used === 0 ? 0 : this.keys![this.used - 1]!;
  }

  private resizeSparse(capacity: number): void {
    const keys = new Uint32Array(capacity);
    keys.set(this.keys!.subarray(0, this.used));
    this.keys = keys;
    for (let k = 0; k < this.columns.length; k++) {
      const old = this.columns[k]!;
      const column = new (old.constructor as new (length: number) => Column)(capacity);
      column.set(old.subarray(0, this.used));
      this.columns[k] = column;
    }
  }

  private toDense(capacity: number): void {
    const keys = this.keys!;
    const length = Math.max(capacity, this.maxKey() + 1);
    for (let k = 0; k < this.columns.length; k++) {
      const old = this.columns[k]!;
      const column = new (old.constructor as new (length: number) => Column)(length);
      for (let i = 0; i < this.used; i++) column[keys[i]!] = old[i]!;
      this.columns[k] = column;
    }
    this.keys = undefined;
    this.used = 0;
  }

  private resizeDense(capacity: number): void {
    for (let k = 0; k < this.columns.length; k++) {
      const old = this.columns[k]!;
      const column = new (old.constructor as new (length: number) => Column)(capacity);
      column.set(old);
      this.columns[k] = column;
    }
  }
}
