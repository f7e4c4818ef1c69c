import { dumpYaml, type KubernetesObject } from '@kubernetes/client-node';

/** Where the reader identity lives in the remote cluster and what it is bound to. */
export interface ReaderNames {
  namespace: string;
  serviceAccount: string;
  /** The ClusterRole Herald ships (deploy/rbac/clusterrole.yaml); bound, never created or changed here. */
  clusterRole: string;
}

export const DEFAULT_READER: ReaderNames = { namespace: 'herald', serviceAccount: 'herald-reader', clusterRole: 'herald' };

const LABELS = { 'app.kubernetes.io/name': 'herald', 'app.kubernetes.io/component': 'remote-reader' };

/** The ServiceAccount whose tokens other clusters' Heralds use to watch this one. */
export function readerServiceAccount(names: ReaderNames): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: names.serviceAccount, namespace: names.namespace, labels: { ...LABELS } } };
}

/** Binds that ServiceAccount to the shipped ClusterRole and to nothing else. */
export function readerBinding(names: ReaderNames): KubernetesObject & { roleRef: object; subjects: object[] } {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: names.serviceAccount, labels: { ...LABELS } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: names.clusterRole },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace: names.namespace }],
  };
}

export interface RemoteKubeconfigInput {
  /** The remote cluster's name in the mesh (Herald's --cluster NAME=...). */
  cluster: string;
  server: string;
  /** PEM of the CA that signed the remote apiserver's certificate, base64 as kubeconfigs carry it; absent: the system's CAs. */
  caDataBase64: string | undefined;
  token: string;
  user: string;
}

/** A kubeconfig with one context: the remote apiserver and the reader's bearer token. */
export function remoteKubeconfig(input: RemoteKubeconfigInput): string {
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.cluster, cluster: { server: input.server, ...(input.caDataBase64 ? { 'certificate-authority-data': input.caDataBase64 } : {}) } }],
    users: [{ name: input.user, user: { token: input.token } }],
    contexts: [{ name: input.cluster, context: { cluster: input.cluster, user: input.user } }],
    'current-context': input.cluster,
  });
}

export interface RemoteSecretInput {
  cluster: string;
  kubeconfig: string;
  /** Secret name and namespace in the cluster(s) where Herald runs (the Deployment mounts herald-kubeconfigs). */
  secretName: string;
  secretNamespace: string;
  expiresAt: string | undefined;
  reader: ReaderNames;
}

/**
 * The Secret manifest to apply where Herald runs: one data key, `<cluster>.kubeconfig`, so
 * server-side applies for several remote clusters each own their key of the same Secret.
 */
export function remoteSecretManifest(input: RemoteSecretInput): string {
  const header = [
    `# Herald credentials for the remote cluster ${input.cluster}: ServiceAccount ${input.reader.namespace}/${input.reader.serviceAccount}`,
    `# bound to the ClusterRole ${input.reader.clusterRole} there.`,
    input.expiresAt === undefined
      ? '# The token does not expire; delete the ServiceAccount to revoke it.'
      : `# The token expires at ${input.expiresAt}: run herald remote-secret again before then and apply its output`,
    ...(input.expiresAt === undefined ? [] : ['# (Herald picks up the updated Secret without a restart).']),
    `# Apply where Herald runs: kubectl apply --server-side --field-manager herald-remote-${input.cluster} -f -`,
  ];
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: input.secretName,
      namespace: input.secretNamespace,
      labels: { 'app.kubernetes.io/name': 'herald' },
    },
    type: 'Opaque',
    data: { [`${input.cluster}.kubeconfig`]: Buffer.from(input.kubeconfig, 'utf8').toString('base64') },
  };
  return `${header.join('\n')}\n${dumpYaml(secret)}`;
}
