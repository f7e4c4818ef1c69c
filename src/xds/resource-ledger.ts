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

/**
 * What one stream knows of each resource of one type, for CSDS and `herald status`. It only
 * records; the protocol state machines decide what is sent.
 *
 * A stream holds a record per subscribed resource, so records are slots in parallel arrays
 * (state byte, time, the two versions, which are the cache's own strings) rather than an object
 * each: a stream at 600 resources of four types would otherwise carry ~2,400 small objects and
 * as many boxed timestamps. NACK details are rare and kept aside.
 */
export class ResourceLedger {
  private readonly slotOf = new Map<string, number>();
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
    if (this.slotOf.has(name)) return;
    this.reset(this.add(name), REQUESTED, undefined, now);
  }

  sent(name: string, version: string, now: number): void {
    const slot = this.slotOf.get(name);
    if (slot === undefined) {
      this.reset(this.add(name), SENT, version, now);
      return;
    }
    this.states[slot] = SENT;
    this.sentVersions[slot] = version;
    this.updatedAt[slot] = now;
  }

  /** The client was told (or, for full-state types, can infer) the resource does not exist. */
  absent(name: string, now: number): void {
    let slot = this.slotOf.get(name);
    if (slot !== undefined && this.states[slot] === ABSENT) return;
    slot ??= this.add(name);
    this.reset(slot, ABSENT, undefined, now);
  }

  forget(name: string): void {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return;
    this.slotOf.delete(name);
    // Drop the version references so forgotten slots keep nothing alive.
    this.reset(slot, REQUESTED, undefined, 0);
    this.freeSlots.push(slot);
  }

  /** The response that carried `names` was ACKed (nack undefined) or NACKed. */
  answered(names: Iterable<string>, nack: { message: string } | undefined, now: number): void {
    for (const name of names) {
      const slot = this.slotOf.get(name);
      if (slot === undefined || this.states[slot] !== SENT) continue;
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
    return this.slotOf.size;
  }

  statuses(kind: ResourceKind, view: ResourceView): ResourceStatus[] {
    const out: ResourceStatus[] = [];
    for (const [name, slot] of this.slotOf) {
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

  private add(name: string): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotOf.size;
      if (slot >= this.states.length) this.grow(this.states.length * 2);
    }
    this.slotOf.set(this.intern(name), slot);
    return slot;
  }

  private reset(slot: number, state: number, sentVersion: string | undefined, now: number): void {
    this.states[slot] = state;
    this.updatedAt[slot] = now;
    this.sentVersions[slot] = sentVersion;
    this.ackedVersions[slot] = undefined;
    this.nacks.delete(slot);
  }

  private grow(capacity: number): void {
    const states = new Uint8Array(capacity);
    states.set(this.states);
    this.states = states;
    const updatedAt = new Float64Array(capacity);
    updatedAt.set(this.updatedAt);
    this.updatedAt = updatedAt;
  }
}
