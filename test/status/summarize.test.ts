import { describe, expect, it } from 'vitest';
import { buildRows, kubeClusterOf, namespaceOf, parseAdminClients, summarizeType, zoneOf, type AdminClient, type CsdsClient, type CsdsResource } from '../../src/status/index.js';

const URL = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;

function res(type: keyof typeof URL, name: string, configStatus: string, clientStatus: string, extra: Partial<CsdsResource> = {}): CsdsResource {
  return { typeUrl: URL[type], name, version: 'v1', configStatus, clientStatus, lastUpdatedMs: undefined, error: undefined, ...extra };
}

function client(id: string, resources: CsdsResource[], node: Partial<NonNullable<CsdsClient['node']>> = {}): CsdsClient {
  return {
    node: { id, cluster: 'echo', region: '', zone: '', subZone: '', userAgent: 'envoy', userAgentVersion: '', metadata: {}, ...node },
    scope: '',
    resources,
    perType: [],
  };
}

describe('summarizeType', () => {
  const nack = { details: 'bad cluster', version: 'v2', atMs: 2000 };
  it.each([
    ['no resources', [], undefined, 'NOT SENT', 0, undefined],
    ['all synced', [res('CDS', 'a', 'SYNCED', 'ACKED'), res('CDS', 'b', 'SYNCED', 'ACKED')], undefined, 'SYNCED', 0, 'v1'],
    ['one stale', [res('CDS', 'a', 'SYNCED', 'ACKED'), res('CDS', 'b', 'STALE', 'REQUESTED')], undefined, 'STALE', 1, 'v1'],
    ['two stale', [res('CDS', 'a', 'STALE', 'ACKED'), res('CDS', 'b', 'STALE', 'REQUESTED')], undefined, 'STALE', 2, 'v1'],
    ['nack beats stale', [res('CDS', 'a', 'STALE', 'ACKED'), res('CDS', 'b', 'ERROR', 'NACKED', { error: nack })], undefined, 'NACKED', 2, 'v1'],
    ['client NACKED with SYNCED config', [res('CDS', 'a', 'SYNCED', 'NACKED')], undefined, 'NACKED', 1, 'v1'],
    ['missing names do not make it behind', [res('EDS', 'a', 'SYNCED', 'ACKED'), res('EDS', 'gone', 'NOT_SENT', 'DOES_NOT_EXIST', { version: '' })], undefined, 'SYNCED', 0, 'v1'],
    ['only requested, nothing sent', [res('EDS', 'a', 'NOT_SENT', 'REQUESTED', { version: '' })], undefined, 'NOT SENT', 0, undefined],
    ['per-type status only', [], 'SYNCED', 'SYNCED', 0, undefined],
    ['per-type ERROR', [], 'ERROR', 'NACKED', 0, undefined],
  ] as const)('%s', (_name, resources, perType, state, behind, version) => {
    const summary = summarizeType('CDS', resources, perType, undefined);
    expect(summary.state).toBe(state);
    expect(summary.behind).toBe(behind);
    expect(summary.ackedVersion).toBe(version);
    expect(summary.resources).toBe(resources.length);
  });

  it('has no type version when per-resource versions disagree, unless the admin page gives one', () => {
    const resources = [res('EDS', 'a', 'SYNCED', 'ACKED', { version: 'h1' }), res('EDS', 'b', 'SYNCED', 'ACKED', { version: 'h2' })];
    expect(summarizeType('EDS', resources, undefined, undefined).ackedVersion).toBeUndefined();
    const admin = { ackedVersion: '17', lastNack: undefined };
    expect(summarizeType('EDS', resources, undefined, admin).ackedVersion).toBe('17');
  });

  it('keeps the newest NACK from CSDS error states and the admin history', () => {
    const resources = [
      res('CDS', 'a', 'ERROR', 'NACKED', { error: { details: 'older', version: 'v2', atMs: 1000 } }),
      res('CDS', 'b', 'ERROR', 'NACKED', { error: { details: 'newer', version: 'v3', atMs: 3000 } }),
    ];
    expect(summarizeType('CDS', resources, undefined, undefined).lastNack).toEqual({ type: 'CDS', message: 'newer', version: 'v3', atMs: 3000 });
    const admin = { ackedVersion: '1', lastNack: { message: 'from admin', rejectedVersion: '4', atMs: 5000 } };
    expect(summarizeType('CDS', resources, undefined, admin).lastNack?.message).toBe('from admin');
    const oldAdmin = { ackedVersion: '1', lastNack: { message: 'ancient', rejectedVersion: '1', atMs: 10 } };
    expect(summarizeType('CDS', resources, undefined, oldAdmin).lastNack?.message).toBe('newer');
    // A NACK long since followed by an ACK is history, still shown, while the state is SYNCED.
    const healed = summarizeType('CDS', [res('CDS', 'a', 'SYNCED', 'ACKED')], undefined, oldAdmin);
    expect([healed.state, healed.lastNack?.message]).toEqual(['SYNCED', 'ancient']);
  });
});

