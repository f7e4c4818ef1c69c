import type { ResourceKind } from '../../model/index.js';
import type { ResourceView } from '../../cache/index.js';
import { NameSlots } from './name-slots.js';
import { SlotColumns } from './slot-columns.js';

/** Per-resource status of one client, as CSDS reports it (admin.v3.ClientResourceStatus). */
export type ClientResourceStatus = 'REQUESTED' | 'DOES_NOT_EXIST' | 'ACKED' | 'NACKED';
/** How the client's copy compares with Herald's current one (status.v3.ConfigStatus). */
export type ConfigSyncStatus = 'SYNCED' | 'NOT_SENT' | 'STALE' | 'ERROR';

export interface ResourceStatus {
  kind: ResourceKind;
  name: string;
  /** Per-resource version (content hash) the client runs; '' when it runs none. */
  version: string;
  clientStatus: ClientResourceStatus;
  configStatus: ConfigSyncStatus;
  updatedAtMs: number;
  error: { details: string; version: string; atMs: number } | undefined;
}

type Nack = { details: string; version: string; atMs: number };

const STATES = 0;
const TIMES = 1;
const VERSIONS = 2;

function emptyColumns(): [Uint8Array, Uint32Array, Uint16Array] {
  return [new Uint8Array(0), new Uint32Array(0), new Uint16Array(0)];
}

/** 0 so that a fresh (zeroed) state array holds no records. */
const NONE = 0;
const REQUESTED = 1;
const SENT = 2;
const ACKED = 3;
const NACKED = 4;
const ABSENT = 5;

/**
 * What one stream knows of each resource of one type, for CSDS and `herald status`. It only
 * records; the protocol state machines decide what is sent.
 *
 * A stream holds a record per subscribed resource (hundreds per type, for every stream), so a
 * record is a position in parallel typed arrays addressed by the name's slot in a NameSlots
 * registry that every stream of the server shares (SlotColumns: sparse while the stream holds
 * few of the registry's names, as a scoped sidecar does): no per-stream table, no per-record
 * name and no pointer for the garbage collector to trace, 7 bytes a record. Versions are slots in a
 * second shared registry, referenced in 16 bits while they fit (32 after), and times whole
 * milliseconds counted from the ledger's first one in 32 bits (widening to 64-bit floats
 * should a stream outlive 49 days). The ledger retains the
 * name and version slots its records use, so neither passes to another string meanwhile; call
 * dispose() when the stream ends.
 *
 * One version reference per record suffices: it holds what the client runs (ACKED, NACKED) or,
 * while a response is unanswered (SENT), the version sent; the version the client ran before
 * that resend is kept aside in `priorAcked`, and an ACK makes the sent version the acked one.
 * Both side maps only hold records in transit or in error, so they stay small.
 */
export class ResourceLedger {
  private readonly slots: NameSlots;
  private count = 0;
  private readonly versionSlots: NameSlots;
  /**
   * Per record, three columns: STATES; TIMES, when the record last changed, in ms after
   * `timeBase`; VERSIONS, 0 for no version, else 1 + the version's slot in `versionSlots` — 16
   * bits while the registry's slots fit (live versions of one kind, about one per resource),
   * widening to 32 the first time one does not: half the memory of 32-bit references on every stream.
   */
  private readonly records = new SlotColumns(emptyColumns());
  /** The first time recorded (whole ms); 0 once the times are absolute. */
  private timeBase: number | undefined;
  /** SENT records whose client already ran an ACKed version: that version. */
  private readonly priorAcked = new Map<number, string>();
  private readonly nacks = new Map<number, Nack>();

  /**
   * `slots` and `versionSlots` are the name and version registries shared by the server's
   * streams for this kind; without them the ledger keeps private ones (a function argument then
   * serves as the private name registry's interner).
   */
  constructor(slots?: NameSlots | ((name: string) => string), versionSlots?: NameSlots) {
    this.slots = slots instanceof NameSlots ? slots : new NameSlots(slots);
    this.versionSlots = versionSlots ?? new NameSlots();
  }

