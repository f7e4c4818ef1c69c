import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { PUSH_ORDER, RESOURCE_KINDS, type ResourceKind, type ServiceEndpoints, type ServicePolicySpec } from '../../src/model/index.js';
import { kindsReading, loadEnvoyProtos, ResourceEncoder, TRANSLATORS, type TranslatorInput } from '../../src/resources/index.js';
import { ResourceCache } from '../../src/cache/index.js';
import type { DrainNotice } from '../../src/drains/index.js';
import { ResourcePipeline } from '../../src/app/pipeline.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { agreed, ep, svc } from '../resources/fixtures.js';

let encoder: ResourceEncoder;
beforeAll(() => {
  encoder = new ResourceEncoder(loadEnvoyProtos());
});

function setup() {
  const services = new Map<string, ServiceEndpoints>();
  const policies = new Map<string, ServicePolicySpec>();
  const cache = new ResourceCache();
  const tracked: DrainNotice[] = [];
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  const pipeline = new ResourcePipeline({
    store: { service: (name) => services.get(name) },
    policies: { effective: (name) => ({ spec: policies.get(name) ?? {} }) },
    encoder,
    cache,
    drains: { track: (notice) => void tracked.push(notice) },
    metrics,
    logger: silentLogger(),
    clusterOptions: {},
    localCluster: undefined,
  });
  const seqs = (name: string) => Object.fromEntries(PUSH_ORDER.map((kind) => [kind, cache.get(kind, name)?.seq])) as Record<ResourceKind, number | undefined>;
  const builds = async () => Object.fromEntries((await metrics.resourceBuilds.get()).values.map((v) => [v.labels.type, v.value]));
  return { services, policies, cache, tracked, pipeline, seqs, builds };
}

describe('translators', () => {
  it('cover every kind, and each names its resource after the service', () => {
    expect(Object.keys(TRANSLATORS).sort()).toEqual(RESOURCE_KINDS.map((spec) => spec.kind).sort());
    for (const spec of RESOURCE_KINDS) {
      const translator = TRANSLATORS[spec.kind];
      expect(translator.kind).toBe(spec.kind);
      const built = translator.build(svc('payments.shop', [ep('east', '10.0.0.1')]), { clusterOptions: {}, localCluster: undefined }, {}, new Set());
      expect((built as Record<string, unknown>)[spec.nameField]).toBe('payments.shop');
    }
  });

  it.each([
    { changed: ['endpoints'], kinds: ['endpoint'] },
    { changed: ['protocol'], kinds: ['cluster'] },
    { changed: ['policy'], kinds: ['cluster', 'endpoint', 'route'] },
    { changed: ['routes'], kinds: ['route'] },
    { changed: ['backends'], kinds: ['route'] },
    { changed: ['settings'], kinds: ['cluster', 'endpoint', 'listener', 'route'] },
    { changed: [], kinds: [] },
  ] as { changed: TranslatorInput[]; kinds: ResourceKind[] }[])('a change of $changed rebuilds $kinds', ({ changed, kinds }) => {
    expect(kindsReading(new Set(changed), PUSH_ORDER)).toEqual(kinds);
  });
});

