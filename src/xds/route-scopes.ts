// Scoped clients' scopes follow the routes of the services they declare: a declared service's
// split backends join its scope, and leave it when its routes stop naming them. The tables live
// in bookkeeping/ and transport/; this file holds when they are consulted and settled.
import type { Clock } from '../model/index.js';
import type { Logger } from '../telemetry/index.js';
import type { ScopeTable } from './bookkeeping/index.js';
import type { RescopedStream, ScopeMembers } from './transport/index.js';

/**
 * Where a scoped client's wildcard reaches beyond what it declared: the services a declared
 * service routes part of its traffic to (a canary split's backends). A client that declares
 * `cart` then also receives the clusters, endpoints and drains of cart's backends, and gains or
 * loses them while connected when cart's routes change. Unknown-dependency reports and the
 * per-stream name limits stay about the declared names.
 */
export interface ScopeExpansion {
  /** The services `service` routes to besides itself, as Herald names them in CDS (one level; see BackendsOf). */
  backendsOf(service: string): readonly string[];
  /**
   * Calls `listener` with the services whose backends may have changed, or 'all'; it returns a
   * function that stops the calls. The listener must be called outside any call into the server.
   */
  onChange(listener: (services: Iterable<string> | 'all') => void): () => void;
}

/** An expansion's backendsOf that logs a provider's error and answers "none": the stream whose request made a scope must not end for it. */
export function guardedBackends(expansion: ScopeExpansion, logger: Logger): (service: string) => readonly string[] {
  return (service) => {
    try {
      return expansion.backendsOf(service);
    } catch (err) {
      logger.error({ err, what: 'scope expansion', service }, 'xDS internal error');
      return [];
    }
  };
}

export interface RouteScopesOptions<S extends RescopedStream> {
  scopes: ScopeTable;
  members: ScopeMembers<S>;
  clock: Clock;
  /** How long a backend no longer routed to stays in scope (0: it leaves at once). */
  lingerMs: number;
  /** Flushes the streams whose scope changed. */
  flush(touched: ReadonlySet<S>): void;
}

/**
 * Some services' backends changed: the scopes declaring them are expanded again, and the streams
 * of each scope that changed regroup and get the clusters (and wildcard assignments) it gained
 * or lost, SotW and Delta alike; streams of other scopes are not looked at. A backend taken out
 * lingers for `lingerMs`, so the route that stops naming it reaches clients before its cluster
 * leaves them (Envoy's order), and one timer at a time lets the due ones go.
 */
export class RouteScopes<S extends RescopedStream> {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: RouteScopesOptions<S>) {}

  routesChanged(services: Iterable<string> | 'all'): void {
    if (this.closed) return;
    const { scopes, clock, lingerMs } = this.options;
    const changes = scopes.refresh(services, lingerMs > 0 ? clock() : undefined);
    if (changes.length > 0) this.options.flush(this.options.members.rescope(changes));
    if (lingerMs > 0) this.scheduleSettle();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleSettle(): void {
    if (this.timer !== undefined || this.closed) return;
    const { scopes, clock, lingerMs } = this.options;
    const due = scopes.nextSettle(lingerMs);
    if (due === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.closed) return;
        const changes = scopes.settle(clock(), lingerMs);
        if (changes.length > 0) this.options.flush(this.options.members.rescope(changes));
        this.scheduleSettle();
      },
      Math.max(0, due - clock()),
    );
    this.timer.unref();
  }
}
