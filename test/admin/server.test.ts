import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { AdminServer, parseTarget, type AdminView, type Readiness } from '../../src/admin/index.js';
import type { ClusterStatus, ServiceEndpoints } from '../../src/model/index.js';
import { HeraldMetrics } from '../../src/telemetry/index.js';

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Raw http.request so odd request targets reach the server unnormalised. */
function request(port: number, path: string, method = 'GET', agent?: http.Agent): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

class FakeView implements AdminView {
  readonly metrics: Registry;
  readonly requests: Counter;
  alive = true;
  ready: Readiness = { ready: false, reasons: ['initial sync pending: east'], xdsServing: false, missingClusters: ['east'], clusters: [] };
  clusterList: ClusterStatus[] = [
    { cluster: 'west', state: 'synced', everSynced: true, lastError: undefined, lastChangeMs: 1000 },
    { cluster: 'east', state: 'unreachable', everSynced: false, lastError: 'connect ECONNREFUSED', lastChangeMs: 2000 },
  ];
  serviceMap = new Map<string, ServiceEndpoints>();
  clientList: unknown[] = [{ id: 'sidecar-1', acked: { cluster: 'v3' }, nacked: {} }];
  failClients = false;
  lookups: string[] = [];

  constructor(registry = new Registry()) {
    this.metrics = registry;
    this.requests = new Counter({ name: 'herald_test_things_total', help: 'things', registers: [this.metrics] });
  }
  liveness(): { ok: boolean; detail?: string } {
    return this.alive ? { ok: true } : { ok: false, detail: 'event loop stuck' };
  }
  readiness(): Readiness {
    return this.ready;
  }
  clusters(): ClusterStatus[] {
    return this.clusterList;
  }
  services(): Iterable<ServiceEndpoints> {
    return this.serviceMap.values();
  }
  service(name: string): ServiceEndpoints | undefined {
    this.lookups.push(name);
    return this.serviceMap.get(name);
  }
  clients(): unknown[] {
    if (this.failClients) throw new Error('boom');
    return this.clientList;
  }
}

const web: ServiceEndpoints = {
  service: 'web.v1',
  label: 'web',
  namespaces: ['v1'],
  podCount: 3,
  endpoints: [
    { cluster: 'west', podKey: 'default/web-1', ip: '10.0.0.1', port: 8080, health: 'HEALTHY', region: 'r1', zone: 'z1', drainingSinceMs: undefined },
    { cluster: 'west', podKey: 'default/web-2', ip: '10.0.0.2', port: 8080, health: 'DRAINING', region: 'r1', zone: 'z2', drainingSinceMs: 5 },
  ],
};

