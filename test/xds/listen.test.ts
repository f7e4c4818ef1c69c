import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/cache/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { XdsServer } from '../../src/xds/index.js';
import { protos, resourceAny, TestStream, until } from './helpers.js';

function newServer(extra: { credentials?: grpc.ServerCredentials; listenBacklog?: number } = {}): { server: XdsServer; cache: ResourceCache } {
  const cache = new ResourceCache();
  cache.apply([{ kind: 'cluster', name: 'a', any: resourceAny('cluster', 'a', 'v1') }]);
  const server = new XdsServer({
    cache,
    protos: protos(),
    metrics: new HeraldMetrics({ registry: new Registry(), defaultMetrics: false }),
    logger: silentLogger(),
    ready: Promise.resolve(),
    ...extra,
  });
  return { server, cache };
}

/** A self-signed certificate for localhost, made by openssl in a temporary directory. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('XdsServer.listen (own accept socket)', () => {
  it('serves insecure streams with a configured backlog, then refuses connections once closed', async () => {
    const { server } = newServer({ listenBacklog: 1024 });
    const port = await server.listen('127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanup.push(() => client.close());
    const s = new TestStream(client);
    s.request('cluster');
    expect((await s.next()).resources.map((r) => r.name)).toEqual(['a']);
    expect(server.clients()).toHaveLength(1);

    await server.close(1_000);
    await until(() => s.status !== undefined, 5_000, 'the stream to end');
    expect(s.status?.code).toBe(grpc.status.UNAVAILABLE);
    expect(await refused(port)).toBe(true);
  });

  it('serves TLS streams with ServerCredentials.createSsl', async () => {
    const { key, cert } = selfSigned();
    const { server } = newServer({ credentials: grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }]) });
    const port = await server.listen('127.0.0.1', 0);
    cleanup.push(() => server.close(1_000));
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(cert), { 'grpc.ssl_target_name_override': 'localhost' });
    cleanup.push(() => client.close());
    const s = new TestStream(client);
    s.request('cluster');
    expect((await s.next()).resources.map((r) => r.name)).toEqual(['a']);

    // A plaintext client cannot talk to the TLS port.
    const plain = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanup.push(() => plain.close());
    const p = new TestStream(plain);
    p.request('cluster');
    await until(() => p.status !== undefined, 10_000, 'the plaintext stream to fail');
    expect(p.status?.code).toBe(grpc.status.UNAVAILABLE);
    expect(p.received).toEqual([]);
  });

  it('rejects when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const { server } = newServer();
    cleanup.push(() => server.close(1_000));
    await expect(server.listen('127.0.0.1', (taken.address() as net.AddressInfo).port)).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('XdsServer.listen by name', () => {
  it('binds every address the name resolves to, on one port', async () => {
    const { server } = newServer();
    const port = await server.listen('localhost', 0);
    cleanup.push(() => server.close(1_000));
    const client = new grpc.Client(`localhost:${port}`, grpc.credentials.createInsecure());
    cleanup.push(() => client.close());
    const s = new TestStream(client);
    s.request('cluster');
    expect((await s.next()).resources.map((r) => r.name)).toEqual(['a']);
  });
});
