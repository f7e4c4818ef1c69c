import { describe, expect, it } from 'vitest';
import { Mesh, ROLLOUT_SERVICE } from '../../bench/mesh.js';

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
