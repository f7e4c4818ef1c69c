import type { Logger } from '../telemetry/index.js';
import type { HeraldMetrics } from '../telemetry/index.js';
import {
  DEFAULT_PERSPECTIVE,
  PUSH_ORDER,
  type EndpointRecord,
  type Perspective,
  type ResourceKind,
  type RoutesPolicy,
  type ServiceEndpoints,
  type ServicePolicySpec,
  type UpstreamProtocol,
} from '../model/index.js';
import { specKey, type PolicyChange } from '../policy/index.js';
import {
  assignmentKeySpills,
  hashPolicyFor,
  kindsReading,
  replicaAssignmentOptions,
  routeAction,
  routeBackends,
  servedEndpoints,
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
import { HealthCheckPortReport } from './health-check-ports.js';

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
const LOCALITY_CHANGED: ReadonlySet<TranslatorInput> = new Set(['locality']);
/** A kind that reads no split backends gets this for them. */
const NO_BACKENDS: ReadonlySet<string> = new Set();

/** A perspective some connected client declared, under the key the cache keeps its variants by. */
export interface LivePerspective {
  readonly perspective: Perspective;
  readonly key: string;
}

/** The variants last built for one service's perspective-dependent kind. */
interface BuiltVariants {
  /** variantKey of the plain resource. */
  plainKey: string;
  /** variantKey → encoded resource, for the keys live perspectives had. */
  byKey: Map<string, Buffer>;
  /** perspective key → its variantKey, for the live perspectives (what herald_spill_services counts). */
  keyOf: Map<string, string>;
  /** What they were built from. */
  view: ServiceEndpoints;
  policy: ServicePolicySpec;
}

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
  /** specKey of its locality section alone, for the readers of that section. */
  localityKey: string;
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
  /** Services served their terminating-but-Ready endpoints because none is HEALTHY, with those pods ("cluster/podKey"). */
  private readonly fallingBack = new Map<string, Set<string>>();
  /** Services whose healthCheck.portName some of their pods lack. */
  readonly healthCheckPorts: HealthCheckPortReport;
  private settings: TranslationSettings;
  private readonly kindsOnEndpointChange = kindsReading(ENDPOINTS_CHANGED, PUSH_ORDER);
  private readonly kindsOnProtocolChange = kindsReading(PROTOCOL_CHANGED, PUSH_ORDER);
  private readonly kindsOnPolicyChange = kindsReading(POLICY_CHANGED, PUSH_ORDER);
  private readonly kindsOnRoutesChange = kindsReading(ROUTES_CHANGED, PUSH_ORDER);
  private readonly kindsOnBackendsChange = kindsReading(BACKENDS_CHANGED, PUSH_ORDER);
  /** Split backend → the published services whose split names it. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly kindsOnLocalityChange = kindsReading(LOCALITY_CHANGED, PUSH_ORDER);
  private readonly policies: PolicyReader;
  /** Perspectives connected clients declared (the default one aside): each gets variants where its view differs. */
  private readonly live = new Map<string, Perspective>();
  /** service → kind → the variants last built, for kinds whose resources differ by perspective. */
  private readonly variants = new Map<string, Map<ResourceKind, BuiltVariants>>();
  private readonly addedPerspectives = new Set<string>();
  private perspectivesScheduled = false;

  constructor(private readonly deps: PipelineDeps) {
    this.settings = { clusterOptions: deps.clusterOptions, localCluster: deps.localCluster };
    this.policies = deps.policies ?? NO_POLICIES;
    this.healthCheckPorts = new HealthCheckPortReport(deps);
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
   * A client declared a perspective no other connected client holds: every published service
   * gets a variant for it where its view differs from the plain one. Applied in a microtask: this
   * is called from inside a stream's request handling, and a cache update fans out at once.
   */
  perspectiveAdded(held: LivePerspective): void {
    this.live.set(held.key, held.perspective);
    this.addedPerspectives.add(held.key);
    if (this.perspectivesScheduled) return;
    this.perspectivesScheduled = true;
    queueMicrotask(() => this.addVariants());
  }

  /** The last client of a perspective went: its variants are dropped without telling anyone. */
  perspectiveRemoved(held: LivePerspective): void {
    this.live.delete(held.key);
    this.addedPerspectives.delete(held.key);
    for (const kinds of this.variants.values()) for (const built of kinds.values()) built.keyOf.delete(held.key);
    this.deps.cache.forgetPerspective(held.key);
  }

  private addVariants(): void {
    this.perspectivesScheduled = false;
    const added = [...this.addedPerspectives].filter((key) => this.live.has(key));
    this.addedPerspectives.clear();
    if (added.length === 0) return;
    const entries: CacheEntry[] = [];
    for (const [service, kinds] of this.variants) {
      for (const [kind, built] of kinds) {
        let grew = false;
        for (const key of added) {
          const variantKey = this.variantKeyOf(kind, built, key, this.live.get(key)!);
          if (variantKey === built.plainKey || built.byKey.has(variantKey)) {
            if (variantKey !== built.plainKey) grew = true;
            continue;
          }
          built.byKey.set(variantKey, this.encodeFor(kind, built.view, built.policy, this.live.get(key)!));
          grew = true;
        }
        if (!grew) continue;
        const plain = this.deps.cache.get(kind, service);
        if (plain) entries.push({ kind, name: service, any: plain.any, variants: this.variantBytes(kind, built) });
      }
    }
    if (entries.length > 0) this.deps.cache.apply(entries);
  }

  /** The variantKey of a perspective's view of `built`, noted in its keyOf. */
  private variantKeyOf(kind: ResourceKind, built: BuiltVariants, key: string, perspective: Perspective): string {
    const variantKey = TRANSLATORS[kind].variantKey!(built.view, this.settings, built.policy, perspective);
    built.keyOf.set(key, variantKey);
    return variantKey;
  }

  /**
   * Services whose assignment, for some connected client that ignores overprovisioning, moves
   * traffic to a later priority through spill weights (herald_spill_services). Read at scrape
   * time from the variant keys already computed: nothing is built or encoded for it.
   */
  spillingServices(): number {
    let count = 0;
    for (const kinds of this.variants.values()) {
      const keyOf = kinds.get('endpoint')?.keyOf;
      if (!keyOf) continue;
      for (const [key, variantKey] of keyOf) {
        if (this.live.has(key) && assignmentKeySpills(variantKey)) {
          count += 1;
          break;
        }
      }
    }
    return count;
  }

  /** perspective key → bytes, for every live perspective whose view differs from the plain one. */
  private variantBytes(kind: ResourceKind, built: BuiltVariants): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [key, perspective] of this.live) {
      const variantKey = this.variantKeyOf(kind, built, key, perspective);
      if (variantKey === built.plainKey) continue;
      let bytes = built.byKey.get(variantKey);
      if (!bytes) built.byKey.set(variantKey, (bytes = this.encodeFor(kind, built.view, built.policy, perspective)));
      out.set(key, bytes);
    }
    return out;
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
        this.variants.delete(service);
        this.noteFallback(service, false, view);
        this.healthCheckPorts.note(service, {}, undefined);
        continue;
      }
      const policy = this.policies.effective(service).spec;
      const backends = routeBackends(service, policy);
      const healthy = backends.filter((backend) => hasHealthy(backend === service ? view : this.deps.store.service(backend)));
      const { routes, ...rest } = policy;
      const now: Published = {
        protocol: serviceProtocol(view),
        policyKey: specKey(rest),
        routesKey: specKey({ routes }),
        localityKey: specKey(policy.locality === undefined ? {} : { locality: policy.locality }),
        backends,
        healthy,
        routes,
        hashPolicy: hashPolicyFor(policy),
      };
      const before = this.published.get(service);
      const due = before === undefined ? PUSH_ORDER : this.dueKinds(serviceKinds, before, now);
      for (const kind of due) entries.push(this.entryFor(service, kind, view, policy, new Set(healthy)));
      this.published.set(service, now);
      this.index(service, before?.backends ?? [], backends);
      // What clients are sent, not what the store holds: an endpoint served by the terminating
      // fallback is announced DRAINING (and its drain timed) once the fallback ends.
      const served = servedEndpoints(view.endpoints, replicaAssignmentOptions(this.settings.localCluster, policy).terminatingFallback === true);
      this.noteFallback(service, served.fallback, view);
      this.healthCheckPorts.note(service, policy, view.endpoints);
      newlyDraining.push(...this.diffDraining(view.service, served.endpoints).map((endpoint) => ({ service, endpoint })));
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
    const localityChanged = before.localityKey !== now.localityKey;
    return PUSH_ORDER.filter(
      (kind) =>
        kinds.includes(kind) ||
        (protocolChanged && this.kindsOnProtocolChange.includes(kind)) ||
        (policyChanged && this.kindsOnPolicyChange.includes(kind)) ||
        (routesChanged && this.kindsOnRoutesChange.includes(kind)) ||
        (backendsChanged && this.kindsOnBackendsChange.includes(kind)) ||
        (localityChanged && this.kindsOnLocalityChange.includes(kind)),
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

  /**
   * The cache entry of one kind of a service: the plain resource and, for a kind that differs by
   * perspective, one variant per live perspective whose view differs — built and encoded once
   * per distinct view, however many perspectives share it.
   */
  private entryFor(service: string, kind: ResourceKind, view: ServiceEndpoints, policy: ServicePolicySpec, healthy: ReadonlySet<string>): CacheEntry {
    const any = this.encodeFor(kind, view, policy, DEFAULT_PERSPECTIVE, healthy);
    const translator = TRANSLATORS[kind];
    if (!translator.variantKey) return { kind, name: service, any };
    const plainKey = translator.variantKey(view, this.settings, policy, DEFAULT_PERSPECTIVE);
    const built: BuiltVariants = { plainKey, byKey: new Map(), keyOf: new Map(), view, policy };
    let kinds = this.variants.get(service);
    if (!kinds) this.variants.set(service, (kinds = new Map<ResourceKind, BuiltVariants>()));
    kinds.set(kind, built);
    if (this.live.size === 0) return { kind, name: service, any };
    return { kind, name: service, any, variants: this.variantBytes(kind, built) };
  }

  private encodeFor(kind: ResourceKind, view: ServiceEndpoints, policy: ServicePolicySpec, perspective: Perspective, healthy: ReadonlySet<string> = NO_BACKENDS): Buffer {
    this.deps.metrics.resourceBuilds.inc({ type: kind });
    return this.deps.encoder.encodeAny(kind, TRANSLATORS[kind].build(view, this.settings, policy, healthy, perspective));
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

  /** Whether the pod is terminating and served HEALTHY by the terminating fallback (for drain receipts). */
  servedByFallback(cluster: string, podKey: string): boolean {
    const id = `${cluster}/${podKey}`;
    for (const pods of this.fallingBack.values()) if (pods.has(id)) return true;
    return false;
  }

  /** Counts and logs a service entering or leaving the terminating fallback. */
  private noteFallback(service: string, fallback: boolean, view: ServiceEndpoints | undefined): void {
    const was = this.fallingBack.has(service);
    if (fallback) {
      const pods = (view?.endpoints ?? []).filter((e) => e.servingWhileTerminating === true).map((e) => `${e.cluster}/${e.podKey}`);
      this.fallingBack.set(service, new Set(pods));
    }
    if (fallback === was) return;
    if (fallback) {
      this.deps.metrics.terminatingFallbacks.inc();
      this.deps.logger.warn({ service, endpoints: this.fallingBack.get(service)!.size }, 'no HEALTHY endpoint in any cluster: serving the terminating pods that are still Ready');
    } else {
      this.fallingBack.delete(service);
      this.deps.logger.info({ service }, 'terminating fallback ended: the service has HEALTHY endpoints again, or no Ready terminating one');
    }
    this.deps.metrics.terminatingFallbackServices.set(this.fallingBack.size);
  }

  /** Endpoints DRAINING now that were not DRAINING in the previous build of this service. */
  private diffDraining(service: string, endpoints: readonly EndpointRecord[]): EndpointRecord[] {
    const before = this.draining.get(service) ?? new Set<string>();
    const now = new Set<string>();
    const fresh: EndpointRecord[] = [];
    for (const endpoint of endpoints) {
      if (endpoint.health !== 'DRAINING') continue;
      const key = `${endpoint.cluster}/${endpoint.podKey}`;
      now.add(key);
      if (!before.has(key)) fresh.push(endpoint);
    }
    if (now.size > 0) this.draining.set(service, now);
    else this.draining.delete(service);
    return fresh;
  }
}
