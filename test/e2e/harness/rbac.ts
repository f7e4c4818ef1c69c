import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubernetesObjectApi, RbacAuthorizationV1Api, loadAllYaml, type KubernetesObject, type V1ClusterRole } from '@kubernetes/client-node';
import type { KubeCluster } from './cluster.js';

export const RBAC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy', 'rbac');

/** Every Kubernetes object in deploy/rbac/*.y(a)ml, in file-name order; kustomize's own files are not objects. */
export function shippedRbacObjects(): KubernetesObject[] {
  const files = readdirSync(RBAC_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  return files
    .flatMap((f) => loadAllYaml(readFileSync(join(RBAC_DIR, f), 'utf8')) as KubernetesObject[])
    .filter((o) => o !== null && typeof o === 'object' && !(o.apiVersion ?? '').startsWith('kustomize.config.k8s.io'));
}

export function shippedClusterRole(): V1ClusterRole {
  const role = shippedRbacObjects().find((o) => o.kind === 'ClusterRole');
  if (!role) throw new Error(`e2e: no ClusterRole in ${RBAC_DIR}`);
  return role as V1ClusterRole;
}

// Namespace before the objects that live in it.
const KIND_ORDER = ['Namespace', 'ClusterRole', 'ServiceAccount', 'ClusterRoleBinding'];

/**
 * Applies deploy/rbac as shipped, then binds the test's client-certificate user `herald` to
 * the same ClusterRole (a user, because the test Herald authenticates with a certificate
 * rather than a ServiceAccount token). `herald-restricted` gets the shipped rules minus
 * everything about nodes, to provoke a missing permission.
 */
export async function applyRbac(cluster: KubeCluster): Promise<void> {
  const kc = cluster.kubeConfig('admin');
  const api = KubernetesObjectApi.makeApiClient(kc);
  const shipped = [...shippedRbacObjects()].sort((a, b) => KIND_ORDER.indexOf(a.kind ?? '') - KIND_ORDER.indexOf(b.kind ?? ''));
  for (const object of shipped) await api.create(object);

  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const role = shippedClusterRole();
  const roleName = role.metadata!.name!;
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: 'herald-e2e-user' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'herald' }],
    },
  });

  const restrictedRules = (role.rules ?? []).map((rule) => ({ ...rule, resources: (rule.resources ?? []).filter((r) => r !== 'nodes') })).filter((rule) => rule.resources.length > 0);
  await rbac.createClusterRole({ body: { metadata: { name: 'herald-restricted' }, rules: restrictedRules } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: 'herald-restricted' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'herald-restricted' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'herald-restricted' }],
    },
  });
}

export const CRD_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy', 'crd', 'servicepolicies.yaml');

/**
 * Installs the shipped ServicePolicy CRD in `cluster` and waits until it is served, as a cluster
 * set up from deploy/ has it: Herald then holds a watch on servicepolicies instead of probing
 * for the CRD.
 */
export async function installPolicyCrd(cluster: KubeCluster): Promise<void> {
  const crd = loadAllYaml(readFileSync(CRD_FILE, 'utf8'))[0] as KubernetesObject;
  const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig('admin'));
  await api.create(crd);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const served = await api.list('herald.io/v1alpha1', 'ServicePolicy').then(
      () => true,
      () => false,
    );
    if (served) return;
    if (Date.now() > deadline) throw new Error('e2e: the ServicePolicy CRD was not served within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
