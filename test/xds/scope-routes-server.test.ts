// Scopes that follow routes, over gRPC: a client that declared `cart.shop` receives the services
// cart.shop routes to (its split backends), gains and loses them live when the routes change,
// and hears the drains of their pods; clients of other services hear none of it.
import { afterEach, describe, expect, it } from 'vitest';
import type { ScopeExpansion } from '../../src/xds/index.js';
import { DeltaTestStream } from './delta-helpers.js';
import { startHarness, until, type Harness, type Response, type TestStream } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Routes the test changes by hand, told to the server as a policy source would tell it. */
class ManualRoutes implements ScopeExpansion {
  private readonly backends = new Map<string, string[]>();
  private readonly listeners = new Set<(services: Iterable<string> | 'all') => void>();

  backendsOf(service: string): readonly string[] {
    return this.backends.get(service) ?? [];
  }

  onChange(listener: (services: Iterable<string> | 'all') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(service: string, backends: string[]): void {
    this.backends.set(service, backends);
    for (const listener of this.listeners) listener([service]);
  }
}

function scopedNode(id: string, dependencies: string[]): Record<string, unknown> {
  return { id, cluster: 'web', user_agent_name: 'envoy', metadata: { fields: { 'herald.io/dependencies': { listValue: { values: dependencies.map((name) => ({ stringValue: name })) } } } } };
}

const sortedNames = (r: { resources: readonly { name: string }[] }): string[] => r.resources.map((x) => x.name).sort();

async function mesh(routes: ManualRoutes, scopeLingerMs = 0): Promise<Harness> {
  const h = (harness = await startHarness({ scopeExpansion: routes, scopeLingerMs }));
  for (const svc of ['cart.shop', 'cart-canary.shop', 'ledger.pay', 'auth.id']) {
    h.put('cluster', svc, 'v1');
    h.put('endpoint', svc, 'v1');
  }
  return h;
}

/** Like an Envoy: takes the CDS response, ACKs it, and asks EDS for exactly the clusters it holds. */
async function followClusters(s: TestStream, cds: Response): Promise<void> {
  s.ack(cds);
  s.request('endpoint', { resource_names: sortedNames(cds) });
}

/** Drains one pod of `service` the way the pipeline does; resolves with the tracked drain's result. */
function drain(h: Harness, service: string): void {
  const observedAtMs = Date.now();
  h.put('endpoint', service, 'draining', () => {
    const seq = h.cache.get('endpoint', service)!.seq;
    h.drains.track({ service, cluster: 'k1', podKey: `shop/${service}-1`, ip: '10.0.0.9', port: 8080, observedAtMs, seq });
  });
}

describe('dependency scopes follow routes over SotW', () => {
  it('gives the dependents of a service the backend it starts routing to, its drains, and takes it away after a linger', async () => {
    const routes = new ManualRoutes();
    const h = await mesh(routes, 300);
    const webs = [1, 2].map((i) => {
      const s = h.stream();
      s.request('cluster', { node: scopedNode(`web-${i}`, ['cart.shop', 'ledger.pay']) });
      return s;
    });
    const other = h.stream();
    other.request('cluster', { node: scopedNode('other', ['auth.id']) });
    const whole = h.stream();
    whole.request('cluster', { node: { id: 'whole' } });
    for (const s of [...webs, other]) {
      const cds = await s.next();
      await followClusters(s, cds);
      s.ack(await s.next(), sortedNames(cds));
    }
    whole.ack(await whole.next());

    // cart.shop starts splitting to its canary (and to a service that does not exist).
    routes.set('cart.shop', ['cart-canary.shop', 'ghost.shop']);
    for (const s of webs) {
      const cds = await s.next();
      expect(sortedNames(cds)).toEqual(['cart-canary.shop', 'cart.shop', 'ledger.pay']);
      await followClusters(s, cds);
      const eds = await s.next();
      expect(sortedNames(eds)).toEqual(['cart-canary.shop']);
      s.ack(eds, sortedNames(cds));
    }
    await other.nothingFor(150);
    await whole.nothingFor(0);

    // The backend's own changes reach its new dependents through the subscription index.
    const webIds = h.server.clients().flatMap((c) => (c.node?.id.startsWith('web-') ? [c.id] : []));
    expect([...h.server.subscribersOf('cluster', 'cart-canary.shop')].sort()).toEqual([...webIds, h.server.clients().find((c) => c.node?.id === 'whole')!.id].sort());
    h.put('cluster', 'cart-canary.shop', 'v2');
    for (const s of webs) {
      const cds = await s.next();
      expect(cds.resources.find((r) => r.name === 'cart-canary.shop')?.tag).toBe('v2');
      s.ack(cds, []);
      // A changed cluster's assignment follows it (Envoy warms the cluster until it arrives).
      const resent = await s.next();
      expect([resent.kind, sortedNames(resent)]).toEqual(['endpoint', ['cart-canary.shop']]);
      s.ack(resent, ['cart-canary.shop', 'cart.shop', 'ledger.pay']);
    }
    whole.ack(await whole.next());
    await other.nothingFor(50);

    const web = h.server.clients().find((c) => c.node?.id === 'web-1')!;
    expect(web.scope).toEqual({
      declared: true,
      count: 2,
      names: ['cart.shop', 'ledger.pay'],
      unknownCount: 0,
      unknown: [],
      viaRoutesCount: 2,
      viaRoutes: ['cart-canary.shop', 'ghost.shop'],
    });
    // A backend that does not exist is Herald's matter, not the client's: no unknown-dependency report.
    expect((await h.metrics.xdsUnknownDependencies.get()).values[0]?.value ?? 0).toBe(0);

    // A canary pod drains: both dependents of cart.shop hear it, the client of auth.id does not.
    drain(h, 'cart-canary.shop');
    for (const s of webs) {
      const drained = await s.next();
      expect(drained.resources.map((r) => `${r.name}=${r.tag}`)).toEqual(['cart-canary.shop=draining']);
      s.ack(drained, ['cart-canary.shop', 'cart.shop', 'ledger.pay']);
    }
    await until(() => h.drainResults.length === 1, 2_000, 'drain completion');
    expect(h.drainResults[0]).toMatchObject({ service: 'cart-canary.shop', clients: 2, acked: 2, complete: true });
    await other.nothingFor(100);

    // The split ends: the canary stays a while, so the route that stops naming it arrives first,
    // then leaves the dependents' CDS, and their index entries with it.
    routes.set('cart.shop', []);
    await webs[0]!.nothingFor(100);
    await webs[1]!.nothingFor(0);
    for (const s of webs) {
      const cds = await s.next();
      expect(sortedNames(cds)).toEqual(['cart.shop', 'ledger.pay']);
      await followClusters(s, cds);
    }
    const wholeId = h.server.clients().find((c) => c.node?.id === 'whole')!.id;
    expect([...h.server.subscribersOf('cluster', 'cart-canary.shop')]).toEqual([wholeId]);
    await until(() => [...h.server.subscribersOf('endpoint', 'cart-canary.shop')].length === 0, 2_000, 'the EDS unsubscriptions');
    expect(h.server.clients().find((c) => c.node?.id === 'web-2')!.scope).toMatchObject({ viaRoutesCount: 0, viaRoutes: [] });
    await other.nothingFor(50);
  });

  it('serves a client that connects after the split its backends from the first response', async () => {
    const routes = new ManualRoutes();
    const h = await mesh(routes);
    routes.set('cart.shop', ['cart-canary.shop']);
    const s = h.stream('cds');
    s.request('cluster', { node: scopedNode('late', ['cart.shop']) });
    expect(sortedNames(await s.next())).toEqual(['cart-canary.shop', 'cart.shop']);
  });
});

describe('dependency scopes follow routes over Delta', () => {
  it('adds the backend to wildcard CDS and EDS, delivers its drains, and removes it with removed_resources', async () => {
    const routes = new ManualRoutes();
    const h = await mesh(routes);
    const client = h.client();
    const web = new DeltaTestStream(client);
    const other = new DeltaTestStream(client);
    web.request('cluster', { node: scopedNode('web', ['cart.shop']) });
    other.request('cluster', { node: scopedNode('other', ['auth.id']) });
    for (const s of [web, other]) {
      s.ack(await s.next());
      s.request('endpoint', { subscribe: ['*'] });
      s.ack(await s.next());
    }

    routes.set('cart.shop', ['cart-canary.shop']);
    const cds = await web.next();
    expect([cds.kind, sortedNames(cds), cds.removed]).toEqual(['cluster', ['cart-canary.shop'], []]);
    web.ack(cds);
    const eds = await web.next();
    expect([eds.kind, sortedNames(eds)]).toEqual(['endpoint', ['cart-canary.shop']]);
    web.ack(eds);
    await other.nothingFor(150);

    drain(h, 'cart-canary.shop');
    const drained = await web.next();
    expect(drained.resources.map((r) => `${r.name}=${r.tag}`)).toEqual(['cart-canary.shop=draining']);
    web.ack(drained);
    await until(() => h.drainResults.length === 1, 2_000, 'drain completion');
    expect(h.drainResults[0]).toMatchObject({ clients: 1, acked: 1, complete: true });
    await other.nothingFor(100);

    routes.set('cart.shop', []);
    const gone = await web.next();
    expect([gone.kind, gone.resources, gone.removed]).toEqual(['cluster', [], ['cart-canary.shop']]);
    web.ack(gone);
    const goneEds = await web.next();
    expect([goneEds.kind, goneEds.resources, goneEds.removed]).toEqual(['endpoint', [], ['cart-canary.shop']]);
    web.ack(goneEds);
    expect([...h.server.subscribersOf('endpoint', 'cart-canary.shop')]).toEqual([]);
    // Its later changes reach nobody.
    h.put('endpoint', 'cart-canary.shop', 'v3');
    await web.nothingFor(100);
    await other.nothingFor(0);
  });
});
