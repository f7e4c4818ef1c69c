/**
 * How pods are grouped into services. `namespace`: a service is (namespace, label value), so a
 * pod can only join services of its own namespace. `mesh`: the label value alone, pods of every
 * namespace merge (anyone who may create a pod anywhere can join any service).
 */
export type ServiceScope = 'namespace' | 'mesh';

export const SERVICE_SCOPES: readonly ServiceScope[] = ['namespace', 'mesh'];

/**
 * The name Herald gives a pod's service in xDS (CDS cluster, EDS assignment, LDS listener,
 * RDS route): `<label value>.<namespace>` in namespace scope, the label value in mesh scope.
 * Namespaces never contain dots, so the last dot of a namespaced name splits it again.
 * The label value is kept as written: folding case or characters would merge services that
 * Kubernetes keeps apart. Undefined means the pod belongs to no service; an empty label value
 * stays empty so the store counts the pod as having none.
 */
export function serviceName(label: string | undefined, namespace: string, scope: ServiceScope): string | undefined {
  if (label === undefined || label === '' || scope === 'mesh') return label;
  // A namespaced name without its namespace would be the flat name: refuse rather than merge.
  if (namespace === '') return undefined;
  return `${label}.${namespace}`;
}
