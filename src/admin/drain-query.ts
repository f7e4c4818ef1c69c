import { isIP } from 'node:net';
import { ConfigError, validateDuration } from '../config/index.js';

/** One pod, named by (kube cluster, namespace, name) or by its IP; the cluster may be left out when only one has the pod. */
export interface PodQuery {
  cluster?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  ip?: string | undefined;
}

/** What a long-poll answer carries: whether the pod is drained, whether waiting could change that, and the JSON shown. */
export interface DrainAnswer {
  drained: boolean;
  /** Nothing will change by waiting (drained, or incomplete). */
  final: boolean;
  body: unknown;
}

/** The longest a caller may hold a request open waiting for a drain: preStop hooks re-ask. */
export const MAX_DRAIN_WAIT_MS = 60_000;

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const CLUSTER = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * Reads ?cluster=&namespace=&name= (or ?pod=NAMESPACE/NAME) or ?ip=, and ?wait=DURATION
 * (capped at MAX_DRAIN_WAIT_MS). Returns a message for a malformed query.
 */
export function parseDrainQuery(query: URLSearchParams, allowWait: boolean): { pod: PodQuery; waitMs: number } | { error: string } {
  const one = (key: string): string | undefined => {
    const values = query.getAll(key);
    return values.length === 0 || values[0] === '' ? undefined : values[0];
  };
  let namespace = one('namespace');
  let name = one('name');
  const podParam = one('pod');
  if (podParam !== undefined) {
    const slash = podParam.indexOf('/');
    if (slash <= 0 || namespace !== undefined || name !== undefined) return { error: 'pod: give NAMESPACE/NAME, or namespace= and name=, not both' };
    namespace = podParam.slice(0, slash);
    name = podParam.slice(slash + 1);
  }
  const cluster = one('cluster');
  const ip = one('ip');
  if (cluster !== undefined && !CLUSTER.test(cluster)) return { error: `cluster: '${cluster}' is not a cluster name` };
  if (ip !== undefined && isIP(ip) === 0) return { error: `ip: '${ip}' is not an IP address` };
  if ((namespace === undefined) !== (name === undefined)) return { error: 'namespace and name go together' };
  if (namespace !== undefined && (!NAME.test(namespace) || !NAME.test(name!))) return { error: 'namespace and name must be Kubernetes object names' };
  if (name === undefined && ip === undefined) return { error: 'name the pod: namespace= and name= (or pod=NAMESPACE/NAME), or ip=' };
  let waitMs = 0;
  const wait = one('wait');
  if (wait !== undefined) {
    if (!allowWait) return { error: 'wait: only /debug/drains/wait waits' };
    try {
      waitMs = Math.min(validateDuration('wait', wait), MAX_DRAIN_WAIT_MS);
    } catch (err) {
      if (err instanceof ConfigError) return { error: err.message };
      throw err;
    }
  }
  return { pod: { cluster, namespace, name, ip }, waitMs };
}

/**
 * Counts the requests holding a connection open to wait for a drain. Each waiter costs a socket
 * and a timer; past the bound a caller is told to come back (429) instead of queueing.
 */
export class WaiterGate {
  private held = 0;

  constructor(readonly max: number) {}

  tryEnter(): boolean {
    if (this.held >= this.max) return false;
    this.held += 1;
    return true;
  }

  leave(): void {
    this.held = Math.max(0, this.held - 1);
  }

  get waiting(): number {
    return this.held;
  }
}
