import { createHash } from 'node:crypto';
import { perKind, RESOURCE_KINDS, type ResourceKind } from '../model/index.js';

/** One resource as every stream will receive it: a serialized google.protobuf.Any. */
export interface CachedResource {
  kind: ResourceKind;
  name: string;
  /** Content hash of `any`: equal bytes, equal version. */
  version: string;
  /**
   * Global, monotonic change number. Unlike `version` it also moves when the bytes stay the same
   * but a stream must get the resource again (an assignment after its cluster changed).
   */
  seq: number;
  any: Buffer;
}

export interface CacheEntry {
  kind: ResourceKind;
  name: string;
  /** null removes the resource. */
  any: Buffer | null;
}

/** Names upserted or removed in one batch, by kind. Kinds without changes are absent. */
export type ChangeSet = Map<ResourceKind, Set<string>>;
export type ChangeListener = (changes: ChangeSet) => void;

/** The read side of the cache that streams need; lets the xDS state machine be tested without a cache. */
export interface ResourceView {
  get(kind: ResourceKind, name: string): CachedResource | undefined;
  list(kind: ResourceKind): Iterable<CachedResource>;
  version(kind: ResourceKind): string;
}

/** Short stable hash of encoded bytes: equal bytes, equal version. */
export function contentVersion(any: Uint8Array): string {
  return createHash('sha256').update(any).digest('hex').slice(0, 16);
}

/**
 * Versioned, pre-encoded xDS resources. Each resource is encoded once (by the caller) and the
 * same bytes go to every stream; listeners learn what changed once per batch.
 */
export class ResourceCache implements ResourceView {
  private seq = 0;
  private readonly resources = perKind(() => new Map<string, CachedResource>());
  /** Seq of the last change per kind; the kind's version string derives from it. */
  private readonly kindSeq = perKind(() => 0);
  private readonly listeners = new Set<ChangeListener>();
  /** Sorted lists, rebuilt lazily: every full-state response of a kind reads the same one. */
  private readonly sorted = perKind((): CachedResource[] | undefined => undefined);

  /**
   * Stores a batch, then tells the listeners what changed. `onApplied`, when given, runs in
   * between (once the batch changed something): it sees the new seqs before any listener sends
   * them, which is what the drain tracker needs to time a drain from its first send.
   */
  apply(entries: readonly CacheEntry[], onApplied?: ChangeListener): ChangeSet {
    const changes: ChangeSet = new Map();
    const mark = (kind: ResourceKind, name: string): void => {
      let names = changes.get(kind);
      if (!names) changes.set(kind, (names = new Set()));
      names.add(name);
      this.kindSeq[kind] = this.seq;
      this.sorted[kind] = undefined;
    };

    for (const entry of entries) {
      const byName = this.resources[entry.kind];
      const current = byName.get(entry.name);
      if (entry.any === null) {
        if (!current) continue;
        byName.delete(entry.name);
        this.seq += 1;
        mark(entry.kind, entry.name);
        continue;
      }
      const version = contentVersion(entry.any);
      if (current && current.version === version && current.any.equals(entry.any)) continue;
      this.seq += 1;
      byName.set(entry.name, { kind: entry.kind, name: entry.name, version, seq: this.seq, any: entry.any });
      mark(entry.kind, entry.name);
    }

    // Envoy warms a cluster on every CDS update of it until an assignment arrives, so the
    // assignment must travel again after the cluster, even when its bytes did not change.
    for (const { kind, resentAfter } of RESOURCE_KINDS) {
      const trigger = resentAfter && changes.get(resentAfter);
      if (!trigger) continue;
      const dependents = this.resources[kind];
      const alreadyChanged = changes.get(kind);
      for (const name of trigger) {
        if (!this.resources[resentAfter].has(name)) continue;
        if (alreadyChanged?.has(name)) continue;
        const dependent = dependents.get(name);
        if (!dependent) continue;
        this.seq += 1;
        dependents.set(name, { ...dependent, seq: this.seq });
        mark(kind, name);
      }
    }

    if (changes.size > 0) {
      // One failing listener (or hook) must not starve the others; its error still reaches the caller.
      let failure: unknown;
      let failed = false;
      for (const listener of onApplied ? [onApplied, ...this.listeners] : [...this.listeners]) {
        try {
          listener(changes);
        } catch (err) {
          if (!failed) failure = err;
          failed = true;
        }
      }
      if (failed) throw failure;
    }
    return changes;
  }

  get(kind: ResourceKind, name: string): CachedResource | undefined {
    return this.resources[kind].get(name);
  }

  /** Resources of a kind in name order, so full-state responses are stable. Do not mutate. */
  list(kind: ResourceKind): readonly CachedResource[] {
    let list = this.sorted[kind];
    if (!list) {
      list = [...this.resources[kind].values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.sorted[kind] = list;
    }
    return list;
  }

  /** Changes whenever any resource of the kind is upserted or removed; "0" before the first. */
  version(kind: ResourceKind): string {
    return String(this.kindSeq[kind]);
  }

  /** Listeners run synchronously inside apply(), once per batch that changed something. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  counts(): Record<ResourceKind, number> {
    return perKind((kind) => this.resources[kind].size);
  }
}
