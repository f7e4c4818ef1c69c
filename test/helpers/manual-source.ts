import type { ClusterStatus, NodeRecord, PodRecord } from '../../src/model/index.js';
import type { ClusterSource, SourceSink } from '../../src/sources/types.js';

/** A ClusterSource the test drives by hand: it plays what an informer would deliver. */
export class ManualSource implements ClusterSource {
  private sink: SourceSink | undefined;
  private current: ClusterStatus;
  private readonly pods = new Map<string, PodRecord>();

  constructor(
    readonly name: string,
    private readonly initial: { pods?: PodRecord[]; nodes?: NodeRecord[]; syncOnStart?: boolean } = {},
  ) {
    this.current = { cluster: name, state: 'syncing', everSynced: false, lastError: undefined, lastChangeMs: Date.now() };
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    if (this.initial.syncOnStart ?? true) this.sync(this.initial.pods ?? [], this.initial.nodes ?? []);
  }

  async stop(): Promise<void> {
    this.sink = undefined;
  }

  status(): ClusterStatus {
    return this.current;
  }

  sync(pods: PodRecord[], nodes: NodeRecord[]): void {
    const sink = this.requireSink();
    for (const pod of pods) this.pods.set(`${pod.namespace}/${pod.name}`, pod);
    sink.replaceNodes(this.name, nodes);
    sink.replacePods(this.name, pods);
    this.setStatus('synced');
  }

  apply(pod: PodRecord): void {
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
    this.requireSink().applyPod(pod);
  }

  update(key: string, change: Partial<PodRecord>): PodRecord {
    const before = this.pods.get(key);
    if (!before) throw new Error(`no pod ${key} in ${this.name}`);
    const after = { ...before, ...change };
    this.apply(after);
    return after;
  }

  remove(key: string): void {
    this.pods.delete(key);
    this.requireSink().removePod(this.name, key);
  }

  setStatus(state: ClusterStatus['state'], lastError?: string): void {
    this.current = {
      cluster: this.name,
      state,
      everSynced: this.current.everSynced || state === 'synced',
      lastError,
      lastChangeMs: Date.now(),
    };
    this.sink?.setClusterStatus(this.current);
  }

  private requireSink(): SourceSink {
    if (!this.sink) throw new Error(`source ${this.name} is not started`);
    return this.sink;
  }
}

export function makePod(overrides: Partial<PodRecord> & Pick<PodRecord, 'cluster' | 'name'>): PodRecord {
  return {
    namespace: 'default',
    uid: `uid-${overrides.cluster}-${overrides.name}`,
    service: 'echo',
    ip: undefined,
    port: 8080,
    ready: true,
    terminating: false,
    phase: 'Running',
    nodeName: undefined,
    createdAtMs: 1,
    gracePeriodSeconds: undefined,
    ...overrides,
  };
}
