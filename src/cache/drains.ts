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

/** Offsets of one name's four numbers in a stream's history; NaN means "never". */
const SENT_SEQ = 0;
/** Each *_AT field follows its *_SEQ field. */
const SENT_AT = 1;
const ACKED_SEQ = 2;
const ACKED_AT = 3;
const FIELDS = 4;

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
  /** Endpoint name → its slot in every stream's history; names are few and shared by streams. */
  private readonly slots = new Map<string, number>();
  /**
   * Per stream, the latest seq sent and ACKed per name and when, flat (FIELDS numbers per slot):
   * fan-out runs inside the cache update, before the caller can call track(), so a send may
   * precede the notice it satisfies, and a caller may track a drain only after its streams
   * answered. A typed array keeps this to 32 bytes per (stream, name) with no object per send.
   */
  private readonly history = new Map<string, Float64Array>();

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
    const slot = this.slots.get(notice.service);
    if (slot !== undefined) {
      const at = slot * FIELDS;
      for (const stream of [...waiting]) {
        const seen = this.history.get(stream);
        if (!seen || at >= seen.length) continue;
        // NaN (never) compares false.
        if (seen[at + SENT_SEQ]! >= notice.seq) {
          const sentAt = seen[at + SENT_AT]!;
          entry.sent.add(stream);
          entry.lastSentMs = Math.max(entry.lastSentMs ?? sentAt, sentAt);
        }
        if (seen[at + ACKED_SEQ]! >= notice.seq) {
          const ackedAt = seen[at + ACKED_AT]!;
          waiting.delete(stream);
          entry.acked += 1;
          entry.lastAckMs = Math.max(entry.lastAckMs ?? ackedAt, ackedAt);
        }
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
    this.remember(streamId, name, SENT_SEQ, seq, now);
    const ids = this.byService.get(name);
    if (!ids) return;
    for (const id of [...ids]) {
      const entry = this.tracked.get(id);
      if (!entry) continue;
      if (seq >= entry.notice.seq && entry.waiting.has(streamId) && !entry.sent.has(streamId)) {
        entry.sent.add(streamId);
        entry.lastSentMs = now;
      }
    }
  }

  acked(streamId: string, name: string, seq: number): void {
    const now = this.clock();
    this.remember(streamId, name, ACKED_SEQ, seq, now);
    const ids = this.byService.get(name);
    if (!ids) return;
    for (const id of [...ids]) {
      const entry = this.tracked.get(id);
      if (!entry || seq < entry.notice.seq || !entry.waiting.delete(streamId)) continue;
      entry.acked += 1;
      entry.lastAckMs = now;
      this.completeIfDone(id, entry);
    }
  }

  streamGone(streamId: string): void {
    this.history.delete(streamId);
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
    this.history.clear();
    this.slots.clear();
  }

  /** Records the latest seq (and its time) a stream was sent or ACKed for a name. */
  private remember(streamId: string, name: string, seqField: number, seq: number, now: number): void {
    let slot = this.slots.get(name);
    if (slot === undefined) this.slots.set(name, (slot = this.slots.size));
    const at = slot * FIELDS;
    let seen = this.history.get(streamId);
    if (!seen || at >= seen.length) {
      // Room for every name known so far, at least doubling: a stream learns most names at once.
      const slots = Math.max(this.slots.size, 2 * ((seen?.length ?? 0) / FIELDS));
      const grown = new Float64Array(slots * FIELDS).fill(Number.NaN);
      if (seen) grown.set(seen);
      this.history.set(streamId, (seen = grown));
    }
    seen[at + seqField] = seq;
    seen[at + seqField + 1] = now;
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
