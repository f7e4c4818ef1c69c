import { describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/cache/index.js';
import { PUSH_ORDER, TYPE_URLS, type ResourceKind } from '../../src/model/index.js';
import { SotwState, type PlannedResponse } from '../../src/xds/protocol/sotw-state.js';
import type { XdsRequest } from '../../src/xds/wire/requests.js';

const put = (cache: ResourceCache, kind: ResourceKind, name: string, body: string): void => {
  cache.apply([{ kind, name, any: Buffer.from(`${kind}:${name}:${body}`) }]);
};

function req(kind: ResourceKind, over: Partial<XdsRequest> = {}): XdsRequest {
  return { versionInfo: '', node: undefined, resourceNames: [], typeUrl: TYPE_URLS[kind], responseNonce: '', errorDetail: undefined, ...over };
}

const ack = (r: PlannedResponse, names: string[] = []): XdsRequest => req(r.kind, { versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames: names });
const nack = (r: PlannedResponse, names: string[] = [], version = ''): XdsRequest =>
  req(r.kind, { versionInfo: version, responseNonce: r.nonce, resourceNames: names, errorDetail: { code: 3, message: 'bad' } });
const names = (r: PlannedResponse | undefined): string[] => (r ? r.resources.map((x) => x.name) : []);

function ads(): SotwState {
  return new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0 });
}

function seeded(): ResourceCache {
  const cache = new ResourceCache();
  for (const svc of ['a', 'b', 'c']) {
    put(cache, 'cluster', svc, '1');
    put(cache, 'endpoint', svc, '1');
    put(cache, 'listener', svc, '1');
    put(cache, 'route', svc, '1');
  }
  return cache;
}

