/**
 * The services one client declared it calls (node metadata `herald.io/dependencies`): what its
 * wildcard subscriptions receive. Shared by every stream that declared the same list, so that
 * 10,000 Envoys of 50 deployments hold 50 scopes and the subscription index groups their
 * streams by one Set each.
 */
export interface Scope {
  /** The declared names, sorted, each once. */
  readonly declared: readonly string[];
  /** The same names as a Set, one object for every holder. */
  readonly names: ReadonlySet<string>;
}

interface Entry extends Scope {
  readonly key: string;
  holders: number;
}

/** Told when a declaration gets its first holder and when its last one lets go. */
export interface ScopeEvents {
  added(scope: Scope): void;
  removed(scope: Scope): void;
}

/** Interns declared dependency lists; the last holder to release one drops it. */
export class ScopeTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly events?: ScopeEvents) {}

  /** The shared scope of a declaration already sorted and de-duplicated (as the decoder hands it). */
  acquire(declared: readonly string[]): Scope {
    // NUL cannot be part of a name a client could usefully declare (service names are DNS-like).
    const key = declared.join('\0');
    const found = this.entries.get(key);
    if (found) {
      found.holders += 1;
      return found;
    }
    const entry: Entry = { key, declared: [...declared], names: new Set(declared), holders: 1 };
    this.entries.set(key, entry);
    this.events?.added(entry);
    return entry;
  }

  release(scope: Scope): void {
    const entry = scope as Entry;
    entry.holders -= 1;
    if (entry.holders !== 0 || this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.events?.removed(entry);
  }

  /** Distinct scopes held. */
  get size(): number {
    return this.entries.size;
  }
}