describe('ResourcePipeline', () => {
  it('rebuilds a service cluster when its protocol changes, and only then', async () => {
    const { services, pipeline, cache, seqs, builds } = setup();
    const h1 = [ep('east', '10.0.0.1'), ep('east', '10.0.0.2')];
    services.set('a', { ...svc('a', h1), protocol: agreed('HTTP/1.1', 2) });
    services.set('b', { ...svc('b', [ep('east', '10.0.1.1')]), protocol: agreed('HTTP/2') });
    pipeline.rebuild(['a', 'b']);
    const first = seqs('a');
    const h1Bytes = cache.get('cluster', 'a')!.any;
    const bClusterSeq = seqs('b').cluster;
    expect(encoder.decodeAny(cache.get('cluster', 'b')!.any).message).toHaveProperty('typed_extension_protocol_options');

    // A drain: endpoints change, the protocol does not. No cluster is encoded again.
    services.set('a', { ...svc('a', [ep('east', '10.0.0.1', 'DRAINING'), ep('east', '10.0.0.2')]), protocol: agreed('HTTP/1.1', 1) });
    pipeline.rebuild(['a']);
    expect(seqs('a').cluster).toBe(first.cluster);
    expect(await builds()).toEqual({ cluster: 2, endpoint: 3, listener: 2, route: 2 });

    // The rollout finished: HTTP/2 now. The cluster is rebuilt with the options, nothing else but the assignment.
    services.set('a', { ...svc('a', h1), protocol: agreed('HTTP/2', 2) });
    pipeline.rebuild(['a']);
    const second = seqs('a');
    expect(second.cluster).toBeGreaterThan(first.cluster!);
    expect(second.listener).toBe(first.listener);
    expect(second.route).toBe(first.route);
    expect(encoder.decodeAny(cache.get('cluster', 'a')!.any).message).toHaveProperty('typed_extension_protocol_options');
    expect(await builds()).toEqual({ cluster: 3, endpoint: 4, listener: 2, route: 2 });
    expect(seqs('b').cluster).toBe(bClusterSeq);

    // And back: the HTTP/1.1 cluster is the same bytes as before.
    services.set('a', { ...svc('a', h1), protocol: agreed('HTTP/1.1', 2) });
    pipeline.rebuild(['a']);
    expect(cache.get('cluster', 'a')!.any.equals(h1Bytes)).toBe(true);
    expect(await builds()).toEqual({ cluster: 4, endpoint: 5, listener: 2, route: 2 });
  });

  it('rebuilds, on a policy change, only the clusters of services whose effective policy changed', async () => {
    const { services, policies, pipeline, cache, seqs, builds } = setup();
    for (const name of ['a.shop', 'b.shop', 'c.shop']) services.set(name, svc(name, [ep('east', '10.0.0.1')]));
    pipeline.rebuild(['a.shop', 'b.shop', 'c.shop']);
    const before = { a: seqs('a.shop'), b: seqs('b.shop') };
    const plain = cache.get('cluster', 'a.shop')!.any;

    policies.set('a.shop', { circuitBreakers: { maxRequests: 100 } });
    pipeline.policiesChanged({ services: ['a.shop', 'b.shop', 'gone.shop'] });
    expect(seqs('a.shop').cluster).toBeGreaterThan(before.a.cluster!);
    expect(seqs('a.shop').listener).toBe(before.a.listener);
    // The route reads the policy too (a ring hash's header), but circuit breakers leave its bytes as they were.
    expect(seqs('a.shop').route).toBe(before.a.route);
    expect(seqs('b.shop')).toEqual(before.b);
    expect(encoder.decodeAny(cache.get('cluster', 'a.shop')!.any).message).toHaveProperty('circuit_breakers');
    expect(await builds()).toEqual({ cluster: 4, endpoint: 4, listener: 3, route: 4 });

    // The defaults changed without changing what any service gets: nothing is built.
    pipeline.policiesChanged('all');
    expect(await builds()).toEqual({ cluster: 4, endpoint: 4, listener: 3, route: 4 });

    // The policy went: the cluster is the same bytes as before it came.
    policies.delete('a.shop');
    pipeline.policiesChanged('all');
    expect(cache.get('cluster', 'a.shop')!.any.equals(plain)).toBe(true);
    expect(await builds()).toEqual({ cluster: 5, endpoint: 5, listener: 3, route: 5 });
  });

  it('rebuilds only the route on a routes change, and a service whose split backend flips HEALTHY presence, only then', async () => {
    const { services, policies, pipeline, cache, seqs, builds } = setup();
    type Action = { cluster?: string; weighted_clusters?: { clusters: { name: string; weight: { value: number } }[] } };
    const action = () => (encoder.decodeAny(cache.get('route', 'cart.shop')!.any).message as { virtual_hosts: { routes: { route: Action }[] }[] }).virtual_hosts[0]!.routes[0]!.route;
    const weights = () => (action().weighted_clusters?.clusters ?? []).map((c) => [c.name, c.weight.value]);
    services.set('cart.shop', svc('cart.shop', [ep('east', '10.0.0.1')]));
    services.set('cart-canary.shop', svc('cart-canary.shop', [ep('west', '10.1.0.1')]));
    services.set('other.shop', svc('other.shop', [ep('east', '10.2.0.1')]));
    pipeline.rebuild(['cart.shop', 'cart-canary.shop', 'other.shop']);
    const plain = seqs('cart.shop');

    policies.set('cart.shop', {
      routes: {
        timeoutMs: 500,
        split: [
          { service: 'cart', weight: 80 },
          { service: 'cart-canary', weight: 20 },
        ],
      },
    });
    pipeline.policiesChanged({ services: ['cart.shop'] });
    expect(seqs('cart.shop')).toEqual({ ...plain, route: seqs('cart.shop').route });
    expect(seqs('cart.shop').route).toBeGreaterThan(plain.route!);
    expect(weights()).toEqual([
      ['cart.shop', 80],
      ['cart-canary.shop', 20],
    ]);
    expect(pipeline.routeOf('cart.shop')).toEqual(action());
    expect(await builds()).toEqual({ cluster: 3, endpoint: 3, listener: 3, route: 4 });

    // The canary scales up and an unrelated service changes: no HEALTHY presence flips, no route is built.
    services.set('cart-canary.shop', svc('cart-canary.shop', [ep('west', '10.1.0.1'), ep('west', '10.1.0.2', 'DRAINING')]));
    services.set('other.shop', svc('other.shop', []));
    pipeline.rebuild(['cart-canary.shop', 'other.shop']);
    expect(await builds()).toEqual({ cluster: 3, endpoint: 4, listener: 3, route: 4 });

    // Its last HEALTHY endpoint drains: its weight drops to 0, and only cart's route is rebuilt.
    const canaryRoute = seqs('cart-canary.shop').route;
    services.set('cart-canary.shop', svc('cart-canary.shop', [ep('west', '10.1.0.1', 'DRAINING'), ep('west', '10.1.0.2', 'DRAINING')]));
    pipeline.rebuild(['cart-canary.shop']);
    expect(weights()).toEqual([['cart.shop', 80]]);
    expect(seqs('cart-canary.shop').route).toBe(canaryRoute);
    expect(await builds()).toEqual({ cluster: 3, endpoint: 5, listener: 3, route: 5 });

    // cart itself loses every endpoint too: nothing is healthy, so the configured weights stand.
    services.set('cart.shop', svc('cart.shop', [ep('east', '10.0.0.1', 'UNHEALTHY')]));
    pipeline.rebuild(['cart.shop']);
    expect(weights()).toEqual([
      ['cart.shop', 80],
      ['cart-canary.shop', 20],
    ]);

    // The canary's pods all go (its resources too), then one comes back ready: it takes all the traffic while cart has none.
    services.delete('cart-canary.shop');
    pipeline.rebuild(['cart-canary.shop']);
    expect(cache.get('route', 'cart-canary.shop')).toBeUndefined();
    services.set('cart-canary.shop', svc('cart-canary.shop', [ep('west', '10.1.0.9')]));
    pipeline.rebuild(['cart-canary.shop']);
    expect(weights()).toEqual([['cart-canary.shop', 20]]);

    // The split goes: the route is the plain one again, byte for byte.
    services.set('cart.shop', svc('cart.shop', [ep('east', '10.0.0.1')]));
    policies.delete('cart.shop');
    pipeline.policiesChanged({ services: ['cart.shop'] });
    expect(action()).toEqual({ cluster: 'cart.shop' });
    const builtBefore = await builds();
    services.set('cart-canary.shop', svc('cart-canary.shop', []));
    pipeline.rebuild(['cart-canary.shop']);
    // cart does not depend on the canary once its split is gone: only the canary's own removal is built.
    expect((await builds()).route).toBe(builtBefore.route);
  });

  it('publishes every kind for a new service, then rebuilds only the assignment on endpoint changes', async () => {
    const { services, pipeline, seqs, builds } = setup();
    services.set('a', svc('a', [ep('east', '10.0.0.1')]));
    pipeline.rebuild(['a']);
    const first = seqs('a');
    expect(Object.values(first).every((seq) => seq !== undefined)).toBe(true);
    services.set('a', svc('a', [ep('east', '10.0.0.1'), ep('east', '10.0.0.2')]));
    pipeline.rebuild(['a']);
    const second = seqs('a');
    expect(second.endpoint).toBeGreaterThan(first.endpoint!);
    expect({ ...second, endpoint: 0 }).toEqual({ ...first, endpoint: 0 });
    expect(await builds()).toEqual({ cluster: 1, endpoint: 2, listener: 1, route: 1 });
  });

  it('rebuilds every published service when settings change, and the cache keeps what did not change', () => {
    const { services, pipeline, cache, seqs } = setup();
    for (const name of ['a', 'b']) services.set(name, svc(name, [ep('east', '10.0.0.1'), ep('west', '10.1.0.1')]));
    pipeline.rebuild(['a', 'b']);
    const before = { a: seqs('a'), b: seqs('b') };
    const clusterBytes = cache.get('cluster', 'a')!.any;
    pipeline.updateSettings({ clusterOptions: { connectTimeoutMs: 2_500 }, localCluster: undefined });
    for (const name of ['a', 'b'] as const) {
      const after = seqs(name);
      expect(after.cluster).toBeGreaterThan(before[name].cluster!);
      // Same bytes: the listener and route are not re-sent; the assignment travels again after its cluster.
      expect(after.listener).toBe(before[name].listener);
      expect(after.route).toBe(before[name].route);
      expect(after.endpoint).toBeGreaterThan(before[name].endpoint!);
    }
    expect(cache.get('cluster', 'a')!.any.equals(clusterBytes)).toBe(false);
    const assignment = cache.get('endpoint', 'a')!.any;
    pipeline.updateSettings({ clusterOptions: { connectTimeoutMs: 2_500 }, localCluster: 'east' });
    expect(cache.get('endpoint', 'a')!.any.equals(assignment)).toBe(false);
  });

  it('removes every kind of a service whose last pod went, and tracks new drains once', () => {
    const { services, pipeline, cache, tracked } = setup();
    services.set('a', svc('a', [ep('east', '10.0.0.1')]));
    pipeline.rebuild(['a']);
    const draining = { ...ep('east', '10.0.0.1', 'DRAINING'), drainingSinceMs: 5 };
    services.set('a', svc('a', [draining]));
    pipeline.rebuild(['a']);
    pipeline.rebuild(['a']);
    expect(tracked).toHaveLength(1);
    expect(tracked[0]).toMatchObject({ service: 'a', ip: '10.0.0.1', observedAtMs: 5, seq: cache.get('endpoint', 'a')!.seq });
    services.delete('a');
    pipeline.rebuild(['a']);
    expect(PUSH_ORDER.map((kind) => cache.get(kind, 'a'))).toEqual([undefined, undefined, undefined, undefined]);
  });
});
