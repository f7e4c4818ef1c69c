import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/model/index.js';
import { eventually, harness, metricValue, type Harness } from './helpers.js';
import { node, pod } from './fixtures.js';

let open: Harness[] = [];
function make(options?: Parameters<typeof harness>[0]): Harness {
  const h = harness(options);
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open) h.store.close();
  open = [];
});

describe('EndpointStore: endpoints of a service', () => {
  it('takes locality from the node of the same cluster and sorts by cluster, zone, ip, port', () => {
    const { store } = make();
    store.applyNode(node({ name: 'node-a', zone: 'z2', region: 'r1' }));
    store.applyNode(node({ name: 'node-b', zone: 'z1', region: 'r1' }));
    store.applyNode(node({ cluster: 'west', name: 'node-a', zone: 'w1', region: 'r2' }));
    store.applyPod(pod({ name: 'p1', ip: '10.0.0.9', nodeName: 'node-a' }));
    store.applyPod(pod({ name: 'p2', ip: '10.0.0.5', nodeName: 'node-b' }));
    store.applyPod(pod({ name: 'p3', ip: '10.0.0.1', nodeName: 'node-a', port: 9090 }));
    store.applyPod(pod({ cluster: 'west', name: 'p4', ip: '10.9.0.1', nodeName: 'node-a' }));
    store.applyPod(pod({ cluster: 'west', name: 'p5', ip: '10.9.0.2', nodeName: 'missing-node' }));

    const web = store.service('web');
    expect(web?.podCount).toBe(5);
    expect(web?.endpoints.map((e) => [e.cluster, e.zone, e.region, e.ip, e.port, e.podKey])).toEqual([
      ['east', 'z1', 'r1', '10.0.0.5', 8080, 'default/p2'],
      ['east', 'z2', 'r1', '10.0.0.1', 9090, 'default/p3'],
      ['east', 'z2', 'r1', '10.0.0.9', 8080, 'default/p1'],
      ['west', undefined, undefined, '10.9.0.2', 8080, 'default/p5'],
      ['west', 'w1', 'r2', '10.9.0.1', 8080, 'default/p4'],
    ]);
    expect(web?.endpoints.every((e) => e.health === 'HEALTHY' && e.drainingSinceMs === undefined)).toBe(true);
    expect(store.serviceNames()).toEqual(['web']);
  });

  it('leaves out not-Ready pods but counts them, or sends them UNHEALTHY when asked', () => {
    const plain = make().store;
    plain.applyPod(pod({ name: 'a', ip: '10.0.0.1' }));
    plain.applyPod(pod({ name: 'b', ip: '10.0.0.2', ready: false }));
    plain.applyPod(pod({ name: 'c', ip: undefined, ready: false }));
    expect(plain.service('web')?.endpoints.map((e) => e.podKey)).toEqual(['default/a']);
    expect(plain.service('web')?.podCount).toBe(3);

    const inclusive = make({ includeNotReady: true }).store;
    inclusive.applyPod(pod({ name: 'a', ip: '10.0.0.1' }));
    inclusive.applyPod(pod({ name: 'b', ip: '10.0.0.2', ready: false }));
    expect(inclusive.service('web')?.endpoints.map((e) => [e.podKey, e.health])).toEqual([
      ['default/a', 'HEALTHY'],
      ['default/b', 'UNHEALTHY'],
    ]);
  });

  it('a service whose pods are all gone disappears', () => {
    const { store } = make();
    store.applyPod(pod({ name: 'a' }));
    store.removePod('east', 'default/a');
    expect(store.service('web')).toBeUndefined();
    expect(store.serviceNames()).toEqual([]);
  });
});

