import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { DEMO_POLICY_NAMESPACE, demoClusters, demoPolicies } from '../../src/cli/demo-mesh.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { SimulatedCluster, StaticPolicySource } from '../../src/sources/sim/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';

// The admin page in a real browser: Debian's chromium driven by playwright-core. Without a
// browser the test is skipped locally and fails under CI, where one must be installed.
const CHROMIUM = process.env['HERALD_CHROMIUM'] ?? '/usr/bin/chromium';
const SHOT_DIR = path.resolve('.cache/ui');
/** Set to refresh the README's screenshot (docs/ui.png) from this run. */
const UPDATE_DOCS = process.env['HERALD_UPDATE_UI_SCREENSHOT'] === '1';

const playwright = await import('playwright-core').catch(() => undefined);
const missing = !fs.existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set HERALD_CHROMIUM)`
  : playwright === undefined
    ? 'playwright-core is not installed (npm install)'
    : undefined;
if (missing && !process.env['CI']) console.warn(`test/ui skipped: ${missing}`);

/** Chromium flags for a closed network: no background fetches, no sandbox (root in CI). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

// Runs in the browser (Locator.evaluate); the tests are typed without the DOM library.
declare function getComputedStyle(element: unknown): { backgroundColor: string };
declare const document: { querySelector(selector: string): unknown };

/** Background colour of the first match, read in one browser task so a re-render cannot detach it. */
function colourOf(page: Page, selector: string): Promise<string | undefined> {
  return page.evaluate((sel) => {
    const node = document.querySelector(sel);
    return node ? getComputedStyle(node).backgroundColor : undefined;
  }, selector);
}

const HOSTILE_NODE_ID = '<img id="injected" src=x onerror="document.title=1">checkout-5c8d';
/** An unknown field's name comes back in a rejection's field path: it must stay text too. */
const HOSTILE_FIELD = '<img id="injected-field" src=x onerror="document.title=2">';

describe.skipIf(missing !== undefined && !process.env['CI'])('admin UI in headless Chromium', () => {
  let daemon: Daemon;
  let clusters: SimulatedCluster[];
  let sidecars: AdsClient[];
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    if (missing) throw new Error(`CI is set but the browser test cannot run: ${missing}`);
    // A long grace keeps the terminated pod DRAINING while the page is looked at.
    clusters = demoClusters().map((options) => new SimulatedCluster({ ...options, timing: { readyDelayMs: 200, gracePeriodMs: 60_000 } }));
    // The demo's ServicePolicies, plus, in west only, a generation of frontend's that Herald rejects.
    const policySources = clusters.map(
      (c) =>
        new StaticPolicySource(c.name, [
          // The mesh defaults also evacuate a cluster the demo does not have: the page shows it, traffic does not move.
          ...demoPolicies(c.name).map((p) => (p.name === 'mesh-defaults' ? { ...p, spec: { ...(p.spec as object), locality: { evacuate: ['retired'] } } } : p)),
          ...(c.name === 'west' ? [{ cluster: 'west', namespace: 'shop', name: 'frontend', generation: 4, spec: { connection: { connectTimeoutMs: 0, [HOSTILE_FIELD]: 1 } } }] : []),
        ]),
    );
    daemon = await startDaemon(
      {
        sources: clusters,
        policies: { sources: policySources, clusters: policySources.map((source) => source.name), namespace: DEMO_POLICY_NAMESPACE },
        localCluster: clusters[0]!.name,
        initialSyncTimeoutMs: 5_000,
        xds: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        // Long enough for the page's 1 s polling to see /readyz fail during the hand-off.
        handoffDelayMs: 2_000,
        // payments.shop routes part of its traffic to another service (a canary stand-in).
        splitBackends: (service) => (service === 'payments.shop' ? ['frontend.shop'] : []),
      },
      { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
    );
    await daemon.ready;
    const protos = loadEnvoyProtos();
    const target = `127.0.0.1:${daemon.xdsPort}`;
    sidecars = [
      // Scoped to what it calls (one name that does not exist); the other takes the whole mesh.
      new AdsClient({
        target,
        nodeId: 'frontend-7d9f-abc12',
        cluster: 'frontend.shop',
        dependencies: ['payments.shop', 'checkout.shop', 'ghost.shop'],
        kubeCluster: 'west',
        zone: 'us-west-2a',
        protos,
      }).start(),
      new AdsClient({ target, nodeId: HOSTILE_NODE_ID, cluster: 'checkout.shop', protos }).start(),
    ];
    // The scoped sidecar: payments and checkout, and frontend through payments' split.
    const clusterCounts = [3, 6];
    await Promise.all(sidecars.map((s, i) => s.waitFor((c) => c.subscriptions().length === clusterCounts[i] && c.subscriptions().every((n) => c.assignment(n)), 10_000)));
    base = `http://127.0.0.1:${daemon.adminPort}`;
    browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    for (const sidecar of sidecars ?? []) await sidecar.close();
    await daemon?.stop(2_000);
  });

  it('shows clusters, services, synced clients and a draining endpoint as it happens', async () => {
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    const response = await page.goto(`${base}/ui`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'/);

    // Both simulated Kubernetes clusters synced, both sidecars synced, every endpoint healthy.
    await page.locator('#clusters tr', { hasText: 'east' }).locator('.badge', { hasText: 'synced' }).waitFor({ timeout: 10_000 });
    await page.locator('#clusters tr', { hasText: 'west' }).locator('.badge', { hasText: 'synced' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('#clients tr[data-synced="true"]').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.locator('#services [data-health="HEALTHY"]').count(), { timeout: 10_000 }).toBe(34);
    expect(await page.locator('#services [data-health="DRAINING"]').count()).toBe(0);

    // A pod starts terminating: the page shows its endpoint DRAINING, amber, within the polling.
    const victim = clusters[0]!.pods().find((p) => p.service === 'payments.shop')!;
    void clusters[0]!.terminatePod(`${victim.namespace}/${victim.name}`);
    // Each service shows its namespace and label value.
    const payments = page.locator('[data-service="payments.shop"]');
    expect(await payments.getAttribute('data-namespaces')).toBe('shop');
    expect(await payments.locator('.counts').textContent()).toMatch(/^namespace shop · label payments · /);
    // And the protocol its cluster speaks upstream, with where it came from (the demo's pods say nothing: the default).
    expect(await payments.locator('.counts').textContent()).toMatch(/ · HTTP\/1\.1 \(default\)$/);
    const draining = page.locator('[data-service="payments.shop"] [data-health="DRAINING"]');
    await draining.waitFor({ timeout: 10_000 });
    expect(await draining.textContent()).toBe(`${victim.ip}:${victim.port}`);
    expect(await colourOf(page, '[data-service="payments.shop"] [data-health="DRAINING"]')).toBe('rgb(183, 121, 31)');
    expect(await colourOf(page, '#services [data-health="HEALTHY"]')).toBe('rgb(26, 127, 55)');
    // The finished drain shows in the recent list with both sidecars' ACKs.
    await page
      .locator('#drains tr', { hasText: victim.name })
      .locator('.badge', { hasText: /2\/2 ACKed in \d+ ms/ })
      .waitFor({ timeout: 10_000 });

    // Each client's scope: the declared services (an unknown one flagged) and what they route to, or the whole mesh.
    const frontend = page.locator('#clients tr', { hasText: 'frontend-7d9f-abc12' });
    expect(await frontend.textContent()).toContain('3 services + 1 via routes');
    expect(await frontend.locator('span[title*="via routes: frontend.shop"]').count()).toBe(1);
    expect(await frontend.locator('.badge', { hasText: '1 unknown: ghost.shop' }).count()).toBe(1);
    expect(await page.locator('#clients tr', { hasText: HOSTILE_NODE_ID }).textContent()).toContain('whole mesh');
    // Each client's perspective: the one that declared west and a zone reads its own view; the other the replica's.
    expect(await frontend.textContent()).toContain('west / us-west-2a');
    expect(await frontend.locator('.badge', { hasText: 'replica view' }).count()).toBe(0);
    expect(await page.locator('#clients tr', { hasText: HOSTILE_NODE_ID }).locator('.badge', { hasText: 'replica view' }).count()).toBe(1);

    // A node id is shown as text, never run as markup.
    await page.locator('#clients td', { hasText: HOSTILE_NODE_ID }).waitFor({ timeout: 5_000 });
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.title()).toBe('Herald');
    expect(errors).toEqual([]);

    fs.mkdirSync(SHOT_DIR, { recursive: true });
    const shot = path.join(SHOT_DIR, 'admin-ui.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    if (UPDATE_DOCS) {
      fs.mkdirSync(path.resolve('docs'), { recursive: true });
      await page.screenshot({ path: path.resolve('docs/ui.png'), fullPage: false });
    }
  });

  it("shows each service's effective ServicePolicy, where every section came from, and the rejections", async () => {
    await page.goto(`${base}/ui`);
    const payments = page.locator('[data-policy-service="payments.shop"]');
    await payments.waitFor({ timeout: 10_000 });
    // Its own object's sections, and the mesh defaults' outlier detection, each with its origin.
    const field = (name: string) => payments.locator(`tr[data-field="${name}"]`);
    expect(await field('loadBalancing.policy').getAttribute('data-origin')).toBe('service');
    expect(await field('loadBalancing.policy').textContent()).toMatch(/^loadBalancingpolicyLeastRequestservice object east\/shop\/payments generation 1$/);
    expect(await field('circuitBreakers.maxRequests').textContent()).toContain('1024');
    expect(await field('outlierDetection.consecutive5xx').getAttribute('data-origin')).toBe('defaults');
    expect(await field('outlierDetection.consecutive5xx').textContent()).toContain('mesh defaults east/herald/mesh-defaults generation 1');
    expect(await payments.locator('.counts', { hasText: 'proxyless gRPC ignores' }).textContent()).toContain('outlierDetection.consecutive5xx');
    // The evacuation the mesh defaults ask for, with the object it came from.
    expect(await page.locator('[data-evacuation="retired"]').textContent()).toMatch(
      /^evacuating retired LastPriority · every client gets their endpoints last · east\/herald\/mesh-defaults generation 1$/,
    );
    // Every service the mesh defaults reach is listed, not only those with an object of their own.
    expect(await page.locator('[data-policy-service]').count()).toBe(6);
    // west's rejected generation, with its field paths as text, and what stays in effect.
    const rejected = page.locator('tr[data-rejected="west/shop/frontend"]');
    expect(await rejected.textContent()).toContain('spec.connection.connectTimeoutMs: must be ≥ 1');
    expect(await rejected.textContent()).toContain(`spec.connection.${HOSTILE_FIELD}: unknown field`);
    expect(await rejected.textContent()).toMatch(/nothing$/);
    expect(await page.locator('#injected-field').count()).toBe(0);
    // checkout's canary split with its weights live: the canary's weight drops to 0 while it has
    // no HEALTHY endpoint.
    const canary = page.locator('[data-policy-service="checkout.shop"] [data-split-backend="checkout-canary.shop"]');
    expect(await canary.getAttribute('data-live-weight')).toBe('10');
    expect(await page.locator('[data-policy-service="checkout.shop"] [data-split-backend="checkout.shop"]').getAttribute('data-live-weight')).toBe('90');
    for (const cluster of clusters) for (const pod of cluster.pods().filter((p) => p.service === 'checkout-canary.shop')) void cluster.terminatePod(`${pod.namespace}/${pod.name}`);
    await expect.poll(() => canary.getAttribute('data-live-weight'), { timeout: 10_000 }).toBe('0');
    expect(await canary.textContent()).toContain('(no HEALTHY endpoint)');
    // The filter narrows the policies as it does the services.
    await page.fill('#filter', 'search');
    await expect.poll(() => page.locator('[data-policy-service]').count(), { timeout: 5_000 }).toBe(1);
    expect(await page.locator('[data-policy-service="search.browse"] tr[data-field="connection.connectTimeoutMs"]').textContent()).toContain('250');
    await page.fill('#filter', '');
  });

  it('turns the readiness badge red while the replica hands its clients over', async () => {
    await page.locator('#ready .badge', { hasText: /^ready$/ }).waitFor({ timeout: 5_000 });
    const stopping = daemon.stop(5_000);
    await page.locator('#ready .badge', { hasText: 'not ready' }).waitFor({ timeout: 5_000 });
    expect(await page.locator('#reasons').textContent()).toMatch(/shutting down/);
    await stopping;
    // Once the admin server is gone the page says so instead of showing stale data as live.
    await page.locator('#updated .error', { hasText: 'admin endpoint unreachable' }).waitFor({ timeout: 5_000 });
  });
});
