import type { ClusterStatus } from '../model/index.js';
import type { Logger } from '../telemetry/index.js';

export type GateState = 'waiting' | 'synced' | 'timed_out';

export interface SyncGateDeps {
  statuses: () => ClusterStatus[];
  /** Runs after the clusters synced (or the timeout passed) and before xDS opens: flush pending store batches. */
  beforeOpen: () => void;
  timeoutMs: number;
  logger: Logger;
  pollMs?: number;
}

/**
 * Holds xDS answers until every Kubernetes cluster has completed its first list or the
 * initial-sync timeout passes: an early partial CDS would make Envoys delete clusters.
 */
export class InitialSyncGate {
  readonly ready: Promise<void>;
  private stateValue: GateState = 'waiting';
  private timer: NodeJS.Timeout | undefined;
  private open!: () => void;

  constructor(private readonly deps: SyncGateDeps) {
    this.ready = new Promise((resolve) => (this.open = resolve));
  }

  get state(): GateState {
    return this.stateValue;
  }

  start(): void {
    const startedAt = Date.now();
    const pollMs = this.deps.pollMs ?? 50;
    const check = () => {
      const statuses = this.deps.statuses();
      const waitingFor = statuses.filter((s) => !s.everSynced).map((s) => s.cluster);
      if (waitingFor.length === 0) return this.finish('synced', []);
      if (Date.now() - startedAt >= this.deps.timeoutMs) return this.finish('timed_out', waitingFor);
      this.timer = setTimeout(check, pollMs);
    };
    check();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private finish(state: GateState, waitingFor: string[]): void {
    this.timer = undefined;
    this.stateValue = state;
    this.deps.beforeOpen();
    if (state === 'timed_out') {
      this.deps.logger.warn({ clusters: waitingFor }, 'initial sync timed out; serving xDS without these clusters');
    } else {
      this.deps.logger.info('all clusters synced; serving xDS');
    }
    this.open();
  }
}
