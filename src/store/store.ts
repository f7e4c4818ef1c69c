import { podKey as makePodKey, type Clock, type ClusterStatus, type EndpointHealth, type EndpointRecord, type NodeRecord, type PodRecord, type ServiceEndpoints } from '../model/index.js';
import type { SourceSink } from '../sources/types.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import { ChangeBatcher } from './batcher.js';
import { CrossClusterIps } from './cross-cluster.js';
import { endpointForPod, type EndpointDecision } from './health.js';
import { addToIndex, claimedIpOf, removeFromIndex, samePod } from './indexes.js';
import { pickIpOwner } from './ip-owner.js';
import { aggregateProtocol, samePodProtocol, type ProtocolVote } from './protocol.js';
import { buildServiceEndpoints, sameEndpoint } from './service-view.js';
import type { DirtyServicesListener, ClusterStats, EndpointStoreOptions, HealthCounts, StoreSkipReason, StoreStats } from './types.js';

interface PodEntry {
  key: string;
  pod: PodRecord;
  decision: EndpointDecision;
  /** The IP this pod claims in its cluster (a live pod with an IP), undefined otherwise. */
  claimedIp: string | undefined;
  claimSeq: number;
  drainingSinceMs: number | undefined;
  view: EndpointRecord | undefined;
  skip: StoreSkipReason | undefined;
}

interface ClusterState {
  name: string;
  pods: Map<string, PodEntry>;
  nodes: Map<string, NodeRecord>;
  podsByNode: Map<string, Set<string>>;
  ipClaimants: Map<string, Set<string>>;
  ipOwner: Map<string, string>;
  endpoints: HealthCounts;
  ipConflicts: number;
}

/** A pod as the store's readers see it. */
export interface StoredPod {
  cluster: string;
  podKey: string;
  uid: string;
  ip: string | undefined;
  terminating: boolean;
  /** When the store first saw it terminating (ms, the store's clock). */
  terminatingSinceMs: number | undefined;
  /** Has an endpoint in the mesh (HEALTHY, UNHEALTHY or DRAINING). */
  inMesh: boolean;
  gracePeriodSeconds: number | undefined;
}

function storedPod(cluster: string, entry: PodEntry): StoredPod {
  const { pod } = entry;
  return {
    cluster,
    podKey: entry.key,
    uid: pod.uid,
    ip: pod.ip,
    terminating: pod.terminating,
    terminatingSinceMs: entry.drainingSinceMs,
    inMesh: entry.view !== undefined,
    gracePeriodSeconds: pod.gracePeriodSeconds,
  };
}

const zeroCounts = (): HealthCounts => ({ HEALTHY: 0, UNHEALTHY: 0, DRAINING: 0 });

/**
 * The pod-indexed endpoint store. Sources push the newest state of single objects; the store
 * derives each pod's endpoint from that state alone and tells listeners which services changed.
 * Every update touches only the pod, its IP's claimants and (for nodes) the pods on that node.
 */
export class EndpointStore implements SourceSink {
  private readonly clock: Clock;
  private readonly metrics: HeraldMetrics;
  private readonly logger: Logger;
  private readonly includeNotReady: boolean;

  private readonly clusters = new Map<string, ClusterState>();
  /** service → kube cluster → pod keys carrying the service label. */
  private readonly members = new Map<string, Map<string, Set<string>>>();
  private readonly crossCluster: CrossClusterIps;
  private readonly statuses = new Map<string, ClusterStatus>();
  private claimSeq = 0;

  private readonly batcher: ChangeBatcher;

  constructor(options: EndpointStoreOptions) {
    this.clock = options.clock;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.includeNotReady = options.includeNotReady ?? false;
    this.batcher = new ChangeBatcher({ windowMs: options.batchWindowMs ?? 5, logger: this.logger, build: (name) => this.build(name) });
    this.crossCluster = new CrossClusterIps({ metrics: this.metrics, logger: this.logger });
  }

  // ---- SourceSink ----

