// Scopes that follow routes: a client declaring a service also receives the services it routes
// part of its traffic to (split backends), and gains or loses them while connected.
import { describe, expect, it } from 'vitest';
import { PUSH_ORDER } from '../../src/model/index.js';
import { ScopeTable, SharedResponses } from '../../src/xds/bookkeeping/index.js';
import { DeltaState, SotwState, SubscriptionIndex } from '../../src/xds/protocol/index.js';
import { ScopeMembers, type ObservedStream } from '../../src/xds/transport/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { deltaReq, names, node, put, seeded, sotwReq } from './scope-helpers.js';

/** Backends by service, changed by the test; counts every question per service. */
function routes(initial: Record<string, string[]> = {}) {
  const table = new Map(Object.entries(initial));
  const asked = new Map<string, number>();
  return {
    set: (service: string, backends: string[]) => table.set(service, backends),
    asked,
    backendsOf: (service: string): readonly string[] => {
      asked.set(service, (asked.get(service) ?? 0) + 1);
      return table.get(service) ?? [];
    },
  };
}

describe('ScopeTable with routed backends', () => {
  it('covers the declared services and what they route to, one shared scope per declaration', () => {
    const r = routes({ 'cart.shop': ['cart-canary.shop', 'cart.shop'], 'ledger.pay': [] });
    const table = new ScopeTable(undefined, r.backendsOf);
    const a = table.acquire(['cart.shop', 'ledger.pay']);
    const b = table.acquire(['cart.shop', 'ledger.pay']);
    expect(b).toBe(a);
    expect(a.names).toBe(b.names);
    expect(a.declared).toEqual(['cart.shop', 'ledger.pay']);
    expect(a.viaRoutes).toEqual(['cart-canary.shop']);
    expect(a.sorted).toEqual(['cart-canary.shop', 'cart.shop', 'ledger.pay']);
    expect([...a.names].sort()).toEqual(a.sorted);
    // Expanded once, by its first holder.
    expect(r.asked.get('cart.shop')).toBe(1);
  });

  it('on a change of one service, expands again only the scopes declaring it and reports the difference', () => {
    const r = routes({ 'cart.shop': ['cart-canary.shop'] });
    const table = new ScopeTable(undefined, r.backendsOf);
    const web = table.acquire(['cart.shop', 'ledger.pay']);
    const cartOnly = table.acquire(['cart.shop']);
    const other = table.acquire(['auth.id', 'ledger.pay']);
    const otherNames = other.names;
    r.asked.clear();

    r.set('cart.shop', ['cart-v2.shop']);
    const changes = table.refresh(['cart.shop']);
    expect(changes.map((c) => [c.scope.declared, c.added, c.removed])).toEqual([
      [['cart.shop', 'ledger.pay'], ['cart-v2.shop'], ['cart-canary.shop']],
      [['cart.shop'], ['cart-v2.shop'], ['cart-canary.shop']],
    ]);
    expect(web.viaRoutes).toEqual(['cart-v2.shop']);
    expect(cartOnly.names.has('cart-canary.shop')).toBe(false);
    // The scope not declaring cart.shop was not looked at; its Set is the one it had.
    expect(other.names).toBe(otherNames);
    expect(r.asked.has('auth.id')).toBe(false);

    // Nothing moved: no change, and the Set stays the one the subscription index groups by.
    const names = web.names;
    expect(table.refresh(['cart.shop', 'nobody.declares'])).toEqual([]);
    expect(web.names).toBe(names);

    r.set('cart.shop', []);
    expect(table.refresh('all').map((c) => [c.scope.declared, c.removed])).toEqual([
      [['cart.shop', 'ledger.pay'], ['cart-v2.shop']],
      [['cart.shop'], ['cart-v2.shop']],
    ]);
    expect(web.sorted).toBe(web.declared);
  });

  it('follows one level of routes, so cycles and chains end where the declared services point', () => {
    const r = routes({ a: ['b'], b: ['a', 'c'], c: ['d'] });
    const table = new ScopeTable(undefined, r.backendsOf);
    expect(table.acquire(['a']).sorted).toEqual(['a', 'b']);
    expect(table.acquire(['b']).sorted).toEqual(['a', 'b', 'c']);
    expect(table.acquire(['a', 'b']).viaRoutes).toEqual(['c']);
  });

  it('keeps a backend no longer routed to until it has lingered, unless it comes back meanwhile', () => {
    const r = routes({ 'cart.shop': ['cart-canary.shop', 'cart-v2.shop'] });
    const table = new ScopeTable(undefined, r.backendsOf);
    const web = table.acquire(['cart.shop']);
    expect(table.nextSettle(1_000)).toBeUndefined();

    r.set('cart.shop', ['cart-v2.shop']);
    expect(table.refresh(['cart.shop'], 10_000)).toEqual([]);
    expect(web.viaRoutes).toEqual(['cart-canary.shop', 'cart-v2.shop']);
    expect(table.nextSettle(1_000)).toBe(11_000);
    expect(table.settle(10_999, 1_000)).toEqual([]);
    // Dropped again later: it keeps the time it started lingering.
    r.set('cart.shop', []);
    table.refresh(['cart.shop'], 10_500);
    expect(table.nextSettle(1_000)).toBe(11_000);
    expect(table.settle(11_000, 1_000).map((c) => [c.added, c.removed])).toEqual([[[], ['cart-canary.shop']]]);
    expect(web.sorted).toEqual(['cart-v2.shop', 'cart.shop']);
    expect(table.nextSettle(1_000)).toBe(11_500);

    // Routed to again before it went: nothing changes, nothing is left to settle.
    r.set('cart.shop', ['cart-v2.shop']);
    expect(table.refresh(['cart.shop'], 11_200)).toEqual([]);
    expect(table.nextSettle(1_000)).toBeUndefined();
    expect(web.viaRoutes).toEqual(['cart-v2.shop']);

    // A released scope lingers nothing.
    r.set('cart.shop', []);
    table.refresh(['cart.shop'], 12_000);
    table.release(web);
    expect(table.nextSettle(1_000)).toBeUndefined();
  });

  it('forgets a released scope, so a later change of its services finds nothing to do', () => {
    const r = routes({ a: ['b'] });
    const table = new ScopeTable(undefined, r.backendsOf);
    table.release(table.acquire(['a']));
    r.set('a', ['c']);
    expect(table.refresh(['a'])).toEqual([]);
    expect(table.refresh('all')).toEqual([]);
    expect(table.acquire(['a']).viaRoutes).toEqual(['c']);
  });
});

