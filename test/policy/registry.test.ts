import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { PolicyObject } from '../../src/model/index.js';
import { PolicyRegistry, type PolicyChange } from '../../src/policy/index.js';
import { HeraldMetrics, silentLogger, type Logger } from '../../src/telemetry/index.js';

function recordingLogger(lines: string[]): Logger {
  const logger = silentLogger();
  const record = (_obj: unknown, message?: string) => void lines.push(message ?? String(_obj));
  return Object.assign(Object.create(logger) as Logger, { warn: record, info: record, child: () => recordingLogger(lines) });
}

function setup(clusters = ['east', 'west']) {
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  const lines: string[] = [];
  const registry = new PolicyRegistry({ defaultsNamespace: 'herald', clusters, logger: recordingLogger(lines), metrics, clock: () => 42 });
  const changes: PolicyChange[] = [];
  registry.onChange((change) => changes.push(change));
  const gauge = async () => Object.fromEntries((await metrics.policies.get()).values.map((v) => [v.labels.state, v.value]));
  const rejections = async () => (await metrics.policyRejections.get()).values.map((v) => [v.labels.kube_cluster, v.value]);
  const conflicts = async () => (await metrics.policyConflicts.get()).values[0]?.value;
  return { registry, lines, changes, gauge, rejections, conflicts };
}

const obj = (cluster: string, name: string, spec: unknown, generation = 1, namespace = 'shop'): PolicyObject => ({ cluster, namespace, name, generation, spec });

