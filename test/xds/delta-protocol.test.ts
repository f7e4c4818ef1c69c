import { afterEach, describe, expect, it } from 'vitest';
import { resourceAny, startHarness, until, type Harness } from './helpers.js';
import { DeltaTestStream, type DeltaResponse } from './delta-helpers.js';

const NOTHING_MS = 300;
const names = (r: DeltaResponse): string[] => r.resources.map((x) => x.name);
const tags = (r: DeltaResponse): string[] => r.resources.map((x) => `${x.name}=${x.tag}`);

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function seeded(): Promise<Harness> {
  const h = await startHarness();
  harnesses.push(h);
  for (const svc of ['a', 'b', 'c']) {
    h.put('cluster', svc, 'v1');
    h.put('endpoint', svc, 'v1');
  }
  return h;
}

const delta = (h: Harness, api: 'ads' | 'cds' | 'eds' | 'lds' | 'rds' = 'ads'): DeltaTestStream => new DeltaTestStream(h.client(), api);

describe('Delta xDS over gRPC', () => {
  it('gives a wildcard CDS request every cluster with per-resource versions', async () => {
    const h = await seeded();
    const s = delta(h);
    s.request('cluster', { node: { id: 'envoy-d1', cluster: 'mesh' } });
    const r = await s.next();
    expect(r.kind).toBe('cluster');
    expect(names(r)).toEqual(['a', 'b', 'c']);
    expect(r.resources.map((x) => x.version)).toEqual(['a', 'b', 'c'].map((n) => h.cache.get('cluster', n)!.version));
    expect(r.removed).toEqual([]);
    expect(r.nonce).not.toBe('');
    await until(() => h.server.clients()[0]?.node?.id === 'envoy-d1', 2_000, 'node recorded');
    expect(h.server.clients()[0]).toMatchObject({ api: 'delta-ads', protocol: 'delta' });
    expect((await h.metrics.xdsStreams.get()).values.find((v) => v.labels.api === 'delta-ads')?.value).toBe(1);
  });

  it('serves the standalone Delta CDS service too', async () => {
    const h = await seeded();
    const s = delta(h, 'cds');
    s.request('cluster');
    expect(names(await s.next())).toEqual(['a', 'b', 'c']);
  });

  it('gives named EDS its names, then only the changed resource', async () => {
    const h = await seeded();
    const s = delta(h, 'eds');
    s.request('endpoint', { subscribe: ['a', 'b'] });
    const r1 = await s.next();
    expect(tags(r1)).toEqual(['a=v1', 'b=v1']);
    s.ack(r1);
    h.put('endpoint', 'c', 'v2');
    h.put('endpoint', 'b', 'v2');
    const r2 = await s.next();
    expect(tags(r2)).toEqual(['b=v2']);
    expect(r2.removed).toEqual([]);
    expect(r2.resources[0]!.version).toBe(h.cache.get('endpoint', 'b')!.version);
  });

  it('tells removed_resources when a held cluster goes away', async () => {
    const h = await seeded();
    const s = delta(h);
    s.request('cluster');
    s.ack(await s.next());
    h.cache.apply([{ kind: 'cluster', name: 'b', any: null }]);
    const r = await s.next();
    expect(r.resources).toEqual([]);
    expect(r.removed).toEqual(['b']);
  });

  it('tells removed_resources once for a subscribed name that does not exist, and sends it when it appears', async () => {
    const h = await seeded();
    const s = delta(h);
    s.request('endpoint', { subscribe: ['a', 'nope'] });
    const r1 = await s.next();
    expect(names(r1)).toEqual(['a']);
    expect(r1.removed).toEqual(['nope']);
    s.ack(r1);
    h.put('endpoint', 'a', 'v2');
    const r2 = await s.next();
    expect(r2.removed).toEqual([]);
    s.ack(r2);
    h.put('endpoint', 'nope', 'v1');
    expect(tags(await s.next())).toEqual(['nope=v1']);
  });

  it('honours unsubscribe and subscribe sent with a stale nonce', async () => {
    const h = await seeded();
    const s = delta(h);
    s.request('endpoint', { subscribe: ['a', 'b'] });
    const r1 = await s.next();
    s.ack(r1);
    h.put('endpoint', 'a', 'v2');
    const r2 = await s.next();
    // Stale nonce (r1's): its ACK part is ignored, its subscription changes are not.
    s.request('endpoint', { nonce: r1.nonce, unsubscribe: ['b'], subscribe: ['c'] });
    await s.nothingFor(NOTHING_MS);
    expect((await h.metrics.xdsStaleNonces.get()).values[0]?.value).toBe(1);
    await until(() => [...h.server.subscribersOf('endpoint', 'b')].length === 0, 2_000, 'b unsubscribed');
    s.ack(r2);
    expect(tags(await s.next())).toEqual(['c=v1']);
    h.put('endpoint', 'b', 'v2');
    await s.nothingFor(NOTHING_MS);
  });

  it('respects initial_resource_versions when reconnecting to another replica', async () => {
    const first = await seeded();
    const s1 = delta(first);
    s1.request('cluster');
    const held = await s1.next();
    s1.ack(held);
    s1.cancel();
    const versions = Object.fromEntries(held.resources.map((r) => [r.name, r.version]));

    // Another replica built the same resources on its own: same content, same versions.
    const other = await seeded();
    const same = delta(other);
    same.request('cluster', { initial: versions });
    await same.nothingFor(NOTHING_MS);

    other.put('cluster', 'b', 'v2');
    other.cache.apply([{ kind: 'cluster', name: 'c', any: null }]);
    const again = delta(other);
    again.request('cluster', { initial: versions });
    const r = await again.next();
    expect(tags(r)).toEqual(['b=v2']);
    expect(r.removed).toEqual(['c']);
    // The first reconnected stream learns the same changes as they happen.
    const seen = [await same.next()];
    if (seen[0]!.removed.length === 0) {
      same.ack(seen[0]!);
      seen.push(await same.next());
    }
    expect(seen.flatMap(tags)).toEqual(['b=v2']);
    expect(seen.flatMap((x) => x.removed)).toEqual(['c']);
  });

  it('does not re-send a NACKed resource until it changes', async () => {
    const h = await seeded();
    const s = delta(h);
    s.request('cluster');
    s.ack(await s.next());
    h.put('cluster', 'a', 'bad');
    const r2 = await s.next();
    s.nack(r2);
    await s.nothingFor(NOTHING_MS);
    expect((await h.metrics.xdsNacks.get()).values[0]?.value).toBe(1);
    const info = h.server.clients()[0]!.types.cluster!;
    expect(info.lastNack?.message).toBe('rejected by test');
    expect(info.sync).toBe('nacked');
    h.put('cluster', 'b', 'v2');
    const r3 = await s.next();
    expect(tags(r3)).toEqual(['b=v2']);
    s.ack(r3);
    h.put('cluster', 'a', 'good');
    expect(tags(await s.next())).toEqual(['a=good']);
  });

  it('sends a drain as one resource to each subscribed stream and tracks its ACKs', async () => {
    const h = await seeded();
    const s1 = delta(h);
    const s2 = delta(h, 'eds');
    const bystander = delta(h);
    s1.request('endpoint', { subscribe: ['a'] });
    s2.request('endpoint', { subscribe: ['a', 'b', 'c'] });
    bystander.request('endpoint', { subscribe: ['b'] });
    s1.ack(await s1.next());
    s2.ack(await s2.next());
    bystander.ack(await bystander.next());
    await until(() => [...h.server.subscribersOf('endpoint', 'a')].length === 2, 2_000, 'subscriptions');

    const observedAtMs = Date.now();
    h.put('endpoint', 'a', 'draining', () => {
      const seq = h.cache.get('endpoint', 'a')!.seq;
      h.drains.track({ service: 'a', cluster: 'k1', podKey: 'ns/a-1', ip: '10.0.0.1', port: 8080, observedAtMs, seq });
    });
    const d1 = await s1.next();
    const d2 = await s2.next();
    expect(h.drains.pending()[0]).toMatchObject({ clients: 2, sent: 2, acked: 0 });
    for (const d of [d1, d2]) {
      expect(tags(d)).toEqual(['a=draining']);
      expect(d.removed).toEqual([]);
    }
    s1.ack(d1);
    await until(() => h.drains.pending()[0]?.acked === 1, 2_000, 'first ack');
    expect(h.drainResults).toEqual([]);
    s2.ack(d2);
    await until(() => h.drainResults.length === 1, 2_000, 'drain completion');
    expect(h.drainResults[0]).toMatchObject({ clients: 2, acked: 2, complete: true });
    await bystander.nothingFor(0);
  });

  it('keeps updating other streams while one Delta stream never ACKs', async () => {
    const h = await seeded();
    const lazy = delta(h);
    const good = delta(h, 'eds');
    const sotw = h.stream('eds');
    lazy.request('endpoint', { subscribe: ['a'] });
    good.request('endpoint', { subscribe: ['a'] });
    sotw.request('endpoint', { resource_names: ['a'] });
    const lazyFirst = await lazy.next();
    let last = await good.next();
    let sotwLast = await sotw.next();
    for (let i = 2; i <= 5; i++) {
      good.ack(last);
      sotw.ack(sotwLast, ['a']);
      h.put('endpoint', 'a', `v${i}`);
      last = await good.next();
      sotwLast = await sotw.next();
      expect(tags(last)).toEqual([`a=v${i}`]);
    }
    await lazy.nothingFor(0);
    const lazyInfo = h.server.clients().find((c) => c.api === 'delta-ads')!.types.endpoint!;
    expect(lazyInfo).toMatchObject({ pending: true, dirty: true, sync: 'behind' });
    // Once it ACKs it gets the newest state, coalesced into one resource.
    lazy.ack(lazyFirst);
    expect(tags(await lazy.next())).toEqual(['a=v5']);
  });

  it('gives a wildcard Delta LDS no listeners and a named one its listener', async () => {
    const h = await seeded();
    h.put('listener', 'a', 'v1');
    h.put('listener', 'b', 'v1');
    const sidecar = delta(h);
    sidecar.request('listener');
    const r1 = await sidecar.next();
    expect(r1).toMatchObject({ kind: 'listener', resources: [], removed: [] });
    const proxyless = delta(h, 'lds');
    proxyless.request('listener', { subscribe: ['b', 'missing'] });
    const r2 = await proxyless.next();
    expect(names(r2)).toEqual(['b']);
    expect(r2.removed).toEqual(['missing']);
  });

  it('ends only a Delta stream that sends garbage', async () => {
    const h = await seeded();
    const other = delta(h);
    other.request('cluster');
    other.ack(await other.next());
    const garbage = delta(h);
    garbage.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]));
    await until(() => garbage.status !== undefined, 5_000, 'garbage stream status');
    expect(garbage.status!.code).toBe(3);
    expect(garbage.status!.details).toMatch(/undecodable DeltaDiscoveryRequest/);
    h.cache.apply([{ kind: 'cluster', name: 'd', any: resourceAny('cluster', 'd', 'v1') }]);
    expect(names(await other.next())).toEqual(['d']);
  });

  it('holds Delta responses until ready, then answers', async () => {
    let open!: () => void;
    const h = await startHarness({ ready: new Promise<void>((resolve) => (open = resolve)) });
    harnesses.push(h);
    h.put('cluster', 'a', 'v1');
    const s = delta(h);
    s.request('cluster');
    await until(() => h.server.clients().length === 1, 2_000, 'stream');
    await s.nothingFor(NOTHING_MS);
    open();
    const r = await s.next();
    expect(names(r)).toEqual(['a']);
    s.ack(r);
    await until(() => h.server.clients()[0]?.types.cluster?.sync === 'synced', 2_000, 'synced summary');
    expect(h.server.clients()[0]!.types.cluster!.ackedVersion).toBe(r.system_version_info);
  });
});