describe('AdminServer', () => {
  let view: FakeView;
  let server: AdminServer;
  let port: number;

  beforeEach(async () => {
    view = new FakeView();
    view.serviceMap.set(web.service, web);
    view.serviceMap.set('api', { service: 'api', label: 'api', namespaces: ['default', 'shop'], podCount: 0, endpoints: [] });
    server = new AdminServer(view);
    port = await server.listen('127.0.0.1', 0);
  });
  afterEach(async () => {
    await server.close();
  });

  it('answers /healthz with 200 ok, and 503 when the view reports not alive', async () => {
    const ok = await request(port, '/healthz');
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('ok');
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    view.alive = false;
    const bad = await request(port, '/healthz');
    expect(bad.status).toBe(503);
    expect(bad.body).toContain('event loop stuck');
  });

  it('answers /readyz 503 then 200 with JSON detail', async () => {
    const notReady = await request(port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(notReady.body)).toEqual(view.ready);

    view.ready = { ready: true, reasons: ['cluster east unreachable'], xdsServing: true, missingClusters: [], clusters: view.clusterList };
    const ready = await request(port, '/readyz?verbose');
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.body) as Readiness;
    expect(body.ready).toBe(true);
    expect(body.clusters.find((c) => c.cluster === 'east')?.state).toBe('unreachable');
  });

  it('serves Prometheus text with the registry content type', async () => {
    view.requests.inc(3);
    const res = await request(port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(view.metrics.contentType);
    expect(res.body).toMatch(/^herald_test_things_total 3$/m);
  });

  it('serves /debug/clusters and /debug/clients as JSON', async () => {
    const clusters = await request(port, '/debug/clusters');
    expect(clusters.status).toBe(200);
    expect(JSON.parse(clusters.body)).toEqual(view.clusterList);
    const clients = await request(port, '/debug/clients/');
    expect(clients.status).toBe(200);
    expect(JSON.parse(clients.body)).toEqual(view.clientList);
  });

  it('summarises services sorted by name', async () => {
    const res = await request(port, '/debug/services');
    expect(res.status).toBe(200);
    const list = JSON.parse(res.body) as { name: string; endpoints: number; healthy: number; draining: number }[];
    expect(list.map((s) => s.name)).toEqual(['api', 'web.v1']);
    expect(list[1]).toMatchObject({ endpoints: 2, healthy: 1, draining: 1, pods: 3 });
  });

  it('serves one service, decoding percent-encoded names', async () => {
    const res = await request(port, '/debug/services/web%2Ev1');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as ServiceEndpoints & { summary: { draining: number } };
    expect(body.service).toBe('web.v1');
    expect(body.endpoints).toHaveLength(2);
    expect(body.summary.draining).toBe(1);
    expect(view.lookups).toEqual(['web.v1']);
  });

  it('answers unknown services with 404 JSON and malformed names with 400', async () => {
    const unknown = await request(port, '/debug/services/nope');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'unknown service', service: 'nope' });
    const nested = await request(port, '/debug/services/web.v1/extra');
    expect(nested.status).toBe(404);
    const malformed = await request(port, '/debug/services/%E0%A4%A');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).error).toMatch(/percent-encoding/);
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    for (const path of ['/nope', '/debug', '/healthz/extra', '/metrics.txt', '/%%%', '/debug/../readyz']) {
      const res = await request(port, path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type'], path).toMatch(/^application\/json/);
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await request(port, '/healthz', method);
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
    const head = await request(port, '/healthz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('routes odd but harmless targets and survives a failing view', async () => {
    expect((await request(port, '//healthz')).status).toBe(200);
    expect((await request(port, '/readyz?%zz=&&=')).status).toBe(503);
    view.failClients = true;
    const failed = await request(port, '/debug/clients');
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body)).toEqual({ error: 'internal error' });
    expect((await request(port, '/healthz')).status).toBe(200);
  });

  it('closes promptly with an idle keep-alive connection open', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect((await request(port, '/healthz', 'GET', agent)).status).toBe(200);
      await server.close();
      await expect(request(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      agent.destroy();
    }
  });

  it('serves the HeraldMetrics registry', async () => {
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    metrics.xdsNacks.inc({ type: 'endpoint' });
    const other = new AdminServer(new FakeView(metrics.registry));
    const otherPort = await other.listen('127.0.0.1', 0);
    try {
      const res = await request(otherPort, '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.body).toMatch(/^herald_xds_nacks_total\{type="endpoint"\} 1$/m);
      expect(res.body).toContain('# TYPE herald_drain_propagation_seconds histogram');
    } finally {
      await other.close();
    }
  });

  it('rejects listen on a port already in use', async () => {
    const other = new AdminServer(view);
    await expect(other.listen('127.0.0.1', port)).rejects.toThrow(/EADDRINUSE/);
    await other.close();
  });
});

describe('parseTarget', () => {
  const cases: [string, string[], Record<string, string>][] = [
    ['/', [], {}],
    ['/debug/services/', ['debug', 'services'], {}],
    ['//x//y', ['x', 'y'], {}],
    ['/readyz?verbose', ['readyz'], { verbose: '' }],
    ['/a?b=1&c=%zz', ['a'], { b: '1', c: '%zz' }],
    ['', [], {}],
    ['http://127.0.0.1:18001/debug/clusters?x=1', ['debug', 'clusters'], { x: '1' }],
    ['http://host?verbose', [], { verbose: '' }],
  ];
  for (const [target, segments, query] of cases) {
    it(JSON.stringify(target), () => {
      const parsed = parseTarget(target);
      expect(parsed.segments).toEqual(segments);
      expect(Object.fromEntries(parsed.query)).toEqual(query);
    });
  }
});
