import { describe, expect, it } from 'vitest';
import { Mesh, ROLLOUT_SERVICE, zoneNames } from '../../bench/mesh.js';

describe('the bench mesh', () => {
  it('puts the rollout pods and the regular endpoints in N services', () => {
    const mesh = new Mesh({ services: 20, endpoints: 200, clusters: 3, rolloutPods: 20 });
    expect(new Set(mesh.endpoints.map((e) => e.service)).size).toBe(20);
    expect(mesh.endpoints.filter((e) => e.service === ROLLOUT_SERVICE)).toHaveLength(20);
  });

  it('refuses a rollout service without pods, which no simulated Envoy would ever see', () => {
    expect(() => new Mesh({ services: 20, endpoints: 200, clusters: 3, rolloutPods: 0 })).toThrow(/at least 1 pod/);
  });

  // Herald serves a service's last Ready pod HEALTHY while it terminates (the terminating
  // fallback), so a drain of it would never show DRAINING: drain targets leave every service a pod.
  it('never picks the last pod of a service to drain', () => {
    // 4 regular services: 3 of two pods, one (svc-0001) of three; the rollout service has one.
    const mesh = new Mesh({ services: 5, endpoints: 10, clusters: 2, rolloutPods: 1 });
    const undrained = (targets: readonly { pod: string }[]) => {
      const gone = new Set(targets.map((t) => t.pod));
      return mesh.serviceNames.filter((s) => s !== ROLLOUT_SERVICE).map((s) => mesh.podsOf(s).filter((e) => !gone.has(e.pod)).length);
    };
    const all = mesh.drainTargets(100);
    expect(all).toHaveLength(5);
    expect(undrained(all)).toEqual([1, 1, 1, 1]);
    expect(mesh.podsToDrain('svc-0001', 10).map((e) => e.pod)).toEqual(['svc-0001-0', 'svc-0001-4']);
    expect(mesh.podsToDrain('svc-0001', 10, new Set(['svc-0001-0'])).map((e) => e.pod)).toEqual(['svc-0001-4']);
    // One pod only: the rollout service has nothing to drain.
    expect(mesh.drainTargetsOver([ROLLOUT_SERVICE, 'svc-0002'], 2).map((e) => e.pod)).toEqual(['svc-0002-1']);
  });
});

describe('the zoned bench mesh', () => {
  it("deals each service's pods of a cluster over its Z zones in turn", () => {
    const mesh = new Mesh({ services: 11, endpoints: 20 + 10 * 3 * 6, clusters: 3, rolloutPods: 20, zones: 3 });
    const zonesOf = (service: string, cluster: string): string[] =>
      mesh
        .podsOf(service)
        .filter((e) => e.cluster === cluster)
        .map((e) => e.zone);
    for (const service of mesh.serviceNames) {
      for (const cluster of ['c0', 'c1', 'c2']) {
        const zones = zonesOf(service, cluster);
        if (zones.length === 0) continue;
        const k = cluster.slice(1);
        expect(zones.slice(0, 3)).toEqual([`region-${k}a`, `region-${k}b`, `region-${k}c`].slice(0, Math.min(3, zones.length)));
      }
    }
    expect(new Set(zonesOf(ROLLOUT_SERVICE, 'c0'))).toEqual(new Set(zoneNames(0, 3)));
    // Rolling-deploy pods take the next zone of their service.
    expect(mesh.newPod(ROLLOUT_SERVICE, 0, 'rollout-v2-0').zone).toBe(zoneNames(0, 3)[20 % 3]);
  });

  it('puts every pod of a cluster in its one zone at Z = 1, and refuses Z out of range', () => {
    const mesh = new Mesh({ services: 11, endpoints: 200, clusters: 3, rolloutPods: 20, zones: 1 });
    expect(new Set(mesh.endpoints.filter((e) => e.cluster === 'c1').map((e) => e.zone))).toEqual(new Set(['region-1a']));
    expect(() => new Mesh({ services: 11, endpoints: 200, clusters: 3, rolloutPods: 20, zones: 0 })).toThrow(/zones per cluster/);
    expect(() => new Mesh({ services: 11, endpoints: 200, clusters: 3, rolloutPods: 20, zones: 27 })).toThrow(/zones per cluster/);
  });

  it('keeps the three zones by address when no zone count is given', () => {
    const mesh = new Mesh({ services: 20, endpoints: 200, clusters: 3, rolloutPods: 20 });
    expect(mesh.endpoints.slice(0, 4).map((e) => e.zone)).toEqual(['region-0a', 'region-0b', 'region-0c', 'region-0a']);
  });
});
