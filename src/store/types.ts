import type { Clock, EndpointHealth } from '../model/index.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import type { SkipReason } from './health.js';

/** Why a known pod is left out of its service: the health rule, or it lost its IP to another pod. */
export type StoreSkipReason = SkipReason | 'ip_conflict';

export interface EndpointStoreOptions {
  clock: Clock;
  metrics: HeraldMetrics;
  logger: Logger;
  /** Send not-Ready pods as UNHEALTHY instead of leaving them out. */
  includeNotReady?: boolean;
  /** At most one call to listeners per window: a change after a quiet window on the next setImmediate, later ones at the window's end; 0 = always on the next setImmediate. */
  batchWindowMs?: number;
}

export type DirtyServicesListener = (dirtyServices: ReadonlySet<string>) => void;

export type HealthCounts = Record<EndpointHealth, number>;

export interface ClusterStats {
  cluster: string;
  pods: number;
  nodes: number;
  endpoints: HealthCounts;
  /** Pods currently left out because another pod of the cluster owns their IP. */
  ipConflicts: number;
}

export interface StoreStats {
  pods: number;
  nodes: number;
  services: number;
  endpoints: HealthCounts;
  /** IPs claimed by live pods of more than one Kubernetes cluster. */
  crossClusterIps: number;
  /** Services changed but not yet delivered to listeners. */
  pendingServices: number;
  clusters: ClusterStats[];
}
