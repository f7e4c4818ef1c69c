import type { Clock, ResourceKind } from '../model/index.js';
import type { AckedResource, ObservedStream, SentResource, StreamObserver } from '../xds/index.js';

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
  /**
   * The pod's termination grace (deletionGracePeriodSeconds) in ms, when known: past it the
   * pod is gone, so the drain is reported incomplete then rather than at the tracker's timeout.
   */
  graceMs?: number | undefined;
}

export interface DrainResult extends DrainNotice {
  /** Streams subscribed to the service when the drain was tracked. */
  clients: number;
  /** Of those, the streams that were sent an assignment carrying the drain. */
  sent: number;
  acked: number;
  /** Of those, the streams that went away before ACKing (a client gone, or ended by a limit): not waited for. */
  gone: number;
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
  gone: number;
  ageSeconds: number;
}

export interface DrainTrackerOptions {
  clock: Clock;
  /** Ids of the streams subscribed (by name or wildcard) to the service's assignment. */
  subscribersOf: (name: string) => Iterable<string>;
  /** `neverAcked`: ids of the streams that neither ACKed nor went away (empty when complete). */
  onComplete: (result: DrainResult, neverAcked: readonly string[]) => void;
  timeoutMs?: number;
}

interface Tracked {
  notice: DrainNotice;
  /** Streams that have neither ACKed nor gone away. */
  waiting: Set<string>;
  /** Streams not yet sent the drain, nor gone: a fan-out's send is one delete. */
  unsent: Set<string>;
  clients: number;
  sent: number;
  acked: number;
  gone: number;
  /** Latest send/ACK time seen; undefined until there is one. */
  lastSentMs: number | undefined;
  lastAckMs: number | undefined;
  timer: NodeJS.Timeout;
}

/**
 * Measures how long a DRAINING endpoint takes to reach every Envoy that uses the service.
 * As an observer of the xDS server it hears what each stream was sent and ACKed; a drain
 * completes when every stream subscribed at tracking time has ACKed an assignment at least as
 * new as the notice, or has gone (counted in `clients`, not in `acked`).
 *
 * Call-order contract: track() comes after the cache holds the notice's seq and before any
 * stream is sent it; the pipeline calls it from cache.apply()'s onApplied hook, which runs
 * between storing a batch and the xDS fan-out. Sends and ACKs of a service nobody is tracking
 * cost one Map lookup, so a connect storm's first responses cost nothing here.
 */
export class DrainTracker implements StreamObserver {
  private readonly clock: Clock;
  private readonly subscribersOf: (name: string) => Iterable<string>;
  private readonly onComplete: (result: DrainResult, neverAcked: readonly string[]) => void;
  private readonly timeoutMs: number;
  private readonly tracked = new Set<Tracked>();
  /** service → its tracked drains. */
  private readonly byService = new Map<string, Set<Tracked>>();

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
      unsent: new Set(waiting),
      sent: 0,
      acked: 0,
      gone: 0,
      lastSentMs: undefined,
      lastAckMs: undefined,
      timer: undefined as unknown as NodeJS.Timeout,
    };
    if (waiting.size === 0) {
      this.finish(entry, true);
      return;
    }
    // A grace of 0 (force delete) says nothing of how long clients may take: keep the timeout.
    // The grace runs from the deletion, seen at observedAtMs.
    const grace = notice.graceMs !== undefined && notice.graceMs > 0 ? Math.max(0, notice.observedAtMs + notice.graceMs - this.clock()) : Infinity;
    entry.timer = setTimeout(
      () => {
        if (this.tracked.delete(entry)) {
          this.unindex(entry);
          this.finish(entry, false);
        }
      },
      Math.min(grace, this.timeoutMs),
    );
    entry.timer.unref();
    this.tracked.add(entry);
    let entries = this.byService.get(notice.service);
    if (!entries) this.byService.set(notice.service, (entries = new Set()));
    entries.add(entry);
  }

  /** StreamObserver: an endpoint response was handed to a stream's writer. */
  sent(stream: ObservedStream, kind: ResourceKind, resources: readonly SentResource[]): void {
    if (kind !== 'endpoint' || this.byService.size === 0) return;
    for (const { name, seq } of resources) this.sentOne(stream.id, name, seq);
  }

  /** StreamObserver: a stream ACKed (or NACKed) a response. */
  answered(stream: ObservedStream, kind: ResourceKind, acked: readonly AckedResource[] | undefined): void {
    if (kind !== 'endpoint' || !acked || this.byService.size === 0) return;
    for (const { name, seq } of acked) this.ackedOne(stream.id, name, seq);
  }

  /** StreamObserver: the stream is gone; drains stop waiting for it. */
  closed(stream: ObservedStream): void {
    this.streamGone(stream.id);
  }

  sentOne(streamId: string, name: string, seq: number): void {
    const entries = this.byService.get(name);
    if (!entries) return;
    const now = this.clock();
    for (const entry of entries) {
      if (seq >= entry.notice.seq && entry.unsent.delete(streamId)) {
        entry.sent += 1;
        entry.lastSentMs = now;
      }
    }
  }

  ackedOne(streamId: string, name: string, seq: number): void {
    const entries = this.byService.get(name);
    if (!entries) return;
    const now = this.clock();
    // Deleting the entry being visited (on completion) is safe in a Set iteration.
    for (const entry of entries) {
      if (seq < entry.notice.seq || !entry.waiting.delete(streamId)) continue;
      // Sent before track() (outside the contract): not counted as sent from here on either.
      entry.unsent.delete(streamId);
      entry.acked += 1;
      entry.lastAckMs = now;
      this.completeIfDone(entry);
    }
  }

  streamGone(streamId: string): void {
    for (const entry of this.tracked) {
      entry.unsent.delete(streamId);
      if (!entry.waiting.delete(streamId)) continue;
      entry.gone += 1;
      this.completeIfDone(entry);
    }
  }

  pending(): PendingDrain[] {
    const now = this.clock();
    return [...this.tracked].map((entry) => ({
      ...entry.notice,
      clients: entry.clients,
      sent: entry.sent,
      acked: entry.acked,
      gone: entry.gone,
      ageSeconds: (now - entry.notice.observedAtMs) / 1000,
    }));
  }

  /**
   * Ids of the streams a pending drain of this pod still waits on (at most `limit`, sorted), so
   * an operator can be told which clients hold a drain up. Empty when no drain of it is pending.
   */
  waitingOn(cluster: string, podKey: string, limit = 5): string[] {
    const ids = new Set<string>();
    for (const entry of this.tracked) {
      if (entry.notice.cluster !== cluster || entry.notice.podKey !== podKey) continue;
      for (const id of entry.waiting) ids.add(id);
    }
    return [...ids].sort(byNumberThenText).slice(0, limit);
  }

  /** Stops every timer; pending drains are dropped without a result. */
  close(): void {
    for (const entry of this.tracked) clearTimeout(entry.timer);
    this.tracked.clear();
    this.byService.clear();
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
    const neverAcked = complete ? [] : [...entry.waiting].sort(byNumberThenText);
    this.onComplete(
      {
        ...entry.notice,
        clients: entry.clients,
        sent: entry.sent,
        acked: entry.acked,
        gone: entry.gone,
        deliveredSeconds: Math.max(0, (entry.lastSentMs ?? now) - observed) / 1000,
        propagationSeconds: Math.max(0, end - observed) / 1000,
        complete,
      },
      neverAcked,
    );
  }
}

/** Stream ids are decimal counters: "9" sorts before "10". */
function byNumberThenText(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