  applyPod(pod: PodRecord): void {
    const cs = this.clusterState(pod.cluster);
    const key = makePodKey(pod.namespace, pod.name);
    let entry = cs.pods.get(key);
    // Same name, new uid: a StatefulSet pod recreated. Nothing of the old one carries over.
    if (entry !== undefined && entry.pod.uid !== pod.uid) {
      this.removeEntry(cs, entry);
      entry = undefined;
    }
    if (entry !== undefined && samePod(entry.pod, pod)) return;
    const prev = entry?.pod;
    if (entry === undefined) {
      entry = { key, pod, decision: { kind: 'skip', reason: 'no_ip' }, claimedIp: undefined, claimSeq: 0, drainingSinceMs: undefined, view: undefined, skip: undefined };
      cs.pods.set(key, entry);
    }
    entry.pod = pod;
    if (!pod.terminating) entry.drainingSinceMs = undefined;
    else if (entry.drainingSinceMs === undefined) entry.drainingSinceMs = this.clock();
    entry.decision = endpointForPod(pod, { includeNotReady: this.includeNotReady });

    if (prev?.service !== pod.service) {
      if (prev?.service !== undefined) this.leaveService(prev.service, cs.name, key);
      if (pod.service !== undefined) this.joinService(pod.service, cs.name, key);
    }
    // The service's protocol counts every member pod, with an endpoint or not.
    if (prev !== undefined && pod.service !== undefined && prev.service === pod.service && !samePodProtocol(prev.protocol, pod.protocol)) this.batcher.touch(pod.service);
    if (prev?.nodeName !== pod.nodeName) {
      if (prev?.nodeName !== undefined) removeFromIndex(cs.podsByNode, prev.nodeName, key);
      if (pod.nodeName !== undefined) addToIndex(cs.podsByNode, pod.nodeName, key);
    }

    const claim = claimedIpOf(pod);
    if (claim !== entry.claimedIp) {
      const old = entry.claimedIp;
      if (old !== undefined) this.unclaim(cs, entry, old);
      if (claim !== undefined) this.claim(cs, entry, claim);
      if (old !== undefined) this.recomputeIp(cs, old);
      if (claim !== undefined) this.recomputeIp(cs, claim);
    } else if (claim !== undefined && (prev?.terminating !== pod.terminating || prev?.createdAtMs !== pod.createdAtMs)) {
      this.recomputeIp(cs, claim);
    }
    this.refresh(cs, entry);
  }

  removePod(cluster: string, podKey: string): void {
    const cs = this.clusters.get(cluster);
    const entry = cs?.pods.get(podKey);
    if (cs !== undefined && entry !== undefined) this.removeEntry(cs, entry);
  }

  applyNode(node: NodeRecord): void {
    const cs = this.clusterState(node.cluster);
    const prev = cs.nodes.get(node.name);
    if (prev !== undefined && prev.region === node.region && prev.zone === node.zone) return;
    cs.nodes.set(node.name, node);
    this.refreshNodePods(cs, node.name);
  }

  removeNode(cluster: string, name: string): void {
    const cs = this.clusters.get(cluster);
    if (cs === undefined || !cs.nodes.delete(name)) return;
    this.refreshNodePods(cs, name);
  }

  replacePods(cluster: string, pods: PodRecord[]): void {
    const keep = new Set<string>();
    for (const pod of pods) {
      if (pod.cluster === cluster) keep.add(makePodKey(pod.namespace, pod.name));
      else this.logger.warn({ kube_cluster: cluster, pod_cluster: pod.cluster }, 'relist pod carries another cluster name; ignored');
    }
    const cs = this.clusterState(cluster);
    // Removals first: a pod gone from the list must not count as an IP conflict with its successor.
    for (const entry of [...cs.pods.values()]) if (!keep.has(entry.key)) this.removeEntry(cs, entry);
    for (const pod of pods) if (pod.cluster === cluster) this.applyPod(pod);
  }

  replaceNodes(cluster: string, nodes: NodeRecord[]): void {
    const cs = this.clusterState(cluster);
    const keep = new Set(nodes.filter((n) => n.cluster === cluster).map((n) => n.name));
    for (const name of [...cs.nodes.keys()]) if (!keep.has(name)) this.removeNode(cluster, name);
    for (const node of nodes) if (node.cluster === cluster) this.applyNode(node);
  }

  setClusterStatus(status: ClusterStatus): void {
    this.statuses.set(status.cluster, { ...status });
    this.metrics.kubeClusterSynced.set({ kube_cluster: status.cluster }, status.state === 'synced' ? 1 : 0);
  }

  // ---- read API ----

  service(name: string): ServiceEndpoints | undefined {
    return this.batcher.current(name);
  }

  /**
   * One pod as the store holds it, for the drain receipts: whether it is terminating, whether it
   * has an endpoint in the mesh, and its uid and grace. Undefined when the store does not know it.
   */
  pod(cluster: string, podKey: string): StoredPod | undefined {
    const entry = this.clusters.get(cluster)?.pods.get(podKey);
    return entry && storedPod(cluster, entry);
  }

