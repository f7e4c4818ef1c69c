import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { accessGuard } from '../../src/access/index.js';
import { AdminServer, type AdminView, type DrainAnswer, type PodQuery } from '../../src/admin/index.js';

function view(extra: Partial<AdminView> = {}): AdminView {
  return {
    metrics: new Registry(),
    readiness: () => ({ ready: true, reasons: [], xdsServing: true, missingClusters: [], clusters: [] }),
    clients: () => [],
    clusters: () => [],
    services: () => [],
    service: () => undefined,
    drains: () => [],
    ...extra,
  };
}

const servers: AdminServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(v: AdminView, options: ConstructorParameters<typeof AdminServer>[1] = {}): Promise<string> {
  const server = new AdminServer(v, options);
  servers.push(server);
  return `http://127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
}

/** A drainReceipt that holds each waiting caller until released or aborted, recording what it was asked. */
function heldReceipts() {
  const asked: { query: PodQuery; waitMs: number }[] = [];
  const held = new Set<() => void>();
  let aborted = 0;
  const drainReceipt = (query: PodQuery, waitMs: number, signal: AbortSignal): Promise<DrainAnswer> => {
    asked.push({ query, waitMs });
    if (waitMs === 0) return Promise.resolve({ drained: false, final: false, body: { state: 'draining' } });
    return new Promise((resolve) => {
      const release = () => {
        held.delete(release);
        resolve({ drained: true, final: true, body: { state: 'drained' } });
      };
      held.add(release);
      signal.addEventListener('abort', () => {
        aborted += 1;
        held.delete(release);
        resolve({ drained: false, final: false, body: {} });
      });
    });
  };
  return { asked, held, drainReceipt, aborted: () => aborted };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GET /debug/drains/wait', () => {
  it('answers 503 while not drained and 200 once drained, with the query and a capped wait', async () => {
    const r = heldReceipts();
    const base = await serve(view({ drainReceipt: r.drainReceipt }));
    const now = await fetch(`${base}/debug/drains/wait?pod=shop/cart-1&cluster=dc1`);
    expect(now.status).toBe(503);
    const waiting = fetch(`${base}/debug/drains/wait?ip=10.0.0.1&wait=10m`);
    await until(() => r.held.size === 1, 'the waiter');
    for (const release of r.held) release();
    expect((await waiting).status).toBe(200);
    expect(r.asked).toEqual([
      { query: { cluster: 'dc1', namespace: 'shop', name: 'cart-1', ip: undefined }, waitMs: 0 },
      { query: { cluster: undefined, namespace: undefined, name: undefined, ip: '10.0.0.1' }, waitMs: 60_000 },
    ]);
  });

  it('lets a bounded number of callers wait; the next gets 429 with Retry-After, and a freed slot is reused', async () => {
    const r = heldReceipts();
    const base = await serve(view({ drainReceipt: r.drainReceipt }), { maxDrainWaiters: 2 });
    const first = [fetch(`${base}/debug/drains/wait?ip=10.0.0.1&wait=30s`), fetch(`${base}/debug/drains/wait?ip=10.0.0.2&wait=30s`)];
    await until(() => r.held.size === 2, 'two waiters');
    const refused = await fetch(`${base}/debug/drains/wait?ip=10.0.0.3&wait=30s`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    // Asking without waiting is never refused.
    expect((await fetch(`${base}/debug/drains/wait?ip=10.0.0.3`)).status).toBe(503);
    for (const release of [...r.held]) release();
    expect((await Promise.all(first)).map((res) => res.status)).toEqual([200, 200]);
    const again = fetch(`${base}/debug/drains/wait?ip=10.0.0.3&wait=30s`);
    await until(() => r.held.size === 1, 'a waiter in the freed slot');
    for (const release of [...r.held]) release();
    expect((await again).status).toBe(200);
  });

  it('stops waiting for a caller that goes away', async () => {
    const r = heldReceipts();
    const base = await serve(view({ drainReceipt: r.drainReceipt }), { maxDrainWaiters: 1 });
    const gone = new AbortController();
    const request = fetch(`${base}/debug/drains/wait?ip=10.0.0.1&wait=30s`, { signal: gone.signal }).catch(() => undefined);
    await until(() => r.held.size === 1, 'the waiter');
    gone.abort();
    await request;
    await until(() => r.aborted() === 1, 'the abort to reach the view');
    // Its slot is free again.
    const next = fetch(`${base}/debug/drains/wait?ip=10.0.0.2&wait=30s`);
    await until(() => r.held.size === 1, 'the next waiter');
    for (const release of [...r.held]) release();
    expect((await next).status).toBe(200);
  });

  it('refuses a caller without credentials before anything waits, and a malformed query with 400', async () => {
    const r = heldReceipts();
    const remote = accessGuard({ isLoopback: () => false, token: () => 'secret-token' });
    const base = await serve(view({ drainReceipt: r.drainReceipt }), { access: remote });
    expect((await fetch(`${base}/debug/drains/wait?ip=10.0.0.1&wait=30s`)).status).toBe(401);
    expect((await fetch(`${base}/debug/drains/wait?ip=10.0.0.1&wait=30s`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
    expect(r.asked).toEqual([]);
    const bad = await fetch(`${base}/debug/drains/wait?ip=nope`, { headers: { authorization: 'Bearer secret-token' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "ip: 'nope' is not an IP address" });
  });

  it('is absent when the view has no receipts', async () => {
    const base = await serve(view());
    expect((await fetch(`${base}/debug/drains/wait?ip=10.0.0.1`)).status).toBe(404);
    // /debug/drains keeps its list without a pod query.
    expect(await (await fetch(`${base}/debug/drains`)).json()).toEqual([]);
  });
});
