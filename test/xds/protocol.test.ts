import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { ResourceCache } from '../../src/cache/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { XdsServer } from '../../src/xds/index.js';
import { protos, resourceAny, startHarness, TestStream, until, type Harness, type Response } from './helpers.js';

const NOTHING_MS = 300;
const names = (r: Response): string[] => r.resources.map((x) => x.name);
const tags = (r: Response): string[] => r.resources.map((x) => `${x.name}=${x.tag}`);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function seeded(): Promise<Harness> {
  h = await startHarness();
  for (const svc of ['a', 'b', 'c']) {
    h.put('cluster', svc, 'v1');
    h.put('endpoint', svc, 'v1');
  }
  return h;
}

describe('xDS SotW over gRPC', () => {
  it('answers an initial wildcard CDS request with the full state', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('cluster', { node: { id: 'envoy-1', cluster: 'mesh' } });
    const r = await s.next();
    expect(r.kind).toBe('cluster');
    expect(names(r)).toEqual(['a', 'b', 'c']);
    expect(r.version_info).toBe(h.cache.version('cluster'));
    expect(r.nonce).not.toBe('');
    await until(() => h.server.clients()[0]?.node?.id === 'envoy-1', 2_000, 'node recorded');
  });

  it('gives a named EDS subscription only its names, and then only what changed', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('endpoint', { resource_names: ['a', 'b'] });
    const r1 = await s.next();
    expect(names(r1)).toEqual(['a', 'b']);
    s.ack(r1, ['a', 'b']);
    h.put('endpoint', 'c', 'v2');
    h.put('endpoint', 'b', 'v2');
    const r2 = await s.next();
    expect(tags(r2)).toEqual(['b=v2']);
    expect(r2.version_info).toBe(h.cache.version('endpoint'));
  });

  it('ignores a stale nonce, then answers the current one', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('endpoint', { resource_names: ['a'] });
    const r1 = await s.next();
    s.ack(r1, ['a']);
    h.put('endpoint', 'a', 'v2');
    const r2 = await s.next();
    s.request('endpoint', { version_info: r1.version_info, response_nonce: r1.nonce, resource_names: ['a', 'b'] });
    await s.nothingFor(NOTHING_MS);
    expect(await h.metrics.xdsStaleNonces.get()).toMatchObject({ values: [{ value: 1, labels: { type: 'endpoint' } }] });
    s.ack(r2, ['a', 'b']);
    expect(names(await s.next())).toEqual(['b']);
  });

  it('does not re-send a NACKed state, and sends the next change', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('cluster');
    const r1 = await s.next();
    s.ack(r1);
    h.put('cluster', 'a', 'bad');
    const r2 = await s.next();
    // grpc-js-xds style NACK: version_info is the new version; error_detail decides.
    s.nack(r2, [], r2.version_info);
    await s.nothingFor(NOTHING_MS);
    expect((await h.metrics.xdsNacks.get()).values[0]?.value).toBe(1);
    const info = h.server.clients()[0]!.types.cluster!;
    expect(info.ackedVersion).toBe(r1.version_info);
    expect(info.lastNack?.message).toBe('rejected by test');
    h.put('cluster', 'a', 'good');
    const r3 = await s.next();
    expect(tags(r3)).toContain('a=good');
  });

  it('sends current resources on re-subscription', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('endpoint', { resource_names: ['a', 'b'] });
    const r1 = await s.next();
    s.ack(r1, ['a']);
    await s.nothingFor(100);
    h.put('endpoint', 'b', 'v2');
    await s.nothingFor(NOTHING_MS);
    s.ack(r1, ['a', 'b']);
    expect(tags(await s.next())).toEqual(['b=v2']);
  });

  it('answers a reconnecting client whose first request has its old version and no nonce', async () => {
    const h = await seeded();
    const first = h.stream();
    first.request('cluster');
    const r1 = await first.next();
    first.ack(r1);
    first.cancel();
    const again = h.stream();
    again.request('cluster', { version_info: r1.version_info });
    const r2 = await again.next();
    expect(r2.version_info).toBe(r1.version_info);
    expect(names(r2)).toEqual(['a', 'b', 'c']);
  });

  it('pushes CDS before EDS and re-sends an assignment after its cluster changes', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('cluster');
    const cds = await s.next();
    s.request('endpoint', { resource_names: ['a', 'b', 'c'] });
    const eds = await s.next();
    s.ack(cds);
    s.ack(eds, ['a', 'b', 'c']);
    await s.nothingFor(100);
    h.cache.apply([
      { kind: 'endpoint', name: 'b', any: null },
      { kind: 'cluster', name: 'b', any: null },
    ]);
    h.cache.apply([
      { kind: 'endpoint', name: 'a', any: resourceAny('endpoint', 'a', 'v2') },
      { kind: 'cluster', name: 'a', any: resourceAny('cluster', 'a', 'v2') },
    ]);
    const first = await s.next();
    expect(first.kind).toBe('cluster');
    // The first batch deleted b; the CDS response for it is unACKed, so a's cluster change waits, and so does a's assignment.
    await s.nothingFor(NOTHING_MS);
    s.ack(first);
    const cds2 = await s.next();
    expect(cds2.kind).toBe('cluster');
    expect(tags(cds2)).toEqual(['a=v2', 'c=v1']);
    const eds2 = await s.next();
    expect(eds2.kind).toBe('endpoint');
    expect(tags(eds2)).toEqual(['a=v2']);
    s.ack(cds2);
    s.ack(eds2, ['a', 'c']);
    // A cluster change alone re-sends the unchanged assignment after it.
    h.put('cluster', 'c', 'v2');
    const cds3 = await s.next();
    const eds3 = await s.next();
    expect([cds3.kind, eds3.kind]).toEqual(['cluster', 'endpoint']);
    expect(tags(eds3)).toEqual(['c=v1']);
  });

  it('holds every response until ready, then answers everyone waiting', async () => {
    let open!: () => void;
    h = await startHarness({ ready: new Promise<void>((resolve) => (open = resolve)) });
    h.put('cluster', 'a', 'v1');
    const s1 = h.stream();
    const s2 = h.stream('cds');
    s1.request('cluster');
    s2.request('cluster');
    await until(() => h!.server.clients().length === 2, 2_000, 'two streams');
    await s1.nothingFor(NOTHING_MS);
    await s2.nothingFor(0);
    open();
    expect(names(await s1.next())).toEqual(['a']);
    expect(names(await s2.next())).toEqual(['a']);
  });

  it('gives wildcard LDS no listeners and named LDS its listeners', async () => {
    const h = await seeded();
    h.put('listener', 'a', 'v1');
    h.put('listener', 'b', 'v1');
    const sidecar = h.stream();
    sidecar.request('listener');
    const r1 = await sidecar.next();
    expect(r1.kind).toBe('listener');
    expect(r1.resources).toEqual([]);
    const proxyless = h.stream('lds');
    proxyless.request('listener', { resource_names: ['b', 'missing'] });
    expect(names(await proxyless.next())).toEqual(['b']);
  });

  it('keeps updating other streams while one never ACKs', async () => {
    const h = await seeded();
    const lazy = h.stream();
    const good = h.stream('eds');
    lazy.request('endpoint', { resource_names: ['a'] });
    good.request('endpoint', { resource_names: ['a'] });
    await lazy.next();
    let last = await good.next();
    for (let i = 2; i <= 5; i++) {
      good.ack(last, ['a']);
      h.put('endpoint', 'a', `v${i}`);
      last = await good.next();
      expect(tags(last)).toEqual([`a=v${i}`]);
    }
    await lazy.nothingFor(0);
    expect(h.server.clients().find((c) => c.api === 'ads')!.types.endpoint).toMatchObject({ pending: true, dirty: true });
  });

  it('ends only the stream that sent garbage, and ignores unknown type URLs', async () => {
    const h = await seeded();
    const other = h.stream();
    other.request('cluster');
    const r1 = await other.next();
    other.ack(r1);

    const unknown = h.stream();
    unknown.request('cluster', { type_url: 'type.googleapis.com/not.a.Type' });
    await unknown.nothingFor(NOTHING_MS);
    unknown.request('cluster');
    expect(names(await unknown.next())).toEqual(['a', 'b', 'c']);

    const garbage = h.stream();
    garbage.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]));
    await until(() => garbage.status !== undefined, 5_000, 'garbage stream status');
    expect(garbage.status!.code).toBe(3);
    expect(garbage.status!.details).toMatch(/undecodable DiscoveryRequest/);

    const rejected = (await h.metrics.xdsRejectedRequests.get()).values.map((v) => v.labels.reason).sort();
    expect(rejected).toEqual(['undecodable', 'unknown_type_url']);
    h.put('cluster', 'd', 'v1');
    expect(names(await other.next())).toEqual(['a', 'b', 'c', 'd']);
  });

  it('completes drain tracking when every subscribed stream ACKs the DRAINING assignment', async () => {
    const h = await seeded();
    const s1 = h.stream();
    const s2 = h.stream('eds');
    const bystander = h.stream();
    s1.request('endpoint', { resource_names: ['a'] });
    s2.request('endpoint', { resource_names: ['a', 'b'] });
    bystander.request('endpoint', { resource_names: ['b'] });
    const [a1, a2] = [await s1.next(), await s2.next()];
    await bystander.next();
    s1.ack(a1, ['a']);
    s2.ack(a2, ['a', 'b']);
    await until(() => [...h.server.subscribersOf('endpoint', 'a')].length === 2, 2_000, 'subscriptions');

    const observedAtMs = Date.now();
    h.put('endpoint', 'a', 'draining', () => {
      const seq = h.cache.get('endpoint', 'a')!.seq;
      h.drains.track({ service: 'a', cluster: 'k1', podKey: 'ns/a-1', ip: '10.0.0.1', port: 8080, observedAtMs, seq });
    });
    const d1 = await s1.next();
    const d2 = await s2.next();
    expect(h.drains.pending()[0]).toMatchObject({ clients: 2, sent: 2, acked: 0 });
    expect(tags(d1)).toEqual(['a=draining']);
    expect(h.drainResults).toEqual([]);
    s1.ack(d1, ['a']);
    await until(() => h.drains.pending()[0]?.acked === 1, 2_000, 'first ack');
    expect(h.drainResults).toEqual([]);
    s2.ack(d2, ['a', 'b']);
    await until(() => h.drainResults.length === 1, 2_000, 'drain completion');
    expect(h.drainResults[0]).toMatchObject({ clients: 2, acked: 2, complete: true, podKey: 'ns/a-1' });
    await bystander.nothingFor(0);
  });

  it('cleans up closed streams', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('endpoint', { resource_names: ['a'] });
    await s.next();
    expect((await h.metrics.xdsStreams.get()).values.find((v) => v.labels.api === 'ads')?.value).toBe(1);
    s.end();
    await until(() => h.server.clients().length === 0, 5_000, 'stream cleanup');
    expect([...h.server.subscribersOf('endpoint', 'a')]).toEqual([]);
    expect((await h.metrics.xdsStreams.get()).values.find((v) => v.labels.api === 'ads')?.value).toBe(0);
  });

  it('close() ends open streams and finishes', async () => {
    const h = await seeded();
    const s = h.stream();
    s.request('cluster');
    await s.next();
    await h.server.close(2_000);
    await until(() => s.status !== undefined, 5_000, 'stream status after close');
    expect(h.server.clients()).toEqual([]);
  });

  it('closes connections past max connection age so clients reconnect elsewhere', async () => {
    h = await startHarness({ maxConnectionAgeMs: 200, maxConnectionAgeGraceMs: 200 });
    h.put('cluster', 'a', 'v1');
    const s = h.stream();
    s.request('cluster');
    await s.next();
    await until(() => s.status !== undefined, 10_000, 'stream ended by connection age');
    await until(() => h!.server.clients().length === 0, 5_000, 'server forgot the stream');
  });

  it('survives a failing stream observer without ending streams', async () => {
    const cache = new ResourceCache();
    const boom = (): never => {
      throw new Error('tracker bug');
    };
    const server = new XdsServer({
      cache,
      observers: [{ opened: boom, sent: boom, answered: boom, closed: boom }],
      protos: protos(),
      metrics: new HeraldMetrics({ registry: new Registry(), defaultMetrics: false }),
      logger: silentLogger(),
      ready: Promise.resolve(),
    });
    const port = await server.listen('127.0.0.1', 0);
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      cache.apply([{ kind: 'endpoint', name: 'a', any: resourceAny('endpoint', 'a', 'v1') }]);
      const s = new TestStream(client);
      s.request('endpoint', { resource_names: ['a'] });
      const r1 = await s.next();
      s.ack(r1, ['a']);
      cache.apply([{ kind: 'endpoint', name: 'a', any: resourceAny('endpoint', 'a', 'v2') }]);
      expect(tags(await s.next())).toEqual(['a=v2']);
      expect(s.status).toBeUndefined();
    } finally {
      client.close();
      await server.close(1_000);
    }
  });
});
