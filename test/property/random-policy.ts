// Random valid ServicePolicies for the meshes of random-mesh.ts: any subset of sections and
// fields, values drawn from the bounds of src/policy/rules.ts (often exactly a bound), nested
// objects and lists included, then mended to pass the cross-field rules. The first service of a
// mesh always gets a policy with a balancer other than plain round robin and a routes section
// with a split, so every run serves a load_balancing_policy list and weighted clusters. A split
// names the service itself, others of its namespace and services that do not exist.
import { POLICY_SECTIONS, type PolicyObject, type ServicePolicySpec } from '../../src/model/index.js';
import { DEFAULTS_POLICY_NAME, FIELD_RULES, SECTION_RULES, type FieldRule } from '../../src/policy/index.js';
import type { RandomMesh, Rng } from './random-mesh.js';

export const DEFAULTS_NAMESPACE = 'herald';

/** Header names as teams pick them, one at the length bound. */
const HEADERS = ['x-user', 'x-session-id', 'tenant', 'a', 'x_b.c-d', 'h'.repeat(256)];

/** Container port names for healthCheck.portName: those random-mesh.ts pods name, one no pod has, one at the length bound. */
const PORT_NAMES = ['health', 'http', 'admin', 'a-15-characters'];

/** Values for the health checkers' strings, each valid for both. */
const HEALTH_NAMES = ['/healthz', '/', '/ready?full=1', '', 'grpc.health.v1.Health', 'cart.v1.Cart'];

function value(rng: Rng, rule: FieldRule): unknown {
  switch (rule.type) {
    case 'boolean':
      return rng.chance(0.5);
    case 'string':
      return 'enum' in rule ? rng.pick(rule.enum) : rng.pick(HEADERS);
    case 'integer': {
      const r = rng.next();
      if (r < 0.2) return rule.minimum;
      if (r < 0.4) return rule.maximum;
      return rng.int(rule.minimum, Math.min(rule.maximum, 1_000_000));
    }
    case 'object':
      return fieldsOf(rng, rule.properties, rule.required ?? []);
    case 'array': {
      const items = Array.from({ length: rng.int(rule.minItems, Math.min(rule.maxItems, 4)) }, () => value(rng, rule.items));
      return rule.listType === 'set' ? [...new Set(items)] : items;
    }
  }
}

function fieldsOf(rng: Rng, properties: Readonly<Record<string, FieldRule>>, required: readonly string[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(properties)) if (required.includes(field) || rng.chance(0.6)) fields[field] = value(rng, rule);
  return fields;
}

/** A split of `self` (the service's label) and `others` (labels, real or not), valid: each once, some weight > 0. */
function mendSplit(rng: Rng, split: { service: string; weight: number }[], self: string, others: readonly string[]): void {
  const names = [self, ...others.filter((o) => o !== self)];
  split.splice(Math.min(split.length, names.length));
  split.forEach((entry, i) => (entry.service = names[i]!));
  if (!split.some((entry) => entry.weight > 0)) split[rng.int(0, split.length - 1)]!.weight = rng.int(1, 10_000);
}

/**
 * `evacuable`: the kube clusters a mesh-defaults object may evacuate; without it (a service's own
 * object, which may not evacuate) the spec has no evacuate or evacuateMode.
 */
