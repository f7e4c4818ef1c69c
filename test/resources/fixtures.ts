// Small helpers shared by the resources tests.

import type { EndpointHealth, EndpointRecord, ServiceEndpoints, ServiceProtocol, UpstreamProtocol } from '../../src/model/index.js';

export function ep(
  cluster: string,
  ip: string,
  health: EndpointHealth = 'HEALTHY',
  // null stands for "unknown": a default parameter would swallow an explicit undefined.
  zone: string | null = 'z1',
  region: string | null = 'r1',
  port = 8080,
): EndpointRecord {
  return {
    cluster,
    podKey: `default/pod-${ip}-${port}`,
    ip,
    port,
    health,
    region: region ?? undefined,
    zone: zone ?? undefined,
    drainingSinceMs: undefined,
  };
}

export function svc(service: string, endpoints: EndpointRecord[]): ServiceEndpoints {
  return { service, label: service, namespaces: ['default'], endpoints, podCount: endpoints.length };
}

/** A service protocol as the store would aggregate it from `pods` pods that all agree. */
export function agreed(protocol: UpstreamProtocol, pods = 1): ServiceProtocol {
  return {
    protocol,
    basis: 'ready_pods',
    votes: { 'HTTP/1.1': protocol === 'HTTP/1.1' ? pods : 0, 'HTTP/2': protocol === 'HTTP/2' ? pods : 0 },
    sources: [protocol === 'HTTP/2' ? 'port_name' : 'default'],
    mixed: false,
    ignored: [],
  };
}

/** Deterministic permutations of a list, so "shuffled input" tests are reproducible. */
export function permutations<T>(items: readonly T[]): T[][] {
  const reversed = [...items].reverse();
  const rotated = items.length > 0 ? [...items.slice(1), items[0] as T] : [];
  // A fixed-seed linear congruential shuffle: reproducible, yet not a simple pattern.
  const mixed = [...items];
  let seed = 12345;
  for (let i = mixed.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [mixed[i], mixed[j]] = [mixed[j] as T, mixed[i] as T];
  }
  return [reversed, rotated, mixed];
}
