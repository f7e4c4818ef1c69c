import { describe, expect, it } from 'vitest';
import { assessReadiness, summarizeService } from '../../src/admin/index.js';
import type { ClusterStatus, EndpointRecord } from '../../src/model/index.js';

function cluster(name: string, state: ClusterStatus['state'], everSynced: boolean, lastError?: string): ClusterStatus {
  return { cluster: name, state, everSynced, lastError, lastChangeMs: 0 };
}

describe('assessReadiness', () => {
  const cases: {
    name: string;
    clusters: ClusterStatus[];
    timedOut: boolean;
    serving: boolean;
    ready: boolean;
    reasonMatch: RegExp[];
  }[] = [
    { name: 'all synced and serving', clusters: [cluster('a', 'synced', true), cluster('b', 'synced', true)], timedOut: false, serving: true, ready: true, reasonMatch: [] },
    { name: 'one still syncing', clusters: [cluster('a', 'synced', true), cluster('b', 'syncing', false)], timedOut: false, serving: true, ready: false, reasonMatch: [/pending: b/] },
    {
      name: 'syncing but timeout passed',
      clusters: [cluster('a', 'synced', true), cluster('b', 'unreachable', false, 'ECONNREFUSED')],
      timedOut: true,
      serving: true,
      ready: true,
      reasonMatch: [/timed out; never synced: b/, /cluster b unreachable: ECONNREFUSED/],
    },
    { name: 'synced once, now unreachable', clusters: [cluster('a', 'unreachable', true)], timedOut: false, serving: true, ready: true, reasonMatch: [/cluster a unreachable/] },
    { name: 'synced but xDS not serving', clusters: [cluster('a', 'synced', true)], timedOut: false, serving: false, ready: false, reasonMatch: [/xDS server not serving/] },
    { name: 'no clusters at all, serving', clusters: [], timedOut: false, serving: true, ready: true, reasonMatch: [] },
    {
      name: 'timeout passed with no cluster ever synced',
      clusters: [cluster('b', 'unreachable', false, 'ECONNREFUSED'), cluster('a', 'syncing', false)],
      timedOut: true,
      serving: false,
      ready: false,
      reasonMatch: [/timed out with no cluster synced; xDS withheld until one syncs: a, b/, /xDS server not serving/, /cluster b unreachable/],
    },
    {
      name: 'none synced, even if something claims xDS is serving',
      clusters: [cluster('a', 'syncing', false)],
      timedOut: true,
      serving: true,
      ready: false,
      reasonMatch: [/no cluster synced/],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = assessReadiness({ clusters: c.clusters, initialSyncTimedOut: c.timedOut, xdsServing: c.serving });
      expect(r.ready).toBe(c.ready);
      expect(r.xdsServing).toBe(c.serving);
      expect(r.clusters).toEqual(c.clusters);
      expect(r.missingClusters).toEqual(
        c.clusters
          .filter((x) => !x.everSynced)
          .map((x) => x.cluster)
          .sort(),
      );
      expect(r.reasons).toHaveLength(c.reasonMatch.length);
      c.reasonMatch.forEach((re, i) => expect(r.reasons[i]).toMatch(re));
    });
  }
});

describe('summarizeService', () => {
  const ep = (cluster: string, ip: string, health: EndpointRecord['health']): EndpointRecord => ({
    cluster,
    podKey: `ns/${ip}`,
    ip,
    port: 8080,
    health,
    region: undefined,
    zone: undefined,
    drainingSinceMs: undefined,
  });
  it('counts endpoints by health and lists contributing kube clusters', () => {
    const s = summarizeService({
      service: 'web.shop',
      label: 'web',
      namespaces: ['shop'],
      podCount: 5,
      endpoints: [ep('west', '10.0.0.1', 'HEALTHY'), ep('east', '10.1.0.1', 'DRAINING'), ep('west', '10.0.0.2', 'UNHEALTHY'), ep('west', '10.0.0.3', 'HEALTHY')],
    });
    expect(s).toEqual({
      name: 'web.shop',
      label: 'web',
      namespaces: ['shop'],
      pods: 5,
      endpoints: 4,
      healthy: 2,
      unhealthy: 1,
      draining: 1,
      kubeClusters: ['east', 'west'],
      protocol: 'HTTP/1.1',
      protocolFrom: ['default'],
    });
  });
  it('handles a service with pods but no endpoints', () => {
    expect(summarizeService({ service: 'idle', label: 'idle', namespaces: ['a', 'b'], podCount: 2, endpoints: [] })).toEqual({
      name: 'idle',
      label: 'idle',
      namespaces: ['a', 'b'],
      pods: 2,
      endpoints: 0,
      healthy: 0,
      unhealthy: 0,
      draining: 0,
      kubeClusters: [],
      protocol: 'HTTP/1.1',
      protocolFrom: ['default'],
    });
  });
  it('shows the protocol, where it came from, a disagreement among pods and ignored annotations', () => {
    const base = { service: 'grpc.shop', label: 'grpc', namespaces: ['shop'], podCount: 3, endpoints: [ep('east', '10.0.0.1', 'HEALTHY')] };
    const agreed = summarizeService({
      ...base,
      protocol: { protocol: 'HTTP/2', basis: 'ready_pods', votes: { 'HTTP/1.1': 0, 'HTTP/2': 3 }, sources: ['annotation', 'port_name'], mixed: false, ignored: [] },
    });
    expect(agreed).toMatchObject({ protocol: 'HTTP/2', protocolFrom: ['annotation', 'port_name'] });
    expect(agreed).not.toHaveProperty('protocolMixed');
    expect(agreed).not.toHaveProperty('protocolIgnored');
    const ignored = [{ pod: 'east/shop/grpc-1', reason: 'herald.io/app-protocol "quic" is not one of grpc, …' }];
    const rollout = summarizeService({
      ...base,
      protocol: { protocol: 'HTTP/1.1', basis: 'ready_pods', votes: { 'HTTP/1.1': 1, 'HTTP/2': 1 }, sources: ['default'], mixed: true, ignored },
    });
    expect(rollout).toMatchObject({
      protocol: 'HTTP/1.1',
      protocolFrom: ['default'],
      protocolMixed: { basis: 'ready_pods', votes: { 'HTTP/1.1': 1, 'HTTP/2': 1 } },
      protocolIgnored: ignored,
    });
  });
});
