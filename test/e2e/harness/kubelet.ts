import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

export interface NodeSpec {
  name: string;
  zone: string;
  region: string;
}

export interface PodSpec {
  name: string;
  namespace?: string;
  /** Value of the `app` label (the service). */
  service: string;
  node: string;
  ip: string;
  /** Endpoint port; through the `herald.io/port` annotation when `via` is 'annotation'. */
  port: number;
  via?: 'annotation' | 'named-port';
  /** With `via: 'annotation'`: a container port of that name and the endpoint port's number. */
  portName?: string;
  /** The `herald.io/app-protocol` annotation. */
  appProtocol?: string;
  /** More container ports of the app container (say, a named health port), after the endpoint port. */
  extraPorts?: Array<{ name: string; containerPort: number }>;
  /** terminationGracePeriodSeconds. */
  graceSeconds?: number;
}

/** When the stand-in finishes a graceful deletion: after the grace period, after some ms, or never. */
export type Completion = 'after-grace' | 'never' | { afterMs: number };

interface Tracked {
  uid: string;
  graceSeconds: number;
}

/**
 * Plays the kubelet's part in pod lifecycles through the API only: binds pods to Nodes at
 * creation (as if scheduled), reports IP and readiness through pods/status, and finishes
 * graceful deletions with a grace-0 delete. Node objects carry topology labels.
 */
export class KubeletStandIn {
  private core: CoreV1Api;
  private readonly pods = new Map<string, Tracked>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Deletions the stand-in failed to finish on its own (a test can assert there are none). */
  readonly failures: string[] = [];

  constructor(core: CoreV1Api) {
    this.core = core;
  }

  /** Talk to another apiserver of the same cluster (e.g. while the main one is down). */
  use(core: CoreV1Api): void {
    this.core = core;
  }

  async createNode(node: NodeSpec): Promise<void> {
    await this.core.createNode({
      body: {
        metadata: {
          name: node.name,
          labels: { 'topology.kubernetes.io/zone': node.zone, 'topology.kubernetes.io/region': node.region, 'kubernetes.io/hostname': node.name },
        },
      },
    });
  }

  /** Creates the pod bound to its node; it stays Pending with no IP until `start`. */
  async createPod(spec: PodSpec): Promise<V1Pod> {
    const namespace = spec.namespace ?? 'default';
    const named = (spec.via ?? 'annotation') === 'named-port';
    const pod = await this.core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: spec.name,
          labels: { app: spec.service },
          annotations: {
            ...(named ? {} : { 'herald.io/port': String(spec.port) }),
            ...(spec.appProtocol === undefined ? {} : { 'herald.io/app-protocol': spec.appProtocol }),
          },
        },
        spec: {
          nodeName: spec.node,
          terminationGracePeriodSeconds: spec.graceSeconds ?? 30,
          containers: [
            {
              name: 'app',
              image: 'registry.invalid/app:1',
              ports: [
                ...(named ? [{ name: 'http', containerPort: spec.port }] : spec.portName === undefined ? [] : [{ name: spec.portName, containerPort: spec.port }]),
                ...(spec.extraPorts ?? []),
              ],
            },
          ],
        },
      },
    });
    this.pods.set(key(namespace, spec.name), { uid: pod.metadata!.uid!, graceSeconds: spec.graceSeconds ?? 30 });
    return pod;
  }

  /** Containers started: Running with the pod IP, Ready as given. */
  async start(pod: V1Pod, ip: string, ready = true): Promise<V1Pod> {
    const now = new Date();
    const condition = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    return this.core.replaceNamespacedPodStatus({
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      body: {
        ...pod,
        status: {
          phase: 'Running',
          hostIP: '127.0.0.1',
          podIP: ip,
          podIPs: [{ ip }],
          startTime: now,
          conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready)],
        },
      },
    });
  }

  /** Flips readiness of a running pod (reads it first: status writes need its resourceVersion). */
  async setReady(namespace: string, name: string, ready: boolean): Promise<V1Pod> {
    const pod = await this.core.readNamespacedPod({ name, namespace });
    const ip = pod.status?.podIP;
    if (!ip) throw new Error(`e2e: pod ${namespace}/${name} has no IP yet`);
    return this.start(pod, ip, ready);
  }

  /** createPod + start: a pod that is Running and (by default) Ready. */
  async runPod(spec: PodSpec, ready = true): Promise<V1Pod> {
    return this.start(await this.createPod(spec), spec.ip, ready);
  }

  /**
   * A graceful DELETE (grace from the argument, else the pod's own), then the kubelet's part
   * as `completion` says. Resolves when the API has accepted the DELETE.
   */
  async deletePod(namespace: string, name: string, opts: { graceSeconds?: number; completion?: Completion } = {}): Promise<void> {
    const tracked = this.pods.get(key(namespace, name));
    await this.core.deleteNamespacedPod({
      name,
      namespace,
      ...(opts.graceSeconds === undefined ? {} : { gracePeriodSeconds: opts.graceSeconds }),
    });
    const grace = opts.graceSeconds ?? tracked?.graceSeconds ?? 30;
    if (grace === 0) {
      this.pods.delete(key(namespace, name));
      return;
    }
    const completion = opts.completion ?? 'after-grace';
    if (completion === 'never') return;
    const delay = completion === 'after-grace' ? grace * 1000 : completion.afterMs;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.finishDeletion(namespace, name).catch((error: unknown) => {
        this.failures.push(`finish deletion of ${namespace}/${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      });
    }, delay);
    this.timers.add(timer);
  }

  /** The kubelet saw the containers exit: delete with grace 0, only if it is still the same pod. */
  async finishDeletion(namespace: string, name: string): Promise<void> {
    const tracked = this.pods.get(key(namespace, name));
    this.pods.delete(key(namespace, name));
    await this.core.deleteNamespacedPod({
      name,
      namespace,
      gracePeriodSeconds: 0,
      // With a body the apiserver takes the options from it alone: the grace must be there too.
      body: { gracePeriodSeconds: 0, ...(tracked ? { preconditions: { uid: tracked.uid } } : {}) },
    });
  }

  /** Cancels pending completions (the test is over). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
