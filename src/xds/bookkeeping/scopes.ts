/**
 * The services one client declared it calls (node metadata `herald.io/dependencies`), and the
 * services those route part of their traffic to (a canary split's backends): what its wildcard
 * subscriptions receive. Shared by every stream that declared the same list, so that 10,000
 * Envoys of 50 deployments hold 50 scopes and the subscription index groups their streams by
 * one Set each. The table replaces `names`, `sorted` and `viaRoutes` (never edits them) when
 * routes change; `declared` is fixed.
 */
export interface Scope {
  /** The declared names, sorted, each once. */
  readonly declared: readonly string[];
  /** Everything the scope covers: the declared names and the backends they route to. One Set for every holder. */
  readonly names: ReadonlySet<string>;
  /** The same names sorted (the declared array itself while nothing is routed elsewhere). */
  readonly sorted: readonly string[];
  /** The names covered only because a declared service routes to them, sorted. */
  readonly viaRoutes: readonly string[];
}

/**
 * The services a service routes part of its traffic to besides itself, as Herald names them in
 * CDS. One level on purpose: a route names clusters, not other routes (Envoy's
 * weighted_clusters, gRPC's likewise), so a backend's own split is never reached through the
 * service that splits to it, and a client needs only the clusters its declared services' routes
 * name. Cycles (a splits to b, b to a) therefore cost nothing either.
 */
export type BackendsOf = (service: string) => readonly string[];

/** A scope whose routed backends changed: the names it gained and lost. */
export interface ScopeChange {
  readonly scope: Scope;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

interface Entry {
  readonly key: string;
  readonly declared: readonly string[];
  names: ReadonlySet<string>;
  sorted: readonly string[];
  viaRoutes: readonly string[];
  holders: number;
  /** The backends the declared services route to now, those not declared themselves. */
  routed: ReadonlySet<string>;
  /** Backends no longer routed to and still covered until settle() lets them go: name → since when (ms). */
  lingering: Map<string, number> | undefined;
}

/** Told when a declaration gets its first holder and when its last one lets go. */
export interface ScopeEvents {
  added(scope: Scope): void;
  removed(scope: Scope): void;
}

const NO_BACKENDS: BackendsOf = () => [];
const NONE: ReadonlySet<string> = new Set();

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

/**
 * Interns declared dependency lists; the last holder to release one drops it. Each entry also
 * holds what its declared services route to, so a change of one service's backends touches only
 * the entries that declare it (refresh). A backend that stops being routed to may linger until
 * settle(): the route that stops naming it then reaches clients before its cluster leaves them,
 * as Envoy asks of a control plane (clusters go after the routes that used them).
 */
export class ScopeTable {
  private readonly entries = new Map<string, Entry>();
  /** Declared service → the entries declaring it: whom a change of its backends concerns. */
  private readonly byService = new Map<string, Set<Entry>>();
  /** Entries with lingering backends. */
  private readonly lingering = new Set<Entry>();

  constructor(
    private readonly events?: ScopeEvents,
    private readonly backendsOf: BackendsOf = NO_BACKENDS,
  ) {}

  /** The shared scope of a declaration already sorted and de-duplicated (as the decoder hands it). */
  acquire(declared: readonly string[]): Scope {
    // NUL cannot be part of a name a client could usefully declare (service names are DNS-like).
    const key = declared.join('\0');
    const found = this.entries.get(key);
    if (found) {
      found.holders += 1;
      return found;
    }
    const own = [...declared];
    const entry: Entry = { key, declared: own, names: NONE, sorted: own, viaRoutes: [], holders: 1, routed: this.routedBy(own), lingering: undefined };
    this.setNames(entry);
    this.entries.set(key, entry);
    for (const service of own) {
      let entries = this.byService.get(service);
      if (!entries) this.byService.set(service, (entries = new Set()));
      entries.add(entry);
    }
    this.events?.added(entry);
    return entry;
  }