describe('EndpointStore: draining', () => {
  it('marks a terminating pod DRAINING at once and keeps drainingSince stable across updates', () => {
    const h = make();
    h.store.applyPod(pod({ name: 'a' }));
    h.advance(1_000);
    const seenAt = h.now();
    h.store.applyPod(pod({ name: 'a', terminating: true, gracePeriodSeconds: 30 }));
    let ep = h.store.service('web')?.endpoints[0];
    expect(ep?.health).toBe('DRAINING');
    expect(ep?.drainingSinceMs).toBe(seenAt);

    h.flushed();
    h.advance(2_000);
    h.store.applyPod(pod({ name: 'a', terminating: true, gracePeriodSeconds: 29 }));
    expect(h.flushed()).toEqual([]);
    expect(h.store.service('web')?.endpoints[0]?.servingWhileTerminating).toBe(true);
    h.advance(2_000);
    h.store.applyPod(pod({ name: 'a', terminating: true, gracePeriodSeconds: 29, ready: false }));
    ep = h.store.service('web')?.endpoints[0];
    expect(ep?.health).toBe('DRAINING');
    expect(ep?.drainingSinceMs).toBe(seenAt);
    // Not Ready any more: no longer one the terminating fallback may serve, which is a change.
    expect(ep?.servingWhileTerminating).toBeUndefined();
    expect(h.flushed()).toEqual([['web']]);
  });

  it('removes a pod deleted without ever being seen terminating', () => {
    const h = make();
    h.store.applyPod(pod({ name: 'a', ip: '10.0.0.1' }));
    h.store.applyPod(pod({ name: 'b', ip: '10.0.0.2' }));
    h.flushed();
    h.store.removePod('east', 'default/a');
    expect(h.store.service('web')?.endpoints.map((e) => e.podKey)).toEqual(['default/b']);
    expect(h.flushed()).toEqual([['web']]);
  });

  it('a pod recreated under the same name (new uid) starts fresh', () => {
    const h = make();
    h.store.applyPod(pod({ name: 'a', uid: 'u1', terminating: true }));
    const first = h.store.service('web')?.endpoints[0]?.drainingSinceMs;
    h.advance(500);
    h.store.applyPod(pod({ name: 'a', uid: 'u2', ip: '10.0.0.7' }));
    expect(h.store.service('web')?.endpoints.map((e) => [e.ip, e.health, e.drainingSinceMs])).toEqual([['10.0.0.7', 'HEALTHY', undefined]]);
    h.advance(500);
    h.store.applyPod(pod({ name: 'a', uid: 'u2', ip: '10.0.0.7', terminating: true }));
    expect(h.store.service('web')?.endpoints[0]?.drainingSinceMs).toBe(h.now());
    expect(h.now()).not.toBe(first);
    expect(h.store.service('web')?.podCount).toBe(1);
  });
});

