import type { Logger } from '../telemetry/index.js';
import type { HeraldMetrics } from '../telemetry/index.js';
import type { EndpointRecord, ResourceKind, ServiceEndpoints } from '../model/index.js';
import {
  buildCluster,
  buildListener,
  buildLoadAssignment,
  buildRouteConfiguration,
  type ClusterOptions,
  type ResourceEncoder,
} from '../resources/index.js';
import type { ResourceCache } from '../cache/index.js';
import type { DrainTracker } from '../drains/index.js';

/** What the pipeline reads from the store. */
export interface ServiceReader {
  service(name: string): ServiceEndpoints | undefined;
}

export interface PipelineDeps {
  store: ServiceReader;
  encoder: ResourceEncoder;
  cache: ResourceCache;
  drains: DrainTracker;
  metrics: HeraldMetrics;
  logger: Logger;
  clusterOptions: ClusterOptions;
  localCluster: string | undefined;
}

interface CacheEntry {
  kind: ResourceKind;
  name: string;
  any: Buffer | null;
}

/**
 * Turns dirty service names from the store into cache updates: rebuilds only those services,
 * encodes each resource once, and tells the drain tracker about endpoints that just turned
 * DRAINING so their propagation can be measured.
 */
export class ResourcePipeline {
  /** Services whose per-service static resources (Cluster, Listener, Route) are in the cache. */
  private readonly published = new Set<string>();
  /** Endpoint keys already DRAINING in the last assignment built, per service. */
  private readonly draining = new Map<string, Set<string>>();

  constructor(private readonly deps: PipelineDeps) {}

  rebuild(services: Iterable<string>): void {
    const entries: CacheEntry[] = [];
    const newlyDraining: { service: string; endpoint: EndpointRecord }[] = [];
    for (const service of services) {
      const view = this.deps.store.service(service);
      if (!view || view.podCount === 0) {
        if (this.published.delete(service)) {
          for (const kind of ['cluster', 'endpoint', 'listener', 'route'] as const) {
            entries.push({ kind, name: service, any: null });
          }
        }
        this.draining.delete(service);
        continue;
      }
      if (!this.published.has(service)) {
        entries.push(...this.staticResources(service));
        this.published.add(service);
      }
      entries.push({ kind: 'endpoint', name: service, any: this.encodeAssignment(view) });
      newlyDraining.push(...this.diffDraining(view).map((endpoint) => ({ service, endpoint })));
    }
    if (entries.length === 0) return;
    // Drains are tracked between the store and the fan-out, so every send of the notice is seen.
    this.deps.cache.apply(entries, newlyDraining.length === 0 ? undefined : () => this.trackDrains(newlyDraining));
  }

  private trackDrains(newlyDraining: readonly { service: string; endpoint: EndpointRecord }[]): void {
    for (const { service, endpoint } of newlyDraining) {
      const cached = this.deps.cache.get('endpoint', service);
      if (!cached || endpoint.drainingSinceMs === undefined) continue;
      this.deps.drains.track({
        service,
        cluster: endpoint.cluster,
        podKey: endpoint.podKey,
        ip: endpoint.ip,
        port: endpoint.port,
        observedAtMs: endpoint.drainingSinceMs,
        seq: cached.seq,
      });
    }
  }

  private staticResources(service: string): CacheEntry[] {
    const { encoder, clusterOptions, metrics } = this.deps;
    metrics.resourceBuilds.inc({ type: 'cluster' });
    metrics.resourceBuilds.inc({ type: 'listener' });
    metrics.resourceBuilds.inc({ type: 'route' });
    return [
      { kind: 'cluster', name: service, any: encoder.encodeAny('cluster', buildCluster(service, clusterOptions)) },
      { kind: 'listener', name: service, any: encoder.encodeAny('listener', buildListener(service)) },
      { kind: 'route', name: service, any: encoder.encodeAny('route', buildRouteConfiguration(service)) },
    ];
  }

  private encodeAssignment(view: ServiceEndpoints): Buffer {
    this.deps.metrics.resourceBuilds.inc({ type: 'endpoint' });
    const assignment = buildLoadAssignment(view, { localCluster: this.deps.localCluster });
    return this.deps.encoder.encodeAny('endpoint', assignment);
  }

  /** Endpoints DRAINING now that were not DRAINING in the previous build of this service. */
  private diffDraining(view: ServiceEndpoints): EndpointRecord[] {
    const before = this.draining.get(view.service) ?? new Set<string>();
    const now = new Set<string>();
    const fresh: EndpointRecord[] = [];
    for (const endpoint of view.endpoints) {
      if (endpoint.health !== 'DRAINING') continue;
      const key = `${endpoint.cluster}/${endpoint.podKey}`;
      now.add(key);
      if (!before.has(key)) fresh.push(endpoint);
    }
    if (now.size > 0) this.draining.set(view.service, now);
    else this.draining.delete(view.service);
    return fresh;
  }
}
