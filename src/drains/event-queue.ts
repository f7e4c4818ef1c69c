import type { Clock } from '../model/index.js';
import { TokenBucket } from './token-bucket.js';

/** One Event to write, after aggregation: `count` occurrences of the same thing about the same object. */
export interface AggregatedEvent<T> {
  key: string;
  /** The newest occurrence's content (its text carries the newest counts). */
  latest: T;
  count: number;
  firstAtMs: number;
  lastAtMs: number;
}

export interface EventQueueOptions<T> {
  clock: Clock;
  /** Events written per second, on average, and at once after a quiet spell. */
  perSecond: number;
  burst: number;
  /** Distinct events that may wait for the rate limit; more are dropped (and counted). */
  capacity: number;
  /** Writes one event; a rejection is counted by the caller's send, never retried here. */
  send: (event: AggregatedEvent<T>) => Promise<void>;
  onDrop: (reason: 'queue_full' | 'shutdown', count: number) => void;
  onDepth?: (depth: number) => void;
  /** Timer hooks, injectable so tests run on a fake clock. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Lets Events out no faster than a token bucket allows, so a 1,000-pod rolling deploy does not
 * flood an apiserver. Occurrences with the same key while one waits merge into it (count and
 * newest content), so repeats cost no API call; distinct keys wait in arrival order, and past
 * `capacity` new ones are dropped rather than growing memory without bound.
 */
export class EventQueue<T> {
  private readonly waiting = new Map<string, AggregatedEvent<T>>();
  private readonly bucket: TokenBucket;
  private timer: unknown;
  private closed = false;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: EventQueueOptions<T>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${options.capacity}`);
    this.bucket = new TokenBucket(options.perSecond, options.burst, options.clock());
    this.setTimer =
      options.setTimer ??
      ((fn, ms) => {
        const handle = setTimeout(fn, ms);
        handle.unref();
        return handle;
      });
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
  }

  push(key: string, content: T): void {
    if (this.closed) return this.options.onDrop('shutdown', 1);
    const now = this.options.clock();
    const queued = this.waiting.get(key);
    if (queued) {
      queued.latest = content;
      queued.count += 1;
      queued.lastAtMs = now;
    } else if (this.waiting.size >= this.options.capacity) {
      return this.options.onDrop('queue_full', 1);
    } else {
      this.waiting.set(key, { key, latest: content, count: 1, firstAtMs: now, lastAtMs: now });
    }
    this.pump();
  }

  get depth(): number {
    return this.waiting.size;
  }

  /** Stops sending; what still waits is dropped and counted. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    if (this.waiting.size > 0) this.options.onDrop('shutdown', this.waiting.size);
    this.waiting.clear();
    this.options.onDepth?.(0);
  }

  private pump(): void {
    if (this.timer !== undefined || this.closed) return;
    for (;;) {
      const next = this.waiting.values().next();
      if (next.done) break;
      const now = this.options.clock();
      if (!this.bucket.take(now)) {
        this.timer = this.setTimer(() => {
          this.timer = undefined;
          this.pump();
        }, this.bucket.msUntilToken(now));
        break;
      }
      this.waiting.delete(next.value.key);
      // Sends run side by side: the rate limit, not the apiserver's latency, sets the pace.
      void this.options.send(next.value).catch(() => undefined);
    }
    this.options.onDepth?.(this.waiting.size);
  }
}
