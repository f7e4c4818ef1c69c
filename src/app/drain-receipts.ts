import type { DrainAnswer, PodQuery } from '../admin/index.js';
import { FINAL_STATES, podDrainStatus, type DrainHistory, type DrainRecord, type DrainTracker, type PendingDrain, type PodDrainStatus } from '../drains/index.js';
import type { StoredPod } from '../store/index.js';

export interface DrainReceiptsDeps {
  store: { pod(cluster: string, podKey: string): StoredPod | undefined; podsWithIp(ip: string): StoredPod[] };
  tracker: Pick<DrainTracker, 'pending' | 'waitingOn'>;
  history: Pick<DrainHistory, 'ofPod' | 'ofIp'>;
  /** The kube clusters this replica watches. */
  clusters: () => string[];
  /** The node id of an open xDS stream, for naming who a drain waits on. */
  nodeIdOf: (streamId: string) => string | undefined;
  /** This replica, as the answers name it (pod name or host name). */
  replica: string;
  /** Whether a terminating pod is served HEALTHY by the terminating fallback (its drain not begun). */
  servedByFallback?: (cluster: string, podKey: string) => boolean;
  /** How often a waiter looks again when no drain finished (a pod leaving the store, say). */
  recheckMs?: number;
}

interface Waiter {
  query: PodQuery;
  wake: () => void;
}

/**
 * Answers "has the mesh stopped sending to this pod?" from the store (is it terminating?), the
 * tracker (drains in flight) and the history (drains finished), and lets a caller wait for the
 * answer to settle. Waiters wake on each finished drain of their pod and re-check now and then.
 */
export class DrainReceipts {
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly deps: DrainReceiptsDeps) {}

  /** Where the pod stands, or why the query names no single pod. */
  status(query: PodQuery): { error: string } | PodDrainStatus {
    const found = this.find(query);
    if ('error' in found) return found;
    const { pod, pending, history } = found;
    const waitingFor = pod ? this.deps.tracker.waitingOn(pod.cluster, pod.podKey).map((id) => this.deps.nodeIdOf(id) ?? `stream ${id}`) : [];
    const facts = pod && this.deps.servedByFallback?.(pod.cluster, pod.podKey) === true ? { ...pod, servedByFallback: true } : pod;
    return podDrainStatus({ pod: facts, pending, pendingWaitingFor: waitingFor, history });
  }

  /** The pod's drains for /debug/drains?pod=: where it stands, in flight and finished ones. */
  podDrains(query: PodQuery): { error: string } | { body: unknown } {
    const found = this.find(query);
    if ('error' in found) return found;
    const status = this.status(query);
    return { body: { replica: this.deps.replica, status, pending: found.pending, history: found.history } };
  }

  /** Waits (at most waitMs) for the pod's state to be final, then answers. */
  async wait(query: PodQuery, waitMs: number, signal: AbortSignal): Promise<{ error: string } | DrainAnswer> {
    let status = this.status(query);
    if ('error' in status) return status;
    if (waitMs > 0 && !FINAL_STATES.has(status.state) && !signal.aborted) {
      await this.sleepUntilWoken(query, waitMs, signal);
      status = this.status(query);
      if ('error' in status) return status;
    }
    return { drained: status.drained, final: FINAL_STATES.has(status.state), body: { replica: this.deps.replica, ...status } };
  }

  /** A drain finished: wake whoever waits on that pod. */
  finished(drain: DrainRecord): void {
    for (const waiter of this.waiters) if (matches(waiter.query, drain)) waiter.wake();
  }

  private sleepUntilWoken(query: PodQuery, waitMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const deadline = performance.now() + waitMs;
      const waiter: Waiter = { query, wake: () => done() };
      const recheck = setInterval(() => {
        const now = this.status(query);
        if ('error' in now || FINAL_STATES.has(now.state)) done();
      }, this.deps.recheckMs ?? 1_000);
      const timer = setTimeout(() => done(), Math.max(0, deadline - performance.now()));
      const onAbort = () => done();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      const done = () => {
        clearInterval(recheck);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        resolve();
      };
    });
  }

  private find(query: PodQuery): { error: string } | { pod: StoredPod | undefined; pending: PendingDrain[]; history: DrainRecord[] } {
    const clusters = query.cluster === undefined ? this.deps.clusters() : [query.cluster];
    if (query.cluster !== undefined && !this.deps.clusters().includes(query.cluster)) return { error: `cluster: this replica does not watch '${query.cluster}'` };
    let pods: StoredPod[];
    if (query.name !== undefined) {
      const key = `${query.namespace}/${query.name}`;
      pods = clusters.flatMap((cluster) => this.deps.store.pod(cluster, key) ?? []);
      if (query.ip !== undefined) pods = pods.filter((pod) => pod.ip === query.ip);
    } else {
      pods = this.deps.store.podsWithIp(query.ip!).filter((pod) => clusters.includes(pod.cluster));
    }
    if (pods.length > 1) return { error: `${pods.length} pods match (in ${pods.map((p) => p.cluster).join(', ')}): name the cluster` };
    const pod = pods[0];
    const pending = this.deps.tracker.pending().filter((drain) => (pod ? drain.cluster === pod.cluster && drain.podKey === pod.podKey : matches(query, drain)));
    const history = pod ? this.deps.history.ofPod(pod.cluster, pod.podKey) : this.historyOf(query);
    return { pod, pending, history };
  }

  private historyOf(query: PodQuery): DrainRecord[] {
    if (query.name === undefined) return this.deps.history.ofIp(query.ip!).filter((drain) => matches(query, drain));
    const clusters = query.cluster === undefined ? this.deps.clusters() : [query.cluster];
    const key = `${query.namespace}/${query.name}`;
    const found = clusters.flatMap((cluster) => this.deps.history.ofPod(cluster, key));
    return found.filter((drain) => matches(query, drain)).sort((a, b) => b.completedAtMs - a.completedAtMs);
  }
}

/** Does a drain concern the pod the query names? */
export function matches(query: PodQuery, drain: { cluster: string; podKey: string; ip: string }): boolean {
  if (query.cluster !== undefined && drain.cluster !== query.cluster) return false;
  if (query.ip !== undefined && drain.ip !== query.ip) return false;
  if (query.name !== undefined && drain.podKey !== `${query.namespace}/${query.name}`) return false;
  return true;
}
