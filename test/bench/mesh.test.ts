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
