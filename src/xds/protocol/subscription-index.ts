import { perKind, type ResourceKind } from '../../model/index.js';
import type { Subscription } from './types.js';

/** Streams whose subscription is one and the same Set object (interned by NameSetTable). */
interface Group {
  readonly names: ReadonlySet<string>;
  readonly streams: Set<string>;
}

interface KindIndex {
  readonly groups: Map<ReadonlySet<string>, Group>;
  readonly byName: Map<string, Set<Group>>;
  readonly wildcard: Set<string>;
}

const newKindIndex = (): KindIndex => ({ groups: new Map(), byName: new Map(), wildcard: new Set() });

/**
 * What a stream is grouped under: its named resources, or for a wildcard scoped to declared
 * dependencies, those (the scope's shared Set when it names nothing else, so every client of
 * one declaration is one group). An unscoped wildcard stream is indexed as wildcard besides.
 */
function indexedNames(subscription: Subscription): ReadonlySet<string> {
  const { scope, names } = subscription;
  if (!subscription.wildcard || scope === undefined) return names;
  return names.size === 0 ? scope : new Set([...scope, ...names]);
}

/**
 * Which streams want which resources, so a change reaches only the streams subscribed to it
 * (one drained pod touches the streams of one service, not the whole mesh). Streams are
 * grouped by their subscription's Set object: the Envoys of a mesh mostly share one interned
 * list, so the index holds each name once per distinct list rather than once per stream.
 */
export class SubscriptionIndex {
  private readonly kinds = perKind(newKindIndex);
  /** Per stream and kind, the name Set the stream is grouped under. */
  private readonly current = new Map<string, Map<ResourceKind, ReadonlySet<string>>>();

  update(streamId: string, kind: ResourceKind, subscription: Subscription): void {
    let kinds = this.current.get(streamId);
    if (!kinds) this.current.set(streamId, (kinds = new Map<ResourceKind, ReadonlySet<string>>()));
    const index = this.kinds[kind];
    const previous = kinds.get(kind);
    const names = indexedNames(subscription);
    if (previous !== names) {
      if (previous) this.leave(index, streamId, previous);
      this.join(index, streamId, names);
    }
    if (subscription.wildcard && subscription.scope === undefined) index.wildcard.add(streamId);
    else index.wildcard.delete(streamId);
    kinds.set(kind, names);
  }

  remove(streamId: string): void {
    const kinds = this.current.get(streamId);
    if (!kinds) return;
    for (const [kind, names] of kinds) {
      const index = this.kinds[kind];
      this.leave(index, streamId, names);
      index.wildcard.delete(streamId);
    }
    this.current.delete(streamId);
  }

  /** Streams subscribed to the name, by name or by wildcard (within a declared scope). */
  subscribers(kind: ResourceKind, name: string): Set<string> {
    const index = this.kinds[kind];
    const out = new Set(index.wildcard);
    for (const group of index.byName.get(name) ?? []) for (const id of group.streams) out.add(id);
    return out;
  }

  /**
   * For a batch of changed names, calls `visit` once per interested stream with the names it
   * cares about; streams of one group are handed the same array, which they must not change.
   */
  forEachInterested(kind: ResourceKind, names: ReadonlySet<string>, visit: (streamId: string, relevant: readonly string[]) => void): void {
    const index = this.kinds[kind];
    if (index.wildcard.size > 0) {
      const all = [...names];
      for (const id of index.wildcard) visit(id, all);
    }
    const perGroup = new Map<Group, string[]>();
    for (const name of names) {
      for (const group of index.byName.get(name) ?? []) {
        let list = perGroup.get(group);
        if (!list) perGroup.set(group, (list = []));
        list.push(name);
      }
    }
    for (const [group, relevant] of perGroup) {
      for (const id of group.streams) if (!index.wildcard.has(id)) visit(id, relevant);
    }
  }

  /** Distinct subscription lists indexed for a kind (for tests and debugging). */
  groupCount(kind: ResourceKind): number {
    return this.kinds[kind].groups.size;
  }

  private join(index: KindIndex, streamId: string, names: ReadonlySet<string>): void {
    let group = index.groups.get(names);
    if (!group) {
      index.groups.set(names, (group = { names, streams: new Set() }));
      for (const name of names) {
        let groups = index.byName.get(name);
        if (!groups) index.byName.set(name, (groups = new Set()));
        groups.add(group);
      }
    }
    group.streams.add(streamId);
  }

  private leave(index: KindIndex, streamId: string, names: ReadonlySet<string>): void {
    const group = index.groups.get(names);
    if (!group || !group.streams.delete(streamId) || group.streams.size > 0) return;
    index.groups.delete(names);
    for (const name of names) {
      const groups = index.byName.get(name);
      groups?.delete(group);
      if (groups?.size === 0) index.byName.delete(name);
    }
  }
}
