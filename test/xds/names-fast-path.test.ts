import { describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/cache/index.js';
import { PUSH_ORDER, TYPE_URLS } from '../../src/model/index.js';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { isUndecodable, makeRequestDecoder, namesSpan } from '../../src/xds/wire/decode.js';
import { SotwState } from '../../src/xds/protocol/sotw-state.js';
import type { XdsRequest } from '../../src/xds/wire/requests.js';
import { NameSetTable } from '../../src/xds/bookkeeping/name-sets.js';
import { newNameSlotsByKind } from '../../src/xds/protocol/protocol-base.js';

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
function subscribed(cache: ResourceCache, names: string[]): { s: SotwState; nonce: string; version: string } {
  const s = new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0 });
  expect(s.handleRequest(decoded({ resource_names: names }))).toMatchObject({ subscriptionChanged: true });
  const [r] = s.flush(cache);
  expect(r?.resources).toHaveLength(names.length);
  return { s, nonce: r!.nonce, version: r!.versionInfo };
}

describe('request decoder: resource_names kept encoded', () => {
  it('decodes the same names, fields and node as a full decode', () => {
    const fields = { version_info: 'v1', node: { id: 'n1', cluster: 'c1' }, resource_names: SERVICES, response_nonce: '7' };
    const full = makeRequestDecoder(root, { lazyNamesBytes: Number.MAX_SAFE_INTEGER })(encode({ type_url: TYPE_URLS.endpoint, ...fields }));
    const lazy = decoded(fields);
    expect(Buffer.isBuffer(lazy.resourceNamesRun)).toBe(true);
    expect('resourceNamesRun' in full).toBe(false);
    expect({ ...lazy, resourceNamesRun: undefined }).toEqual({ ...full, resourceNamesRun: undefined });
    expect(lazy.resourceNames).toEqual(SERVICES);
  });

  it('gives equal lists equal runs, whatever the other fields, and a reordered or changed list other bytes', () => {
    const run = decoded({ resource_names: SERVICES, response_nonce: '1' }).resourceNamesRun!;
    expect(decoded({ resource_names: SERVICES, response_nonce: '2', version_info: 'x' }).resourceNamesRun!.equals(run)).toBe(true);
    expect(decoded({ resource_names: [...SERVICES].reverse() }).resourceNamesRun!.equals(run)).toBe(false);
    expect(decoded({ resource_names: SERVICES.slice(1) }).resourceNamesRun!.equals(run)).toBe(false);
  });

  it('leaves short lists, split runs and malformed messages to protobufjs', () => {
    const short = makeRequestDecoder(root)(encode({ resource_names: ['a'] }));
    expect(short).toMatchObject({ resourceNames: ['a'] });
    expect('resourceNamesRun' in short).toBe(false);
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

describe('SotwState: unchanged resource_names', () => {
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
    // Repeating it is no change either: other bytes are compared name by name each time.
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

  it('a run equal to one set by an earlier, since replaced, request is compared in full', () => {
    const cache = seeded();
    const { s, nonce } = subscribed(cache, SERVICES);
    // A request without a run replaces the subscription and lets go of the remembered run.
    expect(s.handleRequest({ ...decoded({ response_nonce: nonce }), resourceNames: ['svc-000'] })).toMatchObject({ subscriptionChanged: true });
    const [r] = s.flush(cache);
    expect(s.handleRequest(decoded({ resource_names: SERVICES, response_nonce: r?.nonce ?? '' }))).toMatchObject({ subscriptionChanged: true });
    expect(s.subscription('endpoint')?.names).toEqual(new Set(SERVICES));
  });
});

describe('NameSetTable: one Set per distinct list', () => {
  const runOf = (names: string[]): Buffer => decoded({ resource_names: names }).resourceNamesRun!;

  it('streams sending the same bytes hold the same Set; the last holder to leave drops it', () => {
    const table = new NameSetTable();
    const cache = seeded();
    const streams = Array.from({ length: 5 }, () => new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0, nameSets: table }));
    for (const s of streams) s.handleRequest(decoded({ resource_names: SERVICES }));
    const sets = streams.map((s) => s.subscription('endpoint')!.names);
    expect(new Set(sets).size).toBe(1);
    expect(sets[0]).toEqual(new Set(SERVICES));
    expect(table.size).toBe(1);
    // Each still answers and ACKs on its own.
    for (const s of streams) expect(s.flush(cache)[0]?.resources).toHaveLength(SERVICES.length);

    streams[0]!.handleRequest(decoded({ resource_names: SERVICES.slice(0, 3), response_nonce: '' }));
    expect(table.size).toBe(2);
    expect(streams[0]!.subscription('endpoint')!.names).toEqual(new Set(SERVICES.slice(0, 3)));
    expect(streams[1]!.subscription('endpoint')!.names).toBe(sets[0]);
    for (const s of streams.slice(1)) s.dispose();
    expect(table.size).toBe(1);
    streams[0]!.dispose();
    expect(table.size).toBe(0);
  });

  it('counts holders, keeps "*" out of the names, and copies the bytes it keeps', () => {
    const table = new NameSetTable();
    const bytes = Buffer.from(runOf(['a', '*', 'b']));
    const first = table.acquire(bytes, () => ['a', '*', 'b']);
    expect(first.hasWildcard).toBe(true);
    expect([...first.names]).toEqual(['a', 'b']);
    let decodes = 0;
    const second = table.acquire(runOf(['a', '*', 'b']), () => {
      decodes += 1;
      return [];
    });
    expect(second).toBe(first);
    expect(decodes).toBe(0);
    bytes.fill(0);
    expect(first.run.equals(runOf(['a', '*', 'b']))).toBe(true);
    table.release(first);
    expect(table.size).toBe(1);
    table.release(second);
    expect(table.size).toBe(0);
  });
});

describe('shared name slots', () => {
  it('streams record resources in one registry per kind and give their slots back when they end', () => {
    const slots = newNameSlotsByKind();
    const cache = seeded();
    const streams = [1, 2].map(() => new SotwState({ kinds: PUSH_ORDER, ads: true, clock: () => 0, nameSlots: slots }));
    for (const s of streams) {
      s.handleRequest(decoded({ resource_names: SERVICES }));
      s.flush(cache);
    }
    expect(slots.endpoint.size).toBe(SERVICES.length);
    // Each stream holds a name twice: its CSDS record and what it was sent.
    expect(slots.endpoint.references(slots.endpoint.peek('svc-000'))).toBe(4);
    expect([...streams[0]!.resourceStatuses(cache)]).toHaveLength(SERVICES.length);
    streams[0]!.dispose();
    expect(slots.endpoint.references(slots.endpoint.peek('svc-000'))).toBe(2);
    streams[1]!.dispose();
    expect(slots.endpoint.size).toBe(0);
  });
});
