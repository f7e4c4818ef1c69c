import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AdminServer, assessReadiness, RecentList, UI_HTML, type AdminView } from '../../src/admin/index.js';
import type { ClusterStatus } from '../../src/model/index.js';

function view(extra: Partial<AdminView> = {}): AdminView {
  return {
    metrics: new Registry(),
    readiness: () => ({ ready: true, reasons: [], xdsServing: true, missingClusters: [], clusters: [] }),
    clusters: () => [],
    services: () => [],
    service: () => undefined,
    clients: () => [],
    ...extra,
  };
}

const servers: AdminServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(v: AdminView): Promise<string> {
  const server = new AdminServer(v);
  servers.push(server);
  return `http://127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
}

function inlineScript(html: string): string {
  const match = /<script>([\s\S]*)<\/script>/.exec(html);
  if (!match) throw new Error('no inline script');
  return match[1]!;
}

describe('GET /ui', () => {
  it('serves one self-contained HTML page with a strict content security policy', async () => {
    const base = await serve(view());
    const res = await fetch(`${base}/ui`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await res.text();
    expect(body).toBe(UI_HTML);
    // No external assets: no remote URLs, no script/style/img loaded from elsewhere.
    expect(body).not.toMatch(/https?:\/\//);
    expect(body).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|<img /);
  });

  it('has a script that parses, polls every endpoint it documents, and never writes markup from data', () => {
    const script = inlineScript(UI_HTML);
    expect(() => new vm.Script(script)).not.toThrow();
    for (const path of ['/readyz', '/debug/clusters', '/debug/services', '/debug/services/', '/debug/clients', '/debug/drains', '/debug/drains/recent']) {
      expect(script).toContain(`'${path}'`);
    }
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect(script).toMatch(/setInterval\(poll, 1000\)/);
  });

  it('is listed on the index page', async () => {
    const base = await serve(view());
    const index = (await (await fetch(`${base}/`)).json()) as { paths: string[] };
    expect(index.paths).toContain('/ui');
    expect(index.paths).not.toContain('/debug/drains/recent');
  });
});

describe('GET /debug/drains/recent', () => {
  it("returns the view's finished drains", async () => {
    const recent = [{ podKey: 'default/a', service: 'echo', complete: true }];
    const base = await serve(view({ recentDrains: () => recent }));
    const res = await fetch(`${base}/debug/drains/recent`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(recent);
    const index = (await (await fetch(`${base}/`)).json()) as { paths: string[] };
    expect(index.paths).toContain('/debug/drains/recent');
  });

  it('is 404 when the view keeps no history', async () => {
    const base = await serve(view());
    expect((await fetch(`${base}/debug/drains/recent`)).status).toBe(404);
  });
});

describe('GET /debug/policies', () => {
  it("returns the view's policy report and is listed on the index page", async () => {
    const report = { services: [{ service: 'cart.shop', spec: { circuitBreakers: { maxRequests: 5 } } }], rejections: [], conflicts: [] };
    const base = await serve(view({ policies: () => report }));
    const res = await fetch(`${base}/debug/policies`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(report);
    const index = (await (await fetch(`${base}/`)).json()) as { paths: string[] };
    expect(index.paths).toContain('/debug/policies');
  });

  it('is 404 without a policy registry', async () => {
    const base = await serve(view());
    expect((await fetch(`${base}/debug/policies`)).status).toBe(404);
  });
});

describe('readiness while shutting down', () => {
  const synced: ClusterStatus = { cluster: 'east', state: 'synced', everSynced: true, lastError: undefined, lastChangeMs: 0 };
  it.each([
    { shuttingDown: undefined, ready: true, reason: undefined },
    { shuttingDown: false, ready: true, reason: undefined },
    { shuttingDown: true, ready: false, reason: /shutting down/ },
  ])('shuttingDown=$shuttingDown → ready=$ready', ({ shuttingDown, ready, reason }) => {
    const r = assessReadiness({ clusters: [synced], initialSyncTimedOut: false, xdsServing: true, shuttingDown });
    expect(r.ready).toBe(ready);
    if (reason) expect(r.reasons.join()).toMatch(reason);
    else expect(r.reasons).toEqual([]);
  });
});

describe('RecentList', () => {
  it('keeps the newest items, newest first', () => {
    const list = new RecentList<number>(3);
    expect(list.newestFirst()).toEqual([]);
    for (const n of [1, 2, 3, 4, 5]) list.push(n);
    expect(list.newestFirst()).toEqual([5, 4, 3]);
    expect(list.size).toBe(3);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses capacity %s', (capacity) => {
    expect(() => new RecentList(capacity)).toThrow(RangeError);
  });
});
