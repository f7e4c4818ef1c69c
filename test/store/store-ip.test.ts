import { afterEach, describe, expect, it } from 'vitest';
import type { PodRecord } from '../../src/model/index.js';
import { pickIpOwner } from '../../src/store/index.js';
import { harness, metricValue, type Harness } from './helpers.js';
import { pod } from './fixtures.js';

let open: Harness[] = [];
function make(): Harness {
  const h = harness();
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open) h.store.close();
  open = [];
});

const view = (h: Harness, service: string) => h.store.service(service)?.endpoints.map((e) => [e.podKey, e.ip, e.health]) ?? [];

describe('pickIpOwner', () => {
  const claim = (podKey: string, terminating: boolean, createdAtMs: number, claimSeq: number) => ({ podKey, terminating, createdAtMs, claimSeq });
  it.each([
    { name: 'non-terminating beats terminating, even an older one', claims: [claim('old', true, 9, 9), claim('new', false, 1, 1)], want: 'new' },
    { name: 'newest creation wins', claims: [claim('a', false, 5, 9), claim('b', false, 7, 1)], want: 'b' },
    { name: 'then the latest claim', claims: [claim('a', false, 5, 2), claim('b', false, 5, 1)], want: 'a' },
    { name: 'two terminating: newest creation', claims: [claim('a', true, 3, 1), claim('b', true, 2, 2)], want: 'a' },
    { name: 'single claimant', claims: [claim('only', true, 0, 0)], want: 'only' },
    { name: 'nobody', claims: [], want: undefined },
  ])('$name', ({ claims, want }) => {
    expect(pickIpOwner(claims)).toBe(want);
    expect(pickIpOwner([...claims].reverse())).toBe(want);
  });
});

describe('EndpointStore: IP reuse within one cluster', () => {
  const oldA = (extra: Partial<PodRecord> = {}) => pod({ name: 'a-old', service: 'a', ip: '10.0.0.7', createdAtMs: 1_000, ...extra });
  const newB = (extra: Partial<PodRecord> = {}) => pod({ name: 'b-new', service: 'b', ip: '10.0.0.7', createdAtMs: 2_000, ...extra });

  it('a terminating pod whose IP was reused by another service loses its endpoint at once, whatever the event order', async () => {
    for (const order of ['old-first', 'new-first'] as const) {
      const h = make();
      h.store.applyPod(pod({ name: 'a-2', service: 'a', ip: '10.0.0.8' }));
      const events = [oldA({ terminating: true }), newB()];
      if (order === 'new-first') events.reverse();
      for (const p of events) h.store.applyPod(p);
      expect(view(h, 'a'), order).toEqual([['default/a-2', '10.0.0.8', 'HEALTHY']]);
      expect(view(h, 'b'), order).toEqual([['default/b-new', '10.0.0.7', 'HEALTHY']]);
      expect(h.store.service('a')?.podCount).toBe(2);
      expect(await metricValue(h.metrics.ipConflicts, { kind: 'reused_in_cluster' }), order).toBe(1);
      expect(h.store.stats().clusters[0]?.ipConflicts).toBe(1);
    }
  });

  it('drops the draining endpoint when the reusing pod shows up later', () => {
    const h = make();
    h.store.applyPod(oldA({ terminating: true }));
    expect(view(h, 'a')).toEqual([['default/a-old', '10.0.0.7', 'DRAINING']]);
    h.flushed();
    h.store.applyPod(newB({ ready: false }));
    expect(view(h, 'a')).toEqual([]);
    expect(view(h, 'b')).toEqual([]);
    expect(h.flushed()).toEqual([['a', 'b']]);
    h.store.applyPod(newB());
    expect(view(h, 'b')).toEqual([['default/b-new', '10.0.0.7', 'HEALTHY']]);
  });

  it('a pod without a service label still owns its IP', () => {
    const h = make();
    h.store.applyPod(oldA({ terminating: true }));
    h.store.applyPod(newB({ service: undefined }));
    expect(view(h, 'a')).toEqual([]);
  });

  it('between two live pods the newer creation owns the IP; the owner going away hands it back', async () => {
    const h = make();
    h.store.applyPod(newB());
    h.store.applyPod(oldA());
    expect(view(h, 'a')).toEqual([]);
    expect(view(h, 'b')).toEqual([['default/b-new', '10.0.0.7', 'HEALTHY']]);
    expect(await metricValue(h.metrics.ipConflicts, { kind: 'reused_in_cluster' })).toBe(1);

    h.store.removePod('east', 'default/b-new');
    expect(view(h, 'a')).toEqual([['default/a-old', '10.0.0.7', 'HEALTHY']]);
    expect(h.store.stats().clusters[0]?.ipConflicts).toBe(0);
  });

  it('the newer pod starting to terminate passes ownership to the live one', () => {
    const h = make();
    h.store.applyPod(oldA());
    h.store.applyPod(newB());
    expect(view(h, 'a')).toEqual([]);
    h.store.applyPod(newB({ terminating: true }));
    expect(view(h, 'a')).toEqual([['default/a-old', '10.0.0.7', 'HEALTHY']]);
    expect(view(h, 'b')).toEqual([]);
  });

  it('same creation time: the most recently applied claimant owns the IP', () => {
    const h = make();
    h.store.applyPod(oldA({ createdAtMs: 5 }));
    h.store.applyPod(newB({ createdAtMs: 5 }));
    expect(view(h, 'b')).toHaveLength(1);
    expect(view(h, 'a')).toEqual([]);
    // A later update of the loser is not a new claim: ownership does not flap.
    h.store.applyPod(oldA({ createdAtMs: 5, ready: false }));
    h.store.applyPod(oldA({ createdAtMs: 5, ready: true }));
    expect(view(h, 'b')).toHaveLength(1);
    expect(view(h, 'a')).toEqual([]);
  });

  it('a finished pod that still reports its IP claims nothing', async () => {
    const h = make();
    h.store.applyPod(oldA({ phase: 'Succeeded', ready: false }));
    h.store.applyPod(newB());
    expect(view(h, 'b')).toHaveLength(1);
    expect(await metricValue(h.metrics.ipConflicts, { kind: 'reused_in_cluster' })).toBe(0);
  });

  it('a pod moving to a new IP releases the old one', () => {
    const h = make();
    h.store.applyPod(oldA());
    h.store.applyPod(newB());
    h.store.applyPod(newB({ ip: '10.0.0.99' }));
    expect(view(h, 'a')).toEqual([['default/a-old', '10.0.0.7', 'HEALTHY']]);
    expect(view(h, 'b')).toEqual([['default/b-new', '10.0.0.99', 'HEALTHY']]);
  });

  it('a relist that drops the old pod and adds its successor reports no conflict', async () => {
    const h = make();
    h.store.applyPod(oldA());
    h.store.replacePods('east', [newB()]);
    expect(view(h, 'b')).toHaveLength(1);
    expect(await metricValue(h.metrics.ipConflicts, { kind: 'reused_in_cluster' })).toBe(0);
  });
});