describe('SotwState', () => {
  it('answers a wildcard CDS request with the full state and the kind version', () => {
    const cache = seeded();
    const s = ads();
    expect(s.handleRequest(req('cluster', { node: { id: 'n1', cluster: 'c', locality: undefined, userAgent: '' } }))).toMatchObject({ type: 'request', subscriptionChanged: true });
    const [r] = s.flush(cache);
    expect(r).toMatchObject({ kind: 'cluster', versionInfo: cache.version('cluster') });
    expect(names(r)).toEqual(['a', 'b', 'c']);
    expect(s.subscription('cluster')).toEqual({ wildcard: true, names: new Set() });
    expect(s.node?.id).toBe('n1');
  });

  it("treats '*' as wildcard and keeps the first request's node", () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster', { resourceNames: ['*'], node: { id: 'first', cluster: '', locality: undefined, userAgent: '' } }));
    const [r] = s.flush(cache);
    expect(names(r)).toEqual(['a', 'b', 'c']);
    s.handleRequest({ ...ack(r!, ['*']), node: { id: 'second', cluster: '', locality: undefined, userAgent: '' } });
    expect(s.node?.id).toBe('first');
  });

  it('sends named EDS subscribers only their names, then only what changed', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: ['a', 'b'] }));
    const [first] = s.flush(cache);
    expect(names(first)).toEqual(['a', 'b']);
    s.handleRequest(ack(first!, ['a', 'b']));
    put(cache, 'endpoint', 'b', '2');
    put(cache, 'endpoint', 'c', '2');
    expect(s.markDirty('endpoint', ['b'])).toBe(true);
    expect(s.markDirty('endpoint', ['c'])).toBe(false);
    const [second] = s.flush(cache);
    expect(names(second)).toEqual(['b']);
    expect(second!.resources[0]!.any.toString()).toBe('endpoint:b:2');
  });

  it('answers nothing to a stale nonce, takes its names, and answers once the current response is', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: ['a'] }));
    const [r1] = s.flush(cache);
    s.handleRequest(ack(r1!, ['a']));
    put(cache, 'endpoint', 'a', '2');
    s.markDirty('endpoint', ['a']);
    const [r2] = s.flush(cache);
    // The same names under the older nonce: nothing at all happens.
    expect(s.handleRequest(ack(r1!, ['a']))).toEqual({ type: 'stale', kind: 'endpoint', unknownNonce: false });
    // More names under the older nonce: no ACK, no response, but the names are the client's now.
    expect(s.handleRequest(ack(r1!, ['a', 'b']))).toEqual({ type: 'request', kind: 'endpoint', acked: undefined, nack: undefined, subscriptionChanged: true, stale: true });
    expect(s.flush(cache)).toEqual([]);
    expect(s.subscription('endpoint')?.names).toEqual(new Set(['a', 'b']));
    const outcome = s.handleRequest(ack(r2!, ['a', 'b']));
    expect(outcome).toMatchObject({ type: 'request', subscriptionChanged: false, acked: [{ name: 'a', seq: cache.get('endpoint', 'a')!.seq }] });
    expect(names(s.flush(cache)[0])).toEqual(['b']);
  });

  it('lets an unanswered response go when a stale request drops every name (grpc-java never answers it then)', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster', { resourceNames: ['a'] }));
    const [r1] = s.flush(cache);
    s.handleRequest(ack(r1!, ['a']));
    put(cache, 'cluster', 'a', '2');
    s.markDirty('cluster', ['a']);
    const [r2] = s.flush(cache);
    expect(r2?.kind).toBe('cluster');
    // The client stopped using the cluster before it read r2: it unsubscribes under r1's nonce.
    expect(s.handleRequest(ack(r1!, []))).toMatchObject({ type: 'request', subscriptionChanged: true, stale: true });
    expect(s.info(10).cluster).toMatchObject({ pending: false, subscription: { wildcard: false, nameCount: 0 } });
    expect(s.flush(cache)).toEqual([]);
    expect(s.info(10).cluster).toMatchObject({ pending: false, sync: 'synced' });
    put(cache, 'cluster', 'a', '3');
    expect(s.markDirty('cluster', ['a'])).toBe(false);
    expect(s.flush(cache)).toEqual([]);
    // Using it again later, with the newest nonce it saw, gets the current state.
    s.handleRequest(ack(r2!, ['a']));
    const [r3] = s.flush(cache);
    expect(names(r3)).toEqual(['a']);
    expect(r3!.resources[0]!.any.toString()).toBe('cluster:a:3');
  });

  it('keeps at most one unACKed response per type and coalesces newer state', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: ['a', 'b'] }));
    const [r1] = s.flush(cache);
    put(cache, 'endpoint', 'a', '2');
    s.markDirty('endpoint', ['a']);
    put(cache, 'endpoint', 'a', '3');
    s.markDirty('endpoint', ['a']);
    put(cache, 'endpoint', 'b', '3');
    s.markDirty('endpoint', ['b']);
    expect(s.flush(cache)).toEqual([]);
    expect(s.info(10).endpoint).toMatchObject({ pending: true, dirty: true });
    s.handleRequest(ack(r1!, ['a', 'b']));
    const out = s.flush(cache);
    expect(out).toHaveLength(1);
    expect(out[0]!.resources.map((x) => x.any.toString())).toEqual(['endpoint:a:3', 'endpoint:b:3']);
  });

  it('decides NACK by error_detail even when version_info is the new version, and does not re-send', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster'));
    const [r1] = s.flush(cache);
    s.handleRequest(ack(r1!));
    put(cache, 'cluster', 'a', '2');
    s.markDirty('cluster', ['a']);
    const [r2] = s.flush(cache);
    const outcome = s.handleRequest(nack(r2!, [], r2!.versionInfo));
    expect(outcome).toMatchObject({ type: 'request', acked: undefined, nack: { version: r2!.versionInfo, message: 'bad' } });
    expect(s.flush(cache)).toEqual([]);
    // Another request on the same nonce (no change) still sends nothing.
    s.handleRequest(ack(r2!));
    expect(s.flush(cache)).toEqual([]);
    expect(s.info(10).cluster).toMatchObject({ ackedVersion: r1!.versionInfo, lastNack: { message: 'bad' } });
    put(cache, 'cluster', 'a', '3');
    s.markDirty('cluster', ['a']);
    const [r3] = s.flush(cache);
    expect(r3!.resources.find((x) => x.name === 'a')!.any.toString()).toBe('cluster:a:3');
  });

  it('does not re-send a NACKed assignment until it changes', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: ['a'] }));
    const [r1] = s.flush(cache);
    s.handleRequest(nack(r1!, ['a']));
    expect(s.flush(cache)).toEqual([]);
    put(cache, 'endpoint', 'a', '2');
    s.markDirty('endpoint', ['a']);
    expect(names(s.flush(cache)[0])).toEqual(['a']);
  });

  it('gives a re-subscribed name the current resource even though it was sent before', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: ['a', 'b'] }));
    const [r1] = s.flush(cache);
    s.handleRequest(ack(r1!, ['a']));
    expect(s.flush(cache)).toEqual([]);
    s.handleRequest(ack(r1!, ['a', 'b']));
    expect(names(s.flush(cache)[0])).toEqual(['b']);
  });

  it('answers a changed CDS subscription with the full current state even if versions match', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster', { resourceNames: ['a'] }));
    const [r1] = s.flush(cache);
    s.handleRequest(ack(r1!, ['a', 'b']));
    const [r2] = s.flush(cache);
    expect(r2!.versionInfo).toBe(r1!.versionInfo);
    expect(names(r2)).toEqual(['a', 'b']);
  });

  it('answers a new stream whose first request carries an old version and no nonce', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster', { versionInfo: cache.version('cluster') }));
    expect(names(s.flush(cache)[0])).toEqual(['a', 'b', 'c']);
    s.handleRequest(req('endpoint', { versionInfo: cache.version('endpoint'), resourceNames: ['c'] }));
    expect(names(s.flush(cache)[0])).toEqual(['c']);
  });

  it('pushes CDS before EDS and holds EDS while a cluster update waits for its ACK', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: ['a'] }));
    s.handleRequest(req('cluster'));
    const first = s.flush(cache);
    expect(first.map((r) => r.kind)).toEqual(['cluster', 'endpoint']);
    const [cds, eds] = first;
    s.handleRequest(ack(eds!, ['a']));
    // CDS still unACKed; a cluster change re-marks its assignment (cache rule).
    const changes = cache.apply([{ kind: 'cluster', name: 'a', any: Buffer.from('cluster:a:2') }]);
    for (const [kind, changed] of changes) s.markDirty(kind, changed);
    expect(s.flush(cache)).toEqual([]);
    s.handleRequest(ack(cds!));
    const out = s.flush(cache);
    expect(out.map((r) => r.kind)).toEqual(['cluster', 'endpoint']);
    expect(names(out[1])).toEqual(['a']);
  });

  it('flushes in push order whatever order the types were first requested in', () => {
    const cache = seeded();
    const s = ads();
    for (const kind of ['route', 'endpoint', 'listener', 'cluster'] as const) s.handleRequest(req(kind, { resourceNames: ['a'] }));
    expect(s.flush(cache).map((r) => r.kind)).toEqual([...PUSH_ORDER]);
  });

  it('gives a wildcard LDS request an empty list and a named one its listeners', () => {
    const cache = seeded();
    const sidecar = ads();
    sidecar.handleRequest(req('listener'));
    const [r] = sidecar.flush(cache);
    expect(r).toMatchObject({ kind: 'listener', resources: [] });
    sidecar.handleRequest(ack(r!));
    put(cache, 'listener', 'a', '2');
    sidecar.markDirty('listener', ['a']);
    expect(sidecar.flush(cache)).toEqual([]);

    const proxyless = ads();
    proxyless.handleRequest(req('listener', { resourceNames: ['b', 'missing'] }));
    expect(names(proxyless.flush(cache)[0])).toEqual(['b']);
  });

  it('answers a named LDS request even when the listener does not exist yet', () => {
    const s = ads();
    const cache = new ResourceCache();
    s.handleRequest(req('listener', { resourceNames: ['nope'] }));
    expect(s.flush(cache)).toMatchObject([{ kind: 'listener', resources: [] }]);
  });

  it('ignores unknown type URLs and types a per-type stream does not serve', () => {
    const s = ads();
    expect(s.handleRequest(req('cluster', { typeUrl: 'type.googleapis.com/nope' }))).toEqual({ type: 'ignored', reason: 'unknown_type_url' });
    const cds = new SotwState({ kinds: ['cluster'], ads: false, clock: () => 0 });
    expect(cds.handleRequest(req('endpoint'))).toEqual({ type: 'ignored', reason: 'type_not_served' });
    expect(cds.handleRequest(req('cluster', { typeUrl: '' }))).toMatchObject({ type: 'request', kind: 'cluster' });
  });

  it('treats an empty list after a named CDS subscription as no clusters, not wildcard', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster', { resourceNames: ['a'] }));
    const [r1] = s.flush(cache);
    s.handleRequest(ack(r1!, []));
    expect(s.subscription('cluster')).toEqual({ wildcard: false, names: new Set() });
    // Nothing to say: the client dropped its clusters itself (and grpc-java would not ACK an answer).
    expect(s.flush(cache)).toEqual([]);
    expect(s.info(10).cluster).toMatchObject({ pending: false, dirty: false, sync: 'synced' });
    // Naming a cluster again gets it, though it was sent before.
    s.handleRequest(ack(r1!, ['a']));
    expect(names(s.flush(cache)[0])).toEqual(['a']);
  });

  // The second list arrives in the ACK of the first one's response.
  it.each([
    { first: ['a', 'b', 'c'], then: ['a', 'b', 'c'], changed: false, wildcard: false },
    { first: ['a', 'b', 'c'], then: ['c', 'a', 'b'], changed: false, wildcard: false },
    { first: ['a', 'b'], then: ['a', 'a'], changed: true, wildcard: false },
    { first: ['a', 'a'], then: ['a', 'b'], changed: true, wildcard: false },
    { first: ['a', 'a'], then: ['a'], changed: false, wildcard: false },
    { first: ['a', 'b'], then: ['a', 'b', '*'], changed: true, wildcard: true },
    { first: ['a', '*'], then: ['a', '*'], changed: false, wildcard: true },
    { first: ['a', '*'], then: ['a'], changed: true, wildcard: false },
    { first: ['a', 'b'], then: ['a'], changed: true, wildcard: false },
  ])('takes $then after $first as changed: $changed', ({ first, then, changed, wildcard }) => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: first }));
    const [r] = s.flush(cache);
    expect(s.handleRequest(ack(r!, then))).toMatchObject({ type: 'request', subscriptionChanged: changed });
    expect(s.subscription('endpoint')).toEqual({ wildcard, names: new Set(then.filter((name) => name !== '*')) });
  });

  it('keeps legacy wildcard when a wildcard client repeats an empty list', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('cluster'));
    const [r1] = s.flush(cache);
    expect(s.handleRequest(ack(r1!))).toMatchObject({ subscriptionChanged: false });
    expect(s.subscription('cluster')?.wildcard).toBe(true);
  });

  it('sends a removed assignment again when it comes back', () => {
    const cache = seeded();
    const s = ads();
    s.handleRequest(req('endpoint', { resourceNames: ['a'] }));
    const [r1] = s.flush(cache);
    s.handleRequest(ack(r1!, ['a']));
    cache.apply([{ kind: 'endpoint', name: 'a', any: null }]);
    s.markDirty('endpoint', ['a']);
    expect(s.flush(cache)).toEqual([]);
    put(cache, 'endpoint', 'a', '1');
    s.markDirty('endpoint', ['a']);
    expect(names(s.flush(cache)[0])).toEqual(['a']);
  });

  it('splits a large EDS update over several responses, one per ACK', () => {
    const cache = new ResourceCache();
    for (const n of ['a', 'b', 'c']) cache.apply([{ kind: 'endpoint', name: n, any: Buffer.alloc(600, n) }]);
    const s = new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0, maxResponseBytes: 1000 });
    s.handleRequest(req('endpoint', { resourceNames: ['a', 'b', 'c'] }));
    const seen: string[][] = [];
    for (let i = 0; i < 5; i++) {
      const [r] = s.flush(cache);
      if (!r) break;
      seen.push(names(r));
      s.handleRequest(ack(r, ['a', 'b', 'c']));
    }
    expect(seen).toHaveLength(3);
    expect(seen.flat().sort()).toEqual(['a', 'b', 'c']);
  });

  it('keeps a per-resource record for CSDS: full-state omissions, named misses, NACKs and unchanged resources', () => {
    const cache = seeded();
    const s = ads();
    const status = (): Record<string, string> => Object.fromEntries([...s.resourceStatuses(cache)].map((x) => [`${x.kind}/${x.name}`, `${x.clientStatus}/${x.configStatus}`]));
    s.handleRequest(req('cluster', { resourceNames: ['a', 'ghost'] }));
    const [c1] = s.flush(cache);
    s.handleRequest(ack(c1!, ['a', 'ghost']));
    // A full-state response without a named resource tells the client it does not exist.
    expect(status()).toEqual({ 'cluster/a': 'ACKED/SYNCED', 'cluster/ghost': 'DOES_NOT_EXIST/SYNCED' });

    s.handleRequest(req('cluster', { resourceNames: ['a', 'b'], versionInfo: c1!.versionInfo, responseNonce: c1!.nonce }));
    const [c2] = s.flush(cache);
    s.handleRequest(nack(c2!, ['a', 'b']));
    // Only what the rejected response changed is NACKed; a is unchanged and still runs.
    expect(status()).toEqual({ 'cluster/a': 'ACKED/SYNCED', 'cluster/b': 'NACKED/ERROR' });

    s.handleRequest(req('endpoint', { resourceNames: ['a', 'nope'] }));
    const [e1] = s.flush(cache);
    expect(status()).toMatchObject({ 'endpoint/a': 'REQUESTED/STALE', 'endpoint/nope': 'REQUESTED/NOT_SENT' });
    s.handleRequest(ack(e1!, ['nope']));
    expect(status()).toMatchObject({ 'endpoint/nope': 'REQUESTED/NOT_SENT' });
    expect(Object.keys(status())).not.toContain('endpoint/a');
  });
});
