import type { ClusterStatus } from '../model/index.js';
import type { Logger } from '../telemetry/index.js';

/**
 * waiting: no answers yet. synced: every cluster listed once. timed_out: --initial-sync-timeout
 * passed with at least one cluster synced, so xDS answers without the others.
 */
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
 * Holds xDS answers until every Kubernetes cluster has completed its first list, or until the
 * initial-sync timeout has passed and at least one has: an early partial CDS makes Envoys
 * delete clusters, and an empty one makes them drop their whole configuration, so a replica
 * that has synced nothing never answers, however long it waits.
 */
export class InitialSyncGate {
  readonly ready: Promise<void>;
  private stateValue: GateState = 'waiting';
  private timeoutPassed = false;
  private timer: NodeJS.Timeout | undefined;
  private open!: () => void;

  constructor(private readonly deps: SyncGateDeps) {
    this.ready = new Promise((resolve) => (this.open = resolve));
  }

  get state(): GateState {
    return this.stateValue;
  }

  /** True once --initial-sync-timeout has passed, whether or not the gate could open then. */
  get timedOut(): boolean {
    return this.timeoutPassed;
  }

  start(): void {
    const startedAt = Date.now();
    const pollMs = this.deps.pollMs ?? 50;
    const check = () => {
      const statuses = this.deps.statuses();
      const waitingFor = statuses.filter((s) => !s.everSynced).map((s) => s.cluster);
      if (waitingFor.length === 0) return this.finish('synced', []);
      if (!this.timeoutPassed && Date.now() - startedAt >= this.deps.timeoutMs) {
        this.timeoutPassed = true;
        if (waitingFor.length === statuses.length) {
          this.deps.logger.error({ clusters: waitingFor }, 'initial sync timed out with no cluster synced; xDS stays closed until one syncs');
        }
      }
      if (this.timeoutPassed && waitingFor.length < statuses.length) return this.finish('timed_out', waitingFor);
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
