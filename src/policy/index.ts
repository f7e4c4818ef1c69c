// Public face of the policy stage: ServicePolicy validation, defaults, cross-cluster resolution
// (pure) and the registry that holds what the kube clusters say.
export { FIELD_RULES, SECTION_RULES, type FieldRule, type SectionRule } from './rules.js';
export { validatePolicySpec, type PolicyError, type Validation } from './validate.js';
export { evacuationOf, mergePolicy, specKey, type EffectivePolicy, type PolicyOrigin, type SectionOrigin, type SourcedSpec } from './merge.js';
export { resolveAcrossClusters, type Resolution } from './resolve.js';
export { ignoredByProxyless, type IgnoredField } from './proxyless.js';
export {
  DEFAULTS_POLICY_NAME,
  PolicyRegistry,
  type Evacuation,
  type PolicyChange,
  type PolicyDebugView,
  type PolicyRegistryOptions,
  type PolicyRejection,
  type PolicyServiceView,
} from './registry.js';
export { acceptedCondition, shouldWriteAccepted, type PolicyVerdict } from './status.js';
