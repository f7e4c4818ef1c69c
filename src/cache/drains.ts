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

/**
 * One name's sends in the current synchronous run, as stream indices (see DrainTracker.streamIndex).
 * A fan-out sends one seq to thousands of streams within a few clock ticks, so (seq, time) is
 * stored once per run of equal values: segment k covers streams[starts[k]] up to the next start.
 */
interface RecentSends {
  /** Int32: no pointer for the collector to trace, 4 bytes a send; grown by doubling. */
  streams: Int32Array;
  count: number;
  starts: number[];
  seqs: number[];
  ats: number[];
}

const FIRST_CAPACITY = 16;

/**
 * Measures how long a DRAINING endpoint takes to reach every Envoy that uses the service.
 * Streams report what they were sent and what they ACKed; a drain completes when every
 * stream subscribed at tracking time has ACKed an assignment at least as new as the notice.
 *
 * Call-order contract: track() must be called in the same synchronous run as the cache update
 * that produced the notice's seq (the pipeline calls it right after cache.apply() returns).
 * The xDS fan-out runs inside that update, so a stream may be sent the notice's seq before
 * track(): sends are therefore remembered until the next microtask checkpoint, and only that
 * long. Earlier sends cannot matter (seqs are global and monotonic, so they carried older
 * seqs), and no ACK of the new seq can arrive before track(): ACKs come from the network, in
 * later turns. ACKs are not remembered at all; per stream there is only a small index, which
 * lets a remembered send take 4 bytes.
 */
export class DrainTracker {
  private readonly clock: Clock;
  private readonly subscribersOf: (name: string) => Iterable<string>;
  private readonly onComplete: (result: DrainResult) => void;
  private readonly timeoutMs: number;
  private readonly tracked = new Set<Tracked>();
  /** service → its tracked drains. */
  private readonly byService = new Map<string, Set<Tracked>>();
  /** Endpoint name → sends of it since the last microtask checkpoint. */
  private recent = new Map<string, RecentSends>();
  /** A small number per stream, so a recorded send is an Int32; streamGone() drops it. */
  private readonly streamIndex = new Map<string, number>();
  private readonly streamIds: string[] = [];
  private readonly freeIndices: number[] = [];
  /** Indices of streams gone in this run: this run's record may still hold them. */
  private readonly releasing: number[] = [];
  /**
   * Highest seq sent in an earlier run. A later track() carries a seq made after that run, so
   * sends at or below it are not recorded: a storm of first responses costs no record.
   */
  private settledSeq = Number.NEGATIVE_INFINITY;
  private runMaxSeq = Number.NEGATIVE_INFINITY;
  private clearScheduled = false;
  private readonly clearRecent = (): void => {
    this.clearScheduled = false;
    if (this.runMaxSeq > this.settledSeq) this.settledSeq = this.runMaxSeq;
    if (this.recent.size > 0) this.recent = new Map();
    for (const index of this.releasing) this.release(index);
    this.releasing.length = 0;
  };

