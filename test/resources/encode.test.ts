import { beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import { TYPE_URLS, type ResourceKind } from '../../src/model/index.js';
import {
  buildCluster,
  buildListener,
  buildLoadAssignment,
  buildRouteConfiguration,
  HTTP_CONNECTION_MANAGER_TYPE,
  loadEnvoyProtos,
  ResourceEncoder,
  ROUTER_FILTER_NAME,
  ROUTER_TYPE,
} from '../../src/resources/index.js';
import { contentVersion } from '../../src/cache/index.js';
import { ep, permutations, svc } from './fixtures.js';
import { validateMessage } from './pgv.js';

type Msg = Record<string, any>;

let root: protobuf.Root;
let encoder: ResourceEncoder;

beforeAll(() => {
  root = loadEnvoyProtos();
  encoder = new ResourceEncoder(root);
});

/** Decodes the inner resource with protobufjs directly, to look at field presence on the wire. */
function rawDecode(any: Buffer): { typeUrl: string; message: Msg } {
  const anyType = root.lookupType('google.protobuf.Any');
  const decoded = anyType.decode(any) as unknown as { type_url: string; value: Uint8Array };
  const type = root.lookupType(decoded.type_url.slice(decoded.type_url.indexOf('/') + 1));
  return { typeUrl: decoded.type_url, message: type.decode(decoded.value) as unknown as Msg };
}

const MIXED = [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('a', '10.0.0.2', 'DRAINING', 'z2'), ep('b', '10.1.0.1', 'HEALTHY', 'z1'), ep('b', 'fd00::5', 'UNHEALTHY', null, null, 65535)];

const SAMPLES: Array<[string, ResourceKind, object]> = [
  ['cluster with defaults', 'cluster', buildCluster('payments')],
  [
    'cluster with health check',
    'cluster',
    buildCluster('payments', {
      connectTimeoutMs: 250,
      updateMergeWindowMs: 100,
      healthCheck: { path: '/ready', intervalMs: 2000, timeoutMs: 500, unhealthyThreshold: 3, healthyThreshold: 2 },
    }),
  ],
  ['empty assignment', 'endpoint', buildLoadAssignment(svc('payments', []))],
  ['assignment with priorities', 'endpoint', buildLoadAssignment(svc('payments', MIXED), { localCluster: 'a' })],
  ['listener', 'listener', buildListener('payments')],
  ['route configuration', 'route', buildRouteConfiguration('payments')],
];

describe('ResourceEncoder round trip', () => {
  it.each(SAMPLES)('%s decodes to its type URL and name', (_name, kind, object) => {
    const decoded = encoder.decodeAny(encoder.encodeAny(kind, object));
    expect(decoded.typeUrl).toBe(TYPE_URLS[kind]);
    expect(decoded.name).toBe('payments');
  });

  it.each(SAMPLES)('%s passes the protoc-gen-validate rules of the Envoy protos', (_name, kind, object) => {
    const { typeUrl, message } = rawDecode(encoder.encodeAny(kind, object));
    const type = root.lookupType(typeUrl.slice(typeUrl.indexOf('/') + 1));
    expect(validateMessage(type, message, type.name)).toEqual([]);
  });

  it('listener carries a HttpConnectionManager Any with RDS over ADS and the router filter last', () => {
    const { message } = encoder.decodeAny(encoder.encodeAny('listener', buildListener('payments')));
    const hcm = (message as Msg).api_listener.api_listener;
    expect(hcm['@type']).toBe(HTTP_CONNECTION_MANAGER_TYPE);
    expect(hcm.rds.route_config_name).toBe('payments');
    expect(hcm.rds.config_source.ads).toEqual({});
    expect(hcm.rds.config_source.resource_api_version).toBe('V3');
    expect(hcm.http_filters.at(-1)).toEqual({ name: ROUTER_FILTER_NAME, typed_config: { '@type': ROUTER_TYPE } });
  });

  it('cluster has update_merge_window present on the wire and equal to zero', () => {
    const { message } = rawDecode(encoder.encodeAny('cluster', buildCluster('payments')));
    const window = message.common_lb_config?.update_merge_window;
    expect(window).not.toBeNull();
    expect(window).toBeDefined();
    expect(Number(window.seconds)).toBe(0);
    expect(window.nanos).toBe(0);
    expect(message.cluster_discovery_type).toBe('type');
    expect(message.eds_cluster_config.eds_config.config_source_specifier).toBe('ads');
    expect(message.eds_cluster_config.service_name).toBe('');
  });

  it('cluster with a health check keeps ignore_health_on_host_removal', () => {
    const object = buildCluster('payments', {
      healthCheck: { path: '/ready', intervalMs: 2000, timeoutMs: 500, unhealthyThreshold: 3, healthyThreshold: 2 },
    });
    const { message } = encoder.decodeAny(encoder.encodeAny('cluster', object));
    expect(message.ignore_health_on_host_removal).toBe(true);
    expect((message as Msg).health_checks[0].http_health_check.path).toBe('/ready');
    expect((message as Msg).health_checks[0].interval).toEqual({ seconds: 2, nanos: 0 });
  });

  it('assignment keeps health, locality, weights, priorities and IPv6 literals', () => {
    const cla = buildLoadAssignment(svc('payments', MIXED), { localCluster: 'a' });
    const { message } = encoder.decodeAny(encoder.encodeAny('endpoint', cla));
    const localities = (message as Msg).endpoints as Msg[];
    const flat = localities.map((l) => ({
      priority: l.priority ?? 0,
      locality: l.locality,
      weight: l.load_balancing_weight.value,
      endpoints: (l.lb_endpoints as Msg[]).map((e) => [e.endpoint.address.socket_address.address, e.endpoint.address.socket_address.port_value, e.health_status]),
    }));
    expect(flat).toEqual([
      { priority: 0, locality: { region: 'r1', zone: 'z1' }, weight: 1, endpoints: [['10.0.0.1', 8080, 'HEALTHY']] },
      { priority: 0, locality: { region: 'r1', zone: 'z2' }, weight: 1, endpoints: [['10.0.0.2', 8080, 'DRAINING']] },
      { priority: 1, locality: { region: '', zone: '' }, weight: 1, endpoints: [['fd00::5', 65535, 'UNHEALTHY']] },
      { priority: 1, locality: { region: 'r1', zone: 'z1', sub_zone: 'herald-priority-1' }, weight: 1, endpoints: [['10.1.0.1', 8080, 'HEALTHY']] },
    ]);
  });

  it('locality is present on the wire even when region and zone are unknown', () => {
    const cla = buildLoadAssignment(svc('payments', [ep('a', '10.0.0.9', 'HEALTHY', null, null)]));
    const { message } = rawDecode(encoder.encodeAny('endpoint', cla));
    expect(message.endpoints[0].locality).not.toBeNull();
    expect(message.endpoints[0].load_balancing_weight).not.toBeNull();
  });

  it('empty assignment encodes with no localities', () => {
    const { message } = rawDecode(encoder.encodeAny('endpoint', buildLoadAssignment(svc('payments', []))));
    expect(message.cluster_name).toBe('payments');
    expect(message.endpoints).toEqual([]);
  });

  it('route match keeps the empty prefix as the chosen path specifier', () => {
    const { message } = rawDecode(encoder.encodeAny('route', buildRouteConfiguration('payments')));
    const route = message.virtual_hosts[0].routes[0];
    expect(route.match.path_specifier).toBe('prefix');
    expect(route.match.prefix).toBe('');
    expect(route.route.cluster).toBe('payments');
    expect(message.virtual_hosts[0].domains).toEqual(['*']);
  });
});

describe('validation rules checker (negative controls)', () => {
  it.each<[string, ResourceKind, (o: Msg) => void, RegExp]>([
    ['zero connect timeout', 'cluster', (o) => (o.connect_timeout = { seconds: 0, nanos: 0 }), /connect_timeout: must be > 0/],
    ['empty cluster name', 'cluster', (o) => (o.name = ''), /Cluster\.name: shorter than 1/],
    ['zero locality weight', 'endpoint', (o) => (o.endpoints[0].load_balancing_weight = { value: 0 }), /load_balancing_weight: must be ≥ 1/],
    ['port above 65535', 'endpoint', (o) => (o.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value = 70000), /port_value: must be ≤ 65535/],
    ['priority above 128', 'endpoint', (o) => (o.endpoints[0].priority = 129), /priority: must be ≤ 128/],
    ['empty stat_prefix inside the Any', 'listener', (o) => (o.api_listener.api_listener.stat_prefix = ''), /stat_prefix: shorter than 1/],
  ])('flags %s', (_name, kind, mutate, problem) => {
    const base: Record<ResourceKind, () => object> = {
      cluster: () => buildCluster('payments'),
      endpoint: () => buildLoadAssignment(svc('payments', MIXED)),
      listener: () => buildListener('payments'),
      route: () => buildRouteConfiguration('payments'),
    };
    const object = structuredClone(base[kind]()) as Msg;
    mutate(object);
    const { typeUrl, message } = rawDecode(encoder.encodeAny(kind, object));
    const type = root.lookupType(typeUrl.slice(typeUrl.indexOf('/') + 1));
    expect(validateMessage(type, message, type.name).join('\n')).toMatch(problem);
  });
});

describe('ResourceEncoder rejects malformed objects', () => {
  it.each<[string, ResourceKind, object, RegExp]>([
    ['an unknown field', 'cluster', { ...buildCluster('web'), lb_polcy: 'ROUND_ROBIN' }, /cluster resource "web".*lb_polcy/],
    ['a misspelt enum name', 'endpoint', { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ health_status: 'DRAINNG' }] }] }, /endpoint resource "web".*health_status.*DRAINNG/],
    [
      'a port given as a string',
      'endpoint',
      { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '1.2.3.4', port_value: '80' } } } }] }] },
      /port_value: uint32 expected/,
    ],
    ['a negative uint32', 'endpoint', { cluster_name: 'web', endpoints: [{ priority: -1 }] }, /priority: uint32 expected/],
    ['two members of one oneof', 'cluster', { name: 'web', type: 'EDS', cluster_type: { name: 'x' } }, /oneof cluster_discovery_type/],
    ['a list where an object belongs', 'route', { name: 'web', virtual_hosts: {} }, /virtual_hosts: array expected/],
    ['an unknown type inside an Any', 'listener', { name: 'web', api_listener: { api_listener: { '@type': 'type.googleapis.com/no.such.Type' } } }, /listener resource "web".*unknown type/],
    ['an unknown field inside an Any', 'listener', { name: 'web', api_listener: { api_listener: { '@type': HTTP_CONNECTION_MANAGER_TYPE, stat_prefx: 'web' } } }, /stat_prefx/],
  ])('%s', (_name, kind, object, message) => {
    expect(() => encoder.encodeAny(kind, object)).toThrow(message);
  });

  it('decodeAny refuses a type the protos do not know', () => {
    const anyType = root.lookupType('google.protobuf.Any');
    const bytes = anyType.encode(anyType.create({ type_url: 'type.googleapis.com/no.such.Type', value: new Uint8Array() })).finish();
    expect(() => encoder.decodeAny(bytes)).toThrow(/no\.such\.Type/);
  });
});

