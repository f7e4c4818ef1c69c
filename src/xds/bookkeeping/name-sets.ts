import { createHash } from 'node:crypto';
import { unpooledCopy } from './unpooled.js';

/** One subscription name list shared by every stream that sent the same encoded bytes. */
export interface SharedNames {
  /** The encoded resource_names run, copied out of the request that first carried it. */
  readonly run: Buffer;
  /** The names, '*' left out; the same Set object for every holder. */
  readonly names: ReadonlySet<string>;
  /** Whether the list held '*' (an explicit wildcard). */
  readonly hasWildcard: boolean;
}

interface Entry extends SharedNames {
  readonly key: string;
  holders: number;
}

/**
 * Interns subscription name lists by their encoded bytes. The Envoys of one mesh mostly
 * subscribe to the same clusters, so all their streams hold one decoded Set instead of one copy
 * each, and the subscription index can group streams by that Set. Entries are counted:
 * the last holder to release one drops it, so abandoned lists (a client that subscribed to
 * made-up names and left) do not stay.
 */
export class NameSetTable {
  private readonly entries = new Map<string, Entry>();

  /** The shared entry for `run`, decoding it with `decode` only when no holder has it yet. */
  acquire(run: Buffer, decode: () => readonly string[]): SharedNames {
    // A digest finds the entry; only new or changed lists reach here, never a plain ACK.
    const key = createHash('sha256').update(run).digest('base64');
    const found = this.entries.get(key);
    if (found && found.run.equals(run)) {
      found.holders += 1;
      return found;
    }
    const list = decode();
    const names = new Set<string>();
    let hasWildcard = false;
    for (const name of list) {
      if (name === '*') hasWildcard = true;
      else names.add(name);
    }
    const entry: Entry = { key, run: unpooledCopy(run), names, hasWildcard, holders: 1 };
    // A digest collision (never seen in practice) just leaves the older entry unshared.
    if (!found) this.entries.set(key, entry);
    return entry;
  }

  release(shared: SharedNames): void {
    const entry = shared as Entry;
    entry.holders -= 1;
    if (entry.holders === 0 && this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
  }

  /** Distinct lists held. */
  get size(): number {
    return this.entries.size;
  }
}