  constructor(options: DrainTrackerOptions) {
    this.clock = options.clock;
    this.subscribersOf = options.subscribersOf;
    this.onComplete = options.onComplete;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  track(notice: DrainNotice): void {
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
    this.countRecentSends(entry);
    if (waiting.size === 0) {
      this.finish(entry, true);
      return;
    }
    entry.timer = setTimeout(() => {
      if (this.tracked.delete(entry)) {
        this.unindex(entry);
        this.finish(entry, false);
      }
    }, this.timeoutMs);
    entry.timer.unref();
    this.tracked.add(entry);
    let entries = this.byService.get(notice.service);
    if (!entries) this.byService.set(notice.service, (entries = new Set()));
    entries.add(entry);
  }

  sent(streamId: string, name: string, seq: number): void {
    const entries = this.byService.get(name);
    const fresh = seq > this.settledSeq;
    if (!entries && !fresh) return;
    const now = this.clock();
    if (fresh) this.record(streamId, name, seq, now);
    if (!entries) return;
    for (const entry of entries) {
      if (seq >= entry.notice.seq && entry.waiting.has(streamId) && !entry.sent.has(streamId)) {
        entry.sent.add(streamId);
        entry.lastSentMs = now;
      }
    }
  }

  acked(streamId: string, name: string, seq: number): void {
    const entries = this.byService.get(name);
    if (!entries) return;
    const now = this.clock();
    // Deleting the entry being visited (on completion) is safe in a Set iteration.
    for (const entry of entries) {
      if (seq < entry.notice.seq || !entry.waiting.delete(streamId)) continue;
      entry.acked += 1;
      entry.lastAckMs = now;
      this.completeIfDone(entry);
    }
  }

  streamGone(streamId: string): void {
    const index = this.streamIndex.get(streamId);
    if (index !== undefined) {
      this.streamIndex.delete(streamId);
      if (this.clearScheduled) this.releasing.push(index);
      else this.release(index);
    }
    for (const entry of this.tracked) {
      if (entry.waiting.delete(streamId)) this.completeIfDone(entry);
    }
  }

  pending(): PendingDrain[] {
    const now = this.clock();
    return [...this.tracked].map((entry) => ({
      ...entry.notice,
      clients: entry.clients,
      sent: entry.sent.size,
      acked: entry.acked,
      ageSeconds: (now - entry.notice.observedAtMs) / 1000,
    }));
  }

  /** Sends remembered for a track() in the current synchronous run; 0 after a checkpoint. */
  recentSendCount(): number {
    let count = 0;
    for (const sends of this.recent.values()) count += sends.count;
    return count;
  }

  /** Stops every timer; pending drains are dropped without a result. */
  close(): void {
    for (const entry of this.tracked) clearTimeout(entry.timer);
    this.tracked.clear();
    this.byService.clear();
    this.recent = new Map();
    this.streamIndex.clear();
    this.streamIds.length = 0;
    this.freeIndices.length = 0;
    this.releasing.length = 0;
  }

  private record(streamId: string, name: string, seq: number, now: number): void {
    let index = this.streamIndex.get(streamId);
    if (index === undefined) {
      index = this.freeIndices.pop() ?? this.streamIds.length;
      this.streamIds[index] = streamId;
      this.streamIndex.set(streamId, index);
    }
    let sends = this.recent.get(name);
    if (!sends) {
      sends = { streams: new Int32Array(FIRST_CAPACITY), count: 0, starts: [], seqs: [], ats: [] };
      this.recent.set(name, sends);
      if (!this.clearScheduled) {
        this.clearScheduled = true;
        queueMicrotask(this.clearRecent);
      }
    }
    const last = sends.seqs.length - 1;
    if (last < 0 || sends.seqs[last] !== seq || sends.ats[last] !== now) {
      sends.starts.push(sends.count);
      sends.seqs.push(seq);
      sends.ats.push(now);
    }
    if (sends.count === sends.streams.length) {
      const grown = new Int32Array(2 * sends.count);
      grown.set(sends.streams);
      sends.streams = grown;
    }
    sends.streams[sends.count++] = index;
    if (seq > this.runMaxSeq) this.runMaxSeq = seq;
  }

  /** Credits the sends of this run that preceded track(), as sent() would have after it. */
  private countRecentSends(entry: Tracked): void {
    const sends = this.recent.get(entry.notice.service);
    if (!sends) return;
    const { streams, count, starts, seqs, ats } = sends;
    for (let k = 0; k < seqs.length; k++) {
      if (seqs[k]! < entry.notice.seq) continue;
      const at = ats[k]!;
      const end = k + 1 < starts.length ? starts[k + 1]! : count;
      for (let i = starts[k]!; i < end; i++) {
        const index = streams[i]!;
        const stream = this.streamIds[index]!;
        // A stream gone in this run keeps its id in streamIds until the checkpoint, not its index.
        if (!entry.waiting.has(stream) || this.streamIndex.get(stream) !== index) continue;
        entry.sent.add(stream);
        entry.lastSentMs = Math.max(entry.lastSentMs ?? at, at);
      }
    }
  }

  private release(index: number): void {
    this.streamIds[index] = '';
    this.freeIndices.push(index);
  }

  private completeIfDone(entry: Tracked): void {
    if (entry.waiting.size > 0) return;
    clearTimeout(entry.timer);
    this.tracked.delete(entry);
    this.unindex(entry);
    this.finish(entry, true);
  }

  private unindex(entry: Tracked): void {
    const service = entry.notice.service;
    const entries = this.byService.get(service);
    if (!entries) return;
    entries.delete(entry);
    if (entries.size === 0) this.byService.delete(service);
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