describe('namespaceOf', () => {
  it.each([
    [{}, 'payments.shop', 'shop'],
    [{ 'herald.io/namespace': 'billing' }, 'payments.shop', 'billing'],
    [{ 'herald.io/namespace': '' }, 'payments.shop', 'shop'],
    [{}, 'v1.2.payments.shop', 'shop'],
    [{}, 'payments', undefined],
    [{}, '', undefined],
    [{}, 'payments.', undefined],
    [{}, '.shop', undefined],
    [{ 'herald.io/namespace': 7 }, 'flat', undefined],
  ])('%j, %s → %s', (metadata, service, expected) => {
    expect(namespaceOf(metadata, service)).toBe(expected);
  });
});

describe('kubeClusterOf / zoneOf', () => {
  it.each([
    [{}, undefined],
    [{ kube_cluster: 'east' }, 'east'],
    [{ CLUSTER_ID: 'istio-c1', 'herald.io/kube-cluster': 'west' }, 'west'],
    [{ kube_cluster: '', kubeCluster: 'b' }, 'b'],
    [{ kube_cluster: 42 }, undefined],
  ])('%j → %s', (metadata, expected) => {
    expect(kubeClusterOf(metadata)).toBe(expected);
  });
  it.each([
    ['', '', undefined],
    ['eu-west-1', '', 'eu-west-1'],
    ['', 'eu-west-1a', 'eu-west-1a'],
    ['eu-west-1', 'eu-west-1a', 'eu-west-1/eu-west-1a'],
  ])('zoneOf(%j, %j) → %s', (region, zone, expected) => {
    expect(zoneOf(region, zone)).toBe(expected);
  });
});