describe('content versions', () => {
  it('are 16 hex characters, equal for equal bytes and different for different bytes', () => {
    const a = contentVersion(Buffer.from('a'));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(contentVersion(Buffer.from('a'))).toBe(a);
    expect(contentVersion(Buffer.from('b'))).not.toBe(a);
  });

  it('identical state in any order gives identical bytes', () => {
    const reference = encoder.encodeAny('endpoint', buildLoadAssignment(svc('s', MIXED), { localCluster: 'b' }));
    for (const shuffled of permutations(MIXED)) {
      const bytes = encoder.encodeAny('endpoint', buildLoadAssignment(svc('s', shuffled), { localCluster: 'b' }));
      expect(bytes.equals(reference)).toBe(true);
      expect(contentVersion(bytes)).toBe(contentVersion(reference));
    }
  });

  it('a DRAINING flip changes the version', () => {
    const before = encoder.encodeAny('endpoint', buildLoadAssignment(svc('s', [ep('a', '10.0.0.1')])));
    const after = encoder.encodeAny('endpoint', buildLoadAssignment(svc('s', [ep('a', '10.0.0.1', 'DRAINING')])));
    expect(contentVersion(after)).not.toBe(contentVersion(before));
  });
});

describe('cluster bytes by protocol', () => {
  const HC = { path: '/healthz', intervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 1 };
  // Encoded by the builder before upstream protocols existed (commit f575301): an HTTP/1.1
  // service must keep exactly these bytes, so upgrading Herald re-sends no CDS.
  const BEFORE_PROTOCOLS: Array<[string, Parameters<typeof buildCluster>[1], string]> = [
    [
      'defaults',
      {},
      '0a33747970652e676f6f676c65617069732e636f6d2f656e766f792e636f6e6669672e636c75737465722e76332e436c7573746572122a0a0d7061796d656e74732e73686f7010031a060a041a0030022204080110003000da0106220408001000',
    ],
    [
      'health check, 250 ms connect timeout',
      { healthCheck: HC, connectTimeoutMs: 250 },
      '0a33747970652e676f6f676c65617069732e636f6d2f656e766f792e636f6e6669672e636c75737465722e76332e436c757374657212520a0d7061796d656e74732e73686f7010031a060a041a003002220708001080e59a77300042200a0408011000120408051000220208022a020801420a12082f6865616c74687ada0106220408001000800201',
    ],
  ];
  it.each(BEFORE_PROTOCOLS)('HTTP/1.1 (%s) encodes to the bytes of before', (_name, options, hex) => {
    expect(encoder.encodeAny('cluster', buildCluster('payments.shop', options, 'HTTP/1.1')).toString('hex')).toBe(hex);
    expect(encoder.encodeAny('cluster', buildCluster('payments.shop', options)).toString('hex')).toBe(hex);
  });

  it('HTTP/2 carries HttpProtocolOptions as a typed Any that decodes back, and passes the PGV rules', () => {
    const any = encoder.encodeAny('cluster', buildCluster('payments.shop', {}, 'HTTP/2'));
    const { message } = encoder.decodeAny(any);
    expect(message.typed_extension_protocol_options).toEqual({
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    });
    const type = root.lookupType('envoy.config.cluster.v3.Cluster');
    expect(validateMessage(type, rawDecode(any).message, type.name)).toEqual([]);
    // The checker does look inside the options' Any: a rule broken there is found.
    const badOptions = encoder.encodeAny('cluster', {
      ...buildCluster('payments.shop'),
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: { max_concurrent_streams: { value: 0 } } },
        },
      },
    });
    expect(validateMessage(type, rawDecode(badOptions).message, type.name).join('\n')).toMatch(/max_concurrent_streams/);
  });
});
