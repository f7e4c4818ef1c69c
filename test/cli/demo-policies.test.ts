import { describe, expect, it } from 'vitest';
import { DEMO_POLICIES, DEMO_POLICY_NAMESPACE, demoClusters, demoPolicies } from '../../src/cli/demo-mesh.js';
import { DEFAULTS_POLICY_NAME, PolicyRegistry, validatePolicySpec } from '../../src/policy/index.js';
import { StaticPolicySource } from '../../src/sources/sim/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';

describe('the demo’s ServicePolicies', () => {
  it.each(DEMO_POLICIES.map((p) => [`${p.namespace}/${p.name}`, p] as const))('%s passes Herald’s validation', (_key, policy) => {
    expect(validatePolicySpec(policy.spec)).toMatchObject({ ok: true });
  });

  it('reach the registry from every simulated cluster, agree, and name services the demo runs', async () => {
    const clusters = demoClusters().map((c) => c.name);
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    const registry = new PolicyRegistry({ defaultsNamespace: DEMO_POLICY_NAMESPACE, clusters, logger: silentLogger(), metrics, clock: () => 0 });
    for (const name of clusters) new StaticPolicySource(name, demoPolicies(name)).start(registry);

    const services = demoClusters()[0]!.services.map((s) => `${s.name}.${s.namespace}`);
    const view = registry.debug(services);
    expect(view.rejections).toEqual([]);
    expect(view.conflicts).toEqual([]);
    // Every service object the demo ships is for a service the demo runs.
    for (const p of DEMO_POLICIES.filter((p) => p.name !== DEFAULTS_POLICY_NAME)) expect(services).toContain(`${p.name}.${p.namespace}`);

    const payments = registry.effective('payments.shop');
    expect(payments.spec.loadBalancing?.policy).toBe('LeastRequest');
    expect(payments.from.loadBalancing).toMatchObject({ role: 'service', name: 'payments', cluster: clusters[0] });
    expect(payments.from.outlierDetection).toMatchObject({ role: 'defaults', name: DEFAULTS_POLICY_NAME });
    // The canary split names services the demo runs, in checkout's namespace.
    const split = registry.effective('checkout.shop').spec.routes?.split ?? [];
    expect(split.map((b) => b.weight)).toEqual([90, 10]);
    for (const backend of split) expect(services).toContain(`${backend.service}.shop`);
    // The port name catalog's health check names is one every catalog pod declares.
    const portName = registry.effective('catalog.browse').spec.healthCheck?.portName;
    expect(portName).toBe('health');
    for (const cluster of demoClusters()) expect(cluster.services.find((s) => s.name === 'catalog')?.namedPorts?.[portName!]).toBe(8081);
    // A service with no object of its own still gets the mesh defaults.
    expect(registry.effective('frontend.shop').from).toEqual({ outlierDetection: expect.objectContaining({ role: 'defaults' }) });
  });
});
