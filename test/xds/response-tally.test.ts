import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { PUSH_ORDER, type ResourceKind } from '../../src/model/index.js';
import { ResponseTally, type ResponseCounters } from '../../src/xds/bookkeeping/response-tally.js';

function tallyWithRegistry(): { tally: ResponseTally; value: (metric: string, type: ResourceKind) => Promise<number> } {
  const registry = new Registry();
  const responses = new Counter({ name: 'responses_total', help: 'r', labelNames: ['type'], registers: [registry] });
  const bytes = new Counter({ name: 'bytes_total', help: 'b', labelNames: ['type'], registers: [registry] });
  const counters = Object.fromEntries(PUSH_ORDER.map((type) => [type, { responses: responses.labels({ type }), bytes: bytes.labels({ type }) }])) as Record<ResourceKind, ResponseCounters>;
  const value = async (metric: string, type: ResourceKind): Promise<number> => {
    const counter = metric === 'responses' ? responses : bytes;
    return (await counter.get()).values.find((v) => v.labels.type === type)?.value ?? 0;
  };
  return { tally: new ResponseTally(counters), value };
}

describe('ResponseTally', () => {
  it('adds a run of writes to the counters by type once the run ends', async () => {
    const { tally, value } = tallyWithRegistry();
    for (let i = 0; i < 1_000; i++) tally.add('endpoint', 1_700);
    tally.add('cluster', 300);
    tally.add('cluster', 200);
    await Promise.resolve();
    expect(await value('responses', 'endpoint')).toBe(1_000);
    expect(await value('bytes', 'endpoint')).toBe(1_700_000);
    expect(await value('responses', 'cluster')).toBe(2);
    expect(await value('bytes', 'cluster')).toBe(500);
    expect(await value('responses', 'listener')).toBe(0);
  });

  it('holds back nothing across runs and flushes on demand', async () => {
    const { tally, value } = tallyWithRegistry();
    tally.add('route', 10);
    tally.flush();
    expect(await value('responses', 'route')).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    tally.add('route', 5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await value('responses', 'route')).toBe(2);
    expect(await value('bytes', 'route')).toBe(15);
  });

  it('hands a run over when it ends, not write by write', async () => {
    const { tally, value } = tallyWithRegistry();
    tally.add('endpoint', 7);
    // Read in the same synchronous run as the write: not handed over yet.
    const during = value('responses', 'endpoint');
    await Promise.resolve();
    const after = value('responses', 'endpoint');
    expect(await during).toBe(0);
    expect(await after).toBe(1);
  });
});
