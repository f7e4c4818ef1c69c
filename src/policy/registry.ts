// The ServicePolicies of every kube cluster, validated, resolved across clusters and merged
// with the mesh defaults. Holds state; the decisions are the pure functions beside it.
import type { EvacuateMode, PolicyObject } from '../model/index.js';
import type { PolicySink } from '../sources/types.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import { evacuationOf, mergePolicy, type EffectivePolicy, type PolicyOrigin, type SourcedSpec } from './merge.js';
import { ignoredByProxyless, type IgnoredField } from './proxyless.js';
import { resolveAcrossClusters, type Resolution } from './resolve.js';
import type { PolicyVerdict } from './status.js';
import { validatePolicySpec, type PolicyError, type Validation } from './validate.js';

/** The mesh-defaults object's name, in Herald's namespace. */
export const DEFAULTS_POLICY_NAME = 'mesh-defaults';

export interface PolicyRegistryOptions {
  /** Herald's namespace, where the mesh-defaults object lives. */
  defaultsNamespace: string;
  /** Kube clusters policies are read from, first = wins a disagreement (--policy-clusters). */
  clusters: readonly string[];
  logger: Logger;
  metrics: Pick<HeraldMetrics, 'policies' | 'policyRejections' | 'policyConflicts'>;
  clock: () => number;
}

export interface PolicyRejection extends PolicyOrigin {
  errors: PolicyError[];
  /** The generation still served from this cluster's copy, if any. */
  keptGeneration: number | undefined;
  atMs: number;
}

interface Copy {
  valid: SourcedSpec | undefined;
  rejected: PolicyRejection | undefined;
}

/** Changed services (by Herald service name), or `all` when the defaults changed. */
export type PolicyChange = { services: string[] } | 'all';

export interface PolicyServiceView extends EffectivePolicy {
  service: string;
  ignoredByProxyless: IgnoredField[];
}

/** The kube clusters the mesh defaults evacuate (locality.evacuate), how, and the object that says so. */
export interface Evacuation {
  clusters: string[];
  mode: EvacuateMode;
  from: PolicyOrigin;
}

export interface PolicyDebugView {
  defaults: { namespace: string; name: string };
  /** Absent when no cluster is evacuated. */
  evacuation?: Evacuation;
  clusters: readonly string[];
  /**
   * Clusters whose policies Herald cannot read: without the CRD (`keptLastKnown: false`, they
   * contribute nothing) or unreachable (`keptLastKnown: true`, their last known policies stay).
   */
  unavailable: Array<{ cluster: string; reason: string; keptLastKnown: boolean }>;
  services: PolicyServiceView[];
  rejections: PolicyRejection[];
  conflicts: Array<{ namespace: string; name: string; clusters: string[]; chosen: string }>;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

/**
 * The service a ServicePolicy is for: object `cart` in namespace `shop` is service `cart.shop`
 * (namespace service scope). The mesh-defaults object is no service's.
 */
function serviceOfKey(key: string): string {
  const [namespace, name] = key.split('/') as [string, string];
  return `${name}.${namespace}`;
}

/** The object key of a service name: its namespace is after the last dot (namespaces have none). */
function keyOfService(service: string): string | undefined {
  const dot = service.lastIndexOf('.');
  return dot <= 0 ? undefined : keyOf(service.slice(dot + 1), service.slice(0, dot));
}

/**
 * The mesh-defaults object follows the same rules, and one more the CRD cannot state (it does
 * not know which object holds the defaults): no split, which would send every service's traffic
 * to the same backends.
 */
function validateDefaults(spec: unknown): Validation {
  const result = validatePolicySpec(spec);
  if (!result.ok || result.spec.routes?.split === undefined) return result;
  return { ok: false, errors: [{ path: 'spec.routes.split', message: `the ${DEFAULTS_POLICY_NAME} object cannot split traffic; set split in a service's own object` }] };
}

/**
 * A service's own object follows the same rules, and one more the CRD cannot state: no
 * evacuation, which is the whole mesh's (one list every replica and every service agree on), so
 * it is read from the mesh-defaults object alone.
 */
function validateServiceObject(spec: unknown): Validation {
  const result = validatePolicySpec(spec);
  if (!result.ok) return result;
  const errors: PolicyError[] = [];
  for (const field of ['evacuate', 'evacuateMode'] as const) {
    if (result.spec.locality?.[field] !== undefined) {
      errors.push({ path: `spec.locality.${field}`, message: `only the ${DEFAULTS_POLICY_NAME} object evacuates kube clusters; set ${field} there` });
    }
  }
  return errors.length === 0 ? result : { ok: false, errors };
}

export class PolicyRegistry implements PolicySink {
  /** kube cluster → object key → that cluster's copy. */
  private readonly copies = new Map<string, Map<string, Copy>>();
  private readonly unavailable = new Map<string, string>();
  /** Clusters that cannot be read right now; their copies are kept. */
  private readonly unreachable = new Map<string, string>();
  /** Conflicts already logged, with the clusters that disagreed, so each is said once. */
  private readonly reportedConflicts = new Map<string, string>();
  private readonly listeners = new Set<(change: PolicyChange) => void>();
  private readonly defaultsKey: string;

