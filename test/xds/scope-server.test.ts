import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/index.js';
import { DeltaTestStream } from './delta-helpers.js';
import { startHarness, until, type Harness, type Response } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A Node as an Envoy bootstrap written by `herald bootstrap --egress-service` sends it. */
function scopedNode(id: string, dependencies: string[] | string): Record<string, unknown> {
  const value = typeof dependencies === 'string' ? { stringValue: dependencies } : { listValue: { values: dependencies.map((name) => ({ stringValue: name })) } };
  return { id, cluster: 'web', user_agent_name: 'envoy', metadata: { fields: { 'herald.io/dependencies': value } } };
}

const clusterNames = (r: Response): string[] => r.resources.map((x) => x.name).sort();

async function mesh(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = (harness = await startHarness(options));
  for (const svc of ['cart.shop', 'ledger.pay', 'search.shop', 'auth.id']) {
    h.put('cluster', svc, 'v1');
    h.put('endpoint', svc, 'v1');
  }
  return h;
}

async function gauge(h: Harness, name: 'xdsScopedStreams' | 'xdsDependencyScopes'): Promise<number> {
  return (await h.metrics[name].get()).values[0]?.value ?? 0;
}

describe('dependency scoping over SotW', () => {
  it('serves each declaration its services, shares one scope per declaration, and leaves undeclared clients whole', async () => {
    const h = await mesh();
    const webs = [1, 2, 3].map((i) => {
      const s = h.stream();
      s.request('cluster', { node: scopedNode(`web-${i}`, ['ledger.pay', 'cart.shop']) });
      return s;
    });
    const search = h.stream('cds');
    search.request('cluster', { node: scopedNode('search-1', 'auth.id, search.shop') });
    const whole = h.stream();
    whole.request('cluster', { node: { id: 'old-style', cluster: 'x' } });

    for (const s of webs) expect(clusterNames(await s.next())).toEqual(['cart.shop', 'ledger.pay']);
    expect(clusterNames(await search.next())).toEqual(['auth.id', 'search.shop']);
    expect(clusterNames(await whole.next())).toEqual(['auth.id', 'cart.shop', 'ledger.pay', 'search.shop']);
    expect(await gauge(h, 'xdsScopedStreams')).toBe(4);
    expect(await gauge(h, 'xdsDependencyScopes')).toBe(2);

    const web = h.server.clients().find((c) => c.node?.id === 'web-1')!;
    expect(web.scope).toEqual({ declared: true, count: 2, names: ['cart.shop', 'ledger.pay'], unknownCount: 0, unknown: [], viaRoutesCount: 0, viaRoutes: [] });
    expect(h.server.clients().find((c) => c.node?.id === 'old-style')!.scope).toEqual({ declared: false });

    for (const s of webs) s.cancel();
    await until(() => h.server.clients().length === 2, 2_000, 'the web streams to go');
    expect(await gauge(h, 'xdsScopedStreams')).toBe(1);
    expect(await gauge(h, 'xdsDependencyScopes')).toBe(1);
  });

  it('sends a change of a service only to the streams that declared it (and to undeclared ones)', async () => {
    const h = await mesh();
    const web = h.stream();
    web.request('cluster', { node: scopedNode('web', ['cart.shop']) });
    const other = h.stream();
    other.request('cluster', { node: scopedNode('other', ['auth.id']) });
    const whole = h.stream();
    whole.request('cluster', { node: { id: 'whole' } });
    for (const s of [web, other, whole]) {
      const r = await s.next();
      s.ack(r);
    }
    h.put('cluster', 'cart.shop', 'v2');
    expect((await web.next()).resources.find((r) => r.name === 'cart.shop')?.tag).toBe('v2');
    expect(clusterNames(await whole.next())).toHaveLength(4);
    await other.nothingFor(200);
  });

  it('reports a declared service that does not exist once per client, then serves it when it appears', async () => {
    const lines: { level: number; msg: string; node?: string; unknown?: string[] }[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) } });
    const h = await mesh({ logger });
    const s = h.stream();
    s.request('cluster', { node: scopedNode('web', ['cart.shop', 'payments.pay', 'typo.shop']) });
    const first = await s.next();
    expect(clusterNames(first)).toEqual(['cart.shop']);
    s.ack(first);
    await until(() => lines.some((l) => l.node === 'web'), 2_000, 'the unknown-dependency warning');
    expect(lines.filter((l) => l.node === 'web')).toEqual([expect.objectContaining({ level: 40, unknown: ['payments.pay', 'typo.shop'] })]);
    expect((await h.metrics.xdsUnknownDependencies.get()).values[0]?.value).toBe(2);
    expect(h.server.clients()[0]!.scope).toMatchObject({ unknownCount: 2, unknown: ['payments.pay', 'typo.shop'] });

    h.put('cluster', 'payments.pay', 'v1');
    const second = await s.next();
    expect(clusterNames(second)).toEqual(['cart.shop', 'payments.pay']);
    s.ack(second);
    h.put('cluster', 'cart.shop', 'v2');
    s.ack(await s.next());
    // Later responses do not report again.
    expect(lines.filter((l) => l.node === 'web')).toHaveLength(1);
    expect((await h.metrics.xdsUnknownDependencies.get()).values[0]?.value).toBe(2);
  });

  it('takes a new scope when the client reconnects with another declaration', async () => {
    const h = await mesh();
    const before = h.stream();
    before.request('cluster', { node: scopedNode('web', ['cart.shop']) });
    const r = await before.next();
    expect(clusterNames(r)).toEqual(['cart.shop']);
    // The same stream cannot widen its scope by sending another Node.
    before.request('cluster', { node: scopedNode('web', ['cart.shop', 'auth.id']), version_info: r.version_info, response_nonce: r.nonce });
    await before.nothingFor(150);
    before.cancel();

    const after = h.stream();
    after.request('cluster', { node: scopedNode('web', ['cart.shop', 'auth.id']) });
    expect(clusterNames(await after.next())).toEqual(['auth.id', 'cart.shop']);
  });

  it('counts declared names against --max-names-per-stream', async () => {
    const h = await mesh({ limits: { maxNamesPerStream: 3 } });
    const s = h.stream();
    s.request('cluster', { node: scopedNode('greedy', ['a', 'b', 'c', 'd']) });
    await until(() => s.status !== undefined, 2_000, 'the stream to be refused');
    expect(s.status?.details).toMatch(/4 resource names/);
  });
});