describe('SotwState when its scope follows routes', () => {
  const setup = () => {
    const r = routes();
    const scopes = new ScopeTable(undefined, r.backendsOf);
    const responses = new SharedResponses();
    const stream = () => new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0, scopes, responses });
    return { r, scopes, stream };
  };
  /** Applies a routes change the way the server does: refresh, then every holder of a changed scope. */
  const rescope = (scopes: ScopeTable, services: string[], ...states: SotwState[]): boolean[] =>
    scopes.refresh(services).flatMap((change) => states.filter((s) => s.scope === change.scope).map((s) => s.scopeChanged(change.added, change.removed)));

  it('sends a wildcard CDS the backend a declared service gains and takes it away when it goes; one encoding for all holders', () => {
    const cache = seeded('cart.shop', 'cart-canary.shop', 'auth.id');
    const { r, scopes, stream } = setup();
    const [web1, web2, other] = [stream(), stream(), stream()];
    web1.handleRequest(sotwReq('cluster', { node: node(['cart.shop']) }));
    web2.handleRequest(sotwReq('cluster', { node: node(['cart.shop']) }));
    other.handleRequest(sotwReq('cluster', { node: node(['auth.id']) }));
    for (const s of [web1, web2, other]) {
      const [first] = s.flush(cache);
      s.handleRequest(sotwReq('cluster', { versionInfo: first!.versionInfo, responseNonce: first!.nonce }));
    }

    r.set('cart.shop', ['cart-canary.shop']);
    expect(rescope(scopes, ['cart.shop'], web1, web2, other)).toEqual([true, true]);
    const [a] = web1.flush(cache);
    const [b] = web2.flush(cache);
    expect(names(a)).toEqual(['cart-canary.shop', 'cart.shop']);
    expect(a!.sharedKey).toBeDefined();
    expect(b!.sharedKey).toBe(a!.sharedKey);
    expect(other.flush(cache)).toEqual([]);
    // The backend's changes now reach the client; the declared names alone count against its limits.
    web1.handleRequest(sotwReq('cluster', { versionInfo: a!.versionInfo, responseNonce: a!.nonce }));
    put(cache, 'cluster', 'cart-canary.shop', '2');
    expect(web1.markDirty('cluster', ['cart-canary.shop'])).toBe(true);
    const [c] = web1.flush(cache);
    expect(names(c)).toEqual(['cart-canary.shop', 'cart.shop']);
    expect(web1.nameCount()).toBe(1);
    web1.handleRequest(sotwReq('cluster', { versionInfo: c!.versionInfo, responseNonce: c!.nonce }));

    r.set('cart.shop', []);
    expect(rescope(scopes, ['cart.shop'], web1)).toEqual([true]);
    expect(names(web1.flush(cache)[0])).toEqual(['cart.shop']);
    put(cache, 'cluster', 'cart-canary.shop', '3');
    expect(web1.markDirty('cluster', ['cart-canary.shop'])).toBe(false);
  });

  it('waits for the ACK of a response in flight, then sends the gained backend', () => {
    const cache = seeded('cart.shop', 'cart-canary.shop');
    const { r, scopes, stream } = setup();
    const web = stream();
    web.handleRequest(sotwReq('cluster', { node: node(['cart.shop']) }));
    const [first] = web.flush(cache);
    r.set('cart.shop', ['cart-canary.shop']);
    rescope(scopes, ['cart.shop'], web);
    expect(web.flush(cache)).toEqual([]);
    web.handleRequest(sotwReq('cluster', { versionInfo: first!.versionInfo, responseNonce: first!.nonce }));
    expect(names(web.flush(cache)[0])).toEqual(['cart-canary.shop', 'cart.shop']);
  });

  it('gives a wildcard EDS the gained assignment and forgets a lost one; named subscriptions stay as named', () => {
    const cache = seeded('cart.shop', 'cart-canary.shop');
    const { r, scopes, stream } = setup();
    const wild = stream();
    const named = stream();
    wild.handleRequest(sotwReq('endpoint', { node: node(['cart.shop']), resourceNames: ['*'] }));
    named.handleRequest(sotwReq('endpoint', { node: node(['cart.shop']), resourceNames: ['cart.shop'] }));
    for (const s of [wild, named]) {
      const [first] = s.flush(cache);
      expect(names(first)).toEqual(['cart.shop']);
      s.handleRequest(sotwReq('endpoint', { resourceNames: s === wild ? ['*'] : ['cart.shop'], versionInfo: first!.versionInfo, responseNonce: first!.nonce }));
    }
    r.set('cart.shop', ['cart-canary.shop']);
    expect(rescope(scopes, ['cart.shop'], wild, named)).toEqual([true, false]);
    expect(named.flush(cache)).toEqual([]);
    const [gained] = wild.flush(cache);
    expect(names(gained)).toEqual(['cart-canary.shop']);
    wild.handleRequest(sotwReq('endpoint', { resourceNames: ['*'], versionInfo: gained!.versionInfo, responseNonce: gained!.nonce }));

    r.set('cart.shop', []);
    rescope(scopes, ['cart.shop'], wild);
    expect(wild.flush(cache)).toEqual([]);
    put(cache, 'endpoint', 'cart-canary.shop', 'draining');
    expect(wild.markDirty('endpoint', ['cart-canary.shop'])).toBe(false);
  });

  it('regroups the subscription index under the new Set, so the backend’s changes reach every holder', () => {
    const { r, scopes, stream } = setup();
    const index = new SubscriptionIndex();
    const holders = [stream(), stream()];
    holders.forEach((s, i) => {
      s.handleRequest(sotwReq('cluster', { node: node(['cart.shop']) }));
      index.update(String(i), 'cluster', s.subscription('cluster')!);
    });
    expect(index.subscribers('cluster', 'cart-canary.shop').size).toBe(0);
    r.set('cart.shop', ['cart-canary.shop']);
    scopes.refresh(['cart.shop']);
    holders.forEach((s, i) => index.update(String(i), 'cluster', s.subscription('cluster')!));
    expect([...index.subscribers('cluster', 'cart-canary.shop')].sort()).toEqual(['0', '1']);
    expect(index.groupCount('cluster')).toBe(1);
  });
});

