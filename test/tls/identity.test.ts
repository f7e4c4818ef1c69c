// Client certificates bind the node a stream may claim: over real mTLS connections, SotW and
// Delta, ADS and a per-type service, refused clients end with PERMISSION_DENIED and are counted,
// while a well-behaved client on the same server goes on receiving updates.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/cache/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { XdsServer } from '../../src/xds/index.js';
import { issue, makeCa, type Issued, type TestCa } from '../helpers/pki.js';
import { DeltaTestStream } from '../xds/delta-helpers.js';
import { protos, resourceAny, TestStream, until } from '../xds/helpers.js';

let dir: string;
let ca: TestCa;
let certs: Record<'web' | 'payments' | 'rogue' | 'envoy1', Issued>;
let server: XdsServer;
let cache: ResourceCache;
let metrics: HeraldMetrics;
let port: number;
const clients: grpc.Client[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-tls-identity-'));
  ca = makeCa(dir, 'mesh-ca');
  const serving = issue(dir, ca, 'serving', { cn: 'herald', server: true });
  certs = {
    web: issue(dir, ca, 'web', { cn: 'web', uri: 'spiffe://east.example/ns/shop/sa/web' }),
    payments: issue(dir, ca, 'payments', { cn: 'web-1.shop', uri: 'spiffe://east.example/ns/payments/sa/api' }),
    rogue: issue(dir, ca, 'rogue', { cn: 'web', uri: 'spiffe://rogue.example/ns/shop/sa/web' }),
    envoy1: issue(dir, ca, 'envoy1', { cn: 'envoy-1' }),
  };
  cache = new ResourceCache();
  cache.apply([
    { kind: 'cluster', name: 'svc', any: resourceAny('cluster', 'svc', 'v1') },
    { kind: 'endpoint', name: 'svc', any: resourceAny('endpoint', 'svc', 'zone-a') },
  ]);
  metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  server = new XdsServer({
    cache,
    protos: protos(),
    metrics,
    logger: silentLogger(),
    ready: Promise.resolve(),
    credentials: grpc.ServerCredentials.createSsl(ca.cert, [{ private_key: serving.key, cert_chain: serving.cert }], true),
    clientIdentity: { trustDomains: new Map([['east.example', 'east']]) },
  });
  port = await server.listen('127.0.0.1', 0);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close(1_000);
  rmSync(dir, { recursive: true, force: true });
});

function client(identity: Issued): grpc.Client {
  const c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(ca.cert, identity.key, identity.cert), { 'grpc.ssl_target_name_override': 'localhost' });
  clients.push(c);
  return c;
}

function node(id: string, metadata: Record<string, string> = {}): Record<string, unknown> {
  return { id, metadata: { fields: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, { stringValue: value }])) } };
}

async function refusals(): Promise<Record<string, number>> {
  const values = (await metrics.xdsIdentityRefused.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

describe('client identity on the xDS port', () => {
  it('serves a client whose certificate allows its node, refuses the others, and keeps serving the first', async () => {
    const good = new TestStream(client(certs.web));
    good.request('endpoint', { node: node('web-1.shop', { 'herald.io/namespace': 'shop', 'herald.io/kube-cluster': 'east' }), resource_names: ['svc'] });
    const first = await good.next();
    expect(first.resources.map((r) => r.tag)).toEqual(['zone-a']);
    good.ack(first, ['svc']);

    const cases = [
      { title: 'another namespace in the node id', cert: certs.payments, node: node('web-1.shop'), reason: 'namespace' },
      { title: 'namespace metadata against the certificate', cert: certs.web, node: node('web-1.shop', { 'herald.io/namespace': 'payments' }), reason: 'namespace' },
      { title: 'an unmapped trust domain', cert: certs.rogue, node: node('web-1.shop'), reason: 'trust_domain' },
      { title: 'another kube cluster than the trust domain', cert: certs.web, node: node('web-1.shop', { 'herald.io/kube-cluster': 'west' }), reason: 'kube_cluster' },
      { title: 'a node id that is not the CN', cert: certs.envoy1, node: node('envoy-2'), reason: 'node_id' },
    ];
    for (const { title, cert, node: claimed, reason } of cases) {
      const before = (await refusals())[reason] ?? 0;
      const sotw = new TestStream(client(cert));
      sotw.request('cluster', { node: claimed });
      const delta = new DeltaTestStream(client(cert));
      delta.request('cluster', { node: claimed, subscribe: ['*'] });
      const perType = new TestStream(client(cert), 'cds');
      perType.request('cluster', { node: claimed });
      for (const [what, stream] of [
        ['SotW ADS', sotw],
        ['Delta ADS', delta],
        ['CDS', perType],
      ] as const) {
        await until(() => stream.status !== undefined, 10_000, `${title}: the ${what} stream to end`);
        expect(stream.status?.code, `${title} (${what})`).toBe(grpc.status.PERMISSION_DENIED);
        expect(stream.status?.details, `${title} (${what})`).not.toBe('');
        expect(stream.received, `${title} (${what})`).toEqual([]);
      }
      expect((await refusals())[reason], title).toBe(before + 3);
    }

    // A CN certificate claiming its own name is served, over Delta too.
    const byCn = new DeltaTestStream(client(certs.envoy1));
    byCn.request('cluster', { node: node('envoy-1'), subscribe: ['*'] });
    await until(() => byCn.received.length > 0, 5_000, 'the CN client to be served');
    expect(byCn.received[0]!.resources.map((r) => r.name)).toEqual(['svc']);

    // The well-behaved client on the same server still receives what changes.
    cache.apply([{ kind: 'endpoint', name: 'svc', any: resourceAny('endpoint', 'svc', 'zone-b') }]);
    expect((await good.next()).resources.map((r) => r.tag)).toEqual(['zone-b']);
    expect(good.status).toBeUndefined();
  });

  it('refuses a stream whose first request carries no node', async () => {
    const anonymous = new TestStream(client(certs.envoy1));
    anonymous.request('cluster');
    await until(() => anonymous.status !== undefined, 10_000, 'the stream to end');
    expect(anonymous.status?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await refusals())['no_node']).toBe(1);
  });
});
