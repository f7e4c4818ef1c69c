// healthCheck.port and healthCheck.portName put a port on each endpoint of the assignment
// (health_check_config.port_value: Envoy implements no cluster-wide alt_port); a port name
// resolves per endpoint against its pod's named container ports.
import { beforeAll, describe, expect, it } from 'vitest';
import type { EndpointRecord, NamedPorts, ServicePolicySpec } from '../../src/model/index.js';
import { buildLoadAssignment, loadEnvoyProtos, ResourceEncoder, TRANSLATORS, unresolvedHealthCheckPorts } from '../../src/resources/index.js';
import { ep, svc } from './fixtures.js';

let encoder: ResourceEncoder;
beforeAll(() => {
  encoder = new ResourceEncoder(loadEnvoyProtos());
});

const withPorts = (e: EndpointRecord, namedPorts: NamedPorts | undefined): EndpointRecord => (namedPorts === undefined ? e : { ...e, namedPorts });
// Three pods: one names `health`, one names only `http`, one names nothing.
const service = svc('cart.shop', [
  withPorts(ep('east', '10.0.0.1'), { http: 8080, health: 8081 }),
  withPorts(ep('east', '10.0.0.2', 'DRAINING'), { http: 8080 }),
  ep('west', '10.1.0.1', 'HEALTHY', 'z2'),
]);
const settings = { clusterOptions: {}, localCluster: undefined };

/** address → the endpoint's health check port (null: none, its traffic port is checked). */
function checkPorts(policy: ServicePolicySpec): Record<string, number | null> {
  const assignment = TRANSLATORS.endpoint.build(service, settings, policy, new Set()) as ReturnType<typeof buildLoadAssignment>;
  return Object.fromEntries(assignment.endpoints.flatMap((l) => l.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, e.endpoint.health_check_config?.port_value ?? null])));
}

describe('health check ports in the assignment', () => {
  const cases: Array<[string, ServicePolicySpec, Record<string, number | null>]> = [
    ['no policy: no endpoint has one', {}, { '10.0.0.1': null, '10.0.0.2': null, '10.1.0.1': null }],
    ['a health check without a port: none', { healthCheck: { tcp: true } }, { '10.0.0.1': null, '10.0.0.2': null, '10.1.0.1': null }],
    ['port: every endpoint, whatever its pod names', { healthCheck: { tcp: true, port: 9090 } }, { '10.0.0.1': 9090, '10.0.0.2': 9090, '10.1.0.1': 9090 }],
    ['portName: the pods that name it, none elsewhere', { healthCheck: { tcp: true, portName: 'health' } }, { '10.0.0.1': 8081, '10.0.0.2': null, '10.1.0.1': null }],
    ['portName every pod has', { healthCheck: { httpPath: '/healthz', portName: 'http' } }, { '10.0.0.1': 8080, '10.0.0.2': 8080, '10.1.0.1': null }],
    ['portName no pod has', { healthCheck: { tcp: true, portName: 'admin' } }, { '10.0.0.1': null, '10.0.0.2': null, '10.1.0.1': null }],
    ['portName that Object.prototype has', { healthCheck: { tcp: true, portName: 'constructor' } }, { '10.0.0.1': null, '10.0.0.2': null, '10.1.0.1': null }],
  ];
  it.each(cases)('%s', (_title, policy, want) => expect(checkPorts(policy)).toEqual(want));

  it('named ports change nothing without a portName: the same bytes as endpoints that carry none', () => {
    const bare = svc(
      'cart.shop',
      service.endpoints.map(({ namedPorts: _dropped, ...e }) => e),
    );
    for (const policy of [{}, { healthCheck: { tcp: true } }, { healthCheck: { tcp: true, port: 9090 } }] as ServicePolicySpec[]) {
      const encode = (s: typeof service) => encoder.encodeAny('endpoint', TRANSLATORS.endpoint.build(s, settings, policy, new Set()));
      expect(encode(service).equals(encode(bare)), JSON.stringify(policy)).toBe(true);
    }
  });

  it('a resolved port is encoded as port_value on that endpoint alone', () => {
    const assignment = TRANSLATORS.endpoint.build(service, settings, { healthCheck: { tcp: true, portName: 'health' } }, new Set());
    const decoded = encoder.decodeAny(encoder.encodeAny('endpoint', assignment)).message as unknown as {
      endpoints: { lb_endpoints: { endpoint: { health_check_config?: { port_value: number } } }[] }[];
    };
    const configs = decoded.endpoints.flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.health_check_config?.port_value ?? null));
    expect(configs.sort()).toEqual([8081, null, null]);
  });
});

describe('unresolvedHealthCheckPorts', () => {
  const cases: Array<[string, ServicePolicySpec, string[]]> = [
    ['no health check', {}, []],
    ['no port name', { healthCheck: { tcp: true } }, []],
    ['a port number resolves everywhere', { healthCheck: { tcp: true, port: 9090 } }, []],
    ['the endpoints whose pods lack the name', { healthCheck: { tcp: true, portName: 'health' } }, ['10.0.0.2', '10.1.0.1']],
    ['a name every pod but one has', { healthCheck: { tcp: true, portName: 'http' } }, ['10.1.0.1']],
  ];
  it.each(cases)('%s', (_title, policy, want) => expect(unresolvedHealthCheckPorts(service.endpoints, policy).map((e) => e.ip)).toEqual(want));
});
