import type { Counter } from 'prom-client';
import { perKind, PUSH_ORDER, type ResourceKind } from '../../model/index.js';

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
  private readonly sums: Record<ResourceKind, { responses: number; bytes: number }>;
  private scheduled = false;

  constructor(private readonly counters: Readonly<Record<ResourceKind, ResponseCounters>>) {
    this.sums = perKind(() => ({ responses: 0, bytes: 0 }));
  }

  add(kind: ResourceKind, bytes: number): void {
    const sum = this.sums[kind];
    sum.responses += 1;
    sum.bytes += bytes;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }

  /** Moves the sums into the counters now. */
  readonly flush = (): void => {
    this.scheduled = false;
    for (const kind of PUSH_ORDER) {
      const sum = this.sums[kind];
      if (sum.responses === 0) continue;
      this.counters[kind].responses.inc(sum.responses);
      this.counters[kind].bytes.inc(sum.bytes);
      sum.responses = 0;
      sum.bytes = 0;
    }
  };
}
