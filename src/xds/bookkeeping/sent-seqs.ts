import { NameSlots, slotArrayGrowth, slotArrayReserve } from './name-slots.js';

/**
 * What one stream holds of one type: resource name → seq last sent. Every stream keeps one per
 * type it subscribes to (an Envoy typically subscribes to every cluster and its assignment), so
 * the seqs sit in a typed array indexed by the server's shared name slots rather than in a Map
 * per stream: 4 bytes a name instead of a Map entry's tens. Seqs start at 1, so 0 marks "not held";
 * they fit 32 bits for billions of changes, and the array widens to 64-bit floats (exact to
 * 2^53) the day one does not.
 */
export class SentSeqs {
  private seqs: Uint32Array | Float64Array = new Uint32Array(0);
  private count = 0;

  constructor(private readonly slots: NameSlots = new NameSlots()) {}

  get size(): number {
    return this.count;
  }

  get(name: string): number | undefined {
    const slot = this.slots.peek(name);
    if (slot < 0 || slot >= this.seqs.length) return undefined;
    const seq = this.seqs[slot]!;
    return seq === 0 ? undefined : seq;
  }

  set(name: string, seq: number): void {
    if (!(seq > 0)) throw new RangeError(`resource seq must be positive, got ${seq}`);
    const slot = this.slots.slotOf(name);
    if (slot >= this.seqs.length) this.resize(slotArrayGrowth(slot, this.seqs.length, this.slots.capacity));
    if (seq > 0xffffffff && this.seqs instanceof Uint32Array) this.seqs = Float64Array.from(this.seqs);
    if (this.seqs[slot] === 0) {
      this.slots.retain(slot);
      this.count += 1;
    }
    this.seqs[slot] = seq;
  }

  delete(name: string): boolean {
    const slot = this.slots.peek(name);
    if (slot < 0 || slot >= this.seqs.length || this.seqs[slot] === 0) return false;
    this.seqs[slot] = 0;
    this.count -= 1;
    this.slots.release(slot);
    return true;
  }

  /** Names held; safe to delete from while iterating. */
  *keys(): IterableIterator<string> {
    for (let slot = 0; slot < this.seqs.length; slot++) {
      if (this.seqs[slot] !== 0) yield this.slots.nameOf(slot);
    }
  }

  /** Gives every slot back; the stream is gone. */
  dispose(): void {
    for (let slot = 0; slot < this.seqs.length; slot++) {
      if (this.seqs[slot] === 0) continue;
      this.seqs[slot] = 0;
      this.slots.release(slot);
    }
    this.count = 0;
  }

  /** Like ResourceLedger.reserve: the registry's size at once when `records` more would fill half of it. */
  reserve(records: number): void {
    const capacity = slotArrayReserve(this.seqs.length, this.count, records, this.slots.capacity);
    if (capacity !== undefined) this.resize(capacity);
  }

  private resize(capacity: number): void {
    const seqs = this.seqs instanceof Uint32Array ? new Uint32Array(capacity) : new Float64Array(capacity);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }
}
