import { NameSlots } from './name-slots.js';
import { SlotColumns } from './slot-columns.js';

/**
 * What one stream holds of one type: resource name → seq last sent. Every stream keeps one per
 * type it subscribes to (an Envoy typically subscribes to every cluster and its assignment), so
 * the seqs sit in a typed array addressed by the server's shared name slots (SlotColumns: sparse
 * while the stream holds few of them) rather than in a Map per stream: 4 bytes a name instead of
 * a Map entry's tens. Seqs start at 1, so 0 marks "not held";
 * they fit 32 bits for billions of changes, and the array widens to 64-bit floats (exact to
 * 2^53) the day one does not.
 */
export class SentSeqs {
  /** One column, the seqs: 32-bit until one does not fit, then 64-bit floats. */
  private readonly records = new SlotColumns([new Uint32Array(0)]);
  private count = 0;

  constructor(private readonly slots: NameSlots = new NameSlots()) {}

  get size(): number {
    return this.count;
  }

  get(name: string): number | undefined {
    const slot = this.slots.peek(name);
    if (slot < 0) return undefined;
    const index = this.records.indexOf(slot);
    if (index < 0) return undefined;
    const seq = this.records.columns[0]![index]!;
    return seq === 0 ? undefined : seq;
  }

  set(name: string, seq: number): void {
    if (!(seq > 0)) throw new RangeError(`resource seq must be positive, got ${seq}`);
    const slot = this.slots.slotOf(name);
    let index = this.records.indexOf(slot);
    if (index < 0 || this.records.columns[0]![index] === 0) {
      if (index < 0) index = this.records.add(slot, this.slots.capacity);
      this.slots.retain(slot);
      this.count += 1;
    }
    if (seq > 0xffffffff && this.records.columns[0] instanceof Uint32Array) this.records.widen(0, (column) => Float64Array.from(column));
    this.records.columns[0]![index] = seq;
  }

  delete(name: string): boolean {
    const slot = this.slots.peek(name);
    if (slot < 0) return false;
    const index = this.records.indexOf(slot);
    if (index < 0 || this.records.columns[0]![index] === 0) return false;
    this.records.columns[0]![index] = 0;
    this.records.remove(index);
    this.count -= 1;
    this.slots.release(slot);
    return true;
  }

  /** Names held; safe to delete from while iterating. */
  *keys(): IterableIterator<string> {
    const sparse = this.records.sparseSlots();
    if (sparse !== undefined) {
      for (const slot of sparse) if (this.records.indexOf(slot) >= 0) yield this.slots.nameOf(slot);
      return;
    }
    const seqs = this.records.columns[0]!;
    for (let slot = 0; slot < seqs.length; slot++) {
      if (seqs[slot] !== 0) yield this.slots.nameOf(slot);
    }
  }

  /** Gives every slot back; the stream is gone. */
  dispose(): void {
    const seqs = this.records.columns[0]!;
    for (let index = 0; index < this.records.length; index++) {
      if (seqs[index] === 0) continue;
      seqs[index] = 0;
      this.slots.release(this.records.slotAt(index));
    }
    this.records.clear([new Uint32Array(0)]);
    this.count = 0;
  }

  /** Like ResourceLedger.reserve: dense at the registry's size at once when `records` more would fill half of it. */
  reserve(records: number): void {
    this.records.reserve(this.count, records, this.slots.capacity);
  }
}
