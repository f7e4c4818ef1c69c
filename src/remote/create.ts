import { CoreV1Api, KubernetesObjectApi, PatchStrategy, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { httpStatusOf, kubeErrorReason } from '../sources/kube/index.js';
import { readerBinding, readerServiceAccount, type ReaderNames } from './objects.js';

/** A failure the command reports in one line (no stack): a missing role, a refused request. */
export class RemoteSecretError extends Error {}

const FIELD_MANAGER = 'herald-remote-secret';

function describe(error: unknown): string {
  const status = httpStatusOf(error);
  return status === undefined ? kubeErrorReason(error) : `HTTP ${status}: ${kubeErrorReason(error)}`;
}

export interface IssuedToken {
  token: string;
  /** RFC 3339, as the apiserver granted it (it may shorten what was asked for). */
  expiresAt: string;
}

/**
 * In the remote cluster: checks that the shipped ClusterRole is there (Herald installed on that
 * cluster brings it), applies the reader ServiceAccount and its binding (server-side apply, so
 * running again changes nothing), and asks a token for it with the TokenRequest API.
 */
export async function issueReaderToken(kc: KubeConfig, names: ReaderNames, lifetimeSeconds: number): Promise<IssuedToken> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  try {
    await rbac.readClusterRole({ name: names.clusterRole });
  } catch (error) {
    if (httpStatusOf(error) === 404) {
      throw new RemoteSecretError(
        `ClusterRole ${names.clusterRole} not found in the remote cluster: install Herald there first (kubectl apply -k deploy/rbac, or the Helm chart), so the reader gets exactly the shipped permissions`,
      );
    }
    throw new RemoteSecretError(`reading ClusterRole ${names.clusterRole}: ${describe(error)}`);
  }
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const object of [readerServiceAccount(names), readerBinding(names)]) {
    try {
      await objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (error) {
      const hint = httpStatusOf(error) === 404 ? ` (does the namespace ${names.namespace} exist?)` : '';
      throw new RemoteSecretError(`applying ${object.kind} ${object.metadata?.name}: ${describe(error)}${hint}`);
    }
  }
  const core = kc.makeApiClient(CoreV1Api);
  try {
    const request = await core.createNamespacedServiceAccountToken({
      name: names.serviceAccount,
      namespace: names.namespace,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: lifetimeSeconds } },
    });
    const token = request.status?.token;
    if (!token) throw new RemoteSecretError('the TokenRequest returned no token');
    const expires = request.status?.expirationTimestamp as unknown;
    return { token, expiresAt: expires instanceof Date ? expires.toISOString() : String(expires) };
  } catch (error) {
    if (error instanceof RemoteSecretError) throw error;
    throw new RemoteSecretError(`requesting a token for ${names.namespace}/${names.serviceAccount}: ${describe(error)}`);
  }
}
