import { perKind, RESOURCE_KINDS, type ResourceKind } from '../model/index.js';
import { contentVersion, type CachedResource } from './resource.js';
import { resolveVariants, type VariantMap } from './variants.js';

export { contentVersion, type CachedResource } from './resource.js';

export interface CacheEntry {
  kind: ResourceKind;
  name: string;
  /** null removes the resource. */
  any: Buffer | null;
  /**
   * The bytes some perspectives read instead of `any`, by perspective key (see model/perspective.ts).
   * Replaces the name's variants as a whole; absent: every perspective reads `any`. A variant
   * equal to `any` is no variant.
   */
  variants?: ReadonlyMap<string, Buffer>;
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

/** What a stream reads: its perspective's view of the cache. */
export interface PerspectiveViews {
  /** The view of a perspective key; '' (a client that declared nothing) reads the plain resources. */
  viewFor(perspective: string): ResourceView;
}

/**
 * Versioned, pre-encoded xDS resources. Each resource is encoded once (by the caller) and the
 * same bytes go to every stream of a perspective; listeners learn what changed once per batch.
 * A name's change is reported once whichever perspectives it concerns: a stream whose own
 * variant kept its seq has nothing to send.
 */
export class ResourceCache implements ResourceView, PerspectiveViews {
  private seq = 0;
  private readonly resources = perKind(() => new Map<string, CachedResource>());
  /** name → its perspective variants, for the names that have any. */
  private readonly variants = perKind(() => new Map<string, VariantMap>());
  private readonly views = new Map<string, ResourceView>();
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
        this.variants[entry.kind].delete(entry.name);
        if (!current) continue;
        byName.delete(entry.name);
        this.seq += 1;
        mark(entry.kind, entry.name);
        continue;
      }
      const version = contentVersion(entry.any);
      let plain = current;
      // The plain resource takes its seq before the variants: the drain tracker's notice holds
      // the plain seq, and every variant of the same batch carries the same endpoints.
      if (!current || current.version !== version || !current.any.equals(entry.any)) {
        this.seq += 1;
        plain = { kind: entry.kind, name: entry.name, version, seq: this.seq, any: entry.any };
        byName.set(entry.name, plain);
        mark(entry.kind, entry.name);
      }
      const variantsOfKind = this.variants[entry.kind];
      const before = variantsOfKind.get(entry.name);
      if (before === undefined && entry.variants === undefined) continue;
      const outcome = resolveVariants(entry.variants, before, current, plain!, (any, anyVersion) => ({ kind: entry.kind, name: entry.name, version: anyVersion, seq: ++this.seq, any }));
      if (outcome.variants) variantsOfKind.set(entry.name, outcome.variants);
      else variantsOfKind.delete(entry.name);
      if (outcome.changed) mark(entry.kind, entry.name);
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
        this.resendVariants(kind, name);
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

  /** Gives every variant of a name a new seq, variants that shared one sharing the new one. */
  private resendVariants(kind: ResourceKind, name: string): void {
    const variants = this.variants[kind].get(name);
    if (!variants) return;
    const renewed = new Map<CachedResource, CachedResource>();
    for (const [perspective, resource] of variants) {
      let next = renewed.get(resource);
      if (!next) renewed.set(resource, (next = { ...resource, seq: ++this.seq }));
      variants.set(perspective, next);
    }
  }

  /** The plain resource: what a client that declared no perspective reads. */
  get(kind: ResourceKind, name: string): CachedResource | undefined {
    return this.resources[kind].get(name);
  }

  viewFor(perspective: string): ResourceView {
    if (perspective === '') return this;
    let view = this.views.get(perspective);
    if (!view) {
      const get = (kind: ResourceKind, name: string): CachedResource | undefined => this.variants[kind].get(name)?.get(perspective) ?? this.resources[kind].get(name);
      view = {
        get,
        // Kinds without variants (every full-state kind) share the plain sorted list.
        list: (kind) => (this.variants[kind].size === 0 ? this.list(kind) : this.list(kind).map((plain) => get(kind, plain.name)!)),
        version: (kind) => this.version(kind),
      };
      this.views.set(perspective, view);
    }
    return view;
  }

  /**
   * Drops every variant of a perspective no stream reads any more. Nothing is reported: no
   * stream of it is left to tell, and the others read other variants.
   */
  forgetPerspective(perspective: string): void {
    this.views.delete(perspective);
    for (const kind of RESOURCE_KINDS) {
      const byName = this.variants[kind.kind];
      for (const [name, variants] of byName) {
        if (variants.delete(perspective) && variants.size === 0) byName.delete(name);
      }
    }
  }

  /** Names that have perspective variants, and the distinct revisions those hold, by kind. */
  variantCounts(): Record<ResourceKind, { names: number; revisions: number }> {
    return perKind((kind) => {
      const revisions = new Set<CachedResource>();
      for (const variants of this.variants[kind].values()) for (const resource of variants.values()) revisions.add(resource);
      return { names: this.variants[kind].size, revisions: revisions.size };
    });
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