describe('DeltaState when its scope follows routes', () => {
  it('sends a gained backend and puts a lost one in removed_resources, unless the client subscribed to it by name', () => {
    const cache = seeded('cart.shop', 'cart-canary.shop', 'cart-v2.shop');
    const r = routes();
    const scopes = new ScopeTable(undefined, r.backendsOf);
    const s = new DeltaState({ kinds: PUSH_ORDER, ads: true, clock: () => 0, scopes });
    s.handleRequest(deltaReq('cluster', { node: node(['cart.shop']) }));
    const [first] = s.flush(cache);
    expect(names(first)).toEqual(['cart.shop']);
    s.handleRequest(deltaReq('cluster', { responseNonce: first!.nonce }));

    r.set('cart.shop', ['cart-canary.shop', 'cart-v2.shop']);
    const [gain] = scopes.refresh(['cart.shop']);
    expect(s.scopeChanged(gain!.added, gain!.removed)).toBe(true);
    const [second] = s.flush(cache);
    expect(names(second)).toEqual(['cart-canary.shop', 'cart-v2.shop']);
    expect(second!.removed).toEqual([]);
    s.handleRequest(deltaReq('cluster', { responseNonce: second!.nonce, subscribe: ['cart-v2.shop'] }));
    const [resubscribed] = s.flush(cache);
    s.handleRequest(deltaReq('cluster', { responseNonce: resubscribed!.nonce }));

    r.set('cart.shop', []);
    const [loss] = scopes.refresh(['cart.shop']);
    expect(loss!.removed).toEqual(['cart-canary.shop', 'cart-v2.shop']);
    s.scopeChanged(loss!.added, loss!.removed);
    const [third] = s.flush(cache);
    expect(names(third)).toEqual([]);
    expect(third!.removed).toEqual(['cart-canary.shop']);
    s.handleRequest(deltaReq('cluster', { responseNonce: third!.nonce }));
    put(cache, 'cluster', 'cart-canary.shop', '2');
    expect(s.markDirty('cluster', ['cart-canary.shop'])).toBe(false);
    expect(s.nameCount()).toBe(2);
  });
});

