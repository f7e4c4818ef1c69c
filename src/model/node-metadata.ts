import { createHash } from 'node:crypto';

/** Node metadata keys a client may send to say where it runs; the bootstrap writes them, the xDS server checks them against certificates. */
export const NAMESPACE_METADATA = 'herald.io/namespace';
export const KUBE_CLUSTER_METADATA = 'herald.io/kube-cluster';
/**
 * The services a client calls, as Herald names them in CDS: its wildcard CDS (and whatever
 * follows from it) is then just those. A list of strings, or one comma-separated string.
 */
export const DEPENDENCIES_METADATA = 'herald.io/dependencies';

/**
 * The names a `herald.io/dependencies` value declares: trimmed, empties dropped, each once,
 * sorted, so that equal declarations written differently are one scope. Entries of a list that
 * are not strings are left out (a Struct list may hold any value).
 */
export function declaredDependencies(value: string | readonly unknown[]): string[] {
  const parts = typeof value === 'string' ? value.split(',') : value.filter((item): item is string => typeof item === 'string');
  const names = new Set<string>();
  for (const part of parts) {
    const name = part.trim();
    if (name !== '') names.add(name);
  }
  return [...names].sort();
}

/**
 * The RouteConfiguration a sidecar's egress listener takes over RDS, named after the client's
 * declared dependencies (sorted, each once) so that every client of one declaration shares it
 * and the bootstrap can name it without asking Herald. '~' keeps it apart from every service
 * name (label values and namespaces have none).
 */
export function egressRouteName(dependencies: readonly string[]): string {
  const digest = createHash('sha256').update(dependencies.join('\n')).digest('hex');
  return `herald~egress~${digest.slice(0, 16)}`;
}
