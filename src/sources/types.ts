import type { ClusterStatus, NodeRecord, PodRecord, PolicyObject } from '../model/index.js';

/**
 * Where sources deliver what they observe. The store implements it; every call carries the
 * newest state of one object (never a diff), so the order of calls does not change the outcome.
 */
export interface SourceSink {
  applyPod(pod: PodRecord): void;
  removePod(cluster: string, podKey: string): void;
  applyNode(node: NodeRecord): void;
  removeNode(cluster: string, name: string): void;
  /**
   * A complete list of the cluster's pods (initial list or relist): pods the store holds for
   * this cluster that are missing from `pods` are removed, so nothing outlives its pod.
   */
  replacePods(cluster: string, pods: PodRecord[]): void;
  replaceNodes(cluster: string, nodes: NodeRecord[]): void;
  setClusterStatus(status: ClusterStatus): void;
}

/** One Kubernetes cluster (or a simulation of one) feeding the store. */
export interface ClusterSource {
  readonly name: string;
  /** Starts listing and watching; resolves once started (not once synced). Never throws for an unreachable cluster. */
  start(sink: SourceSink): Promise<void>;
  stop(): Promise<void>;
  status(): ClusterStatus;
}

/**
 * Where a kube cluster's ServicePolicy objects go (the policy registry implements it). Like
 * SourceSink, every call carries the newest state of an object, never a diff.
 */
export interface PolicySink {
  applyPolicy(policy: PolicyObject): void;
  removePolicy(cluster: string, namespace: string, name: string): void;
  /** A complete list of the cluster's ServicePolicies: objects missing from it are gone. */
  replacePolicies(cluster: string, policies: PolicyObject[]): void;
  /** The cluster has no ServicePolicy CRD: it contributes no policy until it has one. */
  policiesUnavailable(cluster: string, reason: string): void;
  /**
   * Reading the cluster's ServicePolicies failed (`reason`) or works again (`undefined`). Its last
   * known policies stay in effect either way, as its endpoints do.
   */
  policiesUnreachable(cluster: string, reason: string | undefined): void;
}

/** One kube cluster's ServicePolicies, listed and watched. */
export interface PolicySource {
  readonly name: string;
  start(sink: PolicySink): void;
  stop(): Promise<void>;
}
