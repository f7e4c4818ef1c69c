// Keeps one egress RouteConfiguration in the cache per dependency list that connected sidecars
// declared: the xDS server says when a list gains its first client or loses its last, and the
// route, named as `herald bootstrap` names it, is built or dropped. Its virtual hosts are the
// declared services Herald serves a cluster for, so a list of made-up names costs no more than
// the mesh has services, and a declared service gets its virtual host when it appears.
// Changes are applied in a microtask: they are reported from inside a stream's request
// handling or a cache update, and a cache update fans out to streams at once.
import { egressRouteName, type ServicePolicySpec } from '../model/index.js';
import { buildEgressRouteConfiguration, hashPolicyFor, type ResourceEncoder } from '../resources/index.js';
import type { ResourceCache } from '../cache/index.js';
import type { DependencySetListener } from '../xds/index.js';
import type { HeraldMetrics } from '../telemetry/index.js';

export interface EgressRoutesDeps {
  encoder: ResourceEncoder;
  cache: ResourceCache;
  metrics: Pick<HeraldMetrics, 'resourceBuilds'>;
  clusterDomain: string;
  /** A service's effective ServicePolicy (its route carries the ring hash's header); none by default. */
  policyOf?: (service: string) => ServicePolicySpec;
}

export class EgressRoutes implements DependencySetListener {
  /** Route name → the list it routes, as clients declare them now. */
  private readonly wanted = new Map<string, readonly string[]>();
  /** Route name → the services its cached RouteConfiguration routes to (joined), for the routes in the cache. */
  private readonly built = new Map<string, string>();
  /** Declared service → the routes that declare it. */
  private readonly byService = new Map<string, Set<string>>();
  /** Routes to look at again on the next apply. */
  private readonly dirty = new Set<string>();
  private scheduled = false;

  constructor(private readonly deps: EgressRoutesDeps) {
    // A service's own RouteConfiguration is rebuilt when its policy changes what its routes carry.
    deps.cache.onChange((changes) => {
      for (const service of [...(changes.get('cluster') ?? []), ...(changes.get('route') ?? [])]) {
        for (const route of this.byService.get(service) ?? []) this.dirty.add(route);
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
      const policyOf = this.deps.policyOf ?? (() => ({}));
      const key = served.map((service) => `${service} ${JSON.stringify(hashPolicyFor(policyOf(service)) ?? null)}`).join('\n');
      if (this.built.get(route) === key) continue;
      this.built.set(route, key);
      this.deps.metrics.resourceBuilds.inc({ type: 'route' });
      entries.push({ kind: 'route', name: route, any: this.deps.encoder.encodeAny('route', buildEgressRouteConfiguration(route, served, this.deps.clusterDomain, policyOf)) });
    }
    this.dirty.clear();
    if (entries.length > 0) this.deps.cache.apply(entries);
  }
}
