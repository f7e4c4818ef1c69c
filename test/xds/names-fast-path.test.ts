import { describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/cache/index.js';
import { PUSH_ORDER, TYPE_URLS } from '../../src/model/index.js';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { isUndecodable, makeRequestDecoder, namesSpan } from '../../src/xds/services.js';
import { StreamState, type XdsRequest } from '../../src/xds/stream-state.js';

const root = loadEnvoyProtos();
const Request = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
const encode = (fields: Record<string, unknown>): Buffer => Buffer.from(Request.encode(Request.fromObject(fields)).finish());
// A threshold of 1 byte makes every non-empty list take the digest path.
const decode = makeRequestDecoder(root, { lazyNamesBytes: 1 });

function decoded(fields: Record<string, unknown>): XdsRequest {
  const request = decode(encode({ type_url: TYPE_URLS.endpoint, ...fields }));
  if (isUndecodable(request)) throw new Error(request.undecodable);
  return request;
}

const SERVICES = Array.from({ length: 40 }, (_, i) => `svc-${String(i).padStart(3, '0')}`);

function seeded(): ResourceCache {
  const cache = new ResourceCache();
  cache.apply(SERVICES.map((name) => ({ kind: 'endpoint' as const, name, any: Buffer.from(`endpoint:${name}:1`) })));
  return cache;
}

/** A stream that asked for `names`, got its answer, and is waiting for the ACK. */
function subscribed(cache: ResourceCache, names: string[]): { s: StreamState; nonce: string; version: string } {
  const s = new StreamState({ kinds: PUSH_ORDER, ads: true, clock: () => 0 });
  expect(s.handleRequest(decoded({ resource_names: names }))).toMatchObject({ subscriptionChanged: true });
  const [r] = s.flush(cache);
  expect(r?.resources).toHaveLength(names.length);
  return { s, nonce: r!.nonce, version: r!.versionInfo };
}

describe('request decoder: resource_names digest', () => {
  it('decodes the same names, fields and node as a full decode', () => {
    const fields = { version_info: 'v1', node: { id: 'n1', cluster: 'c1' }, resource_names: SERVICES, response_nonce: '7' };
    const full = makeRequestDecoder(root, { lazyNamesBytes: Number.MAX_SAFE_INTEGER })(encode({ type_url: TYPE_URLS.endpoint, ...fields }));
    const lazy = decoded(fields);
    expect(lazy.resourceNamesKey).toBeTypeOf('string');
    expect('resourceNamesKey' in full).toBe(false);
    expect({ ...lazy, resourceNamesKey: undefined }).toEqual({ ...full, resourceNamesKey: undefined });
    expect(lazy.resourceNames).toEqual(SERVICES);
  });

  it('gives equal lists equal keys and a reordered or changed list another key', () => {
    const key = decoded({ resource_names: SERVICES, response_nonce: '1' }).resourceNamesKey;
    expect(decoded({ resource_names: SERVICES, response_nonce: '2', version_info: 'x' }).resourceNamesKey).toBe(key);
    expect(decoded({ resource_names: [...SERVICES].reverse() }).resourceNamesKey).not.toBe(key);
    expect(decoded({ resource_names: SERVICES.slice(1) }).resourceNamesKey).not.toBe(key);
  });

  it('leaves short lists, split runs and malformed messages to protobufjs', () => {
    const short = makeRequestDecoder(root)(encode({ resource_names: ['a'] }));
    expect(short).toMatchObject({ resourceNames: ['a'] });
    expect('resourceNamesKey' in short).toBe(false);
    // resource_names split around a type_url: legal protobuf, decoded the slow way.
    const split = Buffer.concat([encode({ resource_names: ['a'] }), encode({ type_url: 't' }), encode({ resource_names: ['b'] })]);
    expect(namesSpan(split)).toBeUndefined();
    expect(decode(split)).toMatchObject({ resourceNames: ['a', 'b'], typeUrl: 't' });
    expect(namesSpan(Buffer.from([0x1a, 0x05, 0x61]))).toBeUndefined();
    // A truncated run: whatever protobufjs makes of it, the lazy decoder makes the same.
    const truncated = Buffer.from([0x1a, 0x05, 0x61]);
    expect(decode(truncated)).toEqual(makeRequestDecoder(root, { lazyNamesBytes: Number.MAX_SAFE_INTEGER })(truncated));
    expect(isUndecodable(decode(Buffer.from([0x0f])))).toBe(true);
  });
});

describe('StreamState: unchanged resource_names', () => {
  it('an ACK with the same bytes changes no subscription and sends nothing', () => {
    const cache = seeded();
    const { s, nonce, version } = subscribed(cache, SERVICES);
    const outcome = s.handleRequest(decoded({ resource_names: SERVICES, response_nonce: nonce, version_info: version }));
    expect(outcome).toMatchObject({ type: 'request', subscriptionChanged: false });
    expect(outcome.type === 'request' && outcome.acked?.length).toBe(SERVICES.length);
    expect(s.flush(cache)).toEqual([]);
    expect(s.subscription('endpoint')?.names).toEqual(new Set(SERVICES));
  });

  it('the same names in another order are still no change (full comparison)', () => {
    const cache = seeded();
    const { s, nonce, version } = subscribed(cache, SERVICES);
    const reordered = [...SERVICES].reverse();
    expect(s.handleRequest(decoded({ resource_names: reordered, response_nonce: nonce, version_info: version }))).toMatchObject({ subscriptionChanged: false });
    expect(s.flush(cache)).toEqual([]);
    // The reordered list is now the reference: repeating it is no change either.
    expect(s.handleRequest(decoded({ resource_names: reordered, response_nonce: nonce, version_info: version }))).toMatchObject({ subscriptionChanged: false });
  });

  it('a changed list is a change, and the old bytes are a change back', () => {
    const cache = seeded();
    const { s, nonce, version } = subscribed(cache, SERVICES.slice(0, 30));
    const grown = decoded({ resource_names: SERVICES, response_nonce: nonce, version_info: version });
    expect(s.handleRequest(grown)).toMatchObject({ subscriptionChanged: true });
    const [r] = s.flush(cache);
    expect(r?.resources.map((x) => x.name)).toEqual(SERVICES.slice(30));
    expect(s.handleRequest(decoded({ resource_names: SERVICES.slice(0, 30), response_nonce: r!.nonce }))).toMatchObject({ subscriptionChanged: true });
    expect(s.subscription('endpoint')?.names).toEqual(new Set(SERVICES.slice(0, 30)));
  });

  it('a key equal to one set by an earlier, since replaced, request is compared in full', () => {
    const cache = seeded();
    const { s, nonce } = subscribed(cache, SERVICES);
    // A request without a key replaces the subscription and clears the remembered key.
    expect(s.handleRequest({ ...decoded({ response_nonce: nonce }), resourceNames: ['svc-000'] })).toMatchObject({ subscriptionChanged: true });
    const [r] = s.flush(cache);
    expect(s.handleRequest(decoded({ resource_names: SERVICES, response_nonce: r?.nonce ?? '' }))).toMatchObject({ subscriptionChanged: true });
    expect(s.subscription('endpoint')?.names).toEqual(new Set(SERVICES));
  });
});
