import type { NodeRecord, PodRecord } from '../../src/model/index.js';

/** A Ready, Running pod of service `web` in cluster `east`; override what a case needs. */
export function pod(overrides: Partial<PodRecord> = {}): PodRecord {
  const name = overrides.name ?? 'web-1';
  return {
    cluster: 'east',
    namespace: 'default',
    name,
    uid: `uid-${name}`,
    service: 'web',
    ip: '10.0.0.1',
    port: 8080,
    ready: true,
    terminating: false,
    phase: 'Running',
    nodeName: 'node-a',
    createdAtMs: 1_000,
    gracePeriodSeconds: undefined,
    ...overrides,
  };
}

export function node(overrides: Partial<NodeRecord> = {}): NodeRecord {
  return { cluster: 'east', name: 'node-a', region: 'r1', zone: 'z1', ...overrides };
}
