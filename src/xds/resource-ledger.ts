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

type EntryState = 'requested' | 'sent' | 'acked' | 'nacked' | 'absent';

interface Entry {
  state: EntryState;
  /** The version the client last ACKed: what it runs. */
  ackedVersion: string | undefined;
  /** Version in the last response that carried the resource. */
  sentVersion: string | undefined;
  updatedAtMs: number;
  nack: { details: string; version: string; atMs: number } | undefined;
}

/**
 * What one stream knows of each resource of one type, for CSDS and `herald status`. It only
 * records; the protocol state machines decide what is sent.
 */
export class ResourceLedger {
  private readonly entries = new Map<string, Entry>();

  /** A name the client subscribed to; keeps what is known if it was already there. */
  requested(name: string, now: number): void {
    if (this.entries.has(name)) return;
    this.entries.set(name, { state: 'requested', ackedVersion: undefined, sentVersion: undefined, updatedAtMs: now, nack: undefined });
  }

  sent(name: string, version: string, now: number): void {
    const entry = this.entries.get(name);
    if (!entry) {
      this.entries.set(name, { state: 'sent', ackedVersion: undefined, sentVersion: version, updatedAtMs: now, nack: undefined });
      return;
    }
    entry.state = 'sent';
    entry.sentVersion = version;
    entry.updatedAtMs = now;
  }

  /** The client was told (or, for full-state types, can infer) the resource does not exist. */
  absent(name: string, now: number): void {
    const entry = this.entries.get(name);
    if (entry?.state === 'absent') return;
    this.entries.set(name, { state: 'absent', ackedVersion: undefined, sentVersion: undefined, updatedAtMs: now, nack: undefined });
  }

  forget(name: string): void {
    this.entries.delete(name);
  }

  /** The response that carried `names` was ACKed (nack undefined) or NACKed. */
  answered(names: Iterable<string>, nack: { message: string } | undefined, now: number): void {
    for (const name of names) {
      const entry = this.entries.get(name);
      if (!entry || entry.state !== 'sent') continue;
      entry.updatedAtMs = now;
      if (nack) {
        entry.state = 'nacked';
        entry.nack = { details: nack.message, version: entry.sentVersion ?? '', atMs: now };
      } else {
        entry.state = 'acked';
        entry.ackedVersion = entry.sentVersion;
        entry.nack = undefined;
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }

  statuses(kind: ResourceKind, view: ResourceView): ResourceStatus[] {
    const out: ResourceStatus[] = [];
    for (const [name, entry] of this.entries) {
      const current = view.get(kind, name);
      let clientStatus: ClientResourceStatus;
      let configStatus: ConfigSyncStatus;
      switch (entry.state) {
        case 'requested':
          clientStatus = 'REQUESTED';
          configStatus = 'NOT_SENT';
          break;
        case 'sent':
          // Until it answers, the client runs what it ACKed before (if anything).
          clientStatus = entry.ackedVersion !== undefined ? 'ACKED' : 'REQUESTED';
          configStatus = 'STALE';
          break;
        case 'acked':
          clientStatus = 'ACKED';
          configStatus = current?.version === entry.ackedVersion ? 'SYNCED' : 'STALE';
          break;
        case 'nacked':
          clientStatus = 'NACKED';
          configStatus = 'ERROR';
          break;
        case 'absent':
          clientStatus = 'DOES_NOT_EXIST';
          configStatus = current ? 'NOT_SENT' : 'SYNCED';
          break;
      }
      out.push({ kind, name, version: entry.ackedVersion ?? '', clientStatus, configStatus, updatedAtMs: entry.updatedAtMs, error: entry.nack });
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }
}
