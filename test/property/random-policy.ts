// Random valid ServicePolicies for the meshes of random-mesh.ts: any subset of sections and
// fields, values drawn from the bounds of src/policy/rules.ts (often exactly a bound), then
// mended to pass the cross-field rules. The first service of a mesh always gets a policy with a
// balancer other than plain round robin, so every run serves a load_balancing_policy list.
import { POLICY_SECTIONS, type PolicyObject, type ServicePolicySpec } from '../../src/model/index.js';
import { DEFAULTS_POLICY_NAME, FIELD_RULES, SECTION_RULES, type FieldRule } from '../../src/policy/index.js';
import type { RandomMesh, Rng } from './random-mesh.js';

export const DEFAULTS_NAMESPACE = 'herald';

/** Header names as teams pick them, one at the length bound. */
const HEADERS = ['x-user', 'x-session-id', 'tenant', 'a', 'x_b.c-d', 'h'.repeat(256)];

/** Values for the health checkers' strings, each valid for both. */
const HEALTH_NAMES = ['/healthz', '/', '/ready?full=1', '', 'grpc.health.v1.Health', 'cart.v1.Cart'];

function value(rng: Rng, rule: FieldRule): string | number | boolean {
  if (rule.type === 'boolean') return rng.chance(0.5);
  if (rule.type === 'string') return 'enum' in rule ? rng.pick(rule.enum) : rng.pick(HEADERS);
  const r = rng.next();
  if (r < 0.2) return rule.minimum;
  if (r < 0.4) return rule.maximum;
  return rng.int(rule.minimum, Math.min(rule.maximum, 1_000_000));
}

export function randomPolicy(rng: Rng, withBalancer = false): ServicePolicySpec {
  const spec: Record<string, Record<string, unknown>> = {};
  for (const section of POLICY_SECTIONS) {
    if (!rng.chance(0.5) && !(withBalancer && section === 'loadBalancing')) continue;
    const fields: Record<string, unknown> = {};
    for (const [field, rule] of Object.entries(FIELD_RULES[section])) if (rng.chance(0.6)) fields[field] = value(rng, rule);
    spec[section] = fields;
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
  }
  const od = spec.outlierDetection;
  if (od !== undefined && !SECTION_RULES.every((rule) => rule.section !== 'outlierDetection' || rule.holds(od))) od.consecutive5xx = 1;
  const locality = spec.locality;
  // zoneMinEndpoints is valid only beside zone PreferSameZone.
  if (locality?.zoneMinEndpoints !== undefined) locality.zone = 'PreferSameZone';
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
      objects.push({ cluster, namespace, name, generation, spec: rng.chance(0.5) ? spec : randomPolicy(rng) });
    }
  };
  mesh.services.forEach((service, index) => {
    const object = services.get(service);
    if (object === undefined || (index > 0 && rng.chance(0.5))) return;
    const spec = randomPolicy(rng, index === 0);
    const first = rng.pick(clusters);
    objects.push({ cluster: first, namespace: object.namespace, name: object.name, generation, spec });
    place(object.namespace, object.name, spec);
  });
  if (rng.chance(0.4)) objects.push({ cluster: rng.pick(clusters), namespace: DEFAULTS_NAMESPACE, name: DEFAULTS_POLICY_NAME, generation, spec: randomPolicy(rng) });
  return objects;
}