  /** The pods that hold this IP (claimants in every cluster: usually one). */
  podsWithIp(ip: string): StoredPod[] {
    const found: StoredPod[] = [];
    for (const cs of this.clusters.values()) {
      for (const key of cs.ipClaimants.get(ip) ?? []) {
        const entry = cs.pods.get(key);
        if (entry) found.push(storedPod(cs.name, entry));
      }
    }
    return found;
  }

  serviceNames(): string[] {
    return [...this.members.keys()].sort();
  }

  clusterStatuses(): ClusterStatus[] {
    return [...this.statuses.values()].map((s) => ({ ...s })).sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
  }

  stats(): StoreStats {
    const endpoints = zeroCounts();
    const clusters: ClusterStats[] = [];
    let pods = 0;
    let nodes = 0;
    for (const cs of this.clusters.values()) {
      pods += cs.pods.size;
      nodes += cs.nodes.size;
      for (const h of Object.keys(endpoints) as EndpointHealth[]) endpoints[h] += cs.endpoints[h];
      clusters.push({ cluster: cs.name, pods: cs.pods.size, nodes: cs.nodes.size, endpoints: { ...cs.endpoints }, ipConflicts: cs.ipConflicts });
    }
    clusters.sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
    return { pods, nodes, services: this.members.size, endpoints, crossClusterIps: this.crossCluster.conflictCount, pendingServices: this.batcher.pendingCount, clusters };
  }

  onChange(listener: DirtyServicesListener): () => void {
    return this.batcher.onChange(listener);
  }

  /** Delivers pending changes now (tests, shutdown). */
  flush(): void {
    this.batcher.flush();
  }

  /** Flushes and stops scheduling timers; later changes wait for an explicit flush(). */
  close(): void {
    this.batcher.close();
  }

  // ---- internals ----

  private clusterState(name: string): ClusterState {
    let cs = this.clusters.get(name);
    if (cs === undefined) {
      cs = { name, pods: new Map(), nodes: new Map(), podsByNode: new Map(), ipClaimants: new Map(), ipOwner: new Map(), endpoints: zeroCounts(), ipConflicts: 0 };
      this.clusters.set(name, cs);
    }
    return cs;
  }

  private removeEntry(cs: ClusterState, entry: PodEntry): void {
    this.setView(cs, entry, undefined, undefined);
    cs.pods.delete(entry.key);
    if (entry.pod.service !== undefined) this.leaveService(entry.pod.service, cs.name, entry.key);
    if (entry.pod.nodeName !== undefined) removeFromIndex(cs.podsByNode, entry.pod.nodeName, entry.key);
    const ip = entry.claimedIp;
    if (ip !== undefined) {
      this.unclaim(cs, entry, ip);
      this.recomputeIp(cs, ip);
    }
  }

  private joinService(service: string, cluster: string, key: string): void {
    let byCluster = this.members.get(service);
    if (byCluster === undefined) {
      byCluster = new Map();
      this.members.set(service, byCluster);
      this.metrics.services.set(this.members.size);
    }
    addToIndex(byCluster, cluster, key);
    this.batcher.touch(service);
  }

  private leaveService(service: string, cluster: string, key: string): void {
    const byCluster = this.members.get(service);
    if (byCluster === undefined) return;
    removeFromIndex(byCluster, cluster, key);
    if (byCluster.size === 0) {
      this.members.delete(service);
      this.metrics.services.set(this.members.size);
    }
    this.batcher.touch(service);
  }

  private claim(cs: ClusterState, entry: PodEntry, ip: string): void {
    entry.claimedIp = ip;
    entry.claimSeq = ++this.claimSeq;
    addToIndex(cs.ipClaimants, ip, entry.key);
    this.crossCluster.add(ip, cs.name, entry.key);
  }

  private unclaim(cs: ClusterState, entry: PodEntry, ip: string): void {
    entry.claimedIp = undefined;
    removeFromIndex(cs.ipClaimants, ip, entry.key);
    if (cs.ipClaimants.has(ip)) return;
    this.crossCluster.remove(ip, cs.name);
  }