describe('ScopeMembers', () => {
  it('tells only the open streams of the changed scopes, goes on past one that throws, and says it in one line', () => {
    const r = routes();
    const table = new ScopeTable(undefined, r.backendsOf);
    const cart = table.acquire(['cart.shop']);
    const auth = table.acquire(['auth.id']);
    const told: string[] = [];
    const stream = (id: string, scope: typeof cart | undefined, fail = false) => ({
      id,
      scope,
      rescoped: (added: readonly string[], removed: readonly string[]) => {
        if (fail) throw new Error('bug');
        told.push(`${id} +${added.join(',')} -${removed.join(',')}`);
        return added.length > 0;
      },
    });
    const streams = new Map([stream('1', cart), stream('2', cart, true), stream('3', cart), stream('4', auth), stream('5', undefined)].map((s) => [s.id, s]));
    const lines: { level: number; msg: string; streams?: number }[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) } });
    const members = new ScopeMembers((id) => streams.get(id), logger);
    for (const id of streams.keys()) members.identified({ id } as ObservedStream);
    members.closed({ id: '3' } as ObservedStream);

    r.set('cart.shop', ['cart-canary.shop']);
    const due = members.rescope(table.refresh(['cart.shop']));
    expect(told).toEqual(['1 +cart-canary.shop -']);
    expect([...due].map((s) => s.id)).toEqual(['1']);
    expect(lines.map((l) => [l.level, l.streams ?? l.msg])).toEqual([
      [50, 'xDS internal error'],
      [30, 2],
    ]);
  });
});
