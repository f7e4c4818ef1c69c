import type { Logger } from '../telemetry/index.js';
import type { HeraldMetrics } from '../telemetry/index.js';
import { PUSH_ORDER, type EndpointRecord, type ResourceKind, type RoutesPolicy, type ServiceEndpoints, type ServicePolicySpec, type UpstreamProtocol } from '../model/index.js';
import { specKey, type PolicyChange } from '../policy/index.js';
import {
  hashPolicyFor,
  kindsReading,
  routeAction,
  routeBackends,
  serviceProtocol,
  TRANSLATORS,
  type ClusterOptions,
  type ResourceEncoder,
  type RouteActionResource,
  type RouteHashPolicy,
  type TranslationSettings,
  type TranslatorInput,
} from '../resources/index.js';
import type { CacheEntry, ResourceCache } from '../cache/index.js';
import type { DrainTracker } from '../drains/index.js';

/** What the pipeline reads from the store. */
export interface ServiceReader {
  service(name: string): ServiceEndpoints | undefined;
}

/** What the pipeline reads of ServicePolicies: the effective spec of one service. */
export interface PolicyReader {
  effective(service: string): { spec: ServicePolicySpec };
}

const NO_POLICIES: PolicyReader = { effective: () => ({ spec: {} }) };

export interface PipelineDeps {
  store: ServiceReader;
  /** Absent: no service has a policy. */
  policies?: PolicyReader;
  encoder: ResourceEncoder;
  cache: ResourceCache;
  drains: Pick<DrainTracker, 'track'>;
  metrics: HeraldMetrics;
  logger: Logger;
  clusterOptions: ClusterOptions;
  localCluster: string | undefined;
  /** The pod's termination grace in seconds, when known: a drain is incomplete once it passes. */
  graceOf?: (cluster: string, podKey: string) => number | undefined;
}

const ENDPOINTS_CHANGED: ReadonlySet<TranslatorInput> = new Set(['endpoints']);
const SETTINGS_CHANGED: ReadonlySet<TranslatorInput> = new Set(['settings']);
const PROTOCOL_CHANGED: ReadonlySet<TranslatorInput> = new Set(['protocol']);
const POLICY_CHANGED: ReadonlySet<TranslatorInput> = new Set(['policy']);
const ROUTES_CHANGED: ReadonlySet<TranslatorInput> = new Set(['routes']);
const BACKENDS_CHANGED: ReadonlySet<TranslatorInput> = new Set(['backends']);

/** What a service's resources were last built from, besides its endpoints and the settings. */
interface Published {
  protocol: UpstreamProtocol;
  /** specKey of the effective policy but its routes section: compared to tell whether policy readers need a rebuild. */
  policyKey: string;
  /** specKey of the routes section, the same for routes readers. */
  routesKey: string;
  /** The services its split names (routeBackends). */
  backends: readonly string[];
  /** Those of `backends` with a HEALTHY endpoint, in split order: compared like policyKey. */
  healthy: readonly string[];
  routes: RoutesPolicy | undefined;
  /** The ring hash's header its routes carry (hashPolicyFor). */
  hashPolicy: RouteHashPolicy[] | undefined;
}

function hasHealthy(view: ServiceEndpoints | undefined): boolean {
  return view?.endpoints.some((endpoint) => endpoint.health === 'HEALTHY') ?? false;
}

/**
 * Turns dirty service names from the store into cache updates: rebuilds, for those services
 * only, the kinds whose inputs changed, encodes each resource once (the cache drops bytes equal
 * to what it holds), and tells the drain tracker about endpoints that just turned DRAINING so
 * their propagation can be measured.
 */
export class ResourcePipeline {
  /**
   * Services whose resources are in the cache, with the protocol and policy they were last built
   * with: a kind reading them (the cluster) is rebuilt when one differs, not on every endpoint
   * change.
   */
  private readonly published = new Map<string, Published>();
  /** Endpoint keys already DRAINING in the last assignment built, per service. */
  private readonly draining = new Map<string, Set<string>>();
  private settings: TranslationSettings;
  private readonly kindsOnEndpointChange = kindsReading(ENDPOINTS_CHANGED, PUSH_ORDER);
  private readonly kindsOnProtocolChange = kindsReading(PROTOCOL_CHANGED, PUSH_ORDER);
  private readonly kindsOnPolicyChange = kindsReading(POLICY_CHANGED, PUSH_ORDER);
  private readonly kindsOnRoutesChange = kindsReading(ROUTES_CHANGED, PUSH_ORDER);
  private readonly kindsOnBackendsChange = kindsReading(BACKENDS_CHANGED, PUSH_ORDER);
  /** Split backend → the published services whose split names it. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly policies: PolicyReader;

  constructor(private readonly deps: PipelineDeps) {
    this.settings = { clusterOptions: deps.clusterOptions, localCluster: deps.localCluster };
    this.policies = deps.policies ?? NO_POLICIES;
  }

  /**
   * ServicePolicies changed: the published services named (all of them when the defaults
   * changed) are checked, and only those whose effective policy differs are rebuilt.
   */
  policiesChanged(change: PolicyChange): void {
    const services = change === 'all' ? [...this.published.keys()] : change.services.filter((service) => this.published.has(service));
    this.rebuildKinds(services, []);
  }

