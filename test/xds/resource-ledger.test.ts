import { describe, expect, it } from 'vitest';
import type { CachedResource, ResourceView } from '../../src/cache/index.js';
import { ResourceLedger } from '../../src/xds/bookkeeping/resource-ledger.js';

function viewOf(versions: Record<string, string>): ResourceView {
  return {
    get: (_kind, name) => (versions[name] === undefined ? undefined : ({ name, version: versions[name] } as unknown as CachedResource)),
    list: () => [],
    version: () => '',
  };
}

describe('ResourceLedger', () => {
  it('reports each state, sorted by name', () => {
    const ledger = new ResourceLedger();
    ledger.requested('d-req', 1);
    ledger.sent('c-sent', 'v1', 2);
    ledger.sent('a-acked', 'v1', 3);
    ledger.sent('b-nacked', 'v2', 4);
    ledger.answered([{ name: 'a-acked' }], undefined, 5);
    ledger.answered([{ name: 'b-nacked' }], { message: 'bad' }, 6);
    ledger.absent('e-absent', 7);
    const rows = ledger.statuses('cluster', viewOf({ 'a-acked': 'v1', 'e-absent': 'v9' }));
    expect(rows.map((r) => [r.name, r.clientStatus, r.configStatus, r.version, r.updatedAtMs])).toEqual([
      ['a-acked', 'ACKED', 'SYNCED', 'v1', 5],
      ['b-nacked', 'NACKED', 'ERROR', '', 6],
      ['c-sent', 'REQUESTED', 'STALE', '', 2],
      ['d-req', 'REQUESTED', 'NOT_SENT', '', 1],
      ['e-absent', 'DOES_NOT_EXIST', 'NOT_SENT', '', 7],
    ]);
    expect(rows[1]!.error).toEqual({ details: 'bad', version: 'v2', atMs: 6 });
    expect(rows.filter((r) => r.error !== undefined)).toHaveLength(1);
  });

  it('keeps the NACK and the ACKed version across a resend until the next answer', () => {
    const ledger = new ResourceLedger();
    ledger.sent('x', 'v1', 1);
    ledger.answered([{ name: 'x' }], undefined, 2);
    ledger.sent('x', 'v2', 3);
    ledger.answered([{ name: 'x' }], { message: 'no' }, 4);
    ledger.sent('x', 'v3', 5);
    const [row] = ledger.statuses('route', viewOf({ x: 'v3' }));
    expect(row).toMatchObject({ clientStatus: 'ACKED', configStatus: 'STALE', version: 'v1', updatedAtMs: 5 });
    expect(row!.error).toEqual({ details: 'no', version: 'v2', atMs: 4 });
    ledger.answered([{ name: 'x' }], undefined, 6);
    expect(ledger.statuses('route', viewOf({ x: 'v3' }))[0]).toMatchObject({ clientStatus: 'ACKED', configStatus: 'SYNCED', version: 'v3', error: undefined });
  });

  it('reuses the slot of a forgotten name without leaking its state', () => {
    const ledger = new ResourceLedger();
    for (let i = 0; i < 20; i++) ledger.sent(`n${String(i).padStart(2, '0')}`, 'v', i);
    ledger.answered([{ name: 'n03' }], { message: 'x' }, 100);
    ledger.forget('n03');
    ledger.forget('n04');
    expect(ledger.size).toBe(18);
    ledger.requested('new-a', 200);
    ledger.absent('new-b', 201);
    ledger.requested('new-c', 202);
    expect(ledger.size).toBe(21);
    const rows = ledger.statuses('endpoint', viewOf({}));
    expect(rows.find((r) => r.name === 'n03')).toBeUndefined();
    expect(rows.filter((r) => r.name.startsWith('new-')).map((r) => [r.name, r.clientStatus, r.updatedAtMs, r.error])).toEqual([
      ['new-a', 'REQUESTED', 200, undefined],
      ['new-b', 'DOES_NOT_EXIST', 201, undefined],
      ['new-c', 'REQUESTED', 202, undefined],
    ]);
    expect(rows.find((r) => r.name === 'n19')).toMatchObject({ clientStatus: 'REQUESTED', configStatus: 'STALE', updatedAtMs: 19 });
  });

  it('stores names through the given interner', () => {
    const seen: string[] = [];
    const ledger = new ResourceLedger((name) => (seen.push(name), name));
    ledger.requested('a', 1);
    ledger.requested('a', 2);
    ledger.sent('b', 'v', 3);
    expect(seen).toEqual(['a', 'b']);
  });

  it('finds every name after many adds and forgets (table growth, probe runs, slot reuse)', () => {
    const ledger = new ResourceLedger();
    const model = new Map<string, number>();
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 300;
    for (let step = 0; step < 5_000; step++) {
      const name = `svc-${next()}`;
      if (next() % 3 === 0) {
        ledger.forget(name);
        model.delete(name);
      } else {
        ledger.sent(name, 'v', step);
        model.set(name, step);
      }
    }
    expect(ledger.size).toBe(model.size);
    const rows = ledger.statuses('cluster', viewOf({}));
    expect(rows.map((r) => [r.name, r.updatedAtMs])).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
    for (const name of model.keys()) ledger.forget(name);
    expect(ledger.size).toBe(0);
    expect(ledger.statuses('cluster', viewOf({}))).toEqual([]);
  });
});
