// `herald status policies` as an operator runs it: the built CLI against a running daemon whose
// simulated clusters hold the demo's ServicePolicies and one generation Herald rejects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { DEMO_POLICY_NAMESPACE, demoClusters, demoPolicies } from '../../src/cli/demo-mesh.js';
import { SimulatedCluster, StaticPolicySource } from '../../src/sources/sim/index.js';
import type { PolicyStatusReport } from '../../src/status/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { run } from './run-cli.js';

describe('herald status policies against a running Herald', () => {
  let daemon: Daemon;

  beforeAll(async () => {
    const clusters = demoClusters().map((options) => new SimulatedCluster({ ...options, timing: { readyDelayMs: 100, gracePeriodMs: 1_000 } }));
    const policySources = clusters.map(
      (c) =>
        new StaticPolicySource(c.name, [
          ...demoPolicies(c.name),
          ...(c.name === 'west' ? [{ cluster: 'west', namespace: 'shop', name: 'frontend', generation: 2, spec: { circuitBreakers: { maxRequests: 0 } } }] : []),
        ]),
    );
    daemon = await startDaemon(
      {
        sources: clusters,
        policies: { sources: policySources, clusters: policySources.map((s) => s.name), namespace: DEMO_POLICY_NAMESPACE },
        initialSyncTimeoutMs: 5_000,
        xds: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
      },
      { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
    );
    await daemon.ready;
  });

  afterAll(async () => {
    await daemon?.stop(1_000);
  });

  it('prints each service’s sections with their origins, and the rejection', async () => {
    const result = await run(['status', 'policies', '--admin-port', String(daemon.adminPort)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^SERVICE +SECTION +FROM +OBJECT +GENERATION +IGNORED BY PROXYLESS$/);
    expect(lines).toContainEqual(expect.stringMatching(/^payments\.shop +loadBalancing +service +east\/shop\/payments +1 +policy,panicThresholdPercent$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ +outlierDetection +defaults +east\/herald\/mesh-defaults +1 /));
    expect(lines).toContain('REJECTED west/shop/frontend generation 2: spec.circuitBreakers.maxRequests: must be ≥ 1 (nothing in effect)');
  });

  it('-o json gives the same view as data', async () => {
    const result = await run(['status', 'policies', '--admin-port', String(daemon.adminPort), '-o', 'json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as PolicyStatusReport;
    expect(report.clusters).toEqual(['east', 'west']);
    expect(report.services.map((s) => s.service)).toEqual(['catalog.browse', 'checkout-canary.shop', 'checkout.shop', 'frontend.shop', 'payments.shop', 'search.browse']);
    expect(report.services.find((s) => s.service === 'search.browse')?.sections).toEqual([
      { section: 'connection', role: 'service', object: 'east/browse/search', generation: 1 },
      { section: 'outlierDetection', role: 'defaults', object: 'east/herald/mesh-defaults', generation: 1 },
    ]);
    expect(report.rejections).toEqual([{ object: 'west/shop/frontend', generation: 2, errors: ['spec.circuitBreakers.maxRequests: must be ≥ 1'], keptGeneration: undefined }]);
  });

  it('fails with a message naming the address when the admin port does not answer, and refuses --admin-port 0', async () => {
    const closed = await run(['status', 'policies', '--admin-port', '1', '--timeout', '2s']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/^herald status: error: http:\/\/127\.0\.0\.1:1\/debug\/policies: /);
    const zero = await run(['status', 'policies', '--admin-port', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--admin-port: status policies reads the admin port');
  });
});
