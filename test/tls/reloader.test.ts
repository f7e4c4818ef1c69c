import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { checkTlsMaterial, TlsMaterialError, TlsReloader, type TlsReloaderOptions } from '../../src/tls/index.js';
import { issue, makeCa, type Issued, type TestCa } from '../helpers/pki.js';
import { SecretVolume } from '../helpers/secret-volume.js';
import { until } from '../xds/helpers.js';

let dir: string;
let ca1: TestCa;
let ca2: TestCa;
let serving1: Issued;
let serving2: Issued;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-tls-reload-'));
  ca1 = makeCa(dir, 'ca1');
  ca2 = makeCa(dir, 'ca2');
  serving1 = issue(dir, ca1, 'serving1', { cn: 'herald', server: true });
  serving2 = issue(dir, ca2, 'serving2', { cn: 'herald', server: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step();
});

function newMetrics(): HeraldMetrics {
  return new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
}

async function count(metrics: HeraldMetrics, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  return (await metric!.get()).values.reduce((sum, v) => sum + v.value, 0);
}

let volumes = 0;
function volume(files: Record<string, Buffer>): SecretVolume {
  return new SecretVolume(join(dir, `volume-${++volumes}`), files);
}

function start(v: SecretVolume, extra: Partial<TlsReloaderOptions> = {}): { reloader: TlsReloader; metrics: HeraldMetrics } {
  const metrics = newMetrics();
  const reloader = new TlsReloader({
    files: { certPath: v.path('tls.crt'), keyPath: v.path('tls.key'), caPath: v.path('ca.crt') },
    logger: silentLogger(),
    metrics,
    settleMs: 20,
    pollIntervalMs: 3_600_000,
    ...extra,
  });
  cleanup.push(() => reloader.close());
  return { reloader, metrics };
}

const pair = (issued: Issued, ca: TestCa) => ({ 'tls.crt': issued.cert, 'tls.key': issued.key, 'ca.crt': ca.cert });

describe('checkTlsMaterial', () => {
  it('accepts a matching pair and reads the expiry of the certificate and of the earliest CA', () => {
    const material = checkTlsMaterial({ cert: serving1.cert, key: serving1.key, ca: Buffer.concat([ca1.cert, ca2.cert]) });
    expect(material.certExpiresAtMs).toBe(Date.parse(new X509Certificate(serving1.cert).validTo));
    const earliest = Math.min(Date.parse(new X509Certificate(ca1.cert).validTo), Date.parse(new X509Certificate(ca2.cert).validTo));
    expect(material.caExpiresAtMs).toBe(earliest);
  });

  it.each([
    { title: 'a key of another certificate', bytes: () => ({ cert: serving1.cert, key: serving2.key, ca: undefined }), error: /--tls-key: .*does not match/ },
    { title: 'a half-written certificate', bytes: () => ({ cert: serving1.cert.subarray(0, 200), key: serving1.key, ca: undefined }), error: /--tls-cert: no PEM certificate/ },
    { title: 'a half-written key', bytes: () => ({ cert: serving1.cert, key: serving1.key.subarray(0, 60), ca: undefined }), error: /--tls-key: the private key does not parse/ },
    { title: 'an empty CA bundle', bytes: () => ({ cert: serving1.cert, key: serving1.key, ca: Buffer.alloc(0) }), error: /--tls-ca: no PEM certificate/ },
    {
      // A line of the body missing: the DER lengths no longer add up, whatever the key's bytes.
      title: 'a CA certificate with a line lost',
      bytes: () => ({ cert: serving1.cert, key: serving1.key, ca: Buffer.from(ca1.cert.toString().split('\n').toSpliced(2, 1).join('\n')) }),
      error: /--tls-ca: a certificate does not parse/,
    },
  ])('refuses $title', ({ bytes, error }) => {
    expect(() => checkTlsMaterial(bytes())).toThrow(TlsMaterialError);
    expect(() => checkTlsMaterial(bytes())).toThrow(error);
  });
});

