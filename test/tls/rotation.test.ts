// Rotation on a live xDS server: the certificate, key and CA change under it while a client
// stays connected on its old handshake; new handshakes get the new material at once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/cache/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { TlsReloader } from '../../src/tls/index.js';
import { XdsServer } from '../../src/xds/index.js';
import { fingerprintOf as fingerprint, issue, makeCa, servedFingerprint, type Issued, type TestCa } from '../helpers/pki.js';
import { SecretVolume } from '../helpers/secret-volume.js';
import { protos, resourceAny, TestStream, until } from '../xds/helpers.js';

let dir: string;
let ca1: TestCa;
let ca2: TestCa;
let serving1: Issued;
let serving2: Issued;
let serving3: Issued;
let client1: Issued;
let client2: Issued;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-tls-rotation-'));
  ca1 = makeCa(dir, 'ca1');
  ca2 = makeCa(dir, 'ca2');
  serving1 = issue(dir, ca1, 'serving1', { cn: 'herald', server: true });
  serving2 = issue(dir, ca2, 'serving2', { cn: 'herald', server: true });
  serving3 = issue(dir, ca2, 'serving3', { cn: 'herald', server: true });
  client1 = issue(dir, ca1, 'client1', { cn: 'envoy-1' });
  client2 = issue(dir, ca2, 'client2', { cn: 'envoy-2' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function connect(port: number, trust: Buffer, identity: Issued): TestStream {
  const creds = grpc.credentials.createSsl(trust, identity.key, identity.cert);
  const client = new grpc.Client(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'localhost' });
  cleanup.push(() => client.close());
  return new TestStream(client);
}

async function count(metrics: HeraldMetrics, name: string): Promise<number> {
  return (await metrics.registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function refusedWithoutResponse(s: TestStream): Promise<void> {
  s.request('cluster');
  await until(() => s.status !== undefined, 10_000, 'the stream to fail');
  expect(s.status?.code).toBe(grpc.status.UNAVAILABLE);
  expect(s.received).toEqual([]);
}

describe('TLS rotation on a serving xDS server', () => {
  it('keeps established streams, serves new handshakes with the new pair and CA, and ignores a half-written file', async () => {
    const volume = new SecretVolume(join(dir, 'secret'), { 'tls.crt': serving1.cert, 'tls.key': serving1.key, 'ca.crt': ca1.cert });
    const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
    const reloader = new TlsReloader({
      files: { certPath: volume.path('tls.crt'), keyPath: volume.path('tls.key'), caPath: volume.path('ca.crt') },
      logger: silentLogger(),
      metrics,
      settleMs: 20,
    });
    cleanup.push(() => reloader.close());
    const cache = new ResourceCache();
    cache.apply([{ kind: 'cluster', name: 'a', any: resourceAny('cluster', 'a', 'v1') }]);
    const server = new XdsServer({ cache, protos: protos(), metrics, logger: silentLogger(), ready: Promise.resolve(), credentials: reloader.credentials() });
    const port = await server.listen('127.0.0.1', 0);
    cleanup.push(() => server.close(1_000));

    const old = connect(port, ca1.cert, client1);
    old.request('cluster');
    const first = await old.next();
    expect(first.resources.map((r) => r.name)).toEqual(['a']);
    old.ack(first);
    expect(await servedFingerprint(port, client1)).toBe(fingerprint(serving1));

    // The kubelet's atomic swap: a new pair from a new CA, and the old CA removed.
    volume.swap({ 'tls.crt': serving2.cert, 'tls.key': serving2.key, 'ca.crt': ca2.cert });
    await until(() => reloader.current().cert.equals(serving2.cert), 5_000, 'the reload');
    expect(await servedFingerprint(port, client2)).toBe(fingerprint(serving2));

    // The stream on the old handshake goes on receiving updates.
    cache.apply([{ kind: 'cluster', name: 'b', any: resourceAny('cluster', 'b', 'v1') }]);
    const second = await old.next();
    expect(second.resources.map((r) => r.name)).toEqual(['a', 'b']);
    old.ack(second);

    const fresh = connect(port, ca2.cert, client2);
    fresh.request('cluster');
    expect((await fresh.next()).resources.map((r) => r.name)).toEqual(['a', 'b']);

    // A certificate of the removed CA is refused, even by a client that trusts both CAs.
    await refusedWithoutResponse(connect(port, Buffer.concat([ca1.cert, ca2.cert]), client1));

    // Half written in place: the old material stays and new handshakes still work.
    writeFileSync(volume.path('tls.crt'), serving3.cert.subarray(0, 400));
    await until(() => reloader.reload() === 'failed', 5_000, 'the half-written file to be seen');
    expect(await count(metrics, 'herald_tls_reload_failures_total')).toBe(1);
    expect(await servedFingerprint(port, client2)).toBe(fingerprint(serving2));
    const during = connect(port, ca2.cert, client2);
    during.request('cluster');
    expect((await during.next()).resources.map((r) => r.name)).toEqual(['a', 'b']);

    // Completed in place: taken at once.
    writeFileSync(volume.path('tls.key'), serving3.key);
    writeFileSync(volume.path('tls.crt'), serving3.cert);
    await until(() => reloader.current().cert.equals(serving3.cert), 5_000, 'the in-place rotation');
    expect(await servedFingerprint(port, client2)).toBe(fingerprint(serving3));
    expect(await count(metrics, 'herald_tls_reloads_total')).toBe(2);

    cache.apply([{ kind: 'cluster', name: 'c', any: resourceAny('cluster', 'c', 'v1') }]);
    expect((await old.next()).resources.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(old.status).toBeUndefined();
  });

  it('refuses clients without a certificate', async () => {
    const volume = new SecretVolume(join(dir, 'secret-plain'), { 'tls.crt': serving1.cert, 'tls.key': serving1.key, 'ca.crt': ca1.cert });
    const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
    const reloader = new TlsReloader({ files: { certPath: volume.path('tls.crt'), keyPath: volume.path('tls.key'), caPath: volume.path('ca.crt') }, logger: silentLogger(), metrics });
    cleanup.push(() => reloader.close());
    const server = new XdsServer({ cache: new ResourceCache(), protos: protos(), metrics, logger: silentLogger(), ready: Promise.resolve(), credentials: reloader.credentials() });
    const port = await server.listen('127.0.0.1', 0);
    cleanup.push(() => server.close(1_000));
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(ca1.cert), { 'grpc.ssl_target_name_override': 'localhost' });
    cleanup.push(() => client.close());
    await refusedWithoutResponse(new TestStream(client));
  });
});
