import type { ClusterStatus, NodeRecord, PodRecord } from '../../../src/model/index.js';
import { podKey } from '../../../src/model/index.js';
import type { SourceSink } from '../../../src/sources/types.js';

export type SinkEvent =
  { op: 'apply'; pod: PodRecord } | { op: 'remove'; key: string } | { op: 'replacePods'; count: number } | { op: 'replaceNodes'; count: number } | { op: 'status'; state: string };

/** Keeps what a store would know and every call, and lets a test check invariants after each call. */
export class RecordingSink implements SourceSink {
  readonly pods = new Map<string, PodRecord>();
  readonly nodes = new Map<string, NodeRecord>();
  readonly events: SinkEvent[] = [];
  statuses: ClusterStatus[] = [];

  constructor(private readonly onEvent: (sink: RecordingSink) => void = () => undefined) {}

  applyPod(pod: PodRecord): void {
    this.pods.set(podKey(pod.namespace, pod.name), pod);
    this.record({ op: 'apply', pod });
  }
  removePod(_cluster: string, key: string): void {
    this.pods.delete(key);
    this.record({ op: 'remove', key });
  }
  applyNode(node: NodeRecord): void {
    this.nodes.set(node.name, node);
  }
  removeNode(_cluster: string, name: string): void {
    this.nodes.delete(name);
  }
  replacePods(_cluster: string, pods: PodRecord[]): void {
    this.pods.clear();
    for (const pod of pods) this.pods.set(podKey(pod.namespace, pod.name), pod);
    this.record({ op: 'replacePods', count: pods.length });
  }
  replaceNodes(_cluster: string, nodes: NodeRecord[]): void {
    this.nodes.clear();
    for (const node of nodes) this.nodes.set(node.name, node);
    this.record({ op: 'replaceNodes', count: nodes.length });
  }
  setClusterStatus(status: ClusterStatus): void {
    this.statuses.push(status);
    this.record({ op: 'status', state: status.state });
  }

  podsOf(service: string): PodRecord[] {
    return [...this.pods.values()].filter((p) => p.service === service);
  }

  private record(event: SinkEvent): void {
    this.events.push(event);
    this.onEvent(this);
  }
}
