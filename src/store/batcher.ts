import type { ServiceEndpoints } from '../model/index.js';
import type { Logger } from '../telemetry/index.js';
import { sameServiceEndpoints } from './service-view.js';
import type { DirtyServicesListener } from './types.js';

/**
 * Collects services touched by store updates and, after a short window, tells listeners which
 * of them really differ from what they were last told. Comparing against the delivered state
 * (rather than trusting every touch) keeps a pod that flips and flips back within one window
 * from costing the mesh a push.
 */
export class ChangeBatcher {
  private readonly listeners = new Set<DirtyServicesListener>();
  private pending = new Set<string>();
  private readonly delivered = new Map<string, ServiceEndpoints>();
  private timer: { cancel: () => void } | undefined;
  private closed = false;

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
    if (this.deps.windowMs <= 0) {
      const handle = setImmediate(() => this.flush());
      this.timer = { cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(() => this.flush(), this.deps.windowMs);
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

  private get logger(): Logger {
    return this.deps.logger;
  }
}
