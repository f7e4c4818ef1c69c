import { ConfigError } from './errors.js';

/** One `--cluster NAME=KUBECONFIG[#CONTEXT]` flag. */
export interface ClusterSpec {
  name: string;
  kubeconfigPath: string;
  /** Context to use; the kubeconfig's current-context when absent. */
  context?: string;
}

// Cluster names become metric label values and appear in logs; DNS-label rules keep them tidy.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function validateClusterName(flag: string, name: string): string {
  if (!DNS_LABEL.test(name)) {
    throw new ConfigError(`${flag}: cluster name '${name}' is not a DNS label (lowercase letters, digits and '-', 1-63 characters, starting and ending alphanumeric)`);
  }
  return name;
}

/**
 * Parses `NAME=KUBECONFIG[#CONTEXT]`. The context is what follows the last '#', so a path
 * containing '#' needs an explicit context.
 */
export function parseClusterSpec(text: string): ClusterSpec {
  const eq = text.indexOf('=');
  if (eq < 0) {
    throw new ConfigError(`--cluster '${text}': expected NAME=KUBECONFIG[#CONTEXT] (missing '=')`);
  }
  const name = text.slice(0, eq).trim();
  const rest = text.slice(eq + 1).trim();
  if (name === '') throw new ConfigError(`--cluster '${text}': the cluster name before '=' is empty`);
  validateClusterName(`--cluster '${text}'`, name);
  const hash = rest.lastIndexOf('#');
  const kubeconfigPath = (hash < 0 ? rest : rest.slice(0, hash)).trim();
  if (kubeconfigPath === '') {
    throw new ConfigError(`--cluster '${text}': cluster ${name}: the kubeconfig path after '=' is empty`);
  }
  if (hash < 0) return { name, kubeconfigPath };
  const context = rest.slice(hash + 1).trim();
  if (context === '') {
    throw new ConfigError(`--cluster '${text}': cluster ${name}: the context after '#' is empty`);
  }
  return { name, kubeconfigPath, context };
}

/** Rejects duplicate names: every cluster's endpoints and metrics are keyed by its name. */
export function validateClusterSpecs<T extends { name: string }>(specs: readonly T[]): T[] {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) {
      throw new ConfigError(`--cluster: cluster name '${spec.name}' is given more than once`);
    }
    seen.add(spec.name);
  }
  return [...specs];
}
