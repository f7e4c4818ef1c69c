import { describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/cache/index.js';
import { PUSH_ORDER, TYPE_URLS, type ResourceKind } from '../../src/model/index.js';
import { DeltaState } from '../../src/xds/protocol/delta-state.js';
import type { DeltaRequest } from '../../src/xds/wire/requests.js';
import type { PlannedDeltaResponse } from '../../src/xds/protocol/types.js';

const put = (cache: ResourceCache, kind: ResourceKind, name: string, body: string): void => {
  cache.apply([{ kind, name, any: Buffer.from(`${kind}:${name}:${body}`) }]);
};
const drop = (cache: ResourceCache, kind: ResourceKind, name: string): void => {
  cache.apply([{ kind, name, any: null }]);
};

function req(kind: ResourceKind, over: Partial<DeltaRequest> = {}): DeltaRequest {
  return { node: undefined, typeUrl: TYPE_URLS[kind], subscribe: [], unsubscribe: [], initialVersions: {}, responseNonce: '', errorDetail: undefined, ...over };
}
const ack = (r: PlannedDeltaResponse, over: Partial<DeltaRequest> = {}): DeltaRequest => req(r.kind, { responseNonce: r.nonce, ...over });
const nack = (r: PlannedDeltaResponse): DeltaRequest => req(r.kind, { responseNonce: r.nonce, errorDetail: { code: 3, message: 'bad' } });
const names = (r: PlannedDeltaResponse | undefined): string[] => (r ? r.resources.map((x) => x.name) : []);

function ads(): DeltaState {
  return new DeltaState({ kinds: PUSH_ORDER, ads: true, clock: () => 1_000 });
}

function seeded(): ResourceCache {
  const cache = new ResourceCache();
  for (const svc of ['a', 'b', 'c']) for (const kind of PUSH_ORDER) put(cache, kind, svc, '1');
  return cache;
}

/** Flushes and expects at most one response. */
function one(s: DeltaState, cache: ResourceCache): PlannedDeltaResponse | undefined {
  const out = s.flush(cache);
  expect(out.length).toBeLessThanOrEqual(1);
  return out[0];
}

describe('DeltaState', () => {
  it('answers a first request without names with every cluster (legacy wildcard)', () => {
    const cache = seeded();
    const s = ads();
    expect(s.handleRequest(req('cluster'))).toMatchObject({ type: 'request', subscriptionChanged: true, stale: false });
    const r = one(s, cache)!;
    expect(names(r)).toEqual(['a', 'b', 'c']);
    expect(r.removed).toEqual([]);
    expect(r.systemVersion).toBe(cache.version('cluster'));
    expect(s.subscription('cluster')?.wildcard).toBe(true);
  });

  it("answers an empty wildcard with an empty response, and '*' like a wildcard", () => {
    const s = ads();
    s.handleRequest(req('cluster', { subscribe: ['*'] }));
    const r = one(s, new ResourceCache());
    expect(r).toMatchObject({ resources: [], removed: [] });
  });

  it('does not make a first named EDS request a wildcard, and sends only its names', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { subscribe: ['a', 'c'] }));
    expect(names(one(s, cache))).toEqual(['a', 'c']);
    expect(s.subscription('endpoint')).toEqual({ wildcard: false, names: new Set(['a', 'c']) });
  });

  it('sends only the changed resource, after the ACK, coalesced', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { subscribe: ['a', 'b'] }));
    const r1 = one(s, cache)!;
    put(cache, 'endpoint', 'b', '2');
    expect(s.markDirty('endpoint', ['b'])).toBe(true);
    put(cache, 'endpoint', 'b', '3');
    s.markDirty('endpoint', ['b']);
    expect(s.flush(cache)).toEqual([]);
    expect(s.handleRequest(ack(r1))).toMatchObject({
      acked: [
        { name: 'a', seq: cache.get('endpoint', 'a')!.seq },
        { name: 'b', seq: r1.resources[1]!.seq },
      ],
    });
    const r2 = one(s, cache)!;
    expect(r2.resources.map((r) => r.any.toString())).toEqual(['endpoint:b:3']);
  });

  it('removes a held resource that goes away, and a subscribed name that does not exist, once', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { subscribe: ['a', 'missing'] }));
    const r1 = one(s, cache)!;
    expect(names(r1)).toEqual(['a']);
    expect(r1.removed).toEqual(['missing']);
    s.handleRequest(ack(r1));
    drop(cache, 'endpoint', 'a');
    s.markDirty('endpoint', ['a', 'missing']);
    const r2 = one(s, cache)!;
    expect(r2).toMatchObject({ resources: [], removed: ['a'] });
    s.handleRequest(ack(r2));
    s.markDirty('endpoint', ['a', 'missing']);
    expect(s.flush(cache)).toEqual([]);
    put(cache, 'endpoint', 'missing', '1');
    s.markDirty('endpoint', ['missing']);
    expect(names(one(s, cache))).toEqual(['missing']);
  });

  it('honours subscribe and unsubscribe on a stale nonce, ignoring only its ACK part', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { subscribe: ['a', 'b'] }));
    const r1 = one(s, cache)!;
    s.handleRequest(ack(r1));
    put(cache, 'endpoint', 'a', '2');
    s.markDirty('endpoint', ['a']);
    const r2 = one(s, cache)!;
    const outcome = s.handleRequest(req('endpoint', { responseNonce: r1.nonce, subscribe: ['c'], unsubscribe: ['b'], errorDetail: { code: 3, message: 'old' } }));
    expect(outcome).toMatchObject({ stale: true, nack: undefined, acked: undefined, subscriptionChanged: true });
    expect(s.subscription('endpoint')?.names).toEqual(new Set(['a', 'c']));
    expect(s.flush(cache)).toEqual([]);
    s.handleRequest(ack(r2));
    const r3 = one(s, cache)!;
    expect(names(r3)).toEqual(['c']);
    expect(r3.removed).toEqual([]);
  });

  it('uses initial_resource_versions: nothing for matching, the changed one, removal for the gone one', () => {
    const cache = seeded();
    const a = cache.get('cluster', 'a')!.version;
    const s = ads();
    s.handleRequest(req('cluster', { initialVersions: { a, b: 'old-version', gone: 'v' } }));
    const r = one(s, cache)!;
    expect(names(r)).toEqual(['b', 'c']);
    expect(r.removed).toEqual(['gone']);

    const same = ads();
    const all = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, cache.get('cluster', n)!.version]));
    same.handleRequest(req('cluster', { initialVersions: all }));
    expect(same.flush(cache)).toEqual([]);
  });

  it('ignores initial versions after the first request and of names it did not subscribe to', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { subscribe: ['a'], initialVersions: { a: cache.get('endpoint', 'a')!.version, b: 'x' } }));
    expect(s.flush(cache)).toEqual([]);
    s.handleRequest(req('endpoint', { subscribe: ['c'], initialVersions: { c: cache.get('endpoint', 'c')!.version } }));
    expect(names(one(s, cache))).toEqual(['c']);
  });

  it('does not re-send a NACKed resource until it changes', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster'));
    const r1 = one(s, cache)!;
    s.handleRequest(ack(r1));
    put(cache, 'cluster', 'a', 'bad');
    s.markDirty('cluster', ['a']);
    const r2 = one(s, cache)!;
    expect(s.handleRequest(nack(r2))).toMatchObject({ nack: { message: 'bad', rejectedVersion: r2.systemVersion } });
    s.markDirty('cluster', ['a']);
    expect(s.flush(cache)).toEqual([]);
    expect(s.info(10).cluster).toMatchObject({ sync: 'nacked', ackedVersion: r1.systemVersion });
    put(cache, 'cluster', 'a', 'good');
    s.markDirty('cluster', ['a']);
    expect(one(s, cache)!.resources.map((r) => r.any.toString())).toEqual(['cluster:a:good']);
  });

  it('re-sends a resource on re-subscription even when unchanged', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { subscribe: ['a'] }));
    const r1 = one(s, cache)!;
    s.handleRequest(ack(r1, { subscribe: ['a'] }));
    expect(names(one(s, cache))).toEqual(['a']);
  });

  it('keeps the wildcard after naming a resource, and answers an unsubscribed name again under it', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster'));
    const r1 = one(s, cache)!;
    s.handleRequest(ack(r1, { subscribe: ['a'] }));
    const r2 = one(s, cache)!;
    s.handleRequest(ack(r2));
    expect(s.subscription('cluster')).toEqual({ wildcard: true, names: new Set(['a']) });
    s.handleRequest(req('cluster', { unsubscribe: ['a'] }));
    expect(names(one(s, cache))).toEqual(['a']);
  });

  it('drops wildcard-held resources silently when the client unsubscribes from *', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster', { subscribe: ['*', 'a'] }));
    const r1 = one(s, cache)!;
    s.handleRequest(ack(r1, { unsubscribe: ['*'] }));
    drop(cache, 'cluster', 'b');
    drop(cache, 'cluster', 'a');
    expect(s.markDirty('cluster', ['b'])).toBe(false);
    expect(s.markDirty('cluster', ['a'])).toBe(true);
    expect(one(s, cache)).toMatchObject({ resources: [], removed: ['a'] });
  });

  it('gives a wildcard LDS subscriber no listeners and a named one its listener', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('listener'));
    expect(one(s, cache)).toMatchObject({ resources: [], removed: [] });
    expect(s.markDirty('listener', ['a'])).toBe(false);
    const named = ads();
    named.handleRequest(req('listener', { subscribe: ['b'] }));
    expect(names(one(named, cache))).toEqual(['b']);
  });

  it('sends CDS before the EDS that depends on it on ADS', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster'));
    const cds = one(s, cache)!;
    s.handleRequest(req('endpoint', { subscribe: ['a'] }));
    const eds = one(s, cache)!;
    s.handleRequest(ack(cds));
    s.handleRequest(ack(eds));
    put(cache, 'cluster', 'a', '2');
    s.markDirty('cluster', ['a']);
    s.markDirty('endpoint', ['a']);
    const both = s.flush(cache);
    expect(both.map((r) => r.kind)).toEqual(['cluster', 'endpoint']);
    // The assignment's bytes did not change; it travels again because its cluster did.
    expect(names(both[1])).toEqual(['a']);
  });

  it('splits a response over the byte cap and sends the rest after the ACK', () => {
    const cache = seeded();
    const s = new DeltaState({ kinds: ['endpoint'], ads: false, clock: () => 0, maxResponseBytes: 1 });
    s.handleRequest(req('endpoint', { subscribe: ['a', 'b'] }));
    const r1 = one(s, cache)!;
    expect(r1.resources.length).toBe(1);
    s.handleRequest(ack(r1));
    const r2 = one(s, cache)!;
    expect([...names(r1), ...names(r2)].sort()).toEqual(['a', 'b']);
  });

  it('ignores unknown and unserved types, and takes the type of a single-type service from an empty type_url', () => {
    const s = new DeltaState({ kinds: ['endpoint'], ads: false, clock: () => 0 });
    expect(s.handleRequest(req('endpoint', { typeUrl: 'type.googleapis.com/x.Y' }))).toEqual({ type: 'ignored', reason: 'unknown_type_url' });
    expect(s.handleRequest(req('cluster'))).toEqual({ type: 'ignored', reason: 'type_not_served' });
    expect(s.handleRequest(req('endpoint', { typeUrl: '', subscribe: ['a'] }))).toMatchObject({ type: 'request', kind: 'endpoint' });
  });

  it('reports per-resource status for CSDS', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { subscribe: ['a', 'b', 'missing'] }));
    const r1 = one(s, cache)!;
    const before = Object.fromEntries([...s.resourceStatuses(cache)].map((x) => [x.name, [x.clientStatus, x.configStatus]]));
    expect(before).toEqual({ a: ['REQUESTED', 'STALE'], b: ['REQUESTED', 'STALE'], missing: ['DOES_NOT_EXIST', 'SYNCED'] });
    s.handleRequest(ack(r1));
    put(cache, 'endpoint', 'b', '2');
    s.markDirty('endpoint', ['b']);
    const r2 = one(s, cache)!;
    s.handleRequest(nack(r2));
    const after = [...s.resourceStatuses(cache)];
    expect(after.find((x) => x.name === 'a')).toMatchObject({ clientStatus: 'ACKED', configStatus: 'SYNCED', version: cache.get('endpoint', 'a')!.version });
    expect(after.find((x) => x.name === 'b')).toMatchObject({
      clientStatus: 'NACKED',
      configStatus: 'ERROR',
      version: r1.resources[1]!.version,
      error: { details: 'bad', version: cache.get('endpoint', 'b')!.version },
    });
  });
});