  release(scope: Scope): void {
    const entry = scope as Entry;
    entry.holders -= 1;
    if (entry.holders !== 0 || this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.lingering.delete(entry);
    for (const service of entry.declared) {
      const entries = this.byService.get(service);
      entries?.delete(entry);
      if (entries?.size === 0) this.byService.delete(service);
    }
    this.events?.removed(entry);
  }

  /**
   * The backends of these services (or of every service) may have changed: the scopes declaring
   * one of them are expanded again, and those whose names differ are returned with the
   * difference. Other scopes are not looked at. With `lingerFrom` (now, in ms), a backend no
   * longer routed to stays covered until settle() lets it go; without, it goes at once.
   */
  refresh(services: Iterable<string> | 'all', lingerFrom?: number): ScopeChange[] {
    let affected: Iterable<Entry>;
    if (services === 'all') {
      affected = this.entries.values();
    } else {
      const found = new Set<Entry>();
      for (const service of services) for (const entry of this.byService.get(service) ?? []) found.add(entry);
      affected = found;
    }
    const changes: ScopeChange[] = [];
    for (const entry of affected) {
      const routed = this.routedBy(entry.declared);
      if (sameSet(routed, entry.routed)) continue;
      if (lingerFrom !== undefined) {
        for (const name of entry.routed) if (!routed.has(name) && !entry.lingering?.has(name)) (entry.lingering ??= new Map()).set(name, lingerFrom);
      }
      for (const name of routed) entry.lingering?.delete(name);
      entry.routed = routed;
      const change = this.setNames(entry);
      if (change) changes.push(change);
    }
    return changes;
  }

  /** Lets go of the backends that have lingered `lingerMs` by `now`; returns the scopes that lost them. */
  settle(now: number, lingerMs: number): ScopeChange[] {
    const changes: ScopeChange[] = [];
    for (const entry of [...this.lingering]) {
      for (const [name, since] of entry.lingering!) if (since + lingerMs <= now) entry.lingering!.delete(name);
      const change = this.setNames(entry);
      if (change) changes.push(change);
    }
    return changes;
  }

  /** When the next lingering backend is due to go (ms), or undefined when none lingers. */
  nextSettle(lingerMs: number): number | undefined {
    let next: number | undefined;
    for (const entry of this.lingering) for (const since of entry.lingering!.values()) if (next === undefined || since + lingerMs < next) next = since + lingerMs;
    return next;
  }

  /** Distinct scopes held. */
  get size(): number {
    return this.entries.size;
  }

  /** What the declared services route to, less what is declared. */
  private routedBy(declared: readonly string[]): ReadonlySet<string> {
    const own = new Set(declared);
    const routed = new Set<string>();
    for (const service of declared) for (const backend of this.backendsOf(service)) if (!own.has(backend)) routed.add(backend);
    return routed.size === 0 ? NONE : routed;
  }

  /** Sets the entry's names from its declaration, its routed and its lingering backends; the difference, if any. */
  private setNames(entry: Entry): ScopeChange | undefined {
    if (entry.lingering?.size === 0) entry.lingering = undefined;
    if (entry.lingering) this.lingering.add(entry);
    else this.lingering.delete(entry);
    const via = new Set(entry.routed);
    for (const name of entry.lingering?.keys() ?? []) via.add(name);
    const viaRoutes = [...via].sort();
    if (entry.names !== NONE && viaRoutes.length === entry.viaRoutes.length && viaRoutes.every((name, i) => name === entry.viaRoutes[i])) return undefined;
    const before = entry.viaRoutes;
    entry.viaRoutes = viaRoutes;
    if (viaRoutes.length === 0) {
      entry.sorted = entry.declared;
      entry.names = new Set(entry.declared);
    } else {
      entry.sorted = [...entry.declared, ...viaRoutes].sort();
      entry.names = new Set(entry.sorted);
    }
    const had = new Set(before);
    return { scope: entry, added: viaRoutes.filter((name) => !had.has(name)), removed: before.filter((name) => !via.has(name)) };
  }
}
