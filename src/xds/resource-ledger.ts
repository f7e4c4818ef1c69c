import type { ResourceKind } from '../model/index.js';
import type { ResourceView } from '../cache/index.js';

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

const REQUESTED = 0;
const SENT = 1;
const ACKED = 2;
const NACKED = 3;
const ABSENT = 4;

/** FNV-1a over UTF-16 code units: the ledger's own hash table needs a hash of the name. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * What one stream knows of each resource of one type, for CSDS and `herald status`. It only
 * records; the protocol state machines decide what is sent.
 *
 * A stream holds a record per subscribed resource (hundreds per type, for every stream), so
 * records are slots in parallel arrays (state byte, time, the two versions, which are the cache's
 * own strings) found through an open-addressing table of slot numbers, rather than an object each
 * in a Map (measured ~128 bytes per record before, ~72 now including growth slack). NACK
 * details are rare and kept aside.
 */
export class ResourceLedger {
  /** Hash table, linear probing, load at most 3/4: slot + 1, 0 when empty. */
  private table = new Int32Array(16);
  private count = 0;
  /** Per slot; a free slot has no name. */
  private readonly names: (string | undefined)[] = [];
  private hashes = new Uint32Array(8);
  private states = new Uint8Array(8);
  private updatedAt = new Float64Array(8);
  /** The version the client last ACKed: what it runs. */
  private readonly ackedVersions: (string | undefined)[] = [];
  /** Version in the last response that carried the resource. */
  private readonly sentVersions: (string | undefined)[] = [];
  private readonly nacks = new Map<number, Nack>();
  private readonly freeSlots: number[] = [];

  /** `intern` may map equal names to one shared string (names arrive decoded per stream). */
  constructor(private readonly intern: (name: string) => string = (name) => name) {}

  /** A name the client subscribed to; keeps what is known if it was already there. */
  requested(name: string, now: number): void {
    if (this.slotOf(name) >= 0) return;
    this.reset(this.add(name), REQUESTED, undefined, now);
  }

  sent(name: string, version: string, now: number): void {
    const slot = this.slotOf(name);
    if (slot < 0) {
      this.reset(this.add(name), SENT, version, now);
      return;
    }
    this.states[slot] = SENT;
    this.sentVersions[slot] = version;
    this.updatedAt[slot] = now;
  }

  /** The client was told (or, for full-state types, can infer) the resource does not exist. */
  absent(name: string, now: number): void {
    let slot = this.slotOf(name);
    if (slot >= 0 && this.states[slot] === ABSENT) return;
    if (slot < 0) slot = this.add(name);
    this.reset(slot, ABSENT, undefined, now);
  }

  forget(name: string): void {
    const at = this.position(name);
    const held = this.table[at]!;
    if (held === 0) return;
    const slot = held - 1;
    this.unlink(at);
    this.names[slot] = undefined;
    // Drop the version references so forgotten slots keep nothing alive.
    this.reset(slot, REQUESTED, undefined, 0);
    this.freeSlots.push(slot);
  }

  /** The response that carried `names` was ACKed (nack undefined) or NACKed. */
  answered(names: Iterable<string>, nack: { message: string } | undefined, now: number): void {
    for (const name of names) {
      const slot = this.slotOf(name);
      if (slot < 0 || this.states[slot] !== SENT) continue;
      this.updatedAt[slot] = now;
      if (nack) {
        this.states[slot] = NACKED;
        this.nacks.set(slot, { details: nack.message, version: this.sentVersions[slot] ?? '', atMs: now });
      } else {
        this.states[slot] = ACKED;
        this.ackedVersions[slot] = this.sentVersions[slot];
        this.nacks.delete(slot);
      }
    }
  }

  get size(): number {
    return this.count;
  }

  statuses(kind: ResourceKind, view: ResourceView): ResourceStatus[] {
    const out: ResourceStatus[] = [];
    for (let slot = 0; slot < this.names.length; slot++) {
      const name = this.names[slot];
      if (name === undefined) continue;
      const current = view.get(kind, name);
      const ackedVersion = this.ackedVersions[slot];
      let clientStatus: ClientResourceStatus;
      let configStatus: ConfigSyncStatus;
      switch (this.states[slot]) {
        case SENT:
          // Until it answers, the client runs what it ACKed before (if anything).
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
      out.push({ kind, name, version: ackedVersion ?? '', clientStatus, configStatus, updatedAtMs: this.updatedAt[slot]!, error: this.nacks.get(slot) });
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  /** The table position holding `name`, or the empty position where it would go. */
  private position(name: string, hash = hashName(name)): number {
    const mask = this.table.length - 1;
    // Terminates: the table always has an empty position.
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const held = this.table[at]!;
      if (held === 0 || (this.hashes[held - 1] === hash && this.names[held - 1] === name)) return at;
    }
  }

  private slotOf(name: string): number {
    return this.table[this.position(name)]! - 1;
  }

  private add(name: string): number {
    if ((this.count + 1) * 4 > this.table.length * 3) this.rehash(this.table.length * 2);
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.names.length;
      // 1.5×: slack is paid per stream and type.
      if (slot >= this.states.length) this.grow(Math.ceil(this.states.length * 1.5));
    }
    const hash = hashName(name);
    this.table[this.position(name, hash)] = slot + 1;
    this.names[slot] = this.intern(name);
    this.hashes[slot] = hash;
    this.count += 1;
    return slot;
  }

  /** Empties a table position, moving later entries of its probe run back so lookups still find them. */
  private unlink(hole: number): void {
    const mask = this.table.length - 1;
    this.table[hole] = 0;
    this.count -= 1;
    for (let at = (hole + 1) & mask; this.table[at] !== 0; at = (at + 1) & mask) {
      const held = this.table[at]!;
      const home = this.hashes[held - 1]! & mask;
      // The entry may move to the hole unless its home lies cyclically in (hole, at].
      const stays = hole <= at ? home > hole && home <= at : home > hole || home <= at;
      if (stays) continue;
      this.table[hole] = held;
      this.table[at] = 0;
      hole = at;
    }
  }

  private rehash(capacity: number): void {
    this.table = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let slot = 0; slot < this.names.length; slot++) {
      if (this.names[slot] === undefined) continue;
      let at = this.hashes[slot]! & mask;
      while (this.table[at] !== 0) at = (at + 1) & mask;
      this.table[at] = slot + 1;
    }
  }

  private reset(slot: number, state: number, sentVersion: string | undefined, now: number): void {
    this.states[slot] = state;
    this.updatedAt[slot] = now;
    this.sentVersions[slot] = sentVersion;
    this.ackedVersions[slot] = undefined;
    this.nacks.delete(slot);
  }

  private grow(capacity: number): void {
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const states = new Uint8Array(capacity);
    states.set(this.states);
    this.states = states;
    const updatedAt = new Float64Array(capacity);
    updatedAt.set(this.updatedAt);
    this.updatedAt = updatedAt;
  }
}
