import type { KubeOperation } from './informer-loop.js';

/** HTTP status of a client-node failure: ApiException has `code`, Watch errors `statusCode`. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  if (typeof code === 'number') return code;
  return undefined;
}

/** The apiserver's Status message of a client-node failure, else the error's first line (with its network cause). */
export function kubeErrorReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const body = (error as { body?: unknown }).body;
  // ApiException messages carry the whole body and headers; the Status message is what helps.
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  if (typeof body === 'string' && body !== '') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON: use the text below
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a thrown non-Error object: its own toString if it has one
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const cause = (error as { cause?: unknown }).cause;
  // undici reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND, ...) in the cause.
  if (cause instanceof Error) return `${message}: ${cause.message}`;
  return message;
}

/** One line an operator can act on, e.g. "cluster east: forbidden to list pods: check the ClusterRole ...". */
export function describeKubeError(cluster: string, operation: KubeOperation, kind: 'pod' | 'node' | 'servicepolicy', error: unknown, namespace?: string): string {
  const plural = kind === 'servicepolicy' ? 'servicepolicies' : `${kind}s`;
  const what = namespace === undefined ? `${operation} ${plural}` : `${operation} ${plural} in namespace ${namespace}`;
  const status = httpStatusOf(error);
  if (status === 401) {
    return `cluster ${cluster}: unauthorized (401) to ${what}: check the credentials of its kubeconfig user (expired token? exec plugin?)`;
  }
  if (status === 403) {
    return `cluster ${cluster}: forbidden to ${what}: check the ClusterRole (get/list/watch on pods, nodes and servicepolicies.herald.io)`;
  }
  if (status !== undefined) return `cluster ${cluster}: ${what} failed: HTTP ${status}: ${kubeErrorReason(error)}`;
  return `cluster ${cluster}: ${what} failed: ${kubeErrorReason(error)}`;
}