describe('EndpointStore: change notification', () => {
  it('does not dirty a service for updates the mesh cannot see', () => {
    const h = make();
    h.store.applyNode(node());
    h.store.applyPod(pod({ name: 'a' }));
    h.store.applyPod(pod({ name: 'b', ip: '10.0.0.2', ready: false }));
    expect(h.flushed()).toEqual([['web']]);

    h.store.applyPod(pod({ name: 'a' })); // identical
    h.store.applyPod(pod({ name: 'a', createdAtMs: 2_000 })); // not part of an endpoint
    h.store.applyPod(pod({ name: 'b', ip: '10.0.0.2', ready: false, phase: 'Pending' })); // still left out
    h.store.applyNode(node()); // same locality
    expect(h.flushed()).toEqual([]);
  });

  it('a change and its undoing within one window deliver nothing', () => {
    const h = make();
    h.store.applyPod(pod({ name: 'a' }));
    h.flushed();
    h.store.applyPod(pod({ name: 'a', ready: false }));
    h.store.applyPod(pod({ name: 'a', ready: true }));
    expect(h.flushed()).toEqual([]);
  });

  it('a node zone change dirties only the services with pods on that node', () => {
    const h = make();
    h.store.applyNode(node({ name: 'node-a', zone: 'z1' }));
    h.store.applyNode(node({ name: 'node-b', zone: 'z2' }));
    h.store.applyPod(pod({ name: 'w', service: 'web', ip: '10.0.0.1', nodeName: 'node-a' }));
    h.store.applyPod(pod({ name: 'x', service: 'api', ip: '10.0.0.2', nodeName: 'node-b' }));
    h.store.applyPod(pod({ name: 'y', service: 'db', ip: '10.0.0.3', nodeName: 'node-a' }));
    h.store.applyPod(pod({ cluster: 'west', name: 'z', service: 'cache', ip: '10.1.0.3', nodeName: 'node-a' }));
    h.flushed();

    h.store.applyNode(node({ name: 'node-a', zone: 'z3' }));
    expect(h.flushed()).toEqual([['db', 'web']]);
    expect(h.store.service('web')?.endpoints[0]?.zone).toBe('z3');
    expect(h.store.service('api')?.endpoints[0]?.zone).toBe('z2');
  });

  it('a pod changing its service label dirties both services', () => {
    const h = make();
    h.store.applyPod(pod({ name: 'a', service: 'web' }));
    h.store.applyPod(pod({ name: 'b', service: 'api', ip: '10.0.0.2' }));
    h.flushed();
    h.store.applyPod(pod({ name: 'a', service: 'api' }));
    expect(h.flushed()).toEqual([['api', 'web']]);
    expect(h.store.service('web')).toBeUndefined();
    expect(h.store.service('api')?.endpoints.map((e) => e.podKey)).toEqual(['default/a', 'default/b']);
  });

  it('coalesces changes within the batch window into one call', async () => {
    const h = make({ batchWindowMs: 30 });
    const calls: string[][] = [];
    h.store.onChange((dirty) => calls.push([...dirty].sort()));
    h.store.applyPod(pod({ name: 'a', service: 'web', ip: '10.0.0.1' }));
    h.store.applyPod(pod({ name: 'b', service: 'api', ip: '10.0.0.2' }));
    h.store.applyPod(pod({ name: 'a', service: 'web', ip: '10.0.0.1', terminating: true }));
    h.store.applyPod(pod({ name: 'c', service: 'db', ip: '10.0.0.3' }));
    await eventually(() => calls.length > 0);
    expect(calls).toEqual([['api', 'db', 'web']]);
    expect(h.store.stats().pendingServices).toBe(0);
  });

  it('delivers a change after a quiet window on the next turn, not at the end of the window', async () => {
    const h = make({ batchWindowMs: 60_000 });
    const calls: string[][] = [];
    h.store.onChange((dirty) => calls.push([...dirty]));
    h.store.applyPod(pod({ name: 'a' }));
    expect(calls).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['web']]);
  });

  it('holds changes within a window of the last delivery until its end, as one call', async () => {
    const h = make({ batchWindowMs: 150 });
    const calls: string[][] = [];
    h.store.onChange((dirty) => calls.push([...dirty].sort()));
    h.store.applyPod(pod({ name: 'a', service: 'web', ip: '10.0.0.1' }));
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['web']]);
    h.store.applyPod(pod({ name: 'b', service: 'api', ip: '10.0.0.2' }));
    await new Promise((r) => setImmediate(r));
    h.store.applyPod(pod({ name: 'c', service: 'db', ip: '10.0.0.3' }));
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['web']]);
    await eventually(() => calls.length > 1);
    expect(calls).toEqual([['web'], ['api', 'db']]);
  });

  it('window 0 delivers on the next turn of the event loop', async () => {
    const h = make({ batchWindowMs: 0 });
    const calls: string[][] = [];
    h.store.onChange((dirty) => calls.push([...dirty]));
    h.store.applyPod(pod({ name: 'a' }));
    h.store.applyPod(pod({ name: 'b', ip: '10.0.0.2' }));
    expect(calls).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['web']]);
  });

  it('a throwing listener does not keep others from hearing', () => {
    const h = make();
    const heard: string[] = [];
    h.store.onChange(() => {
      throw new Error('boom');
    });
    const off = h.store.onChange((dirty) => heard.push(...dirty));
    h.store.applyPod(pod({ name: 'a' }));
    h.store.flush();
    expect(heard).toEqual(['web']);
    off();
    h.store.applyPod(pod({ name: 'a', ready: false }));
    h.store.flush();
    expect(heard).toEqual(['web']);
  });
});

