import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { TYPE_URLS } from '../../src/model/index.js';
import { AdsClient, type AdsClientOptions, type Assignment } from '../../src/xdsclient/index.js';
import { FakeAds, endpoint, type FakeStream } from './fake-ads.js';

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoint;

let root: protobuf.Root;
beforeAll(() => {
  root = loadEnvoyProtos();
});

describe('AdsClient against a fake ADS server', () => {
  let ads: FakeAds;
  let client: AdsClient | undefined;
  let now = 1_000;

  beforeEach(async () => {
    ads = new FakeAds(root);
    await ads.start();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    ads.stop();
  });

  function startClient(extra: Partial<AdsClientOptions> = {}): AdsClient {
    client = new AdsClient({
      target: `127.0.0.1:${ads.port}`,
      nodeId: 'sidecar-1',
      cluster: 'web',
      zone: 'z1',
      region: 'r1',
      protos: root,
      clock: () => now,
      backoff: { baseMs: 20, capMs: 100 },
      ...extra,
    });
    return client.start();
  }

  /** Drives a fresh client to: clusters a, b (EDS name b-eds) and c (STATIC) ACKed at v1. */
  async function withClusters(c: AdsClient): Promise<FakeStream> {
    const s = await ads.nextStream();
    await s.next();
    s.send(CDS, 'v1', 'n1', [ads.cluster('a'), ads.cluster('b', { serviceName: 'b-eds' }), ads.cluster('c', { type: 'STATIC' })]);
    const eds = await s.next();
    expect(eds).toMatchObject({ type_url: EDS, resource_names: ['a', 'b-eds'], version_info: '', response_nonce: '' });
    const ack = await s.next();
    expect(ack).toMatchObject({ type_url: CDS, version_info: 'v1', response_nonce: 'n1', error_detail: null });
    expect(c.clusters()).toEqual(['a', 'b', 'c']);
    return s;
  }

  it('opens with a wildcard CDS request carrying the node', async () => {
    startClient();
    const s = await ads.nextStream();
    const first = await s.next();
    expect(first.type_url).toBe(CDS);
    expect(first.resource_names).toEqual([]);
    expect(first.version_info).toBe('');
    expect(first.response_nonce).toBe('');
    expect(first.node).toMatchObject({ id: 'sidecar-1', cluster: 'web', locality: { region: 'r1', zone: 'z1' } });
  });

  it('announces the client features it is given in its node, and none by default', async () => {
    startClient({ clientFeatures: ['envoy.lb.does_not_support_overprovisioning'] });
    const first = await (await ads.nextStream()).next();
    expect(first.node?.client_features).toEqual(['envoy.lb.does_not_support_overprovisioning']);
    await client?.close();
    startClient();
    const plain = await (await ads.nextStream()).next();
    expect(plain.node?.client_features).toEqual([]);
  });

  it('ACKs CDS with its nonce and version and subscribes EDS to the EDS clusters', async () => {
    const c = startClient();
    const s = await withClusters(c);
    // Only the first request of a stream carries the node.
    expect(s.requests.slice(1).every((r) => r.node === null)).toBe(true);
    expect(c.subscriptions()).toEqual(['a', 'b-eds']);
    expect(c.ackedVersion(CDS)).toBe('v1');
  });

  it('ACKs every EDS response, decodes health and keeps assignments it was not sent', async () => {
    const c = startClient();
    const seen: [string, Assignment, number][] = [];
    c.on('assignment', (name, a, at) => seen.push([name, a, at]));
    const s = await withClusters(c);

    now = 5_000;
    s.send(EDS, 'e1', 'en1', [
      ads.assignment({
        cluster_name: 'a',
        endpoints: [
          {
            locality: { region: 'r1', zone: 'z1' },
            load_balancing_weight: { value: 2 },
            priority: 0,
            lb_endpoints: [endpoint('10.0.0.1', 8080, 'HEALTHY'), endpoint('10.0.0.2', 8080, 'DRAINING')],
          },
          { locality: { region: 'r2', zone: 'z9' }, priority: 1, lb_endpoints: [endpoint('10.1.0.1', 9090, 'UNKNOWN')] },
        ],
      }),
    ]);
    const ack1 = await s.next();
    expect(ack1).toMatchObject({ type_url: EDS, version_info: 'e1', response_nonce: 'en1', resource_names: ['a', 'b-eds'], error_detail: null });
    expect(c.assignment('a')).toEqual({
      cluster: 'a',
      endpoints: [
        { address: '10.0.0.1', port: 8080, health: 'HEALTHY', priority: 0, zone: 'z1', region: 'r1', localityWeight: 2 },
        { address: '10.0.0.2', port: 8080, health: 'DRAINING', priority: 0, zone: 'z1', region: 'r1', localityWeight: 2 },
        { address: '10.1.0.1', port: 9090, health: 'UNKNOWN', priority: 1, zone: 'z9', region: 'r2', localityWeight: 0 },
      ],
    });
    expect(seen.map(([n, , at]) => [n, at])).toEqual([['a', 5_000]]);

    s.send(EDS, 'e2', 'en2', [ads.assignment({ cluster_name: 'b-eds', endpoints: [{ lb_endpoints: [endpoint('10.2.0.1', 80, 'UNHEALTHY')] }] })]);
    expect(await s.next()).toMatchObject({ version_info: 'e2', response_nonce: 'en2', error_detail: null });
    expect(c.assignment('a')?.endpoints).toHaveLength(3);
    expect(c.assignment('b-eds')?.endpoints[0]?.health).toBe('UNHEALTHY');
  });

  it('replaces the cluster set on CDS, drops orphaned assignments and re-subscribes EDS', async () => {
    const c = startClient();
    const s = await withClusters(c);
    s.send(EDS, 'e1', 'en1', [ads.assignment({ cluster_name: 'a' }), ads.assignment({ cluster_name: 'b-eds' })]);
    await s.next();
    s.send(CDS, 'v2', 'n2', [ads.cluster('a')]);
    expect(await s.next()).toMatchObject({ type_url: EDS, resource_names: ['a'], version_info: 'e1', response_nonce: 'en1' });
    expect(await s.next()).toMatchObject({ type_url: CDS, version_info: 'v2', response_nonce: 'n2' });
    expect(c.clusters()).toEqual(['a']);
    expect(c.assignment('b-eds')).toBeUndefined();
    expect(c.assignment('a')).toBeDefined();

    // A CDS response that leaves no EDS cluster unsubscribes explicitly (empty list).
    s.send(CDS, 'v3', 'n3', []);
    expect(await s.next()).toMatchObject({ type_url: EDS, resource_names: [] });
    expect(await s.next()).toMatchObject({ type_url: CDS, version_info: 'v3', response_nonce: 'n3' });
    expect(c.clusters()).toEqual([]);
  });

  it('does not resend the EDS subscription when a CDS update leaves it unchanged', async () => {
    const c = startClient();
    const s = await withClusters(c);
    s.send(CDS, 'v2', 'n2', [ads.cluster('b', { serviceName: 'b-eds' }), ads.cluster('a')]);
    expect(await s.next()).toMatchObject({ type_url: CDS, version_info: 'v2', response_nonce: 'n2' });
  });

  it('NACKs through the hook with error_detail and the last accepted version', async () => {
    const c = startClient({
      nackIf: (typeUrl, resources) => (typeUrl === EDS && JSON.stringify(resources).includes('"port_value":666') ? 'port 666 is cursed' : undefined),
    });
    const nacks: string[] = [];
    c.on('nack', (_t, m) => nacks.push(m));
    const s = await withClusters(c);
    s.send(EDS, 'e1', 'en1', [ads.assignment({ cluster_name: 'a', endpoints: [{ lb_endpoints: [endpoint('10.0.0.1', 80, 'HEALTHY')] }] })]);
    await s.next();
    s.send(EDS, 'e2', 'en2', [ads.assignment({ cluster_name: 'a', endpoints: [{ lb_endpoints: [endpoint('10.0.0.1', 666, 'HEALTHY')] }] })]);
    const nack = await s.next();
    expect(nack).toMatchObject({ type_url: EDS, version_info: 'e1', response_nonce: 'en2', resource_names: ['a', 'b-eds'] });
    expect(nack.error_detail?.message).toBe('port 666 is cursed');
    expect(c.assignment('a')?.endpoints[0]?.port).toBe(80);
    expect(c.ackedVersion(EDS)).toBe('e1');
    expect(nacks).toEqual(['port 666 is cursed']);
    expect(c.stats().lastNack).toEqual({ typeUrl: EDS, nonce: 'en2', message: 'port 666 is cursed' });
  });

  it('NACKs a CDS response it cannot decode and keeps the old clusters', async () => {
    const c = startClient();
    const s = await withClusters(c);
    s.send(CDS, 'v2', 'n2', [ads.cluster('x'), ads.assignment({ cluster_name: 'oops' })]);
    const nack = await s.next();
    expect(nack).toMatchObject({ type_url: CDS, version_info: 'v1', response_nonce: 'n2' });
    expect(nack.error_detail?.message).toMatch(/ClusterLoadAssignment/);
    expect(c.clusters()).toEqual(['a', 'b', 'c']);
  });

  it('reconnects with its last ACKed versions and an empty nonce', async () => {
    const c = startClient();
    const s = await withClusters(c);
    s.send(EDS, 'e1', 'en1', [ads.assignment({ cluster_name: 'a' })]);
    await s.next();
    s.call.end();

    const s2 = await ads.nextStream();
    const first = await s2.next();
    expect(first).toMatchObject({ type_url: CDS, version_info: 'v1', response_nonce: '', resource_names: [] });
    expect(first.node?.id).toBe('sidecar-1');
    expect(await s2.next()).toMatchObject({ type_url: EDS, version_info: 'e1', response_nonce: '', resource_names: ['a', 'b-eds'] });
    // The config survives the disconnect.
    expect(c.clusters()).toEqual(['a', 'b', 'c']);
    expect(c.assignment('a')).toBeDefined();
    await c.waitFor((cl) => cl.connected && cl.stats().streams === 2, 2000);
  });

  it('keeps retrying while the server is down and reports stream errors', async () => {
    ads.stop();
    const errors: Error[] = [];
    const c = startClient();
    c.on('error', (e) => errors.push(e));
    // Nobody listens for 'error' on this one: failures must not become uncaught exceptions.
    const silent = new AdsClient({ target: `127.0.0.1:${ads.port}`, nodeId: 'quiet', protos: root, backoff: { baseMs: 20, capMs: 100 } });
    try {
      silent.start();
      await c.waitFor((cl) => cl.stats().streams >= 3, 5000);
      await silent.waitFor((cl) => cl.stats().streams >= 3, 5000);
    } finally {
      await silent.close();
    }
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]?.message).toMatch(/UNAVAILABLE/);
    expect(c.clusters()).toEqual([]);
  });

  it('waitFor resolves on state changes and rejects after its timeout', async () => {
    const c = startClient();
    const waiting = c.waitFor((cl) => cl.clusters().includes('a'), 5000);
    const s = await ads.nextStream();
    await s.next();
    s.send(CDS, 'v1', 'n1', [ads.cluster('a')]);
    await waiting;
    await expect(c.waitFor((cl) => cl.clusters().includes('zzz'), 50)).rejects.toThrow(/not met within 50 ms/);
  });

  it('close() ends the stream and rejects pending waits', async () => {
    const c = startClient();
    const s = await ads.nextStream();
    await s.next();
    const pending = c.waitFor(() => false, 5000);
    await c.close();
    await expect(pending).rejects.toThrow(/closed/);
    expect(c.connected).toBe(false);
    const deadline = Date.now() + 5000;
    while (!s.cancelled && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(s.cancelled).toBe(true);
  });
});