describe('EndpointStore: the same IP in two clusters', () => {
  it('keeps both endpoints and counts the conflict once', async () => {
    const h = make();
    h.store.applyPod(pod({ cluster: 'east', name: 'a', service: 'web', ip: '10.5.0.1' }));
    h.store.applyPod(pod({ cluster: 'west', name: 'b', service: 'api', ip: '10.5.0.1' }));
    h.store.applyPod(pod({ cluster: 'west', name: 'b', service: 'api', ip: '10.5.0.1', ready: false }));
    h.store.applyPod(pod({ cluster: 'west', name: 'b', service: 'api', ip: '10.5.0.1', ready: true }));
    h.store.applyPod(pod({ cluster: 'west', name: 'c', service: 'api', ip: '10.5.0.2' }));
    expect(view(h, 'web')).toEqual([['default/a', '10.5.0.1', 'HEALTHY']]);
    expect(h.store.service('api')?.endpoints.map((e) => `${e.cluster}:${e.ip}`)).toEqual(['west:10.5.0.1', 'west:10.5.0.2']);
    expect(await metricValue(h.metrics.ipConflicts, { kind: 'cross_cluster' })).toBe(1);
    expect(await metricValue(h.metrics.ipConflicts, { kind: 'reused_in_cluster' })).toBe(0);
    expect(h.store.stats().crossClusterIps).toBe(1);

    h.store.removePod('west', 'default/b');
    expect(h.store.stats().crossClusterIps).toBe(0);
    h.store.applyPod(pod({ cluster: 'west', name: 'd', service: 'api', ip: '10.5.0.1' }));
    expect(await metricValue(h.metrics.ipConflicts, { kind: 'cross_cluster' })).toBe(2);
  });
});