export function randomPolicy(rng: Rng, withBalancer = false, splitLabels?: { self: string; others: readonly string[] }, evacuable?: readonly string[]): ServicePolicySpec {
  const spec: Record<string, Record<string, unknown>> = {};
  for (const section of POLICY_SECTIONS) {
    const forced = withBalancer && (section === 'loadBalancing' || section === 'routes');
    if (!rng.chance(0.5) && !forced) continue;
    spec[section] = fieldsOf(rng, FIELD_RULES[section], []);
  }
  const routes = spec.routes as { retries?: { backoff?: { baseIntervalMs: number; maxIntervalMs?: number } }; split?: { service: string; weight: number }[] } | undefined;
  if (routes !== undefined) {
    const backoff = routes.retries?.backoff;
    if (backoff?.maxIntervalMs !== undefined && backoff.maxIntervalMs < backoff.baseIntervalMs)
      [backoff.baseIntervalMs, backoff.maxIntervalMs] = [backoff.maxIntervalMs, backoff.baseIntervalMs];
    if (splitLabels === undefined) delete routes.split;
    else {
      if (withBalancer) routes.split ??= [{ service: splitLabels.self, weight: 1 }];
      if (routes.split !== undefined) mendSplit(rng, routes.split, splitLabels.self, splitLabels.others);
    }
  }
  const lb = spec.loadBalancing;
  if (lb !== undefined) {
    if (withBalancer) lb.policy = rng.pick(['LeastRequest', 'Random', 'RingHash']);
    if (lb.policy === 'Random' || lb.policy === 'RingHash') delete lb.slowStartWindowMs;
    if (lb.policy === 'RingHash') lb.hashHeader ??= rng.pick(HEADERS);
    else delete lb.hashHeader;
  }
  const hc = spec.healthCheck;
  if (hc !== undefined) {
    // Exactly one checker: keep one of those drawn (or draw one), drop the others.
    const kinds = (['httpPath', 'grpcServiceName', 'tcp'] as const).filter((k) => hc[k] !== undefined && hc[k] !== false);
    const kind = kinds.length > 0 ? rng.pick(kinds) : rng.pick(['httpPath', 'grpcServiceName', 'tcp'] as const);
    for (const k of ['httpPath', 'grpcServiceName', 'tcp'] as const) delete hc[k];
    hc[kind] = kind === 'tcp' ? true : kind === 'httpPath' ? rng.pick(HEALTH_NAMES.filter((n) => n.startsWith('/'))) : rng.pick(HEALTH_NAMES.filter((n) => !n.startsWith('/')));
    // A port or a port name, not both.
    if (hc.portName !== undefined) {
      if (hc.port !== undefined && rng.chance(0.5)) delete hc.portName;
      else {
        delete hc.port;
        hc.portName = rng.pick(PORT_NAMES);
      }
    }
  }
  const cb = spec.circuitBreakers;
  // maxRetries or a retry budget, not both (Envoy ignores maxRetries under a budget).
  if (cb?.maxRetries !== undefined && (cb.retryBudgetPercent !== undefined || cb.retryBudgetMinConcurrency !== undefined)) {
    if (rng.chance(0.5)) delete cb.maxRetries;
    else for (const k of ['retryBudgetPercent', 'retryBudgetMinConcurrency']) delete cb[k];
  }
  const od = spec.outlierDetection;
  if (od !== undefined && !SECTION_RULES.every((rule) => rule.section !== 'outlierDetection' || rule.holds(od))) od.consecutive5xx = 1;
  const locality = spec.locality;
  // zoneMinEndpoints is valid only beside zone PreferSameZone.
  if (locality?.zoneMinEndpoints !== undefined) locality.zone = 'PreferSameZone';
  if (locality !== undefined) {
    // Real cluster names (a made-up one evacuates nothing), some or all of them; the mode needs the list.
    if (evacuable === undefined || evacuable.length === 0) delete locality.evacuate;
    else if (locality.evacuate !== undefined) locality.evacuate = evacuable.filter((_, i) => i === 0 || rng.chance(0.5));
    if (locality.evacuate === undefined) delete locality.evacuateMode;
  }
  return spec as ServicePolicySpec;
}

/**
 * Policies for a mesh: about half its services get one, in one kube cluster or copied to
 * several (sometimes different copies, which --policy-clusters order resolves), and sometimes a
 * mesh-defaults object. `generation` must grow from one call to the next, as an apiserver's does.
 */
export function randomPolicies(rng: Rng, mesh: RandomMesh, generation: number): PolicyObject[] {
  const clusters = mesh.clusters.map((c) => c.name);
  const services = new Map<string, { namespace: string; name: string }>();
  for (const pod of mesh.clusters.flatMap((c) => c.pods)) services.set(pod.service!, { namespace: pod.namespace, name: pod.serviceLabel ?? pod.service! });
  const objects: PolicyObject[] = [];
  const place = (namespace: string, name: string, spec: ServicePolicySpec) => {
    for (const cluster of clusters) {
      if (objects.some((o) => o.cluster === cluster && o.namespace === namespace && o.name === name)) continue;
      if (objects.some((o) => o.namespace === namespace && o.name === name) && !rng.chance(0.3)) continue;
      objects.push({ cluster, namespace, name, generation, spec: rng.chance(0.5) ? spec : randomPolicy(rng, false, splitLabelsOf(namespace, name)) });
    }
  };
  // A split's backends: the service itself, the other services of its namespace, and made-up ones.
  const splitLabelsOf = (namespace: string, self: string) => {
    const sameNamespace = [...services.values()].filter((s) => s.namespace === namespace && s.name !== self).map((s) => s.name);
    return { self, others: [...sameNamespace, `made-up-${rng.int(0, 99)}`, `made-up-${rng.int(100, 199)}`] };
  };
  mesh.services.forEach((service, index) => {
    const object = services.get(service);
    if (object === undefined || (index > 0 && rng.chance(0.5))) return;
    const spec = randomPolicy(rng, index === 0, splitLabelsOf(object.namespace, object.name));
    const first = rng.pick(clusters);
    objects.push({ cluster: first, namespace: object.namespace, name: object.name, generation, spec });
    place(object.namespace, object.name, spec);
  });
  if (rng.chance(0.4))
    objects.push({ cluster: rng.pick(clusters), namespace: DEFAULTS_NAMESPACE, name: DEFAULTS_POLICY_NAME, generation, spec: randomPolicy(rng, false, undefined, clusters) });
  return objects;
}
