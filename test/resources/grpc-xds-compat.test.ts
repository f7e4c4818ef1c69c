// Feeds encoded resources to the resource decoders of @grpc/grpc-js-xds (the proxyless gRPC
// client), which validate each resource as they would when it arrives over ADS. Deep-imports its
// build output: the package has no exports map, and these classes are what its xDS client runs.

import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import type { ResourceKind, ServicePolicySpec } from '../../src/model/index.js';
import { buildCluster, buildListener, buildLoadAssignment, buildRouteConfiguration, loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { ep, svc } from './fixtures.js';
import { POLICY_SAMPLES } from './policy-samples.js';

const require = createRequire(import.meta.url);
const TYPES_DIR = '@grpc/grpc-js-xds/build/src/xds-resource-type/';

interface DecodeResult {
  name: string;
  value?: unknown;
  error?: string;
}
interface ResourceType {
  decode(context: unknown, resource: { type_url: string; value: Buffer }): DecodeResult;
}

const DECODERS: Record<ResourceKind, [string, string]> = {
  cluster: ['cluster-resource-type.js', 'ClusterResourceType'],
  endpoint: ['endpoint-resource-type.js', 'EndpointResourceType'],
  listener: ['listener-resource-type.js', 'ListenerResourceType'],
  route: ['route-config-resource-type.js', 'RouteConfigurationResourceType'],
};

// Only TLS and load reporting settings read the context; Herald's resources use neither.
const CONTEXT = { bootstrap: { certificateProviders: {} }, server: undefined };

let encoder: ResourceEncoder;
let anyType: protobuf.Type;

beforeAll(() => {
  // Registers the router filter (and the xds: resolver) the way an application using xDS would.
  (require('@grpc/grpc-js-xds') as { register(): void }).register();
  const root = loadEnvoyProtos();
  encoder = new ResourceEncoder(root);
  anyType = root.lookupType('google.protobuf.Any');
});

function grpcDecode(kind: ResourceKind, object: object): DecodeResult {
  const [file, className] = DECODERS[kind];
  const type = (require(TYPES_DIR + file) as Record<string, { get(): ResourceType }>)[className]!.get();
  const any = anyType.decode(encoder.encodeAny(kind, object)) as unknown as { type_url: string; value: Uint8Array };
  return type.decode(CONTEXT, { type_url: any.type_url, value: Buffer.from(any.value) });
}

const HC = { path: '/ready', intervalMs: 2000, timeoutMs: 500, unhealthyThreshold: 3, healthyThreshold: 2 };
const ENDPOINTS = [
  ep('a', '10.0.0.1'),
  ep('a', '10.0.0.2', 'DRAINING', 'z2'),
  ep('b', 'fd00::7', 'UNHEALTHY', null, null),
  ep('b', '10.0.0.1', 'HEALTHY', 'z9'), // same address as a's pod: the builder must keep only one
];

describe('proxyless gRPC (grpc-js-xds) accepts what Herald builds', () => {
  it.each<[string, ResourceKind, object]>([
    ['cluster', 'cluster', buildCluster('web')],
    ['cluster with health check', 'cluster', buildCluster('web', { healthCheck: HC })],
    ['empty assignment', 'endpoint', buildLoadAssignment(svc('web', []))],
    ['assignment, no local cluster', 'endpoint', buildLoadAssignment(svc('web', ENDPOINTS))],
    ['assignment, local cluster a', 'endpoint', buildLoadAssignment(svc('web', ENDPOINTS), { localCluster: 'a' })],
    ['assignment, local cluster b', 'endpoint', buildLoadAssignment(svc('web', ENDPOINTS), { localCluster: 'b' })],
    ['assignment, absent local cluster', 'endpoint', buildLoadAssignment(svc('web', ENDPOINTS), { localCluster: 'zz' })],
    ['listener', 'listener', buildListener('web')],
    ['route configuration', 'route', buildRouteConfiguration('web')],
  ])('%s', (_name, kind, object) => {
    const result = grpcDecode(kind, object);
    expect(result.error).toBeUndefined();
    expect(result.name).toBe('web');
    expect(result.value).toBeDefined();
  });

  it('rejects an assignment listing one address twice (why the builder de-duplicates)', () => {
    const built = buildLoadAssignment(svc('web', [ep('a', '10.0.0.1', 'HEALTHY', 'z1'), ep('a', '10.0.0.2', 'HEALTHY', 'z2')]));
    const second = built.endpoints[1]!.lb_endpoints[0]!.endpoint.address.socket_address;
    second.address = '10.0.0.1';
    expect(grpcDecode('endpoint', built).error).toMatch(/duplicate/);
  });

  it('rejects an assignment whose priorities skip a level', () => {
    const built = buildLoadAssignment(svc('web', [ep('a', '10.0.0.1')]));
    built.endpoints[0]!.priority = 1;
    expect(grpcDecode('endpoint', built).error).toMatch(/priority 1 but not 0/);
  });
});

describe('grpc-js-xds accepts every ServicePolicy shape Herald builds', () => {
  it.each(POLICY_SAMPLES)('%s', (_name, policy) => {
    for (const protocol of ['HTTP/1.1', 'HTTP/2'] as const) {
      const result = grpcDecode('cluster', buildCluster('web', {}, protocol, policy));
      expect(result.error).toBeUndefined();
      expect(result.value).toBeDefined();
    }
  });

  it('takes the ring hash of a RingHash cluster, and the header of its route', () => {
    const policy: ServicePolicySpec = { loadBalancing: { policy: 'RingHash', hashHeader: 'x-user' } };
    expect(JSON.stringify(grpcDecode('cluster', buildCluster('web', {}, 'HTTP/1.1', policy)).value)).toMatch(/ring_hash/);
    const route = grpcDecode('route', buildRouteConfiguration('web', policy));
    expect(route.error).toBeUndefined();
    expect(JSON.stringify(route.value)).toMatch(/"header_name":"x-user"/);
  });

  it('NACKs a ring hash left at DEFAULT_HASH (why Herald says XX_HASH)', () => {
    const built = buildCluster('web', {}, 'HTTP/1.1', { loadBalancing: { policy: 'RingHash', hashHeader: 'x-user' } });
    (built.load_balancing_policy!.policies[0]!.typed_extension_config.typed_config as Record<string, unknown>).hash_function = 'DEFAULT_HASH';
    expect(grpcDecode('cluster', built).error).toMatch(/hash function/);
  });

  it('rejects a failure-percentage threshold over 100 (why the rules stop at 100)', () => {
    const built = buildCluster('web', {}, 'HTTP/1.1', { outlierDetection: { failurePercentageThreshold: 100 } });
    built.outlier_detection!.failure_percentage_threshold = { value: 101 };
    expect(grpcDecode('cluster', built).error).toMatch(/failure_percentage_threshold/);
  });
});
