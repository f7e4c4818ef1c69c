import type { HeraldMetrics, Logger } from '../telemetry/index.js';

/**
 * Which Kubernetes clusters have a live pod on each IP. Pod networks of one mesh must not
 * overlap; when they do, both endpoints stay (neither cluster is more right) and the operator
 * hears about it once per new overlap.
 */
export class CrossClusterIps {
  private readonly clustersByIp = new Map<string, Set<string>>();
  private conflicts = 0;

  constructor(private readonly deps: { metrics: HeraldMetrics; logger: Logger }) {}

  /** IPs currently claimed in more than one cluster. */
  get conflictCount(): number {
    return this.conflicts;
  }

  add(ip: string, cluster: string, podKey: string): void {
    let clusters = this.clustersByIp.get(ip);
    if (clusters === undefined) {
      clusters = new Set();
      this.clustersByIp.set(ip, clusters);
    }
    if (clusters.has(cluster)) return;
    clusters.add(cluster);
    if (clusters.size < 2) return;
    if (clusters.size === 2) this.conflicts++;
    this.deps.metrics.ipConflicts.inc({ kind: 'cross_cluster' });
    this.deps.logger.warn({ ip, kube_clusters: [...clusters].sort(), kube_cluster: cluster, pod: podKey }, 'same pod IP in several Kubernetes clusters: pod networks overlap');
  }

  remove(ip: string, cluster: string): void {
    const clusters = this.clustersByIp.get(ip);
    if (clusters === undefined || !clusters.delete(cluster)) return;
    if (clusters.size === 1) this.conflicts--;
    if (clusters.size === 0) this.clustersByIp.delete(ip);
  }
}
