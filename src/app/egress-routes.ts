// Keeps one egress RouteConfiguration in the cache per dependency list that connected sidecars
// declared: the xDS server says when a list gains its first client or loses its last, and the
// route, named as `herald bootstrap` names it, is built or dropped. Its virtual hosts are the
// declared services Herald serves a cluster for, so a list of made-up names costs no more than
// the mesh has services, and a declared service gets its virtual host when it appears. Each
// virtual host routes as the service's own RouteConfiguration does (its ServicePolicy's timeout,
// retries and split), so it is rebuilt when that route is.
// Changes are applied in a microtask: they are reported from inside a stream's request
// handling or a cache update, and a cache update fans out to streams at once.
import { egressRouteName } from '../model/index.js';
import { buildEgressRouteConfiguration, type ResourceEncoder, type RouteActionResource } from '../resources/index.js';
import type { ResourceCache } from '../cache/index.js';
import type { DependencySetListener } from '../xds/index.js';
import type { HeraldMetrics } from '../telemetry/index.js';

export interface EgressRoutesDeps {
  encoder: ResourceEncoder;
  cache: ResourceCache;
  metrics: Pick<HeraldMetrics, 'resourceBuilds'>;
  clusterDomain: string;
  /** A served service's route action (the pipeline's routeOf); absent: straight to its cluster. */
  routeOf?: (service: string) => RouteActionResource | undefined;
}

export class EgressRoutes implements DependencySetListener {
  /** Route name → the list it routes, as clients declare them now. */
  private readonly wanted = new Map<string, readonly string[]>();
  /** Route name → the services its cached RouteConfiguration routes to, with their actions, for the routes in the cache. */
  private readonly built = new Map<string, string>();
  /** Declared service → the routes that declare it. */
  private readonly byService = new Map<string, Set<string>>();
  /** Routes to look at again on the next apply. */
  private readonly dirty = new Set<string>();
  private scheduled = false;

  constructor(private readonly deps: EgressRoutesDeps) {
    // A service's cluster comes and goes with it; its own RouteConfiguration (same name) changes
    // with its route policy. Egress routes' own names are in no declared list.
    deps.cache.onChange((changes) => {
      for (const kind of ['cluster', 'route'] as const) {
        for (const service of changes.get(kind) ?? []) for (const route of this.byService.get(service) ?? []) this.dirty.add(route);
      }
      if (this.dirty.size > 0) this.schedule();
    });
  }

  added(dependencies: readonly string[]): void {
    const route = egressRouteName(dependencies);
    if (this.wanted.has(route)) return;
    this.wanted.set(route, dependencies);
    for (const service of dependencies) {
      let routes = this.byService.get(service);
      if (!routes) this.byService.set(service, (routes = new Set()));
      routes.add(route);
    }
    this.dirty.add(route);
    this.schedule();
  }

  removed(dependencies: readonly string[]): void {
    const route = egressRouteName(dependencies);
    if (!this.wanted.delete(route)) return;
    for (const service of dependencies) {
      const routes = this.byService.get(service);
      routes?.delete(route);
      if (routes?.size === 0) this.byService.delete(service);
    }
    this.dirty.add(route);
    this.schedule();
  }

  /** Route names in the cache, for tests and debugging. */
  names(): string[] {
    return [...this.built.keys()].sort();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.apply());
  }

  /** Brings the cache to what is wanted now: a list that left and came back in one turn costs nothing. */
  private apply(): void {
    this.scheduled = false;
    const entries: { kind: 'route'; name: string; any: Buffer | null }[] = [];
    for (const route of this.dirty) {
      const dependencies = this.wanted.get(route);
      if (dependencies === undefined) {
        if (this.built.delete(route)) entries.push({ kind: 'route', name: route, any: null });
        continue;
      }
      const served = dependencies.filter((service) => this.deps.cache.get('cluster', service) !== undefined);
      const actions = new Map(served.map((service) => [service, this.deps.routeOf?.(service) ?? { cluster: service }]));
      const key = JSON.stringify([...actions]);
      if (this.built.get(route) === key) continue;
      this.built.set(route, key);
      this.deps.metrics.resourceBuilds.inc({ type: 'route' });
      const config = buildEgressRouteConfiguration(route, served, this.deps.clusterDomain, (service) => actions.get(service) ?? { cluster: service });
      entries.push({ kind: 'route', name: route, any: this.deps.encoder.encodeAny('route', config) });
    }
    this.dirty.clear();
    if (entries.length > 0) this.deps.cache.apply(entries);
  }
}