describe('EndpointStore: relists and cluster status', () => {
  it('replacePods removes pods missing from the new list', () => {
    const h = make();
    h.store.applyPod(pod({ name: 'a', service: 'web', ip: '10.0.0.1' }));
    h.store.applyPod(pod({ name: 'b', service: 'api', ip: '10.0.0.2' }));
    h.store.applyPod(pod({ cluster: 'west', name: 'c', service: 'api', ip: '10.1.0.2' }));
    h.flushed();

    h.store.replacePods('east', [pod({ name: 'b', service: 'api', ip: '10.0.0.2' }), pod({ name: 'd', service: 'api', ip: '10.0.0.4' })]);
    expect(h.flushed()).toEqual([['api', 'web']]);
    expect(h.store.serviceNames()).toEqual(['api']);
    expect(h.store.service('api')?.endpoints.map((e) => `${e.cluster}/${e.podKey}`)).toEqual(['east/default/b', 'east/default/d', 'west/default/c']);
    expect(h.store.stats().pods).toBe(3);
  });

  it('replaceNodes removes nodes missing from the new list', () => {
    const h = make();
    h.store.applyNode(node({ name: 'node-a', zone: 'z1' }));
    h.store.applyNode(node({ name: 'node-b', zone: 'z2' }));
    h.store.applyPod(pod({ name: 'a', nodeName: 'node-a' }));
    h.flushed();
    h.store.replaceNodes('east', [node({ name: 'node-b', zone: 'z2' })]);
    expect(h.flushed()).toEqual([['web']]);
    expect(h.store.service('web')?.endpoints[0]?.zone).toBeUndefined();
    expect(h.store.stats().nodes).toBe(1);
  });

  it('keeps the endpoints of an unreachable cluster and reports its state', async () => {
    const h = make();
    const status = (state: ClusterStatus['state']): ClusterStatus => ({
      cluster: 'east',
      state,
      everSynced: true,
      lastError: state === 'unreachable' ? 'connect ECONNREFUSED' : undefined,
      lastChangeMs: h.now(),
    });
    h.store.setClusterStatus(status('synced'));
    h.store.applyPod(pod({ name: 'a' }));
    expect(await metricValue(h.metrics.kubeClusterSynced, { kube_cluster: 'east' })).toBe(1);
    h.flushed();

    h.store.setClusterStatus(status('unreachable'));
    expect(await metricValue(h.metrics.kubeClusterSynced, { kube_cluster: 'east' })).toBe(0);
    expect(h.store.clusterStatuses()).toEqual([status('unreachable')]);
    expect(h.store.service('web')?.endpoints).toHaveLength(1);
    expect(h.flushed()).toEqual([]);
  });
});

describe('EndpointStore: metrics', () => {
  it('keeps endpoint and service gauges current through transitions', async () => {
    const h = make();
    const ep = (cluster: string, health: string) => metricValue(h.metrics.endpoints, { kube_cluster: cluster, health });
    h.store.applyPod(pod({ name: 'a', ip: '10.0.0.1' }));
    h.store.applyPod(pod({ name: 'b', ip: '10.0.0.2', service: 'api' }));
    h.store.applyPod(pod({ cluster: 'west', name: 'c', ip: '10.1.0.1' }));
    expect(await ep('east', 'HEALTHY')).toBe(2);
    expect(await ep('west', 'HEALTHY')).toBe(1);
    expect(await metricValue(h.metrics.services)).toBe(2);

    h.store.applyPod(pod({ name: 'a', ip: '10.0.0.1', terminating: true }));
    expect(await ep('east', 'HEALTHY')).toBe(1);
    expect(await ep('east', 'DRAINING')).toBe(1);
    h.store.removePod('east', 'default/a');
    h.store.removePod('east', 'default/b');
    expect(await ep('east', 'DRAINING')).toBe(0);
    expect(await ep('east', 'HEALTHY')).toBe(0);
    expect(await metricValue(h.metrics.services)).toBe(1);
    expect(h.store.stats().endpoints).toEqual({ HEALTHY: 1, UNHEALTHY: 0, DRAINING: 0 });
  });

  it('counts skipped pods on transitions, not on every repeated event', async () => {
    const h = make();
    const skipped = (reason: string) => metricValue(h.metrics.podsSkipped, { kube_cluster: 'east', reason });
    h.store.applyPod(pod({ name: 'a', ready: false }));
    h.store.applyPod(pod({ name: 'a', ready: false, phase: 'Pending' }));
    h.store.applyPod(pod({ name: 'a', ready: false, createdAtMs: 7 }));
    expect(await skipped('not_ready')).toBe(1);
    h.store.applyPod(pod({ name: 'a', ready: true }));
    h.store.applyPod(pod({ name: 'a', ready: false }));
    expect(await skipped('not_ready')).toBe(2);
    h.store.applyPod(pod({ name: 'n', port: undefined, ip: '10.0.0.5' }));
    h.store.applyPod(pod({ name: 'n', port: undefined, ip: '10.0.0.5', ready: false }));
    expect(await skipped('no_port')).toBe(1);
  });
});
