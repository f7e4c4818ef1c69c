// What a scoped client receives besides the services it declared: the services those route part
// of their traffic to, as their effective ServicePolicies say (routes.split: a canary is another
// service). The xDS server asks per declared service and is told which services' policies
// changed; it expands again only the scopes declaring them.
import type { ServicePolicySpec } from '../model/index.js';
import type { PolicyChange } from '../policy/index.js';
import type { ScopeExpansion } from '../xds/index.js';

/** The services a service's effective policy routes part of its traffic to, as Herald names them in CDS. */
export type SplitBackends = (service: string, spec: ServicePolicySpec) => readonly string[];

/**
 * No service splits, whatever its policy says: for tests of the expansion alone. startDaemon
 * reads `routes.split` with the resources stage's routeBackends (the same signature).
 */
export const noSplitBackends: SplitBackends = () => [];

/** The part of the PolicyRegistry the expansion reads. */
export interface EffectivePolicies {
  effective(service: string): { spec: ServicePolicySpec };
  onChange(listener: (change: PolicyChange) => void): () => void;
}

export class PolicyScopeExpansion implements ScopeExpansion {
  constructor(
    private readonly policies: EffectivePolicies,
    private readonly splitBackends: SplitBackends,
  ) {}

  backendsOf(service: string): readonly string[] {
    return this.splitBackends(service, this.policies.effective(service).spec);
  }

  onChange(listener: (services: Iterable<string> | 'all') => void): () => void {
    return this.policies.onChange((change) => listener(change === 'all' ? 'all' : change.services));
  }
}
