import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { InitialSyncGate } from '../../src/app/sync-gate.js';
import type { ClusterStatus } from '../../src/model/index.js';

function status(cluster: string, everSynced: boolean): ClusterStatus {
  return { cluster, state: everSynced ? 'synced' : 'syncing', everSynced, lastError: undefined, lastChangeMs: 0 };
}

/** A gate over mutable cluster statuses, driven by fake timers; records whether it opened. */
function gateOver(statuses: ClusterStatus[], timeoutMs: number) {
  let flushed = 0;
  let opened = false;
  const gate = new InitialSyncGate({ statuses: () => statuses, beforeOpen: () => flushed++, timeoutMs, logger: pino({ level: 'silent' }), pollMs: 10 });
  void gate.ready.then(() => (opened = true));
  return { gate, isOpen: () => opened, flushes: () => flushed };
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('InitialSyncGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('opens as soon as every cluster has synced', async () => {
    const statuses = [status('a', false), status('b', false)];
    const { gate, isOpen, flushes } = gateOver(statuses, 1_000);
    gate.start();
    await advance(50);
    expect(isOpen()).toBe(false);
    statuses[0] = status('a', true);
    statuses[1] = status('b', true);
    await advance(20);
    expect(isOpen()).toBe(true);
    expect(gate.state).toBe('synced');
    expect(gate.timedOut).toBe(false);
    expect(flushes()).toBe(1);
  });

  it('opens at the timeout when at least one cluster has synced', async () => {
    const statuses = [status('a', true), status('b', false)];
    const { gate, isOpen } = gateOver(statuses, 1_000);
    gate.start();
    await advance(900);
    expect(isOpen()).toBe(false);
    expect(gate.state).toBe('waiting');
    await advance(200);
    expect(isOpen()).toBe(true);
    expect(gate.state).toBe('timed_out');
    expect(gate.timedOut).toBe(true);
  });

  it('never opens while no cluster has synced, however long it waits, and opens when one does', async () => {
    const statuses = [status('a', false), status('b', false)];
    const { gate, isOpen, flushes } = gateOver(statuses, 1_000);
    gate.start();
    await advance(120_000);
    expect(isOpen()).toBe(false);
    expect(gate.state).toBe('waiting');
    expect(gate.timedOut).toBe(true);
    expect(flushes()).toBe(0);
    statuses[1] = status('b', true);
    await advance(20);
    expect(isOpen()).toBe(true);
    expect(gate.state).toBe('timed_out');
    expect(flushes()).toBe(1);
  });

  it('a late sync of every cluster after the timeout counts as fully synced', async () => {
    const statuses = [status('a', false)];
    const { gate, isOpen } = gateOver(statuses, 100);
    gate.start();
    await advance(500);
    expect(isOpen()).toBe(false);
    statuses[0] = status('a', true);
    await advance(20);
    expect(isOpen()).toBe(true);
    expect(gate.state).toBe('synced');
  });

  it('stop() ends the polling without opening', async () => {
    const statuses = [status('a', false)];
    const { gate, isOpen } = gateOver(statuses, 100);
    gate.start();
    gate.stop();
    statuses[0] = status('a', true);
    await advance(1_000);
    expect(isOpen()).toBe(false);
  });
});