  private recomputeIp(cs: ClusterState, ip: string): void {
    const claimants = cs.ipClaimants.get(ip);
    if (claimants === undefined) {
      cs.ipOwner.delete(ip);
      return;
    }
    const entries: PodEntry[] = [];
    for (const key of claimants) {
      const e = cs.pods.get(key);
      if (e !== undefined) entries.push(e);
    }
    const owner = pickIpOwner(entries.map((e) => ({ podKey: e.key, terminating: e.pod.terminating, createdAtMs: e.pod.createdAtMs, claimSeq: e.claimSeq })));
    if (owner === undefined) cs.ipOwner.delete(ip);
    else cs.ipOwner.set(ip, owner);
    for (const e of entries) this.refresh(cs, e);
  }

  private refreshNodePods(cs: ClusterState, nodeName: string): void {
    const keys = cs.podsByNode.get(nodeName);
    if (keys === undefined) return;
    for (const key of keys) {
      const e = cs.pods.get(key);
      if (e !== undefined) this.refresh(cs, e);
    }
  }

  /** Recomputes one pod's endpoint from its entry, its node and its IP's owner. */
  private refresh(cs: ClusterState, entry: PodEntry): void {
    const { pod, decision } = entry;
    if (decision.kind === 'skip') return this.setView(cs, entry, undefined, decision.reason);
    const ip = pod.ip as string;
    if (cs.ipOwner.get(ip) !== entry.key) return this.setView(cs, entry, undefined, 'ip_conflict');
    const node = pod.nodeName === undefined ? undefined : cs.nodes.get(pod.nodeName);
    const view: EndpointRecord = {
      cluster: cs.name,
      podKey: entry.key,
      ip,
      port: pod.port as number,
      health: decision.health,
      region: node?.region,
      zone: node?.zone,
      drainingSinceMs: decision.health === 'DRAINING' ? entry.drainingSinceMs : undefined,
      protocol: pod.protocol?.protocol ?? 'HTTP/1.1',
      // Kept for the terminating fallback: a Ready terminating pod can still serve while nothing else can.
      ...(decision.health === 'DRAINING' && pod.ready ? { servingWhileTerminating: true as const } : {}),
      // The pod's own object, not a copy: a healthCheck.portName resolves against it.
      ...(pod.namedPorts === undefined ? {} : { namedPorts: pod.namedPorts }),
    };
    this.setView(cs, entry, view, undefined);
  }

  private setView(cs: ClusterState, entry: PodEntry, view: EndpointRecord | undefined, skip: StoreSkipReason | undefined): void {
    if (skip !== entry.skip) {
      if (skip === 'ip_conflict') {
        cs.ipConflicts++;
        this.metrics.ipConflicts.inc({ kind: 'reused_in_cluster' });
        this.logger.warn({ kube_cluster: cs.name, pod: entry.key, ip: entry.pod.ip, owner: cs.ipOwner.get(entry.pod.ip ?? '') }, 'pod IP now owned by another pod; endpoint left out');
      }
      if (entry.skip === 'ip_conflict') cs.ipConflicts--;
      if (skip !== undefined) this.metrics.podsSkipped.inc({ kube_cluster: cs.name, reason: skip });
      entry.skip = skip;
    }
    if (sameEndpoint(entry.view, view)) return;
    if (entry.view !== undefined) {
      cs.endpoints[entry.view.health]--;
      this.metrics.endpoints.dec({ kube_cluster: cs.name, health: entry.view.health });
    }
    if (view !== undefined) {
      cs.endpoints[view.health]++;
      this.metrics.endpoints.inc({ kube_cluster: cs.name, health: view.health });
    }
    entry.view = view;
    if (entry.pod.service !== undefined) this.batcher.touch(entry.pod.service);
  }

  private build(service: string): ServiceEndpoints | undefined {
    const byCluster = this.members.get(service);
    if (byCluster === undefined) return undefined;
    const endpoints: EndpointRecord[] = [];
    const namespaces = new Set<string>();
    const votes: ProtocolVote[] = [];
    let label = service;
    let podCount = 0;
    for (const [cluster, keys] of byCluster) {
      const cs = this.clusters.get(cluster);
      podCount += keys.size;
      for (const key of keys) {
        const entry = cs?.pods.get(key);
        if (entry === undefined) continue;
        namespaces.add(entry.pod.namespace);
        // Every member carries the same label value: the service name is made from it.
        label = entry.pod.serviceLabel ?? label;
        if (entry.view !== undefined) endpoints.push(entry.view);
        votes.push({ pod: `${cluster}/${key}`, protocol: entry.pod.protocol, ready: entry.view?.health === 'HEALTHY' });
      }
    }
    return buildServiceEndpoints(service, endpoints, { label, namespaces, podCount, protocol: aggregateProtocol(votes) });
  }
}
