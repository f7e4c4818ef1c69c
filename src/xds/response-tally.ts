import type { Counter } from 'prom-client';
import { PUSH_ORDER, type ResourceKind } from '../model/index.js';

export interface ResponseCounters {
  responses: Counter.Internal;
  bytes: Counter.Internal;
}

/**
 * Responses and bytes sent, per type, summed in plain numbers and added to the Prometheus
 * counters once per turn of the event loop. A drain writes one response to every stream, and
 * two labelled counter increments per write cost about as much as the drain tracker's record.
 * The counters are never behind by more than the current synchronous run: a scrape is served
 * in a later turn.
 */
export class ResponseTally {
  private readonly responses = new Map<ResourceKind, number>();
  private readonly bytes = new Map<ResourceKind, number>();
  private scheduled = false;

  constructor(private readonly counters: Readonly<Record<ResourceKind, ResponseCounters>>) {
    for (const kind of PUSH_ORDER) {
      this.responses.set(kind, 0);
      this.bytes.set(kind, 0);
    }
  }

  add(kind: ResourceKind, bytes: number): void {
    this.responses.set(kind, this.responses.get(kind)! + 1);
    this.bytes.set(kind, this.bytes.get(kind)! + bytes);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }

  /** Moves the sums into the counters now. */
  readonly flush = (): void => {
    this.scheduled = false;
    for (const kind of PUSH_ORDER) {
      const responses = this.responses.get(kind)!;
      if (responses === 0) continue;
      this.counters[kind].responses.inc(responses);
      this.counters[kind].bytes.inc(this.bytes.get(kind)!);
      this.responses.set(kind, 0);
      this.bytes.set(kind, 0);
    }
  };
}
