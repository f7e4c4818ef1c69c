// What connected clients declared about themselves, as the rest of Herald follows it: the
// distinct dependency lists (egress routes are built per list) and the distinct perspectives
// (assignment variants are built per perspective). The tables live in bookkeeping/; this file
// holds who listens to them, so one throwing listener never stops the others or a stream.
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import { LogOnce } from '../telemetry/index.js';
import { PerspectiveTable, type HeldPerspective } from './bookkeeping/index.js';

/** The distinct perspectives clients declared (never the default one: a client that declared nothing). */
export interface PerspectiveListener {
  added(perspective: HeldPerspective): void;
  removed(perspective: HeldPerspective): void;
}

/** The distinct dependency lists clients declared (each sorted, each name once). */
export interface DependencySetListener {
  added(dependencies: readonly string[]): void;
  removed(dependencies: readonly string[]): void;
}

/** Listeners called in turn, each inside its own try: an error is logged and the next one runs. */
export class GuardedListeners<L> {
  private readonly listeners = new Set<L>();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  add(listener: L): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  each(call: (listener: L) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (err) {
        this.logger.error({ err, what: this.what }, 'xDS internal error');
      }
    }
  }
}

/**
 * The table of perspectives streams hold, counted in herald_xds_perspectives, telling
 * `listeners` when one is first held or last let go; one past `max` is refused (counted, logged
 * once) and its streams read the replica's view.
 */
export function perspectiveTable(metrics: HeraldMetrics, logger: Logger, max: number | undefined, listeners: GuardedListeners<PerspectiveListener>): PerspectiveTable {
  const refusedLog = new LogOnce();
  const table: PerspectiveTable = new PerspectiveTable(
    {
      added: (held) => {
        metrics.xdsPerspectives.set(table.size);
        listeners.each((listener) => listener.added(held));
      },
      removed: (held) => {
        metrics.xdsPerspectives.set(table.size);
        listeners.each((listener) => listener.removed(held));
      },
    },
    max,
    (perspective) => {
      metrics.xdsPerspectivesRefused.inc();
      if (refusedLog.shouldLog('full')) {
        logger.warn(
          { kubeCluster: perspective.kubeCluster, zone: perspective.zone, ignoresOverprovisioning: perspective.ignoresOverprovisioning === true, limit: table.size },
          'xDS perspective bound reached: streams declaring a new perspective read the replica view',
        );
      }
    },
  );
  return table;
}
