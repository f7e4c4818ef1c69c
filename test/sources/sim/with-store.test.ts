import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceScope } from '../../../src/model/index.js';
import { SimulatedCluster } from '../../../src/sources/sim/index.js';
import { EndpointStore } from '../../../src/store/index.js';
import { HeraldMetrics, silentLogger } from '../../../src/telemetry/index.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SimulatedCluster feeding the EndpointStore', () => {
  it('a rolling deploy shows up as DRAINING endpoints and ends with only new HEALTHY ones', async () => {
    const store = new EndpointStore({ clock: () => Date.now(), metrics: new HeraldMetrics({ defaultMetrics: false }), logger: silentLogger(), batchWindowMs: 5 });
    const dirty: string[][] = [];
    store.onChange((d) => dirty.push([...d]));
    const clusters = ['east', 'west'].map(
      (name, i) =>
        new SimulatedCluster({
          name,
          region: `r-${name}`,
          zones: ['a', 'b'],
          services: [{ name: 'web', replicas: 2 }],
          ipBase: `10.${i + 1}.0.0`,
          clock: () => Date.now(),
          timing: { readyDelayMs: 50, gracePeriodMs: 500 },
        }),
    );
    for (const c of clusters) await c.start(store);
    await vi.advanceTimersByTimeAsync(5);
    expect(dirty).toEqual([['web.default']]);
    const before = store.service('web.default');
    expect(before?.endpoints.map((e) => `${e.cluster}/${e.zone}/${e.health}`)).toEqual(['east/a/HEALTHY', 'east/b/HEALTHY', 'west/a/HEALTHY', 'west/b/HEALTHY']);
    expect(store.clusterStatuses().map((s) => s.state)).toEqual(['synced', 'synced']);

    const east = clusters[0] as SimulatedCluster;
    const done = east.rollingDeploy('web');
    await vi.advanceTimersByTimeAsync(50);
    const draining = store.service('web.default')?.endpoints.filter((e) => e.health === 'DRAINING') ?? [];
    expect(draining).toHaveLength(1);
    expect(draining[0]?.cluster).toBe('east');
    expect(draining[0]?.drainingSinceMs).toBe(Date.now());
    // East now holds both old pods (one draining), the Ready new pod and the next new one, not yet Ready.
    expect(store.service('web.default')?.podCount).toBe(6);
    expect(store.service('web.default')?.endpoints).toHaveLength(5);

    await vi.advanceTimersByTimeAsync(600);
    await done;
    await vi.advanceTimersByTimeAsync(5);
    const after = store.service('web.default');
    expect(after?.endpoints.every((e) => e.health === 'HEALTHY')).toBe(true);
    const eastIps = after?.endpoints.filter((e) => e.cluster === 'east').map((e) => e.ip);
    const oldEastIps = before?.endpoints.filter((e) => e.cluster === 'east').map((e) => e.ip);
    expect(eastIps).toHaveLength(2);
    expect(eastIps?.some((ip) => oldEastIps?.includes(ip))).toBe(false);
    expect(store.stats().pods).toBe(4);

    for (const c of clusters) await c.stop();
    store.close();
  });

  describe('service identity', () => {
    // east and west run `web` in namespace shop; north runs a pod labelled app=web in its own namespace.
    async function mesh(scope: ServiceScope | undefined) {
      const store = new EndpointStore({ clock: () => Date.now(), metrics: new HeraldMetrics({ defaultMetrics: false }), logger: silentLogger(), batchWindowMs: 5 });
      const placement: Array<[string, string]> = [
        ['east', 'shop'],
        ['west', 'shop'],
        ['north', 'intruder'],
      ];
      const clusters = placement.map(
        ([name, namespace], i) =>
          new SimulatedCluster({
            name,
            region: 'r',
            zones: ['a'],
            services: [{ name: 'web', namespace, replicas: 1 }],
            ipBase: `10.${i + 1}.0.0`,
            clock: () => Date.now(),
            timing: { readyDelayMs: 50, gracePeriodMs: 500 },
            ...(scope === undefined ? {} : { serviceScope: scope }),
          }),
      );
      for (const c of clusters) await c.start(store);
      await vi.advanceTimersByTimeAsync(5);
      const services = store.serviceNames().map((name) => {
        const s = store.service(name)!;
        return { name, label: s.label, namespaces: s.namespaces, kubeClusters: s.endpoints.map((e) => e.cluster) };
      });
      for (const c of clusters) await c.stop();
      store.close();
      return services;
    }

    it('by default merges one namespace across kube clusters and never another namespace', async () => {
      expect(await mesh(undefined)).toEqual([
        { name: 'web.intruder', label: 'web', namespaces: ['intruder'], kubeClusters: ['north'] },
        { name: 'web.shop', label: 'web', namespaces: ['shop'], kubeClusters: ['east', 'west'] },
      ]);
    });

    it('mesh scope merges every namespace under the label value', async () => {
      expect(await mesh('mesh')).toEqual([{ name: 'web', label: 'web', namespaces: ['intruder', 'shop'], kubeClusters: ['east', 'north', 'west'] }]);
    });
  });
});
