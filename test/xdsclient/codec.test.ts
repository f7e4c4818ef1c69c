import { beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { TYPE_URLS } from '../../src/model/index.js';
import { XdsCodec, backoffDelay, type AnyResource } from '../../src/xdsclient/index.js';

let root: protobuf.Root;
let codec: XdsCodec;
beforeAll(() => {
  root = loadEnvoyProtos();
  codec = new XdsCodec(root);
});

function encode(typeName: string, typeUrl: string, obj: Record<string, unknown>): AnyResource {
  const type = root.lookupType(typeName);
  return { type_url: typeUrl, value: type.encode(type.fromObject(obj)).finish() };
}
const cluster = (obj: Record<string, unknown>) => encode('envoy.config.cluster.v3.Cluster', TYPE_URLS.cluster, obj);
const cla = (obj: Record<string, unknown>) => encode('envoy.config.endpoint.v3.ClusterLoadAssignment', TYPE_URLS.endpoint, obj);
const sock = (address: string, port: number) => ({ endpoint: { address: { socket_address: { address, port_value: port } } } });

describe('XdsCodec.decodeCluster', () => {
  const cases: [string, () => AnyResource, { name: string; edsName: string | undefined } | RegExp][] = [
    ['EDS cluster without service_name', () => cluster({ name: 'web', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } }), { name: 'web', edsName: 'web' }],
    ['EDS cluster with service_name', () => cluster({ name: 'web', type: 'EDS', eds_cluster_config: { service_name: 'web-eds' } }), { name: 'web', edsName: 'web-eds' }],
    ['STATIC cluster (default type)', () => cluster({ name: 'static' }), { name: 'static', edsName: undefined }],
    ['STRICT_DNS cluster', () => cluster({ name: 'dns', type: 'STRICT_DNS' }), { name: 'dns', edsName: undefined }],
    ['custom cluster_type', () => cluster({ name: 'agg', cluster_type: { name: 'envoy.clusters.aggregate' } }), { name: 'agg', edsName: undefined }],
    ['cluster without a name', () => cluster({ type: 'EDS' }), /without a name/],
    ['wrong type URL', () => ({ ...cluster({ name: 'x' }), type_url: TYPE_URLS.listener }), /Listener where .*Cluster was expected/],
    ['garbage bytes', () => ({ type_url: TYPE_URLS.cluster, value: Uint8Array.from([0xff, 0xff, 0xff]) }), /./],
  ];
  for (const [name, make, want] of cases) {
    it(name, () => {
      if (want instanceof RegExp) expect(() => codec.decodeCluster(make())).toThrow(want);
      else expect(codec.decodeCluster(make())).toEqual(want);
    });
  }
});

describe('XdsCodec.decodeAssignment', () => {
  it('flattens localities with priority, weight and health names', () => {
    const a = codec.decodeAssignment(
      cla({
        cluster_name: 'web',
        endpoints: [
          { locality: { region: 'eu', zone: 'eu-1' }, load_balancing_weight: { value: 7 }, lb_endpoints: [{ ...sock('10.0.0.1', 80), health_status: 'DEGRADED' }, sock('10.0.0.2', 81)] },
          { priority: 1, lb_endpoints: [{ ...sock('fd00::1', 82), health_status: 'TIMEOUT' }] },
        ],
      }),
    );
    expect(a).toEqual({
      cluster: 'web',
      endpoints: [
        { address: '10.0.0.1', port: 80, health: 'DEGRADED', priority: 0, zone: 'eu-1', region: 'eu', localityWeight: 7 },
        { address: '10.0.0.2', port: 81, health: 'UNKNOWN', priority: 0, zone: 'eu-1', region: 'eu', localityWeight: 7 },
        { address: 'fd00::1', port: 82, health: 'TIMEOUT', priority: 1, zone: '', region: '', localityWeight: 0 },
      ],
    });
  });
  it('decodes an empty assignment', () => {
    expect(codec.decodeAssignment(cla({ cluster_name: 'idle' }))).toEqual({ cluster: 'idle', endpoints: [] });
  });
  it('rejects an assignment without cluster_name', () => {
    expect(() => codec.decodeAssignment(cla({ endpoints: [] }))).toThrow(/cluster_name/);
  });
  it('rejects an endpoint without a socket address', () => {
    const bad = cla({ cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: '/tmp/s' } } } }] }] });
    expect(() => codec.decodeAssignment(bad)).toThrow(/web: endpoint without a socket address/);
  });
});

describe('XdsCodec requests and responses', () => {
  it('round-trips a NACK request with node and error_detail', () => {
    const bytes = codec.encodeRequest({
      type_url: TYPE_URLS.endpoint,
      version_info: 'v1',
      response_nonce: 'n2',
      resource_names: ['a', 'b'],
      node: { id: 'n', cluster: 'c', locality: { region: 'r', zone: 'z' }, user_agent_name: 'u' },
      error_detail: { code: 3, message: 'nope' },
    });
    const back = codec.decodeRequest(bytes);
    expect(back).toMatchObject({ type_url: TYPE_URLS.endpoint, version_info: 'v1', response_nonce: 'n2', resource_names: ['a', 'b'] });
    expect(back.node).toMatchObject({ id: 'n', locality: { region: 'r', zone: 'z' } });
    expect(back.error_detail).toMatchObject({ code: 3, message: 'nope' });
  });
  it('round-trips a response with its resources untouched', () => {
    const res = { version_info: '7', type_url: TYPE_URLS.cluster, nonce: 'x', resources: [cluster({ name: 'a' })] };
    const back = codec.decodeResponse(codec.encodeResponse(res));
    expect(back.version_info).toBe('7');
    expect(back.nonce).toBe('x');
    expect(Buffer.from(back.resources[0]!.value).equals(Buffer.from(res.resources[0]!.value))).toBe(true);
    expect(codec.decodeCluster(back.resources[0]!).name).toBe('a');
  });
});

describe('backoffDelay', () => {
  const cases: [attempt: number, random: number, want: number][] = [
    [0, 0, 250],
    [0, 1, 500],
    [1, 0, 500],
    [2, 0.5, 1500],
    [3, 1, 4000],
    [4, 0, 2500],
    [4, 1, 5000],
    [1000, 1, 5000],
  ];
  for (const [attempt, random, want] of cases) {
    it(`attempt ${attempt}, random ${random} → ${want} ms`, () => {
      expect(backoffDelay(attempt, 500, 5000, () => random)).toBe(want);
    });
  }
});