  /**
   * The store says these services' endpoints changed. Services whose split names one of them are
   * looked at too; their routes are rebuilt only when a backend's HEALTHY presence flipped.
   */
  rebuild(services: Iterable<string>): void {
    const dirty = new Set(services);
    const splitting = new Set<string>();
    for (const service of dirty) for (const dependent of this.dependents.get(service) ?? []) if (!dirty.has(dependent)) splitting.add(dependent);
    this.rebuildKinds(dirty, this.kindsOnEndpointChange, splitting);
  }

  /** The route action last built for a service (its proxyless RouteConfiguration's), for the sidecars' egress routes. */
  routeOf(service: string): RouteActionResource | undefined {
    const published = this.published.get(service);
    return published === undefined ? undefined : routeAction(service, published.routes, new Set(published.healthy), published.hashPolicy);
  }

  /** New settings: every published service's kinds that read them are rebuilt. */
  updateSettings(settings: TranslationSettings): void {
    this.settings = settings;
    this.rebuildKinds([...this.published.keys()], kindsReading(SETTINGS_CHANGED, PUSH_ORDER));
  }

  /** `services` get `kinds` rebuilt; `alsoCheck` (and they) whatever kinds their protocol, policy or backends call for. */
  private rebuildKinds(services: Iterable<string>, kinds: readonly ResourceKind[], alsoCheck: Iterable<string> = []): void {
    const entries: CacheEntry[] = [];
    const newlyDraining: { service: string; endpoint: EndpointRecord }[] = [];
    const work: [string, readonly ResourceKind[]][] = [
      ...[...services].map((service): [string, readonly ResourceKind[]] => [service, kinds]),
      ...[...alsoCheck].map((service): [string, readonly ResourceKind[]] => [service, []]),
    ];
    for (const [service, serviceKinds] of work) {
      const view = this.deps.store.service(service);
      if (!view || view.podCount === 0) {
        const gone = this.published.get(service);
        if (gone !== undefined) {
          this.published.delete(service);
          this.index(service, gone.backends, []);
          for (const kind of PUSH_ORDER) entries.push({ kind, name: service, any: null });
        }
        this.draining.delete(service);
        continue;
      }
      const policy = this.policies.effective(service).spec;
      const backends = routeBackends(service, policy);
      const healthy = backends.filter((backend) => hasHealthy(backend === service ? view : this.deps.store.service(backend)));
      const { routes, ...rest } = policy;
      const now: Published = { protocol: serviceProtocol(view), policyKey: specKey(rest), routesKey: specKey({ routes }), backends, healthy, routes, hashPolicy: hashPolicyFor(policy) };
      const before = this.published.get(service);
      const due = before === undefined ? PUSH_ORDER : this.dueKinds(serviceKinds, before, now);
      for (const kind of due) entries.push({ kind, name: service, any: this.encode(kind, view, policy, new Set(healthy)) });
      this.published.set(service, now);
      this.index(service, before?.backends ?? [], backends);
      newlyDraining.push(...this.diffDraining(view).map((endpoint) => ({ service, endpoint })));
    }
    if (entries.length === 0) return;
    // Drains are tracked between the store and the fan-out, so every send of the notice is seen.
    this.deps.cache.apply(entries, newlyDraining.length === 0 ? undefined : () => this.trackDrains(newlyDraining));
  }

  /** `kinds` plus the kinds reading the protocol, the policy, its routes or the backends when those changed, in push order. */
  private dueKinds(kinds: readonly ResourceKind[], before: Published, now: Published): ResourceKind[] {
    const protocolChanged = before.protocol !== now.protocol;
    const policyChanged = before.policyKey !== now.policyKey;
    const routesChanged = before.routesKey !== now.routesKey;
    const backendsChanged = before.healthy.join('\n') !== now.healthy.join('\n');
    return PUSH_ORDER.filter(
      (kind) =>
        kinds.includes(kind) ||
        (protocolChanged && this.kindsOnProtocolChange.includes(kind)) ||
        (policyChanged && this.kindsOnPolicyChange.includes(kind)) ||
        (routesChanged && this.kindsOnRoutesChange.includes(kind)) ||
        (backendsChanged && this.kindsOnBackendsChange.includes(kind)),
    );
  }

  /** Keeps `dependents` in step with the backends a service's split names. */
  private index(service: string, before: readonly string[], now: readonly string[]): void {
    for (const backend of before) {
      const services = this.dependents.get(backend);
      services?.delete(service);
      if (services?.size === 0) this.dependents.delete(backend);
    }
    for (const backend of now) {
      let services = this.dependents.get(backend);
      if (!services) this.dependents.set(backend, (services = new Set()));
      services.add(service);
    }
  }

  private encode(kind: ResourceKind, view: ServiceEndpoints, policy: ServicePolicySpec, healthy: ReadonlySet<string>): Buffer {
    this.deps.metrics.resourceBuilds.inc({ type: kind });
    return this.deps.encoder.encodeAny(kind, TRANSLATORS[kind].build(view, this.settings, policy, healthy));
  }

  private trackDrains(newlyDraining: readonly { service: string; endpoint: EndpointRecord }[]): void {
    for (const { service, endpoint } of newlyDraining) {
      const cached = this.deps.cache.get('endpoint', service);
      if (!cached || endpoint.drainingSinceMs === undefined) continue;
      const graceSeconds = this.deps.graceOf?.(endpoint.cluster, endpoint.podKey);
      this.deps.drains.track({
        ...(graceSeconds === undefined ? {} : { graceMs: graceSeconds * 1000 }),
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
