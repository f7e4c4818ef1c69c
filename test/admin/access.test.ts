// Who may read what on the admin port: probes and metrics are open to anyone with an allowed
// Host header; the debug pages, the index and the UI only to a loopback caller or one with
// the admin token. The tests run on loopback, so "remote" callers are played by injecting a
// peer classifier that calls every address remote (the real one is tabled in test/access).
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { accessGuard, type AccessGuard } from '../../src/access/index.js';
import { AdminServer, type AdminView } from '../../src/admin/index.js';
import { HeraldMetrics } from '../../src/telemetry/index.js';

const TOKEN = 'tok-3f9a1c';

function view(metrics: HeraldMetrics): AdminView {
  return {
    metrics: metrics.registry,
    readiness: () => ({ ready: true, reasons: [], xdsServing: true, clusters: [], missingClusters: [] }),
    clusters: () => [{ cluster: 'east', state: 'synced', everSynced: true, lastError: undefined, lastChangeMs: 1 }],
    services: () => [],
    service: () => undefined,
    clients: () => [{ id: 'sidecar-1', node: { id: 'secret-node.shop' } }],
  };
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

let server: AdminServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: { access?: AccessGuard; allowedHosts?: string[] } = {}): Promise<{ port: number; metrics: HeraldMetrics }> {
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  server = new AdminServer(view(metrics), { ...options, metrics });
  return { port: await server.listen('127.0.0.1', 0), metrics };
}

async function refusals(metrics: HeraldMetrics): Promise<Record<string, number>> {
  const values = (await metrics.adminRequestsRefused.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

const GUARDED = ['/debug/clients', '/debug/clusters', '/debug/services', '/debug/services/web', '/ui', '/', '/no-such-page'];
const OPEN = ['/healthz', '/readyz', '/metrics'];

describe('admin access from loopback (the default guard, kubectl port-forward)', () => {
  it('serves every page without credentials', async () => {
    const { port } = await start();
    for (const path of [...OPEN, '/debug/clients', '/ui', '/']) expect((await get(port, path)).status, path).toBe(200);
    expect(JSON.parse((await get(port, '/debug/clients')).body)).toEqual([{ id: 'sidecar-1', node: { id: 'secret-node.shop' } }]);
  });
});

describe('admin access from a remote caller', () => {
  const remote = (token?: string): AccessGuard => accessGuard({ isLoopback: () => false, ...(token === undefined ? {} : { token: () => token }) });

  it('keeps probes and metrics open', async () => {
    const { port, metrics } = await start({ access: remote(TOKEN) });
    for (const path of OPEN) expect((await get(port, path)).status, path).toBe(200);
    expect(await refusals(metrics)).toEqual({});
  });

  it.each(GUARDED)('answers %s with 401 and a hint, without credentials', async (path) => {
    const { port, metrics } = await start({ access: remote(TOKEN) });
    const res = await get(port, path);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'unauthorized', detail: expect.stringMatching(/port-forward/) as unknown });
    expect(res.body).not.toContain('secret-node');
    expect(await refusals(metrics)).toEqual({ no_credentials: 1 });
  });

  it('answers 401 to other schemes and 403 to a wrong token', async () => {
    const { port, metrics } = await start({ access: remote(TOKEN) });
    expect((await get(port, '/debug/clients', { authorization: 'Basic YTpi' })).status).toBe(401);
    const wrong = await get(port, '/debug/clients', { authorization: 'Bearer tok-3f9a1d' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).not.toContain('secret-node');
    expect(await refusals(metrics)).toEqual({ malformed_credentials: 1, bad_token: 1 });
  });

  it('serves every page to the right token', async () => {
    const { port } = await start({ access: remote(TOKEN) });
    for (const path of ['/debug/clients', '/debug/clusters', '/ui', '/']) expect((await get(port, path, { authorization: `Bearer ${TOKEN}` })).status, path).toBe(200);
    expect((await get(port, '/no-such-page', { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
  });

  it('refuses every token when none is configured', async () => {
    const { port } = await start({ access: remote() });
    expect((await get(port, '/debug/clients', { authorization: `Bearer ${TOKEN}` })).status).toBe(403);
  });
});

describe('the Host header allow-list (DNS rebinding)', () => {
  it.each([...OPEN, '/debug/clients', '/ui'])('refuses %s for a Host that is not allowed, from loopback too', async (path) => {
    const { port, metrics } = await start();
    const res = await get(port, path, { host: 'rebind.attacker.example' });
    expect(res.status).toBe(421);
    expect(res.body).not.toContain('secret-node');
    expect(await refusals(metrics)).toEqual({ host_not_allowed: 1 });
  });

  it('accepts IP literals, localhost and the names given', async () => {
    const { port } = await start({ allowedHosts: ['herald-metrics.herald.svc'] });
    for (const host of [`127.0.0.1:${port}`, `10.3.4.5:${port}`, `[::1]:${port}`, `localhost:${port}`, `herald-metrics.herald.svc:${port}`, 'HERALD-METRICS.herald.svc']) {
      expect((await get(port, '/debug/clients', { host })).status, host).toBe(200);
    }
    expect((await get(port, '/metrics', { host: 'other.herald.svc' })).status).toBe(421);
  });
});
