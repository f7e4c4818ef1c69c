import type { Clock } from '../model/index.js';

/** A terminating pod whose DRAINING endpoint went into the cache. */
export interface DrainNotice {
  service: string;
  /** Kubernetes cluster of the pod. */
  cluster: string;
  podKey: string;
  ip: string;
  port: number;
  /** When the store first saw the pod terminating (ms, same clock as the tracker). */
  observedAtMs: number;
  /** Seq of the endpoint resource that first carried DRAINING: any later seq carries it too. */
  seq: number;
}

export interface DrainResult extends DrainNotice {
  /** Streams subscribed to the service when the drain was tracked. */
  clients: number;
  acked: number;
  /** From observation to the last stream being sent the assignment. */
  deliveredSeconds: number;
  /** From observation to the last ACK: the drain propagation time. */
  propagationSeconds: number;
  /** false when the timeout passed before every stream ACKed. */
  complete: boolean;
}

export interface PendingDrain extends DrainNotice {
  clients: number;
  sent: number;
  acked: number;
  ageSeconds: number;
}

export interface DrainTrackerOptions {
  clock: Clock;
  /** Ids of the streams subscribed (by name or wildcard) to the service's assignment. */
  subscribersOf: (name: string) => Iterable<string>;
  onComplete: (result: DrainResult) => void;
  timeoutMs?: number;
}

interface Tracked {
  notice: DrainNotice;
  /** Streams that have neither ACKed nor gone away. */
  waiting: Set<string>;
  clients: number;
  sent: Set<string>;
  acked: number;
  /** Latest send/ACK time seen; undefined until there is one. */
  lastSentMs: number | undefined;
  lastAckMs: number | undefined;
  timer: NodeJS.Timeout;
}

interface Seen {
  seq: number;
  atMs: number;
}

/**
 * Measures how long a DRAINING endpoint takes to reach every Envoy that uses the service.
 * Streams report what they were sent and what they ACKed; a drain completes when every
 * stream subscribed at tracking time has ACKed an assignment at least as new as the notice.
 */
export class DrainTracker {
  private readonly clock: Clock;
  private readonly subscribersOf: (name: string) => Iterable<string>;
  private readonly onComplete: (result: DrainResult) => void;
  private readonly timeoutMs: number;
  private nextId = 1;
  private readonly tracked = new Map<number, Tracked>();
  /** service → ids of its tracked drains. */
  private readonly byService = new Map<string, Set<number>>();
  /**
   * Newest seq sent per stream and name: fan-out runs inside the cache update, before the caller
   * can call track(), so a send may precede the notice it satisfies.
   */
  private readonly lastSent = new Map<string, Map<string, Seen>>();
  /** Same for ACKs, in case the caller tracks a drain only after its streams answered. */
  private readonly lastAcked = new Map<string, Map<string, Seen>>();

  constructor(options: DrainTrackerOptions) {
    this.clock = options.clock;
    this.subscribersOf = options.subscribersOf;
    this.onComplete = options.onComplete;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  track(notice: DrainNotice): void {
    const id = this.nextId++;
    const waiting = new Set(this.subscribersOf(notice.service));
    const entry: Tracked = {
      notice,
      waiting,
      clients: waiting.size,
      sent: new Set(),
      acked: 0,
      lastSentMs: undefined,
      lastAckMs: undefined,
      timer: undefined as unknown as NodeJS.Timeout,
    };
    for (const stream of [...waiting]) {
      const seen = this.lastSent.get(stream)?.get(notice.service);
      if (seen && seen.seq >= notice.seq) {
        entry.sent.add(stream);
        entry.lastSentMs = Math.max(entry.lastSentMs ?? seen.atMs, seen.atMs);
      }
      const acked = this.lastAcked.get(stream)?.get(notice.service);
      if (acked && acked.seq >= notice.seq) {
        waiting.delete(stream);
        entry.acked += 1;
        entry.lastAckMs = Math.max(entry.lastAckMs ?? acked.atMs, acked.atMs);
      }
    }
    if (waiting.size === 0) {
      this.finish(entry, true);
      return;
    }
    entry.timer = setTimeout(() => {
      if (this.tracked.delete(id)) {
        this.unindex(notice.service, id);
        this.finish(entry, false);
      }
    }, this.timeoutMs);
    entry.timer.unref();
    this.tracked.set(id, entry);
    let ids = this.byService.get(notice.service);
    if (!ids) this.byService.set(notice.service, (ids = new Set()));
    ids.add(id);
  }

  sent(streamId: string, name: string, seq: number): void {
    const now = this.clock();
    let names = this.lastSent.get(streamId);
    if (!names) this.lastSent.set(streamId, (names = new Map()));
    names.set(name, { seq, atMs: now });
    for (const [, entry] of this.entriesFor(name)) {
      if (seq >= entry.notice.seq && entry.waiting.has(streamId) && !entry.sent.has(streamId)) {
        entry.sent.add(streamId);
        entry.lastSentMs = now;
      }
    }
  }

  acked(streamId: string, name: string, seq: number): void {
    const now = this.clock();
    let names = this.lastAcked.get(streamId);
    if (!names) this.lastAcked.set(streamId, (names = new Map()));
    names.set(name, { seq, atMs: now });
    for (const [id, entry] of this.entriesFor(name)) {
      if (seq < entry.notice.seq || !entry.waiting.delete(streamId)) continue;
      entry.acked += 1;
      entry.lastAckMs = now;
      this.completeIfDone(id, entry);
    }
  }

  streamGone(streamId: string): void {
    this.lastSent.delete(streamId);
    this.lastAcked.delete(streamId);
    for (const [id, entry] of [...this.tracked]) {
      if (entry.waiting.delete(streamId)) this.completeIfDone(id, entry);
    }
  }

  pending(): PendingDrain[] {
    const now = this.clock();
    return [...this.tracked.values()].map((entry) => ({
      ...entry.notice,
      clients: entry.clients,
      sent: entry.sent.size,
      acked: entry.acked,
      ageSeconds: (now - entry.notice.observedAtMs) / 1000,
    }));
  }

  /** Stops every timer; pending drains are dropped without a result. */
  close(): void {
    for (const entry of this.tracked.values()) clearTimeout(entry.timer);
    this.tracked.clear();
    this.byService.clear();
    this.lastSent.clear();
    this.lastAcked.clear();
  }

  private *entriesFor(name: string): Iterable<[number, Tracked]> {
    const ids = this.byService.get(name);
    if (!ids) return;
    for (const id of [...ids]) {
      const entry = this.tracked.get(id);
      if (entry) yield [id, entry];
    }
  }

  private completeIfDone(id: number, entry: Tracked): void {
    if (entry.waiting.size > 0) return;
    clearTimeout(entry.timer);
    this.tracked.delete(id);
    this.unindex(entry.notice.service, id);
    this.finish(entry, true);
  }

  private unindex(service: string, id: number): void {
    const ids = this.byService.get(service);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) this.byService.delete(service);
  }

  private finish(entry: Tracked, complete: boolean): void {
    const observed = entry.notice.observedAtMs;
    const now = this.clock();
    // With no subscriber the drain is vacuously done when tracked.
    const end = complete ? (entry.lastAckMs ?? now) : now;
    this.onComplete({
      ...entry.notice,
      clients: entry.clients,
      acked: entry.acked,
      deliveredSeconds: Math.max(0, (entry.lastSentMs ?? now) - observed) / 1000,
      propagationSeconds: Math.max(0, end - observed) / 1000,
      complete,
    });
  }
}