  /** A name the client subscribed to; keeps what is known if it was already there. */
  requested(name: string, now: number): void {
    if (this.find(name) >= 0) return;
    this.create(name, REQUESTED, undefined, now);
  }

  sent(name: string, version: string, now: number): void {
    const index = this.find(name);
    if (index < 0) {
      this.create(name, SENT, version, now);
      return;
    }
    const slot = this.records.slotAt(index);
    const state = this.records.columns[STATES]![index]!;
    if (state === ACKED || state === NACKED) {
      const acked = this.versionOf(index);
      if (acked !== undefined) this.priorAcked.set(slot, acked);
    }
    this.records.columns[STATES]![index] = SENT;
    this.setVersion(index, version);
    this.setTime(index, now);
  }

  /** The client was told (or, for full-state types, can infer) the resource does not exist. */
  absent(name: string, now: number): void {
    const index = this.find(name);
    if (index < 0) {
      this.create(name, ABSENT, undefined, now);
      return;
    }
    if (this.records.columns[STATES]![index] === ABSENT) return;
    this.reset(index, ABSENT, undefined, now);
  }

  forget(name: string): void {
    const index = this.find(name);
    if (index < 0) return;
    const slot = this.records.slotAt(index);
    // Drop the version references so a forgotten record keeps nothing alive; its time is moot.
    this.records.columns[STATES]![index] = NONE;
    this.setVersion(index, undefined);
    this.records.remove(index);
    this.priorAcked.delete(slot);
    this.nacks.delete(slot);
    this.count -= 1;
    this.slots.release(slot);
  }

  /** The response that carried `resources` was ACKed (nack undefined) or NACKed. */
  answered(resources: ReadonlyArray<{ readonly name: string }>, nack: { message: string } | undefined, now: number): void {
    for (const { name } of resources) {
      const index = this.find(name);
      if (index < 0 || this.records.columns[STATES]![index] !== SENT) continue;
      const slot = this.records.slotAt(index);
      this.setTime(index, now);
      if (nack) {
        this.records.columns[STATES]![index] = NACKED;
        this.nacks.set(slot, { details: nack.message, version: this.versionOf(index) ?? '', atMs: now });
        // The client keeps running what it ran before.
        this.setVersion(index, this.priorAcked.get(slot));
      } else {
        this.records.columns[STATES]![index] = ACKED;
        this.nacks.delete(slot);
      }
      this.priorAcked.delete(slot);
    }
  }

  get size(): number {
    return this.count;
  }

  /**
   * About `records` more records are coming (a subscription or a full-state response): when
   * they take the ledger past sparse, its columns go dense in one step, at the registry's size
   * when they fill at least half of it, rather than one allocation and copy per doubling on
   * every stream of a connect storm.
   */
  reserve(records: number): void {
    this.records.reserve(this.count, records, this.slots.capacity);
  }

