import { describe, expect, it } from 'vitest';
import { Mesh, ROLLOUT_SERVICE } from '../../bench/mesh.js';
import { ROLLOUT_RANK, Scoping, seededRandom } from '../../bench/scope.js';

const mesh = new Mesh({ services: 600, endpoints: 30_000, clusters: 3, rolloutPods: 100 });
const shape = { dependencies: 20, sets: 500 };

describe('the scoped bench mesh', () => {
  const scoping = new Scoping(shape, mesh.popularityRanking(), 10_000);

  it('ranks every service once, with the rollout service at its rank', () => {
    const ranking = mesh.popularityRanking();
    expect(new Set(ranking)).toEqual(new Set(mesh.serviceNames));
    expect(ranking).toHaveLength(600);
    expect(ranking[ROLLOUT_RANK - 1]).toBe(ROLLOUT_SERVICE);
  });

  it('gives each Envoy a set of D distinct services, G sets dealt out in turn', () => {
    expect(scoping.sets).toHaveLength(500);
    for (const set of scoping.sets) {
      expect(new Set(set).size).toBe(20);
      expect(set).toEqual([...set].sort());
      for (const service of set) expect(mesh.serviceNames).toContain(service);
    }
    expect(scoping.setOf).toHaveLength(10_000);
    expect(scoping.setOf.slice(0, 3)).toEqual([0, 1, 2]);
    expect(scoping.setOf[500]).toBe(0);
    expect(scoping.distinctSets()).toBe(500);
  });

  it('counts dependents per service as the sum of its sets’ Envoys', () => {
    const counted = new Map<string, number>();
    scoping.setOf.forEach((s) => {
      for (const service of scoping.sets[s]!) counted.set(service, (counted.get(service) ?? 0) + 1);
    });
    for (const service of mesh.serviceNames) expect(scoping.dependentsOf(service)).toBe(counted.get(service) ?? 0);
    const total = [...scoping.dependents.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(10_000 * 20);
  });

  it('has Zipf-like popularity: the most popular service has thousands of dependents, the tail few', () => {
    const top = scoping.mostPopular();
    expect(top).toBe(mesh.popularityRanking()[0]);
    expect(scoping.dependentsOf(top)).toBeGreaterThan(5_000);
    const counts = mesh.popularityRanking().map((s) => scoping.dependentsOf(s));
    const head = counts.slice(0, 10).reduce((a, b) => a + b, 0);
    const tail = counts.slice(-100).reduce((a, b) => a + b, 0);
    expect(head).toBeGreaterThan(tail);
  });

  it('is the same for the same seed and differs for another', () => {
    const again = new Scoping(shape, mesh.popularityRanking(), 10_000);
    expect(again.sets).toEqual(scoping.sets);
    const other = new Scoping({ ...shape, seed: 2 }, mesh.popularityRanking(), 10_000);
    expect(other.sets).not.toEqual(scoping.sets);
    const random = seededRandom(7);
    const values = Array.from({ length: 1_000 }, random);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(seededRandom(7)()).toBe(values[0]);
  });

  it('refuses shapes it cannot draw', () => {
    expect(() => new Scoping({ dependencies: 0, sets: 5 }, mesh.popularityRanking(), 100)).toThrow(/D=0/);
    expect(() => new Scoping({ dependencies: 601, sets: 5 }, mesh.popularityRanking(), 100)).toThrow(/D=601/);
    expect(() => new Scoping({ dependencies: 5, sets: 101 }, mesh.popularityRanking(), 100)).toThrow(/G=101/);
  });

  it('picks drain pods spread over services, and a service’s pods without those drained', () => {
    const services = mesh.serviceNames.filter((s) => s !== ROLLOUT_SERVICE && scoping.dependentsOf(s) > 0);
    const targets = mesh.drainTargetsOver(services, 20);
    expect(new Set(targets.map((t) => t.service)).size).toBe(20);
    // The middle of the first of 20 equal runs, not the first (most popular) service.
    expect(targets[0]!.service).toBe(services[Math.floor(services.length / 40)]);
    const top = scoping.mostPopular();
    const drained = new Set(
      mesh
        .podsOf(top)
        .slice(0, 1)
        .map((e) => e.pod),
    );
    const popular = mesh.podsToDrain(top, 20, drained);
    expect(popular).toHaveLength(20);
    expect(new Set(popular.map((e) => e.pod)).size).toBe(20);
    expect(popular.every((e) => e.service === top && !drained.has(e.pod))).toBe(true);
  });
});
