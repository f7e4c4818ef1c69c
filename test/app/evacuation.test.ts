// A change of the mesh defaults' evacuation list rebuilds every service's assignments (and only
// them), for the plain resource and every live perspective, and its removal restores the bytes.
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { perspectiveKey, PUSH_ORDER, type Perspective, type ResourceKind, type ServiceEndpoints, type ServicePolicySpec } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { ResourceCache } from '../../src/cache/index.js';
import type { DrainNotice } from '../../src/drains/index.js';
import { ResourcePipeline } from '../../src/app/pipeline.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { ep, svc } from '../resources/fixtures.js';

let encoder: ResourceEncoder;
beforeAll(() => {
  encoder = new ResourceEncoder(loadEnvoyProtos());
});

interface DecodedAssignment {
  endpoints: { priority?: number; lb_endpoints: { health_status?: string; endpoint: { address: { socket_address: { address: string } } } }[] }[];
}

function setup() {
  const services = new Map<string, ServiceEndpoints>();
  let policy: ServicePolicySpec = {};
  const cache = new ResourceCache();
  const tracked: DrainNotice[] = [];
  const pipeline = new ResourcePipeline({
    store: { service: (name) => services.get(name) },
    policies: { effective: () => ({ spec: policy }) },
    encoder,
    cache,
    drains: { track: (notice) => void tracked.push(notice) },
    metrics: new HeraldMetrics({ registry: new Registry(), defaultMetrics: false }),
    logger: silentLogger(),
    clusterOptions: {},
    localCluster: 'a',
  });
  const view = (perspective: Perspective | undefined, service: string) => {
    const entry = perspective === undefined ? cache.get('endpoint', service) : cache.viewFor(perspectiveKey(perspective)).get('endpoint', service);
    const cla = encoder.decodeAny(entry!.any).message as unknown as DecodedAssignment;
    return cla.endpoints.map(
      (l) => `${l.priority ?? 0}:${l.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}${e.health_status === 'DRAINING' ? '(D)' : ''}`).join(',')}`,
    );
  };
  const seqs = (name: string) => Object.fromEntries(PUSH_ORDER.map((kind) => [kind, cache.get(kind, name)?.seq])) as Record<ResourceKind, number | undefined>;
  const setPolicy = (spec: ServicePolicySpec) => {
    policy = spec;
    pipeline.policiesChanged('all');
  };
  return { services, cache, tracked, pipeline, view, seqs, setPolicy };
}

const A = { kubeCluster: 'a', zone: '' };
const B = { kubeCluster: 'b', zone: '' };
const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('ResourcePipeline evacuation', () => {
  it('moves the evacuated cluster last for every perspective, drains it on request, and undoes both', async () => {
    const { services, cache, tracked, pipeline, view, seqs, setPolicy } = setup();
    services.set('echo.shop', svc('echo.shop', [ep('a', '10.0.0.1'), ep('b', '10.1.0.1')]));
    services.set('solo.shop', svc('solo.shop', [ep('a', '10.0.0.9')]));
    pipeline.rebuild(['echo.shop', 'solo.shop']);
    for (const p of [A, B]) pipeline.perspectiveAdded({ perspective: p, key: perspectiveKey(p) });
    await tick();
    const plain = cache.get('endpoint', 'echo.shop')!.any;
    const before = seqs('echo.shop');
    expect(view(A, 'echo.shop')).toEqual(['0:10.0.0.1', '1:10.1.0.1']);

    setPolicy({ locality: { evacuate: ['a'] } });
    expect(view(undefined, 'echo.shop')).toEqual(['0:10.1.0.1', '1:10.0.0.1']);
    expect(view(A, 'echo.shop')).toEqual(['0:10.1.0.1', '1:10.0.0.1']);
    expect(view(B, 'echo.shop')).toEqual(['0:10.1.0.1', '1:10.0.0.1']);
    // Only the assignment reads the locality section.
    expect(seqs('echo.shop')).toEqual({ ...before, endpoint: seqs('echo.shop').endpoint });
    expect(seqs('echo.shop').endpoint).toBeGreaterThan(before.endpoint!);
    // A service only the evacuated cluster has keeps its endpoints.
    expect(view(A, 'solo.shop')).toEqual(['0:10.0.0.9']);

    setPolicy({ locality: { evacuate: ['a'], evacuateMode: 'Drain' } });
    expect(view(A, 'echo.shop')).toEqual(['0:10.1.0.1', '1:10.0.0.1(D)']);
    expect(view(B, 'echo.shop')).toEqual(['0:10.1.0.1', '1:10.0.0.1(D)']);
    expect(view(A, 'solo.shop')).toEqual(['0:10.0.0.9']);
    // Evacuation is no pod drain: drain propagation is not timed for it.
    expect(tracked).toEqual([]);

    setPolicy({});
    expect(view(A, 'echo.shop')).toEqual(['0:10.0.0.1', '1:10.1.0.1']);
    expect(view(B, 'echo.shop')).toEqual(['0:10.1.0.1', '1:10.0.0.1']);
    expect(cache.get('endpoint', 'echo.shop')!.any.equals(plain)).toBe(true);
  });
});
