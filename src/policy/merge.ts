// Pure: the policy a service gets, section by section, from the mesh-defaults object and the
// service's own object, with where each section came from.
import { POLICY_SECTIONS, type LocalityPolicy, type PolicySection, type ServicePolicySpec } from '../model/index.js';

/** Which object (and generation, in which kube cluster) a spec was read from. */
export interface PolicyOrigin {
  cluster: string;
  namespace: string;
  name: string;
  generation: number;
}

export interface SourcedSpec {
  spec: ServicePolicySpec;
  origin: PolicyOrigin;
}

export interface SectionOrigin extends PolicyOrigin {
  role: 'defaults' | 'service';
}

export interface EffectivePolicy {
  spec: ServicePolicySpec;
  /** Per section set in `spec`: the object it came from. */
  from: Partial<Record<PolicySection, SectionOrigin>>;
}

/**
 * A section the service's object sets replaces the defaults' section as a whole: a team reading
 * its own object sees every value of that section in it, not a blend of two objects.
 */
export function mergePolicy(defaults: SourcedSpec | undefined, own: SourcedSpec | undefined): EffectivePolicy {
  const spec: Record<string, unknown> = {};
  const from: Partial<Record<PolicySection, SectionOrigin>> = {};
  for (const section of POLICY_SECTIONS) {
    const pick =
      own?.spec[section] !== undefined ? { sourced: own, role: 'service' as const } : defaults?.spec[section] !== undefined ? { sourced: defaults, role: 'defaults' as const } : undefined;
    if (pick === undefined) continue;
    spec[section] = pick.sourced.spec[section];
    from[section] = { ...pick.sourced.origin, role: pick.role };
  }
  // Evacuation is the mesh's, not the service's: it stays when the service's object replaces the
  // locality section (service objects cannot set it; the registry rejects them).
  const evacuation = evacuationOf(defaults?.spec);
  if (evacuation !== undefined && from.locality?.role === 'service') spec.locality = { ...(spec.locality as LocalityPolicy), ...evacuation };
  return { spec: spec as ServicePolicySpec, from };
}

/** The evacuation fields of a spec's locality section, if it sets any. */
export function evacuationOf(spec: ServicePolicySpec | undefined): Pick<LocalityPolicy, 'evacuate' | 'evacuateMode'> | undefined {
  const locality = spec?.locality;
  if (locality?.evacuate === undefined) return undefined;
  return locality.evacuateMode === undefined ? { evacuate: locality.evacuate } : { evacuate: locality.evacuate, evacuateMode: locality.evacuateMode };
}

/** The same spec always gives the same key, whatever order its fields were written in. */
export function specKey(spec: ServicePolicySpec): string {
  return JSON.stringify(spec, (_key, value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value,
  );
}
