// The pipeline builds one variant per distinct view among the perspectives clients declared,
// and leaves the plain resource as it would be with no perspective at all.
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { perspectiveKey, type Perspective, type ServiceEndpoints, type ServicePolicySpec } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { ResourceCache } from '../../src/cache/index.js';
import { ResourcePipeline } from '../../src/app/pipeline.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { ep, svc } from '../resources/fixtures.js';

let encoder: ResourceEncoder;
beforeAll(() => {
  encoder = new ResourceEncoder(loadEnvoyProtos());
});

function setup() {
  const services = new Map<string, ServiceEndpoints>();
  const cache = new ResourceCache();
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  const pipeline = new ResourcePipeline({
    store: { service: (name) => services.get(name) },
    encoder,
    cache,
    drains: { track: () => undefined },
    metrics,
    logger: silentLogger(),
    clusterOptions: {},
    localCluster: 'a',
  });
  const endpointBuilds = async () => (await metrics.resourceBuilds.get()).values.find((v) => v.labels.type === 'endpoint')?.value ?? 0;
  const held = (perspective: Perspective) => ({ perspective, key: perspectiveKey(perspective) });
  const priorityOrder = (perspective: Perspective) => {
    const cla = encoder.decodeAny(cache.viewFor(perspectiveKey(perspective)).get('endpoint', 'echo')!.any).message as {
      endpoints: { priority?: number; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[];
    };
    return cla.endpoints.map((l) => `${l.priority ?? 0}:${l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address).join(',')}`);
  };
  return { services, cache, pipeline, metrics, endpointBuilds, held, priorityOrder };
}

const A = { kubeCluster: 'a', zone: '' };
const B = { kubeCluster: 'b', zone: '' };
const B_Z1 = { kubeCluster: 'b', zone: 'z1' };
const C = { kubeCluster: 'c', zone: '' };
const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('ResourcePipeline perspectives', () => {
  it('builds one variant per distinct view, shares it among perspectives, and keeps the plain bytes', async () => {
    const { services, cache, pipeline, endpointBuilds, held, priorityOrder } = setup();
    services.set('echo', svc('echo', [ep('a', '10.0.0.1'), ep('b', '10.1.0.1')]));
    pipeline.rebuild(['echo']);
    const plain = cache.get('endpoint', 'echo')!;
    expect(await endpointBuilds()).toBe(1);

    for (const p of [A, B, B_Z1, C]) pipeline.perspectiveAdded(held(p));
    await tick();
    // a reads the plain one; b and b/z1 share a view (no zone preference); c has no endpoints: one priority.
    expect(cache.get('endpoint', 'echo')).toBe(plain);
    expect(cache.viewFor(perspectiveKey(A)).get('endpoint', 'echo')).toBe(plain);
    expect(cache.viewFor(perspectiveKey(B_Z1)).get('endpoint', 'echo')).toBe(cache.viewFor(perspectiveKey(B)).get('endpoint', 'echo'));
    expect(priorityOrder(A)).toEqual(['0:10.0.0.1', '1:10.1.0.1']);
    expect(priorityOrder(B)).toEqual(['0:10.1.0.1', '1:10.0.0.1']);
    expect(priorityOrder(C)).toEqual(['0:10.0.0.1,10.1.0.1']);
    expect(await endpointBuilds()).toBe(3);
    expect(cache.variantCounts().endpoint).toEqual({ names: 1, revisions: 2 });

    // An endpoint change (a drain) builds one resource per distinct view, not per perspective.
    services.set('echo', svc('echo', [ep('a', '10.0.0.1', 'DRAINING'), ep('a', '10.0.0.2'), ep('b', '10.1.0.1')]));
    pipeline.rebuild(['echo']);
    expect(await endpointBuilds()).toBe(6);
    expect(priorityOrder(B)).toEqual(['0:10.1.0.1', '1:10.0.0.1,10.0.0.2']);

    pipeline.perspectiveRemoved(held(C));
    expect(cache.viewFor(perspectiveKey(C)).get('endpoint', 'echo')).toBe(cache.get('endpoint', 'echo'));
  });

  it('a client that ignores overprovisioning shares the plain variant until priority 0 spills, then gets merged priorities', async () => {
    const { services, cache, pipeline, held, priorityOrder } = setup();
    const GRPC_A: Perspective = { kubeCluster: 'a', zone: '', ignoresOverprovisioning: true };
    const mesh = (unhealthyInA: number) => svc('echo', [...Array.from({ length: 4 }, (_, i) => ep('a', `10.0.0.${i + 1}`, i < unhealthyInA ? 'UNHEALTHY' : 'HEALTHY')), ep('b', '10.1.0.1')]);
    services.set('echo', mesh(0));
    pipeline.rebuild(['echo']);
    pipeline.perspectiveAdded(held(GRPC_A));
    await tick();
    expect(cache.viewFor(perspectiveKey(GRPC_A)).get('endpoint', 'echo')).toBe(cache.get('endpoint', 'echo'));

    // 2 of 4 healthy: 1.4 × 0.5 = 0.7 < 1, so cluster b joins priority 0 for this client only.
    services.set('echo', mesh(2));
    pipeline.rebuild(['echo']);
    expect(priorityOrder(GRPC_A)).toEqual(['0:10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4', '0:10.1.0.1']);
    expect(priorityOrder(A)).toEqual(['0:10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4', '1:10.1.0.1']);
  });

  it('a service in one cluster only has no variant at all', async () => {
    const { services, cache, pipeline, held } = setup();
    services.set('solo', svc('solo', [ep('a', '10.0.0.1'), ep('a', '10.0.0.2')]));
    pipeline.rebuild(['solo']);
    for (const p of [B, C]) pipeline.perspectiveAdded(held(p));
    await tick();
    expect(cache.variantCounts().endpoint).toEqual({ names: 0, revisions: 0 });
  });

  it('a perspective that comes and goes within one turn builds nothing', async () => {
    const { services, pipeline, endpointBuilds, held } = setup();
    services.set('echo', svc('echo', [ep('a', '10.0.0.1'), ep('b', '10.1.0.1')]));
    pipeline.rebuild(['echo']);
    pipeline.perspectiveAdded(held(B));
    pipeline.perspectiveRemoved(held(B));
    await tick();
    expect(await endpointBuilds()).toBe(1);
  });
});

describe('ResourcePipeline terminating fallback', () => {
  const terminatingReady = (cluster: string, ip: string) => ({ ...ep(cluster, ip, 'DRAINING'), drainingSinceMs: 1, servingWhileTerminating: true as const });

  function fallbackSetup(policy: ServicePolicySpec = {}) {
    const services = new Map<string, ServiceEndpoints>();
    const cache = new ResourceCache();
    const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
    const tracked: string[] = [];
    const pipeline = new ResourcePipeline({
      store: { service: (name) => services.get(name) },
      policies: { effective: () => ({ spec: policy }) },
      encoder,
      cache,
      drains: { track: (notice) => void tracked.push(notice.ip) },
      metrics,
      logger: silentLogger(),
      clusterOptions: {},
      localCluster: 'a',
    });
    const health = () =>
      (encoder.decodeAny(cache.get('endpoint', 'echo')!.any).message as { endpoints: { lb_endpoints: { health_status: string }[] }[] }).endpoints.flatMap((l) =>
        l.lb_endpoints.map((e) => e.health_status),
      );
    const gauge = async () => (await metrics.terminatingFallbackServices.get()).values[0]?.value ?? 0;
    const count = async () => (await metrics.terminatingFallbacks.get()).values[0]?.value ?? 0;
    return { services, pipeline, tracked, health, gauge, count };
  }

  it.each<{ what: string; policy: ServicePolicySpec }>([
    { what: 'unset (the default)', policy: {} },
    { what: 'unset in a locality section', policy: { locality: { zone: 'None' } } },
    { what: 'Enabled', policy: { locality: { terminatingFallback: 'Enabled' } } },
  ])('locality.terminatingFallback $what serves Ready terminating pods as HEALTHY while nothing is HEALTHY, counts it, and times the drain once it is announced', async ({ policy }) => {
    const { services, pipeline, tracked, health, gauge, count } = fallbackSetup(policy);
    services.set('echo', svc('echo', [ep('a', '10.0.0.1')]));
    pipeline.rebuild(['echo']);
    services.set('echo', svc('echo', [terminatingReady('a', '10.0.0.1')]));
    pipeline.rebuild(['echo']);
    expect(health()).toEqual(['HEALTHY']);
    expect([await gauge(), await count()]).toEqual([1, 1]);
    expect(tracked).toEqual([]);
    // Drain receipts ask which pods the fallback serves.
    expect(pipeline.servedByFallback('a', 'default/pod-10.0.0.1-8080')).toBe(true);
    expect(pipeline.servedByFallback('b', 'default/pod-10.0.0.1-8080')).toBe(false);

    // A replacement pod is HEALTHY: the terminating one is DRAINING now, and its drain is tracked.
    services.set('echo', svc('echo', [terminatingReady('a', '10.0.0.1'), ep('b', '10.1.0.2')]));
    pipeline.rebuild(['echo']);
    expect(health().sort()).toEqual(['DRAINING', 'HEALTHY']);
    expect([await gauge(), await count()]).toEqual([0, 1]);
    expect(tracked).toEqual(['10.0.0.1']);
    expect(pipeline.servedByFallback('a', 'default/pod-10.0.0.1-8080')).toBe(false);
  });

  it('locality.terminatingFallback: Disabled sends DRAINING as stored, and the drain is tracked', async () => {
    const { services, pipeline, tracked, health, gauge } = fallbackSetup({ locality: { terminatingFallback: 'Disabled' } });
    services.set('echo', svc('echo', [terminatingReady('a', '10.0.0.1')]));
    pipeline.rebuild(['echo']);
    expect(health()).toEqual(['DRAINING']);
    expect(await gauge()).toBe(0);
    expect(tracked).toEqual(['10.0.0.1']);
  });
});

describe('herald_spill_services', () => {
  // Priority 0 (cluster a) 5 of 10 HEALTHY, the rest not Ready; priority 1 (cluster b) 2 HEALTHY:
  // Envoy keeps 70 % in priority 0, so a client that ignores overprovisioning gets the spill.
  const weak = (healthy: number) =>
    svc('echo', [...Array.from({ length: 10 }, (_, i) => ep('a', `10.0.0.${i + 1}`, i < healthy ? 'HEALTHY' : 'UNHEALTHY')), ep('b', '10.1.0.1'), ep('b', '10.1.0.2')]);
  const GRPC_A: Perspective = { kubeCluster: 'a', zone: '', ignoresOverprovisioning: true };

  it('counts the services spilling for a connected client that ignores overprovisioning, read when scraped', async () => {
    const { services, pipeline, metrics, held } = setup();
    metrics.setSpillReader(() => pipeline.spillingServices());
    const scraped = async () => /^herald_spill_services (\d+)$/m.exec(await metrics.registry.metrics())?.[1];
    services.set('echo', weak(5));
    services.set('steady', svc('steady', [ep('a', '10.0.1.1'), ep('b', '10.1.1.1')]));
    pipeline.rebuild(['echo', 'steady']);
    // Only Envoy-like clients: nobody gets a spill.
    pipeline.perspectiveAdded(held(B));
    await tick();
    expect(await scraped()).toBe('0');

    pipeline.perspectiveAdded(held(GRPC_A));
    await tick();
    expect(await scraped()).toBe('1');

    // Healed: 8 of 10 HEALTHY keeps everything in priority 0.
    services.set('echo', weak(8));
    pipeline.rebuild(['echo']);
    expect(await scraped()).toBe('0');

    services.set('echo', weak(5));
    pipeline.rebuild(['echo']);
    expect(await scraped()).toBe('1');
    pipeline.perspectiveRemoved(held(GRPC_A));
    expect(await scraped()).toBe('0');
  });
});
