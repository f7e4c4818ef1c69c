import { describe, expect, it } from 'vitest';
import { ResourceCache, type CachedResource } from '../../src/cache/index.js';
import { PUSH_ORDER } from '../../src/model/index.js';
import { SharedResponses } from '../../src/xds/bookkeeping/shared-responses.js';
import { SotwState } from '../../src/xds/protocol/sotw-state.js';
import type { XdsRequest } from '../../src/xds/wire/requests.js';
import { TYPE_URLS } from '../../src/model/index.js';

const req = (over: Partial<XdsRequest>): XdsRequest => ({
  versionInfo: '',
  node: undefined,
  resourceNames: [],
  typeUrl: TYPE_URLS.endpoint,
  responseNonce: '',
  errorDetail: undefined,
  ...over,
});

function cacheWith(names: string[]): ResourceCache {
  const cache = new ResourceCache();
  cache.apply(names.map((name) => ({ kind: 'endpoint' as const, name, any: Buffer.from(`${name}:1`) })));
  return cache;
}

describe('SharedResponses', () => {
  const resources = (cache: ResourceCache, ...names: string[]): CachedResource[] => names.map((n) => cache.get('endpoint', n)!);

  it('gives equal content one nonce and encodes it once; other content, version or kind another', () => {
    const cache = cacheWith(['a', 'b']);
    const shared = new SharedResponses();
    const nonce = shared.keyFor('endpoint', 'v1', resources(cache, 'a', 'b'));
    expect(shared.keyFor('endpoint', 'v1', resources(cache, 'a', 'b'))).toBe(nonce);
    const others = [
      shared.keyFor('endpoint', 'v1', resources(cache, 'a')),
      shared.keyFor('endpoint', 'v2', resources(cache, 'a', 'b')),
      shared.keyFor('route', 'v1', resources(cache, 'a', 'b')),
    ];
    expect(new Set([nonce, ...others]).size).toBe(4);
    let encodes = 0;
    const encode = (): Buffer => Buffer.from(`bytes ${++encodes}`);
    const first = shared.bytes(nonce, encode);
    expect(shared.bytes(nonce, encode)).toBe(first);
    expect(encodes).toBe(1);
  });

  it('forgets the stalest content past its bound, and never hands out a nonce twice for different content', () => {
    const cache = cacheWith(['a', 'b', 'c']);
    const shared = new SharedResponses(2);
    const a = shared.keyFor('endpoint', 'v', resources(cache, 'a'));
    const b = shared.keyFor('endpoint', 'v', resources(cache, 'b'));
    expect(shared.keyFor('endpoint', 'v', resources(cache, 'a'))).toBe(a);
    const c = shared.keyFor('endpoint', 'v', resources(cache, 'c'));
    expect(shared.size).toBe(2);
    // b was the stalest; it comes back under a new nonce, and its old bytes are gone.
    const b2 = shared.keyFor('endpoint', 'v', resources(cache, 'b'));
    expect(new Set([a, b, c, b2]).size).toBe(4);
    expect(shared.bytes(b, () => Buffer.from('fresh')).toString()).toBe('fresh');
  });

  it('asked the same content again and again (a fan-out), answers the same nonce until that content is forgotten', () => {
    const cache = cacheWith(['a', 'b', 'c']);
    const shared = new SharedResponses(2);
    const a = shared.keyFor('endpoint', 'v', resources(cache, 'a'));
    for (let i = 0; i < 3; i++) expect(shared.keyFor('endpoint', 'v', resources(cache, 'a'))).toBe(a);
    // Same names, other revision: another nonce.
    cache.apply([{ kind: 'endpoint', name: 'a', any: Buffer.from('a:2') }]);
    const a2 = shared.keyFor('endpoint', 'v', resources(cache, 'a'));
    expect(a2).not.toBe(a);
    expect(shared.keyFor('endpoint', 'v', resources(cache, 'a'))).toBe(a2);
    // Other content in between: both keep their nonces while remembered.
    const b1 = shared.keyFor('endpoint', 'v', resources(cache, 'b'));
    expect(shared.keyFor('endpoint', 'v', resources(cache, 'a'))).toBe(a2);
    expect(shared.keyFor('endpoint', 'v', resources(cache, 'b'))).toBe(b1);
    const c = shared.keyFor('endpoint', 'v', resources(cache, 'c'));
    expect(shared.keyFor('endpoint', 'v', resources(cache, 'c'))).toBe(c);
    shared.bytes(c, () => Buffer.from('c'));
    shared.keyFor('endpoint', 'v', resources(cache, 'a'));
    shared.keyFor('endpoint', 'v', resources(cache, 'b'));
    // c was forgotten (bound of 2): asking again mints a new nonce whose bytes are encoded anew, once.
    const c2 = shared.keyFor('endpoint', 'v', resources(cache, 'c'));
    expect(c2).not.toBe(c);
    let encodes = 0;
    shared.bytes(c2, () => Buffer.from(`c ${++encodes}`));
    expect(shared.keyFor('endpoint', 'v', resources(cache, 'c'))).toBe(c2);
    expect(shared.bytes(c2, () => Buffer.from(`c ${++encodes}`)).toString()).toBe('c 1');
  });

  it('never evicts the content a fan-out is asking for, even past its byte bound', () => {
    const cache = cacheWith(['a', 'b']);
    const shared = new SharedResponses(8, 10);
    const a = shared.keyFor('endpoint', 'v', resources(cache, 'a'));
    shared.bytes(a, () => Buffer.alloc(50));
    const b = shared.keyFor('endpoint', 'v', resources(cache, 'b'));
    let encodes = 0;
    shared.bytes(b, () => Buffer.alloc(50, ++encodes));
    // Over the bound: the older content went, the one being fanned out stays with its bytes.
    expect(shared.size).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(shared.keyFor('endpoint', 'v', resources(cache, 'b'))).toBe(b);
      expect(shared.bytes(b, () => Buffer.alloc(50, ++encodes))[0]).toBe(1);
    }
    expect(encodes).toBe(1);
  });

  it('keeps the encoded bytes it remembers under its byte bound, dropping the stalest first', () => {
    const cache = cacheWith(['a', 'b', 'c']);
    const shared = new SharedResponses(64, 250);
    const nonces = ['a', 'b', 'c'].map((name) => {
      const nonce = shared.keyFor('endpoint', 'v', resources(cache, name));
      shared.bytes(nonce, () => Buffer.alloc(100, name));
      return nonce;
    });
    expect(shared.bytesRemembered).toBe(200);
    expect(shared.size).toBe(2);
    // a was dropped: asking for its bytes encodes again; b and c are still shared.
    let encodes = 0;
    shared.bytes(nonces[0]!, () => Buffer.alloc(100, ++encodes));
    shared.bytes(nonces[2]!, () => Buffer.alloc(100, ++encodes));
    expect(encodes).toBe(1);
  });

  it('lets streams in the same state share one encoding under their own random nonces, and a changed resource a new key', () => {
    const cache = cacheWith(['a', 'b']);
    const shared = new SharedResponses();
    const streams = [1, 2, 3].map(() => new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0, responses: shared }));
    const first = streams.map((s) => {
      s.handleRequest(req({ resourceNames: ['a', 'b'] }));
      return s.flush(cache)[0]!;
    });
    expect(new Set(first.map((r) => r.sharedKey)).size).toBe(1);
    expect(new Set(first.map((r) => r.nonce)).size).toBe(3);
    for (const [i, s] of streams.entries()) s.handleRequest(req({ resourceNames: ['a', 'b'], responseNonce: first[i]!.nonce, versionInfo: first[i]!.versionInfo }));

    cache.apply([{ kind: 'endpoint', name: 'b', any: Buffer.from('b:2') }]);
    const second = streams.map((s) => {
      s.markDirty('endpoint', ['b']);
      return s.flush(cache)[0]!;
    });
    expect(second.every((r) => r.resources.length === 1 && r.resources[0]!.name === 'b')).toBe(true);
    expect(new Set(second.map((r) => r.sharedKey)).size).toBe(1);
    expect(second[0]!.sharedKey).not.toBe(first[0]!.sharedKey);
    // Another stream's nonce is one this stream never sent: ignored, and counted as unknown.
    expect(streams[0]!.handleRequest(req({ resourceNames: ['a', 'b'], responseNonce: second[1]!.nonce }))).toEqual({ type: 'stale', kind: 'endpoint', unknownNonce: true });
    expect(streams[0]!.info(10).endpoint?.counts.unknownNonces).toBe(1);
    // Its own nonce settles each stream on its own.
    const outcome = streams[0]!.handleRequest(req({ resourceNames: ['a', 'b'], responseNonce: second[0]!.nonce }));
    expect(outcome).toMatchObject({ type: 'request', acked: [{ name: 'b', seq: cache.get('endpoint', 'b')!.seq }] });
    expect(streams[1]!.info(10).endpoint?.pending).toBe(true);
  });
});