  constructor(private readonly options: PolicyRegistryOptions) {
    this.defaultsKey = keyOf(options.defaultsNamespace, DEFAULTS_POLICY_NAME);
    for (const cluster of options.clusters) this.copies.set(cluster, new Map());
    this.updateGauges();
  }

  onChange(listener: (change: PolicyChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The policy a service gets; an empty spec when nothing applies to it. */
  effective(service: string): EffectivePolicy {
    const key = keyOfService(service);
    const own = key === undefined || key === this.defaultsKey ? undefined : this.resolve(key)?.chosen;
    return mergePolicy(this.resolve(this.defaultsKey)?.chosen, own);
  }

  /** The kube clusters being evacuated, from the mesh-defaults object; undefined when none is. */
  evacuation(): Evacuation | undefined {
    const defaults = this.resolve(this.defaultsKey)?.chosen;
    const evacuation = evacuationOf(defaults?.spec);
    if (defaults === undefined || evacuation?.evacuate === undefined) return undefined;
    return { clusters: evacuation.evacuate, mode: evacuation.evacuateMode ?? 'LastPriority', from: defaults.origin };
  }

  applyPolicy(policy: PolicyObject): void {
    const copies = this.copies.get(policy.cluster);
    if (copies === undefined) return;
    this.forgetUnavailable(policy.cluster);
    if (this.take(copies, policy)) this.changed([keyOf(policy.namespace, policy.name)]);
  }

  removePolicy(cluster: string, namespace: string, name: string): void {
    const key = keyOf(namespace, name);
    if (this.copies.get(cluster)?.delete(key)) this.changed([key]);
  }

  replacePolicies(cluster: string, policies: PolicyObject[]): void {
    const copies = this.copies.get(cluster);
    if (copies === undefined) return;
    this.forgetUnavailable(cluster);
    const listed = new Set(policies.map((p) => keyOf(p.namespace, p.name)));
    const touched = [...copies.keys()].filter((key) => !listed.has(key));
    for (const key of touched) copies.delete(key);
    for (const policy of policies) if (this.take(copies, policy)) touched.push(keyOf(policy.namespace, policy.name));
    this.changed(touched);
  }

  policiesUnavailable(cluster: string, reason: string): void {
    const copies = this.copies.get(cluster);
    if (copies === undefined || this.unavailable.get(cluster) === reason) return;
    this.unavailable.set(cluster, reason);
    this.options.logger.warn({ kube_cluster: cluster }, `cluster ${cluster}: ${reason}; it contributes no ServicePolicy`);
    const touched = [...copies.keys()];
    copies.clear();
    this.changed(touched);
  }

  policiesUnreachable(cluster: string, reason: string | undefined): void {
    if (!this.copies.has(cluster)) return;
    if (reason === undefined) this.unreachable.delete(cluster);
    else this.unreachable.set(cluster, reason);
  }

  debug(services: Iterable<string>): PolicyDebugView {
    const conflicts: PolicyDebugView['conflicts'] = [];
    for (const key of this.allKeys()) {
      const conflict = this.resolve(key)?.conflict;
      const [namespace, name] = key.split('/') as [string, string];
      if (conflict) conflicts.push({ namespace, name, ...conflict });
    }
    const evacuation = this.evacuation();
    return {
      defaults: { namespace: this.options.defaultsNamespace, name: DEFAULTS_POLICY_NAME },
      ...(evacuation === undefined ? {} : { evacuation }),
      clusters: this.options.clusters,
      unavailable: [
        ...[...this.unavailable].map(([cluster, reason]) => ({ cluster, reason, keptLastKnown: false })),
        ...[...this.unreachable].filter(([cluster]) => !this.unavailable.has(cluster)).map(([cluster, reason]) => ({ cluster, reason, keptLastKnown: true })),
      ],
      services: [...services].flatMap((service) => {
        const policy = this.effective(service);
        return Object.keys(policy.from).length === 0 ? [] : [{ service, ...policy, ignoredByProxyless: ignoredByProxyless(policy.spec) }];
      }),
      rejections: this.rejections(),
      conflicts,
    };
  }

  /** Per service of `services` and section in effect, the object it came from (for the metrics). */
  *sectionOrigins(services: Iterable<string>): Generator<{ service: string; section: string; role: string; cluster: string }> {
    for (const service of services) {
      for (const [section, origin] of Object.entries(this.effective(service).from)) yield { service, section, role: origin.role, cluster: origin.cluster };
    }
  }

  /** How the newest generation of one cluster's copy was judged; undefined when there is no copy. */
  verdict(cluster: string, namespace: string, name: string): PolicyVerdict | undefined {
    const copy = this.copies.get(cluster)?.get(keyOf(namespace, name));
    if (copy?.rejected) return { generation: copy.rejected.generation, errors: copy.rejected.errors, keptGeneration: copy.rejected.keptGeneration };
    return copy?.valid && { generation: copy.valid.origin.generation, errors: [] };
  }

  /** Copies whose newest generation is rejected. */
  rejectedCopies(): PolicyRejection[] {
    return this.rejections();
  }

  /** Validates one copy; true when what it contributes changed. */
  private take(copies: Map<string, Copy>, policy: PolicyObject): boolean {
    const key = keyOf(policy.namespace, policy.name);
    const copy = copies.get(key) ?? { valid: undefined, rejected: undefined };
    // Relists replay every object: a generation already judged is judged the same way.
    if (copy.valid?.origin.generation === policy.generation || copy.rejected?.generation === policy.generation) return false;
    copies.set(key, copy);
    const origin: PolicyOrigin = { cluster: policy.cluster, namespace: policy.namespace, name: policy.name, generation: policy.generation };
    const result = key === this.defaultsKey ? validateDefaults(policy.spec) : validateServiceObject(policy.spec);
    if (result.ok) {
      copy.rejected = undefined;
      copy.valid = { spec: result.spec, origin };
      return true;
    }
    copy.rejected = { ...origin, errors: result.errors, keptGeneration: copy.valid?.origin.generation, atMs: this.options.clock() };
    this.options.metrics.policyRejections.inc({ kube_cluster: policy.cluster });
    this.options.logger.warn(
      { kube_cluster: policy.cluster, namespace: policy.namespace, name: policy.name, generation: policy.generation, errors: result.errors },
      `ServicePolicy ${policy.cluster}/${policy.namespace}/${policy.name} generation ${policy.generation} rejected: ${result.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}; ` +
        (copy.valid === undefined ? 'no earlier valid generation, nothing applied' : `keeping generation ${copy.valid.origin.generation}`),
    );
    this.updateGauges();
    return false;
  }

  private resolve(key: string): Resolution | undefined {
    const found: SourcedSpec[] = [];
    for (const copies of this.copies.values()) {
      const valid = copies.get(key)?.valid;
      if (valid) found.push(valid);
    }
    return resolveAcrossClusters(found, this.options.clusters);
  }

  private allKeys(): string[] {
    const keys = new Set<string>();
    for (const copies of this.copies.values()) for (const [key, copy] of copies) if (copy.valid) keys.add(key);
    return [...keys].sort();
  }

  private rejections(): PolicyRejection[] {
    return [...this.copies.values()].flatMap((copies) => [...copies.values()].flatMap((copy) => copy.rejected ?? []));
  }

  private forgetUnavailable(cluster: string): void {
    if (this.unavailable.delete(cluster)) this.options.logger.info({ kube_cluster: cluster }, `cluster ${cluster}: ServicePolicies readable again`);
  }

  private changed(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const key of new Set(keys)) this.reportConflict(key);
    this.updateGauges();
    const change: PolicyChange = keys.includes(this.defaultsKey) ? 'all' : { services: [...new Set(keys)].map(serviceOfKey) };
    for (const listener of this.listeners) listener(change);
  }

  private reportConflict(key: string): void {
    const conflict = this.resolve(key)?.conflict;
    if (conflict === undefined) {
      this.reportedConflicts.delete(key);
      return;
    }
    const signature = conflict.clusters.join(',');
    if (this.reportedConflicts.get(key) === signature) return;
    this.reportedConflicts.set(key, signature);
    this.options.logger.warn(
      { namespace: key.split('/')[0], name: key.split('/')[1], clusters: conflict.clusters, chosen: conflict.chosen },
      `ServicePolicy ${key} differs between kube clusters ${conflict.clusters.join(', ')}; serving the copy of ${conflict.chosen} (first in --policy-clusters)`,
    );
  }

  private updateGauges(): void {
    this.options.metrics.policies.set({ state: 'active' }, this.allKeys().length);
    this.options.metrics.policies.set({ state: 'rejected' }, this.rejections().length);
    this.options.metrics.policyConflicts.set(this.reportedConflicts.size);
  }
}
