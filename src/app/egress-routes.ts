// Keeps one egress RouteConfiguration in the cache per dependency list that connected sidecars
// declared: the xDS server says when a list gains its first client or loses its last, and the
// route, named as `herald bootstrap` names it, is built or dropped. Changes are applied in a
// microtask: they are reported from inside a stream's request handling, and a cache update
// fans out to streams at once.
import { egressRouteName } from '../model/index.js';
import { buildEgressRouteConfiguration, type ResourceEncoder } from '../resources/index.js';
import type { ResourceCache } from '../cache/index.js';
import type { DependencySetListener } from '../xds/index.js';
import type { HeraldMetrics } from '../telemetry/index.js';

export interface EgressRoutesDeps {
  encoder: ResourceEncoder;
  cache: ResourceCache;
  metrics: Pick<HeraldMetrics, 'resourceBuilds'>;
  clusterDomain: string;
}

export class EgressRoutes implements DependencySetListener {
  /** Route name → the list it routes, as clients declare them now. */
  private readonly wanted = new Map<string, readonly string[]>();
  /** Route names in the cache. */
  private readonly built = new Set<string>();
  private scheduled = false;

  constructor(private readonly deps: EgressRoutesDeps) {}

  added(dependencies: readonly string[]): void {
    this.wanted.set(egressRouteName(dependencies), dependencies);
    this.schedule();
  }

  removed(dependencies: readonly string[]): void {
    this.wanted.delete(egressRouteName(dependencies));
    this.schedule();
  }

  /** Route names in the cache, for tests and debugging. */
  names(): string[] {
    return [...this.built].sort();
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
    for (const [name, dependencies] of this.wanted) {
      if (this.built.has(name)) continue;
      this.deps.metrics.resourceBuilds.inc({ type: 'route' });
      entries.push({ kind: 'route', name, any: this.deps.encoder.encodeAny('route', buildEgressRouteConfiguration(name, dependencies, this.deps.clusterDomain)) });
      this.built.add(name);
    }
    for (const name of [...this.built]) {
      if (this.wanted.has(name)) continue;
      entries.push({ kind: 'route', name, any: null });
      this.built.delete(name);
    }
    if (entries.length > 0) this.deps.cache.apply(entries);
  }
}
