// The generator behind the no-NACK property test only draws what Kubernetes would accept, and
// replays exactly from its seed.
import { describe, expect, it } from 'vitest';
import { DNS_LABEL, DNS_SUBDOMAIN, LABEL_VALUE, randomMesh, Rng } from './random-mesh.js';

const SHAPE = { clusters: ['kube-a', 'kube-b', 'kube-c'], maxServices: 12, maxPodsPerService: 8 };

describe('randomMesh', () => {
  const meshes = Array.from({ length: 200 }, (_, seed) => randomMesh(new Rng(seed), SHAPE));
  const pods = meshes.flatMap((m) => m.clusters.flatMap((c) => c.pods));
  const nodes = meshes.flatMap((m) => m.clusters.flatMap((c) => c.nodes));

  it('draws only names Kubernetes accepts', () => {
    for (const pod of pods) {
      expect(pod.namespace).toMatch(DNS_LABEL);
      expect(pod.namespace.length).toBeLessThanOrEqual(63);
      expect(pod.serviceLabel).toMatch(LABEL_VALUE);
      expect(pod.serviceLabel!.length).toBeLessThanOrEqual(63);
      expect(pod.service).toBe(`${pod.serviceLabel}.${pod.namespace}`);
      expect(pod.name).toMatch(DNS_SUBDOMAIN);
      expect(pod.name.length).toBeLessThanOrEqual(253);
      expect(pod.port).toBeGreaterThanOrEqual(1);
      expect(pod.port).toBeLessThanOrEqual(65535);
      if (pod.ip !== undefined) expect(pod.ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    }
    for (const node of nodes) {
      expect(node.name).toMatch(DNS_SUBDOMAIN);
      for (const label of [node.region, node.zone]) if (label !== undefined) expect(label).toMatch(LABEL_VALUE);
    }
  });

  it('reaches the edges: 1 and 63-character names, 253-character pod names, ports 1 and 65535, no zone, capitals and dots', () => {
    const labels = pods.map((p) => p.serviceLabel!);
    expect(labels.some((l) => l.length === 1)).toBe(true);
    expect(labels.some((l) => l.length === 63)).toBe(true);
    expect(labels.some((l) => /[A-Z]/.test(l) && l.includes('.'))).toBe(true);
    expect(pods.some((p) => p.namespace.length === 63)).toBe(true);
    expect(pods.some((p) => p.name.length === 253)).toBe(true);
    expect(pods.some((p) => p.port === 1) && pods.some((p) => p.port === 65535)).toBe(true);
    expect(nodes.some((n) => n.zone === undefined)).toBe(true);
    expect(pods.some((p) => p.terminating) && pods.some((p) => !p.ready) && pods.some((p) => p.ip === undefined)).toBe(true);
  });

  it('draws HTTP/2 and HTTP/1.1 services, and services whose pods disagree', () => {
    // A pod's uid is `<seed>-<service index>-<pod index>`.
    const serviceOf = (uid: string): string => uid.split('-').slice(0, 2).join('-');
    const byService = new Map<string, Set<string>>();
    for (const p of pods) {
      const set = byService.get(serviceOf(p.uid)) ?? new Set<string>();
      set.add(p.protocol?.protocol ?? 'HTTP/1.1');
      byService.set(serviceOf(p.uid), set);
    }
    const kinds = [...byService.values()].map((set) => [...set].sort().join('+'));
    expect(kinds).toContain('HTTP/2');
    expect(kinds).toContain('HTTP/1.1');
    expect(kinds).toContain('HTTP/1.1+HTTP/2');
    expect(pods.some((p) => p.protocol === undefined) && pods.some((p) => p.protocol?.ignored !== undefined)).toBe(true);
    // The first service of every mesh speaks HTTP/2, so the no-NACK property serves one each round it has pods.
    for (const p of pods.filter((x) => x.uid.split('-')[1] === '0')) expect(p.protocol?.protocol).toBe('HTTP/2');
  });

  it('keeps IPs unique and pods unique per cluster, and lists only services that have pods', () => {
    for (const mesh of meshes) {
      const ips = mesh.clusters.flatMap((c) => c.pods.flatMap((p) => (p.ip ? [p.ip] : [])));
      expect(new Set(ips).size).toBe(ips.length);
      for (const c of mesh.clusters) expect(new Set(c.pods.map((p) => `${p.namespace}/${p.name}`)).size).toBe(c.pods.length);
      expect(mesh.services).toEqual([...new Set(mesh.clusters.flatMap((c) => c.pods.map((p) => p.service!)))].sort());
    }
  });

  it('gives the same mesh for the same seed', () => {
    expect(randomMesh(new Rng(42), SHAPE)).toEqual(randomMesh(new Rng(42), SHAPE));
    expect(randomMesh(new Rng(42), SHAPE)).not.toEqual(randomMesh(new Rng(43), SHAPE));
  });
});
