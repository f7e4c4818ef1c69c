import type { Gauge, Counter } from 'prom-client';
import { afterEach } from 'vitest';
import { EndpointStore } from '../../src/store/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';

export interface Harness {
  store: EndpointStore;
  metrics: HeraldMetrics;
  advance(ms: number): void;
  now(): number;
  /** Flushes and returns (sorted) every dirty set delivered since the last call. */
  flushed(): string[][];
}

/** A store with a manual clock and a long batch window: calls are collected synchronously and delivered by flushed() (the batcher's own timers are the store tests' business). */
export function harness(options: { includeNotReady?: boolean; batchWindowMs?: number } = {}): Harness {
  let now = 5_000_000;
  const metrics = new HeraldMetrics({ defaultMetrics: false });
  const store = new EndpointStore({
    clock: () => now,
    metrics,
    logger: silentLogger(),
    includeNotReady: options.includeNotReady ?? false,
    batchWindowMs: options.batchWindowMs ?? 60_000,
  });
  const calls: string[][] = [];
  store.onChange((dirty) => calls.push([...dirty].sort()));
  return {
    store,
    metrics,
    advance: (ms) => {
      now += ms;
    },
    now: () => now,
    flushed: () => {
      store.flush();
      return calls.splice(0);
    },
  };
}

/** Call at a test file's top level: a `make()` whose harnesses are closed after each test. */
export function harnessPerTest(): () => Harness {
  let open: Harness[] = [];
  afterEach(() => {
    for (const h of open) h.store.close();
    open = [];
  });
  return () => {
    const h = harness();
    open.push(h);
    return h;
  };
}

export async function metricValue(metric: Gauge<string> | Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return hit?.value ?? 0;
}

/** Polls until `check` returns true, failing after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before deadline');
    await new Promise((r) => setTimeout(r, 5));
  }
}
