import { describe, expect, it } from 'vitest';
import { declaredDependencies, PUSH_ORDER, TYPE_URLS } from '../../src/model/index.js';
import { ScopeTable } from '../../src/xds/bookkeeping/index.js';
import { DeltaState, SotwState, SubscriptionIndex } from '../../src/xds/protocol/index.js';
import { makeRequestDecoder } from '../../src/xds/wire/index.js';
import type { XdsRequest } from '../../src/xds/wire/requests.js';
import { protos } from './helpers.js';
import { deltaReq, names, node, put, seeded, sotwReq } from './scope-helpers.js';

describe('declaredDependencies', () => {
  it.each([
    { what: 'a comma-separated string', value: 'b.shop, a.shop,,b.shop ', want: ['a.shop', 'b.shop'] },
    { what: 'a list', value: ['ledger.pay', ' a.shop', 'ledger.pay'], want: ['a.shop', 'ledger.pay'] },
    { what: 'a list with values that are not strings', value: ['a', 7, null, { x: 1 }, 'b'], want: ['a', 'b'] },
    { what: 'an empty string (declares nothing: calls no service)', value: '', want: [] },
    { what: 'an empty list', value: [], want: [] },
  ])('reads $what', ({ value, want }) => {
    expect(declaredDependencies(value)).toEqual(want);
  });
});

describe('the Node decoder reads herald.io/dependencies', () => {
  const Request = protos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  const decode = makeRequestDecoder(protos());
  const withMetadata = (fields: Record<string, unknown>): XdsRequest =>
    decode(Buffer.from(Request.encode(Request.fromObject({ type_url: TYPE_URLS.cluster, node: { id: 'n', metadata: { fields } } })).finish())) as XdsRequest;

  it.each([
    { what: 'a ListValue of strings', field: { listValue: { values: [{ stringValue: 'b.shop' }, { stringValue: 'a.shop' }, { numberValue: 3 }] } }, want: ['a.shop', 'b.shop'] },
    { what: 'a comma-separated string', field: { stringValue: 'b.shop,a.shop' }, want: ['a.shop', 'b.shop'] },
    { what: 'an empty list', field: { listValue: {} }, want: [] },
    { what: 'a value of another kind (ignored: no scope)', field: { numberValue: 4 }, want: undefined },
  ])('from $what', ({ field, want }) => {
    expect(withMetadata({ 'herald.io/dependencies': field }).node?.dependencies).toEqual(want);
  });

  it('leaves a Node without the key unscoped', () => {
    expect(withMetadata({ 'herald.io/namespace': { stringValue: 'shop' } }).node?.dependencies).toBeUndefined();
  });
});

describe('ScopeTable', () => {
  it('hands equal declarations one shared Set and drops it with its last holder', () => {
    const table = new ScopeTable();
    const a = table.acquire(['a', 'b']);
    const b = table.acquire(['a', 'b']);
    const c = table.acquire(['a']);
    expect(a.names).toBe(b.names);
    expect(table.size).toBe(2);
    table.release(a);
    expect(table.size).toBe(2);
    table.release(b);
    table.release(c);
    expect(table.size).toBe(0);
  });
});