describe('dependency scoping over Delta', () => {
  it('serves the declared subset to a wildcard, and a drain reaches only dependent EDS wildcards', async () => {
    const h = await mesh();
    const client = h.client();
    const web = new DeltaTestStream(client);
    const other = new DeltaTestStream(client);
    web.request('cluster', { node: scopedNode('web', ['cart.shop', 'ledger.pay']) });
    other.request('cluster', { node: scopedNode('other', ['auth.id']) });
    const [w, o] = [await web.next(), await other.next()];
    expect(w.resources.map((r) => r.name).sort()).toEqual(['cart.shop', 'ledger.pay']);
    expect(o.resources.map((r) => r.name)).toEqual(['auth.id']);
    web.ack(w);
    other.ack(o);

    web.request('endpoint', { subscribe: ['*'] });
    other.request('endpoint', { subscribe: ['*'] });
    const [we, oe] = [await web.next(), await other.next()];
    expect(we.resources.map((r) => r.name).sort()).toEqual(['cart.shop', 'ledger.pay']);
    expect(oe.resources.map((r) => r.name)).toEqual(['auth.id']);
    web.ack(we);
    other.ack(oe);
    await until(() => [...h.server.subscribersOf('endpoint', 'cart.shop')].length === 1, 2_000, 'subscriptions');
    expect([...h.server.subscribersOf('endpoint', 'auth.id')]).toHaveLength(1);

    const observedAtMs = Date.now();
    h.put('endpoint', 'cart.shop', 'draining', () => {
      const seq = h.cache.get('endpoint', 'cart.shop')!.seq;
      h.drains.track({ service: 'cart.shop', cluster: 'k1', podKey: 'shop/cart-1', ip: '10.0.0.1', port: 8080, observedAtMs, seq });
    });
    const drained = await web.next();
    expect(drained.resources.map((r) => `${r.name}=${r.tag}`)).toEqual(['cart.shop=draining']);
    expect(h.drains.pending()[0]).toMatchObject({ clients: 1, sent: 1 });
    web.ack(drained);
    await until(() => h.drainResults.length === 1, 2_000, 'drain completion');
    expect(h.drainResults[0]).toMatchObject({ clients: 1, acked: 1, complete: true });
    await other.nothingFor(150);
  });
});