describe('buildRows', () => {
  const synced = (type: keyof typeof URL, name = 'echo') => res(type, name, 'SYNCED', 'ACKED');

  it('makes one line per client, sorted by node id, with node facts', () => {
    const rows = buildRows([
      client('b-envoy', [synced('CDS')], { metadata: { kube_cluster: 'west' }, region: 'r1', zone: 'z1' }),
      client('a-envoy', [synced('CDS'), res('EDS', 'echo', 'STALE', 'ACKED')]),
    ]);
    expect(rows.map((r) => r.nodeId)).toEqual(['a-envoy', 'b-envoy']);
    expect(rows[1]).toMatchObject({ service: 'echo', kubeCluster: 'west', zone: 'r1/z1', connectedAtMs: undefined });
    expect(rows[0]!.types.EDS.state).toBe('STALE');
    expect(rows[0]!.types.LDS.state).toBe('NOT SENT');
  });

  it('joins per-type streams of one node, keeps same-type streams apart', () => {
    const rows = buildRows([client('n', [synced('CDS')]), client('n', [synced('EDS')]), client('n', [res('CDS', 'echo', 'STALE', 'ACKED')])]);
    expect(rows).toHaveLength(2);
    const states = rows.map((r) => `${r.types.CDS.state}/${r.types.EDS.state}`).sort();
    expect(states).toEqual(['STALE/NOT SENT', 'SYNCED/SYNCED']);
  });

  it('takes connection times from the admin list, one admin stream per line', () => {
    const admin: AdminClient[] = [
      {
        id: '7',
        nodeId: 'n',
        connectedAtMs: 5000,
        types: { CDS: { ackedVersion: '3', lastNack: undefined } },
        perspective: { ignoresOverprovisioning: true, replicaView: false, refused: false },
      },
      { id: '3', nodeId: 'n', connectedAtMs: 1000, types: { CDS: { ackedVersion: '2', lastNack: undefined } }, perspective: undefined },
      { id: '9', nodeId: 'other', connectedAtMs: 9000, types: {}, perspective: undefined },
    ];
    const rows = buildRows([client('n', [synced('CDS')]), client('n', [synced('CDS')]), client('lonely', [synced('CDS')])], admin);
    expect(rows.map((r) => [r.nodeId, r.connectedAtMs, r.types.CDS.ackedVersion])).toEqual([
      ['lonely', undefined, 'v1'],
      ['n', 1000, '2'],
      ['n', 5000, '3'],
    ]);
    // The perspective comes from the admin stream of the line, when the page said.
    expect(rows.map((r) => r.perspective)).toEqual([undefined, undefined, { ignoresOverprovisioning: true, replicaView: false, refused: false }]);
  });

  it('shows the newest NACK of any type on the line', () => {
    const rows = buildRows([
      client('n', [
        res('CDS', 'a', 'ERROR', 'NACKED', { error: { details: 'cds broke', version: '', atMs: 100 } }),
        res('EDS', 'a', 'ERROR', 'NACKED', { error: { details: 'eds broke', version: '', atMs: 200 } }),
      ]),
    ]);
    expect(rows[0]!.lastNack).toMatchObject({ type: 'EDS', message: 'eds broke' });
  });

  it("carries each client's user agent and version, and for an Envoy whether the version is supported", () => {
    const rows = buildRows([
      client('a-old', [synced('CDS')], { userAgentVersion: '1.28.7' }),
      client('b-new', [synced('CDS')], { userAgentVersion: '1.30.0' }),
      client('c-unversioned', [synced('CDS')]),
      client('d-grpc', [synced('CDS')], { userAgent: 'gRPC Go', userAgentVersion: '1.20.0' }),
    ]);
    expect(rows.map((r) => [r.nodeId, r.client, r.envoySupport])).toEqual([
      ['a-old', { userAgent: 'envoy', version: '1.28.7' }, 'old'],
      ['b-new', { userAgent: 'envoy', version: '1.30.0' }, 'ok'],
      ['c-unversioned', { userAgent: 'envoy', version: '' }, 'unknown'],
      ['d-grpc', { userAgent: 'gRPC Go', version: '1.20.0' }, undefined],
    ]);
  });

  it('handles a client that never sent a node', () => {
    const rows = buildRows([{ node: undefined, scope: '', resources: [], perType: [] }]);
    expect(rows[0]).toMatchObject({ nodeId: '', service: '', kubeCluster: undefined, zone: undefined, client: undefined, envoySupport: undefined });
  });
});

describe('parseAdminClients', () => {
  it('reads the /debug/clients shape and skips what it does not know', () => {
    const parsed = parseAdminClients([
      {
        id: '4',
        api: 'ads',
        node: { id: 'envoy-1', cluster: 'echo' },
        connectedAtMs: 1234,
        perspective: { kubeCluster: 'east', zone: 'z1', ignoresOverprovisioning: false, replicaView: true, refused: true },
        types: {
          cluster: { ackedVersion: '5', pending: false, dirty: false, lastNack: null },
          endpoint: { ackedVersion: '6', pending: true, dirty: false, lastNack: { message: 'nope', rejectedVersion: '7', atMs: 99 } },
          secret: { ackedVersion: 'x' },
        },
      },
      'garbage',
      { id: 5, types: 'nope' },
    ]);
    expect(parsed).toEqual([
      {
        id: '4',
        nodeId: 'envoy-1',
        connectedAtMs: 1234,
        types: {
          CDS: { ackedVersion: '5', lastNack: undefined },
          EDS: { ackedVersion: '6', lastNack: { message: 'nope', rejectedVersion: '7', atMs: 99 } },
        },
        perspective: { ignoresOverprovisioning: false, replicaView: true, refused: true },
      },
      { id: '5', nodeId: '', connectedAtMs: undefined, types: {}, perspective: undefined },
    ]);
    expect(parseAdminClients({ not: 'a list' })).toEqual([]);
  });
});