describe('TlsReloader', () => {
  it('refuses to start on material that does not load', () => {
    const v = volume({ 'tls.crt': serving1.cert, 'tls.key': serving2.key, 'ca.crt': ca1.cert });
    expect(() => start(v)).toThrow(/does not match/);
  });

  it('reloads on a Secret volume swap and publishes the expiry', async () => {
    const v = volume(pair(serving1, ca1));
    const { reloader, metrics } = start(v);
    const expiry = async (certificate: string) => (await metrics.tlsCertificateExpiry.get()).values.find((x) => x.labels.certificate === certificate)?.value;
    expect(await expiry('serving')).toBe(Date.parse(new X509Certificate(serving1.cert).validTo) / 1000);

    v.swap(pair(serving2, ca2));
    await until(() => reloader.current().cert.equals(serving2.cert), 5_000, 'the swapped certificate');
    expect(reloader.current().ca?.equals(ca2.cert)).toBe(true);
    expect(await count(metrics, 'herald_tls_reloads_total')).toBe(1);
    expect(await expiry('serving')).toBe(Date.parse(new X509Certificate(serving2.cert).validTo) / 1000);
    expect(await expiry('ca')).toBe(Date.parse(new X509Certificate(ca2.cert).validTo) / 1000);
  });

  it('reloads a file written in place', async () => {
    const v = volume(pair(serving1, ca1));
    const { reloader, metrics } = start(v);
    writeFileSync(v.path('ca.crt'), Buffer.concat([ca1.cert, ca2.cert]));
    await until(() => reloader.current().ca?.length === ca1.cert.length + ca2.cert.length, 5_000, 'the new CA bundle');
    expect(reloader.current().cert.equals(serving1.cert)).toBe(true);
    expect(await count(metrics, 'herald_tls_reloads_total')).toBe(1);
  });

  it('keeps the old material while a file is half written, counts that once, and takes the good file after', async () => {
    const v = volume(pair(serving1, ca1));
    const { reloader, metrics } = start(v);
    writeFileSync(v.path('tls.crt'), serving2.cert.subarray(0, 300));
    await until(() => reloader.reload() === 'failed', 5_000, 'the half-written file to be seen');
    await until(() => reloader.reload() === 'failed', 5_000, 'the half-written file to be seen again');
    expect(reloader.current().cert.equals(serving1.cert)).toBe(true);
    expect(await count(metrics, 'herald_tls_reload_failures_total')).toBe(1);

    // A certificate renewed before its key is written: mismatched, so still the old pair.
    writeFileSync(v.path('tls.crt'), serving2.cert);
    expect(reloader.reload()).toBe('failed');
    expect(reloader.current().cert.equals(serving1.cert)).toBe(true);
    expect(await count(metrics, 'herald_tls_reload_failures_total')).toBe(2);

    writeFileSync(v.path('tls.key'), serving2.key);
    await until(() => reloader.current().cert.equals(serving2.cert), 5_000, 'the completed pair');
    expect(reloader.current().key.equals(serving2.key)).toBe(true);
    expect(await count(metrics, 'herald_tls_reloads_total')).toBe(1);
  });

  it('re-reads periodically when no file event arrives', async () => {
    const v = volume(pair(serving1, ca1));
    const { reloader } = start(v, { pollIntervalMs: 50, watchDirectory: () => ({ close: () => undefined }) });
    v.swap(pair(serving2, ca1));
    await until(() => reloader.current().cert.equals(serving2.cert), 5_000, 'the polled certificate');
  });

  it('hands grpc-js listeners the material after registration, then each change of their part only', async () => {
    const v = volume(pair(serving1, ca1));
    const { reloader } = start(v);
    const identities: Buffer[] = [];
    const cas: Buffer[] = [];
    reloader.addIdentityCertificateListener((update) => identities.push(update!.certificate));
    reloader.addCaCertificateListener((update) => cas.push(update!.caCertificate));
    // Not during registration: grpc-js adds its own watcher only after the listeners.
    expect(identities).toEqual([]);
    await Promise.resolve();
    expect(identities).toEqual([serving1.cert]);
    expect(cas).toEqual([ca1.cert]);

    writeFileSync(v.path('ca.crt'), ca2.cert);
    expect(reloader.reload()).toBe('reloaded');
    expect(identities).toHaveLength(1);
    expect(cas).toEqual([ca1.cert, ca2.cert]);
  });

  it('stops watching on close', async () => {
    const v = volume(pair(serving1, ca1));
    const { reloader, metrics } = start(v);
    reloader.close();
    v.swap(pair(serving2, ca2));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reloader.current().cert.equals(serving1.cert)).toBe(true);
    expect(await count(metrics, 'herald_tls_reloads_total')).toBe(0);
  });
});