  /** Every record, sorted by name (for tests and small read-outs; CSDS walks eachStatus()). */
  statuses(kind: ResourceKind, view: ResourceView): ResourceStatus[] {
    return [...this.eachStatus(kind, view)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The records one at a time, in slot order: unsorted, because a reader that pauses between
   * records (CSDS, for a client with very many names) must not first pay for one sort of
   * them all. Each step reads the ledger as it is then: a record created or forgotten while the
   * reader pauses may or may not be seen, and a disposed ledger yields nothing more.
   */
  *eachStatus(kind: ResourceKind, view: ResourceView): Generator<ResourceStatus, void, undefined> {
    // Sparse, the walk is over a copy of the slots, since a record forgotten meanwhile shifts the others.
    const sparse = this.records.sparseSlots();
    const count = sparse?.length ?? this.records.length;
    for (let at = 0; at < count; at++) {
      const slot = sparse ? sparse[at]! : at;
      const index = this.records.indexOf(slot);
      if (index < 0) continue;
      const state = this.records.columns[STATES]![index]!;
      if (state === NONE) continue;
      const name = this.slots.nameOf(slot);
      const current = view.get(kind, name);
      let ackedVersion = this.versionOf(index);
      let clientStatus: ClientResourceStatus;
      let configStatus: ConfigSyncStatus;
      switch (state) {
        case SENT:
          // Until it answers, the client runs what it ACKed before (if anything).
          ackedVersion = this.priorAcked.get(slot);
          clientStatus = ackedVersion !== undefined ? 'ACKED' : 'REQUESTED';
          configStatus = 'STALE';
          break;
        case ACKED:
          clientStatus = 'ACKED';
          configStatus = current?.version === ackedVersion ? 'SYNCED' : 'STALE';
          break;
        case NACKED:
          clientStatus = 'NACKED';
          configStatus = 'ERROR';
          break;
        case ABSENT:
          clientStatus = 'DOES_NOT_EXIST';
          configStatus = current ? 'NOT_SENT' : 'SYNCED';
          break;
        default:
          clientStatus = 'REQUESTED';
          configStatus = 'NOT_SENT';
      }
      yield { kind, name, version: ackedVersion ?? '', clientStatus, configStatus, updatedAtMs: this.timeOf(index), error: this.nacks.get(slot) };
    }
  }

  /** Releases every slot this ledger holds and empties it; the stream is done with it. */
  dispose(): void {
    const states = this.records.columns[STATES]!;
    for (let index = 0; index < this.records.length; index++) {
      if (states[index] === NONE) continue;
      states[index] = NONE;
      this.setVersion(index, undefined);
      this.slots.release(this.records.slotAt(index));
    }
    this.count = 0;
    this.records.clear(emptyColumns());
    this.timeBase = undefined;
    this.priorAcked.clear();
    this.nacks.clear();
  }

  /** Where this ledger's record of `name` sits in its columns, or -1 when it has none. */
  private find(name: string): number {
    const slot = this.slots.peek(name);
    if (slot < 0) return -1;
    const index = this.records.indexOf(slot);
    return index >= 0 && this.records.columns[STATES]![index] !== NONE ? index : -1;
  }

  private create(name: string, state: number, version: string | undefined, now: number): void {
    const slot = this.slots.slotOf(name);
    this.slots.retain(slot);
    const found = this.records.indexOf(slot);
    const index = found >= 0 ? found : this.records.add(slot, this.slots.capacity);
    this.count += 1;
    this.reset(index, state, version, now);
  }

  private reset(index: number, state: number, version: string | undefined, now: number): void {
    const slot = this.records.slotAt(index);
    this.records.columns[STATES]![index] = state;
    this.setTime(index, now);
    this.setVersion(index, version);
    this.priorAcked.delete(slot);
    this.nacks.delete(slot);
  }

  private versionOf(index: number): string | undefined {
    const ref = this.records.columns[VERSIONS]![index]!;
    return ref === 0 ? undefined : this.versionSlots.nameOf(ref - 1);
  }

  /** Points the record at `version`, retaining its slot before the old one is let go. */
  private setVersion(index: number, version: string | undefined): void {
    const old = this.records.columns[VERSIONS]![index]!;
    const next = version === undefined ? 0 : this.versionSlots.slotOf(version) + 1;
    if (next === old) return;
    if (next > 0xffff && this.records.columns[VERSIONS] instanceof Uint16Array) this.records.widen(VERSIONS, (column) => Uint32Array.from(column));
    if (next !== 0) this.versionSlots.retain(next - 1);
    this.records.columns[VERSIONS]![index] = next;
    if (old !== 0) this.versionSlots.release(old - 1);
  }

  private timeOf(index: number): number {
    return this.records.columns[TIMES]![index]! + (this.timeBase ?? 0);
  }

  private setTime(index: number, now: number): void {
    const ms = Math.round(now);
    const times = this.records.columns[TIMES]!;
    if (times instanceof Uint32Array) {
      const base = (this.timeBase ??= ms);
      const offset = ms - base;
      if (offset >= 0 && offset <= 0xffffffff) {
        times[index] = offset;
        return;
      }
      // A time before the first or 49 days after it: keep absolute times from now on.
      this.records.widen(TIMES, (column) => Float64Array.from(column, (t) => t + base));
      this.timeBase = 0;
    }
    this.records.columns[TIMES]![index] = ms;
  }
}
