import { PUSH_ORDER, type ResourceKind } from '../model/index.js';
import type { Subscription } from './stream-state.js';

function perKind<T>(make: () => T): Record<ResourceKind, T> {
  return Object.fromEntries(PUSH_ORDER.map((kind) => [kind, make()])) as Record<ResourceKind, T>;
}

/**
 * Which streams want which resources, so a change reaches only the streams subscribed to it
 * (one drained pod touches the streams of one service, not the whole mesh).
 */
export class SubscriptionIndex {
  private readonly byName = perKind(() => new Map<string, Set<string>>());
  private readonly wildcard = perKind(() => new Set<string>());
  private readonly current = new Map<string, Map<ResourceKind, Subscription>>();

  update(streamId: string, kind: ResourceKind, subscription: Subscription): void {
    let kinds = this.current.get(streamId);
    if (!kinds) this.current.set(streamId, (kinds = new Map()));
    const previous = kinds.get(kind);
    const byName = this.byName[kind];
    if (previous) {
      for (const name of previous.names) {
        if (subscription.names.has(name)) continue;
        const streams = byName.get(name);
        streams?.delete(streamId);
        if (streams?.size === 0) byName.delete(name);
      }
    }
    for (const name of subscription.names) {
      let streams = byName.get(name);
      if (!streams) byName.set(name, (streams = new Set()));
      streams.add(streamId);
    }
    if (subscription.wildcard) this.wildcard[kind].add(streamId);
    else this.wildcard[kind].delete(streamId);
    kinds.set(kind, subscription);
  }

  remove(streamId: string): void {
    const kinds = this.current.get(streamId);
    if (!kinds) return;
    for (const kind of kinds.keys()) this.update(streamId, kind, { wildcard: false, names: new Set() });
    this.current.delete(streamId);
  }

  /** Streams subscribed to the name, by name or by wildcard. */
  subscribers(kind: ResourceKind, name: string): Set<string> {
    const out = new Set(this.wildcard[kind]);
    for (const id of this.byName[kind].get(name) ?? []) out.add(id);
    return out;
  }

  /** For a batch of changed names: each interested stream with the names it cares about. */
  interested(kind: ResourceKind, names: ReadonlySet<string>): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const all = [...names];
    for (const id of this.wildcard[kind]) out.set(id, all);
    const byName = this.byName[kind];
    for (const name of names) {
      for (const id of byName.get(name) ?? []) {
        if (this.wildcard[kind].has(id)) continue;
        let list = out.get(id);
        if (!list) out.set(id, (list = []));
        list.push(name);
      }
    }
    return out;
  }
}
