import type { ServiceEndpoints } from '../model/index.js';
import type { Logger } from '../telemetry/index.js';
import { sameServiceEndpoints } from './service-view.js';
import type { DirtyServicesListener } from './types.js';

/**
 * Collects services touched by store updates and tells listeners which of them really differ
 * from what they were last told, at most once per window: a change after a quiet window goes
 * out on the next turn of the event loop (a lone drain waits for nothing), and changes arriving
 * within a window of the last delivery wait for its end, so churn costs one push per window.
 * Comparing against the delivered state (rather than trusting every touch) keeps a pod that
 * flips and flips back before a delivery from costing the mesh a push.
 */
export class ChangeBatcher {
  private readonly listeners = new Set<DirtyServicesListener>();
  private pending = new Set<string>();
  private readonly delivered = new Map<string, ServiceEndpoints>();
  private timer: { cancel: () => void } | undefined;
  private closed = false;
  /** When the last delivery was made (performance.now()); the next one waits for the window from it. */
  private deliveredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: {
      windowMs: number;
      logger: Logger;
      /** The service's current state, or undefined once it has no pods. */
      build: (service: string) => ServiceEndpoints | undefined;
    },
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Current state of a service: rebuilt if touched since the last delivery, else the delivered copy. */
  current(service: string): ServiceEndpoints | undefined {
    if (this.pending.has(service)) return this.deps.build(service);
    return this.delivered.get(service);
  }

  onChange(listener: DirtyServicesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  touch(service: string): void {
    this.pending.add(service);
    if (this.timer !== undefined || this.closed) return;
    const wait = this.deltaToWindowEnd();
    if (wait <= 0) {
      const handle = setImmediate(() => this.flush());
      this.timer = { cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(() => this.flush(), wait);
      this.timer = { cancel: () => clearTimeout(handle) };
    }
  }

  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const candidates = this.pending;
    this.pending = new Set();
    const changed = new Set<string>();
    for (const name of candidates) {
      const next = this.deps.build(name);
      if (sameServiceEndpoints(this.delivered.get(name), next)) continue;
      changed.add(name);
      if (next === undefined) this.delivered.delete(name);
      else this.delivered.set(name, next);
    }
    if (changed.size === 0) return;
    this.deliveredAt = performance.now();
    for (const listener of [...this.listeners]) {
      try {
        listener(changed);
      } catch (err) {
        this.logger.error({ err }, 'store change listener threw');
      }
    }
  }

  close(): void {
    this.closed = true;
    this.flush();
  }

  /** Milliseconds until a window has passed since the last delivery (≤ 0: it has). */
  private deltaToWindowEnd(): number {
    return this.deps.windowMs - (performance.now() - this.deliveredAt);
  }

  private get logger(): Logger {
    return this.deps.logger;
  }
}