describe('PolicyRegistry', () => {
  it('maps object cart in namespace shop to service cart.shop, merged with the mesh defaults', () => {
    const { registry, changes } = setup();
    registry.replacePolicies('east', [obj('east', 'cart', { circuitBreakers: { maxRequests: 5 } }), obj('east', 'mesh-defaults', { connection: { connectTimeoutMs: 700 } }, 1, 'herald')]);
    expect(registry.effective('cart.shop').spec).toEqual({ connection: { connectTimeoutMs: 700 }, circuitBreakers: { maxRequests: 5 } });
    expect(registry.effective('other.shop').spec).toEqual({ connection: { connectTimeoutMs: 700 } });
    expect(registry.effective('mesh-defaults.herald').spec).toEqual({ connection: { connectTimeoutMs: 700 } });
    expect(changes).toEqual(['all']);
    registry.applyPolicy(obj('east', 'cart', { circuitBreakers: { maxRequests: 6 } }, 2));
    expect(changes.at(-1)).toEqual({ services: ['cart.shop'] });
  });

  it('rejects an invalid generation whole and keeps serving the last valid one; log, metric and debug entry', async () => {
    const { registry, lines, changes, gauge, rejections } = setup();
    registry.applyPolicy(obj('east', 'cart', { connection: { connectTimeoutMs: 100 } }, 1));
    registry.applyPolicy(obj('east', 'cart', { connection: { connectTimeoutMs: 200, idleTimeoutMs: 0 } }, 2));
    expect(registry.effective('cart.shop').spec).toEqual({ connection: { connectTimeoutMs: 100 } });
    expect(changes).toHaveLength(1);
    expect(lines.at(-1)).toBe('ServicePolicy east/shop/cart generation 2 rejected: spec.connection.idleTimeoutMs: must be ≥ 1; keeping generation 1');
    expect(await rejections()).toEqual([['east', 1]]);
    expect(await gauge()).toEqual({ active: 1, rejected: 1 });
    const debug = registry.debug(['cart.shop']);
    expect(debug.rejections).toEqual([
      { cluster: 'east', namespace: 'shop', name: 'cart', generation: 2, errors: [{ path: 'spec.connection.idleTimeoutMs', message: 'must be ≥ 1' }], keptGeneration: 1, atMs: 42 },
    ]);
    expect(debug.services[0]!.from.connection).toEqual({ cluster: 'east', namespace: 'shop', name: 'cart', generation: 1, role: 'service' });

    // A relist replays generation 2: judged once, counted once.
    registry.replacePolicies('east', [obj('east', 'cart', { connection: { connectTimeoutMs: 200, idleTimeoutMs: 0 } }, 2)]);
    expect(await rejections()).toEqual([['east', 1]]);
    // The next valid generation clears the rejection.
    registry.applyPolicy(obj('east', 'cart', { connection: { connectTimeoutMs: 300 } }, 3));
    expect(registry.effective('cart.shop').spec).toEqual({ connection: { connectTimeoutMs: 300 } });
    expect(await gauge()).toEqual({ active: 1, rejected: 0 });
  });

  it('a first generation that is invalid applies nothing', () => {
    const { registry, lines } = setup();
    registry.applyPolicy(obj('east', 'cart', { loadBalancing: { policy: 'Random', slowStartWindowMs: 5 } }));
    expect(registry.effective('cart.shop').spec).toEqual({});
    expect(lines.at(-1)).toMatch(/spec\.loadBalancing\.slowStartWindowMs: slowStartWindowMs needs policy RoundRobin or LeastRequest; no earlier valid generation, nothing applied$/);
  });

  it('resolves clusters that disagree by --policy-clusters order, reports the conflict once', async () => {
    const { registry, lines, conflicts } = setup(['west', 'east']);
    registry.applyPolicy(obj('east', 'cart', { circuitBreakers: { maxRequests: 1 } }));
    registry.applyPolicy(obj('west', 'cart', { circuitBreakers: { maxRequests: 2 } }));
    expect(registry.effective('cart.shop').spec).toEqual({ circuitBreakers: { maxRequests: 2 } });
    expect(registry.effective('cart.shop').from.circuitBreakers?.cluster).toBe('west');
    expect(lines.filter((l) => l.includes('differs'))).toEqual(['ServicePolicy shop/cart differs between kube clusters west, east; serving the copy of west (first in --policy-clusters)']);
    registry.applyPolicy(obj('east', 'cart', { circuitBreakers: { maxRequests: 1 } }, 2));
    expect(lines.filter((l) => l.includes('differs'))).toHaveLength(1);
    expect(await conflicts()).toBe(1);
    expect(registry.debug([]).conflicts).toEqual([{ namespace: 'shop', name: 'cart', clusters: ['west', 'east'], chosen: 'west' }]);
    // They agree again.
    registry.applyPolicy(obj('east', 'cart', { circuitBreakers: { maxRequests: 2 } }, 3));
    expect(registry.debug([]).conflicts).toEqual([]);
    expect(await conflicts()).toBe(0);
  });

  it('ignores clusters it does not read; a cluster without the CRD contributes nothing and says so once', () => {
    const { registry, lines } = setup(['east']);
    registry.applyPolicy(obj('west', 'cart', { circuitBreakers: { maxRequests: 1 } }));
    expect(registry.effective('cart.shop').spec).toEqual({});
    registry.applyPolicy(obj('east', 'cart', { circuitBreakers: { maxRequests: 1 } }));
    registry.policiesUnavailable('east', 'no ServicePolicy CRD installed');
    registry.policiesUnavailable('east', 'no ServicePolicy CRD installed');
    expect(registry.effective('cart.shop').spec).toEqual({});
    expect(lines.filter((l) => l.includes('CRD'))).toEqual(['cluster east: no ServicePolicy CRD installed; it contributes no ServicePolicy']);
    expect(registry.debug([]).unavailable).toEqual([{ cluster: 'east', reason: 'no ServicePolicy CRD installed', keptLastKnown: false }]);
  });

  it('an unreachable cluster keeps its policies and is listed until it answers again', () => {
    const { registry } = setup(['east']);
    registry.applyPolicy(obj('east', 'cart', { circuitBreakers: { maxRequests: 4 } }));
    registry.policiesUnreachable('east', 'connection refused');
    expect(registry.effective('cart.shop').spec).toEqual({ circuitBreakers: { maxRequests: 4 } });
    expect(registry.debug([]).unavailable).toEqual([{ cluster: 'east', reason: 'connection refused', keptLastKnown: true }]);
    registry.policiesUnreachable('west', 'not read here');
    registry.policiesUnreachable('east', undefined);
    expect(registry.debug([]).unavailable).toEqual([]);
    expect(registry.effective('cart.shop').spec).toEqual({ circuitBreakers: { maxRequests: 4 } });
  });

  it('a deleted object stops applying; debug lists ignored-by-proxyless fields', () => {
    const { registry } = setup();
    registry.applyPolicy(obj('east', 'cart', { loadBalancing: { policy: 'Random' }, circuitBreakers: { maxRequests: 9, maxRetries: 1 } }));
    expect(registry.debug(['cart.shop', 'none.shop']).services.map((s) => [s.service, s.ignoredByProxyless.map((i) => i.field)])).toEqual([
      ['cart.shop', ['spec.loadBalancing.policy', 'spec.circuitBreakers.maxRetries']],
    ]);
    registry.removePolicy('east', 'shop', 'cart');
    expect(registry.effective('cart.shop').spec).toEqual({});
  });

  it('lists the retry settings gRPC clients skip; timeout, back-off and split are not listed', () => {
    const { registry } = setup();
    const routes = { timeoutMs: 100, retries: { retryOn: ['5xx', 'unavailable'], perTryTimeoutMs: 10, backoff: { baseIntervalMs: 5 } }, split: [{ service: 'cart', weight: 1 }] };
    registry.applyPolicy(obj('east', 'cart', { routes }));
    registry.applyPolicy(obj('east', 'ledger', { routes: { retries: { retryOn: ['reset'] } } }));
    expect(registry.debug(['cart.shop', 'ledger.shop']).services.map((s) => [s.service, s.ignoredByProxyless.map((i) => i.field)])).toEqual([
      ['cart.shop', ['spec.routes.retries.retryOn', 'spec.routes.retries.perTryTimeoutMs']],
      ['ledger.shop', ['spec.routes.retries']],
    ]);
  });

  it('rejects a split in the mesh-defaults object whole, and keeps its previous generation', () => {
    const { registry } = setup();
    registry.applyPolicy(obj('east', 'mesh-defaults', { routes: { timeoutMs: 100 } }, 1, 'herald'));
    registry.applyPolicy(obj('east', 'mesh-defaults', { routes: { timeoutMs: 200, split: [{ service: 'x', weight: 1 }] } }, 2, 'herald'));
    expect(registry.effective('cart.shop').spec).toEqual({ routes: { timeoutMs: 100 } });
    expect(registry.debug([]).rejections.map((r) => [r.generation, r.keptGeneration, r.errors.map((e) => e.path)])).toEqual([[2, 1, ['spec.routes.split']]]);
    // The same split in a service's own object is fine.
    registry.applyPolicy(obj('east', 'cart', { routes: { split: [{ service: 'x', weight: 1 }] } }));
    expect(registry.effective('cart.shop').spec.routes?.split).toEqual([{ service: 'x', weight: 1 }]);
  });
});
