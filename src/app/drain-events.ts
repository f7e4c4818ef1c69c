import { drainEventContent, drainEventKey, EventQueue, type AggregatedEvent, type DrainEventContent, type DrainRecord } from '../drains/index.js';
import type { Clock } from '../model/index.js';
import { LogOnce, type HeraldMetrics, type Logger } from '../telemetry/index.js';

export interface DrainEventsOptions {
  /** Writes one Event to the pod's cluster (kubeEventWriter in production, a fake in tests). */
  send: (event: AggregatedEvent<DrainEventContent>) => Promise<void>;
  /** Events per second on average, and at once after a quiet spell. */
  perSecond: number;
  burst: number;
  /** Distinct Events that may wait for the rate limit; more are dropped and counted. */
  capacity: number;
}

export interface DrainEventsDeps {
  clock: Clock;
  metrics: HeraldMetrics;
  logger: Logger;
  replica: string;
  /** The pod's uid, so `kubectl describe pod` finds the Event. */
  uidOf: (cluster: string, podKey: string) => string | undefined;
}

/** Turns finished drains into rate-limited, aggregated Kubernetes Events on the drained pods. */
export class DrainEvents {
  private readonly queue: EventQueue<DrainEventContent>;
  private readonly failureLog = new LogOnce(60_000);

  constructor(
    options: DrainEventsOptions,
    private readonly deps: DrainEventsDeps,
  ) {
    const { metrics, logger } = deps;
    this.queue = new EventQueue<DrainEventContent>({
      clock: deps.clock,
      perSecond: options.perSecond,
      burst: options.burst,
      capacity: options.capacity,
      onDepth: (depth) => metrics.drainEventsQueued.set(depth),
      onDrop: (reason, count) => {
        metrics.drainEventsDropped.inc({ reason }, count);
        if (this.failureLog.shouldLog(`drop ${reason}`)) logger.warn({ reason, count, capacity: options.capacity }, 'drain Events dropped (see herald_drain_events_dropped_total)');
      },
      send: async (event) => {
        const reason = event.latest.reason;
        try {
          await options.send(event);
          metrics.drainEvents.inc({ reason, result: 'created' });
        } catch (err) {
          metrics.drainEvents.inc({ reason, result: 'failed' });
          const status = (err as { code?: number }).code;
          if (this.failureLog.shouldLog(`fail ${event.latest.cluster} ${status}`)) {
            logger.warn({ err, kube_cluster: event.latest.cluster, status }, 'could not write a drain Event (does Herald have the drain-events RBAC?)');
          }
        }
      },
    });
  }

  drained(record: DrainRecord): void {
    const content = drainEventContent(record, this.deps.replica, this.deps.uidOf(record.cluster, record.podKey));
    this.queue.push(drainEventKey(content), content);
  }

  close(): void {
    this.queue.close();
  }
}