describe('SotwState with a declared scope', () => {
  const ads = (scopes = new ScopeTable()) => new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0, scopes });

  it("keeps the scope's one list of declared names in each stream's Node, not a copy per stream", () => {
    const scopes = new ScopeTable();
    const [first, second] = [ads(scopes), ads(scopes)];
    first.handleRequest(sotwReq('cluster', { node: node(['b.shop', 'a.shop'].sort()) }));
    second.handleRequest(sotwReq('cluster', { node: node(['a.shop', 'b.shop']) }));
    expect(first.node?.dependencies).toEqual(['a.shop', 'b.shop']);
    expect(first.node?.dependencies).toBe(second.node?.dependencies);
    expect(first.node?.id).toBe('n');
  });

  it('answers a wildcard CDS with just the declared services, and serves a declared one once it appears', () => {
    const cache = seeded('a', 'b', 'c');
    const s = ads();
    s.handleRequest(sotwReq('cluster', { node: node(['a', 'c', 'later']) }));
    const [first] = s.flush(cache);
    expect(names(first)).toEqual(['a', 'c']);
    s.handleRequest(sotwReq('cluster', { versionInfo: first!.versionInfo, responseNonce: first!.nonce }));

    // A service outside the scope changes or appears: nothing for this stream.
    put(cache, 'cluster', 'b', '2');
    put(cache, 'cluster', 'd', '1');
    expect(s.markDirty('cluster', ['b', 'd'])).toBe(false);
    expect(s.flush(cache)).toEqual([]);

    put(cache, 'cluster', 'later', '1');
    expect(s.markDirty('cluster', ['later'])).toBe(true);
    const [second] = s.flush(cache);
    expect(names(second)).toEqual(['a', 'c', 'later']);
  });

  it('keeps a wildcard without metadata whole (today behaviour)', () => {
    const cache = seeded('a', 'b');
    const s = ads();
    s.handleRequest(sotwReq('cluster', { node: node() }));
    expect(names(s.flush(cache)[0])).toEqual(['a', 'b']);
    expect(s.scope).toBeUndefined();
  });

  it('gives an empty declaration no clusters', () => {
    const cache = seeded('a');
    const s = ads();
    s.handleRequest(sotwReq('cluster', { node: node([]) }));
    const [r] = s.flush(cache);
    expect(r?.kind).toBe('cluster');
    expect(names(r)).toEqual([]);
  });

  it('serves EDS by name as asked, and a wildcard EDS within the scope', () => {
    const cache = seeded('a', 'b', 'c');
    const s = ads();
    s.handleRequest(sotwReq('endpoint', { node: node(['a']), resourceNames: ['b'] }));
    expect(names(s.flush(cache)[0])).toEqual(['b']);
    const t = ads();
    t.handleRequest(sotwReq('endpoint', { node: node(['a']), resourceNames: ['*'] }));
    expect(names(t.flush(cache)[0])).toEqual(['a']);
    put(cache, 'endpoint', 'c', '2');
    expect(t.markDirty('endpoint', ['c'])).toBe(false);
  });

  it('takes the scope from the first request only', () => {
    const cache = seeded('a', 'b');
    const s = ads();
    s.handleRequest(sotwReq('cluster', { node: node(['a']) }));
    const [r] = s.flush(cache);
    s.handleRequest(sotwReq('cluster', { node: node(['b']), versionInfo: r!.versionInfo, responseNonce: r!.nonce }));
    expect(s.scope?.declared).toEqual(['a']);
    const late = ads();
    late.handleRequest(sotwReq('cluster'));
    late.handleRequest(sotwReq('endpoint', { node: node(['a']), resourceNames: ['a'] }));
    expect(late.scope).toBeUndefined();
  });

  it('counts the declared names against the stream and lets the shared scope go on dispose', () => {
    const scopes = new ScopeTable();
    const s = ads(scopes);
    const t = ads(scopes);
    s.handleRequest(sotwReq('cluster', { node: node(['a', 'b', 'c']) }));
    t.handleRequest(sotwReq('cluster', { node: node(['a', 'b', 'c']) }));
    expect(s.nameCount()).toBe(3);
    expect(s.subscription('cluster')?.scope).toBe(t.subscription('cluster')?.scope);
    expect(scopes.size).toBe(1);
    s.dispose();
    t.dispose();
    expect(scopes.size).toBe(0);
  });
});

describe('DeltaState with a declared scope', () => {
  const ads = () => new DeltaState({ kinds: PUSH_ORDER, ads: true, clock: () => 0 });

  it('answers a wildcard with the declared services only, adds one that appears and removes one that goes', () => {
    const cache = seeded('a', 'b', 'c');
    const s = ads();
    s.handleRequest(deltaReq('cluster', { node: node(['a', 'later']) }));
    const [first] = s.flush(cache);
    expect(names(first)).toEqual(['a']);
    expect(first!.removed).toEqual([]);
    s.handleRequest(deltaReq('cluster', { responseNonce: first!.nonce }));

    put(cache, 'cluster', 'b', '2');
    expect(s.markDirty('cluster', ['b'])).toBe(false);
    put(cache, 'cluster', 'later', '1');
    expect(s.markDirty('cluster', ['later'])).toBe(true);
    const [second] = s.flush(cache);
    expect(names(second)).toEqual(['later']);
    s.handleRequest(deltaReq('cluster', { responseNonce: second!.nonce }));

    cache.apply([{ kind: 'cluster', name: 'a', any: null }]);
    expect(s.markDirty('cluster', ['a'])).toBe(true);
    expect(s.flush(cache)[0]?.removed).toEqual(['a']);
  });

  it('still serves a name subscribed explicitly outside the scope', () => {
    const cache = seeded('a', 'b');
    const s = ads();
    s.handleRequest(deltaReq('cluster', { node: node(['a']), subscribe: ['*', 'b'] }));
    expect(names(s.flush(cache)[0])).toEqual(['a', 'b']);
    expect(s.subscription('cluster')).toMatchObject({ wildcard: true, names: new Set(['b']) });
  });
});

describe('SubscriptionIndex with scopes', () => {
  it('groups every stream of one declaration under its Set and reaches them only for their names', () => {
    const index = new SubscriptionIndex();
    const scope = new Set(['a', 'b']);
    for (let id = 1; id <= 100; id++) index.update(String(id), 'cluster', { wildcard: true, names: new Set(), scope });
    index.update('other', 'cluster', { wildcard: true, names: new Set(), scope: new Set(['c']) });
    index.update('whole', 'cluster', { wildcard: true, names: new Set() });
    index.update('mixed', 'cluster', { wildcard: true, names: new Set(['x']), scope });
    expect(index.groupCount('cluster')).toBe(4);
    expect(index.subscribers('cluster', 'a').size).toBe(102);
    expect([...index.subscribers('cluster', 'c')].sort()).toEqual(['other', 'whole']);
    expect([...index.subscribers('cluster', 'x')].sort()).toEqual(['mixed', 'whole']);
    const visited: string[] = [];
    index.forEachInterested('cluster', new Set(['c', 'zzz']), (id) => visited.push(id));
    expect(visited.sort()).toEqual(['other', 'whole']);

    for (let id = 1; id <= 100; id++) index.remove(String(id));
    expect(index.subscribers('cluster', 'a').size).toBe(2);
  });
});
