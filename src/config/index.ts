export { ConfigError } from './errors.js';
export { parseClusterSpec, validateClusterName, validateClusterSpecs, type ClusterSpec } from './clusters.js';
export { findExecutable, loadKubeConfig, FileKubeConfig, inClusterConfig, SERVICE_ACCOUNT_DIR, type InClusterOptions } from './kubeconfig.js';
export {
  validatePort,
  validateDuration,
  validateLabelKey,
  validatePortName,
  validateNamespace,
  validateServiceScope,
  validateHost,
  validateBoolean,
  validateLogLevel,
  LOG_LEVELS,
  type LogLevel,
} from './values.js';
export { buildLimits, limitOptions, validateBytes } from './limits.js';
export { buildServeConfig, SERVE_DEFAULTS, type HeraldServeConfig, type ResolvedCluster, type ServeTlsConfig, type BuildServeOptions } from './serve.js';
export { buildDrainConfig, DRAIN_DEFAULTS, type DrainConfig } from './drains.js';
export { buildPolicyStatusConfig, POLICY_STATUS_DEFAULTS, type PolicyStatusConfig } from './policy-status.js';
