// A healthCheck.portName that some pods lack is reported once per service (a warning, a gauge
// series while it lasts, a line when it ends), not once per pod change; and the assignment the
// pipeline serves carries the resolved port on the endpoints that have it.
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { EndpointRecord, ServiceEndpoints, ServicePolicySpec } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { ResourceCache } from '../../src/cache/index.js';
import { ResourcePipeline } from '../../src/app/pipeline.js';
import { createLogger, HeraldMetrics } from '../../src/telemetry/index.js';
import { ep, svc } from '../resources/fixtures.js';

let encoder: ResourceEncoder;
beforeAll(() => {
  encoder = new ResourceEncoder(loadEnvoyProtos());
});

interface Line {
  level: number;
  msg: string;
  service?: string;
  port_name?: string;
  endpoints?: number;
  pods?: string[];
}

function setup() {
  const services = new Map<string, ServiceEndpoints>();
  const policies = new Map<string, ServicePolicySpec>();
  const cache = new ResourceCache();
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  const lines: Line[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
  const pipeline = new ResourcePipeline({
    store: { service: (name) => services.get(name) },
    policies: { effective: (service) => ({ spec: policies.get(service) ?? {} }) },
    encoder,
    cache,
    drains: { track: () => undefined },
    metrics,
    logger,
    clusterOptions: {},
    localCluster: undefined,
  });
  const gauge = async () => Object.fromEntries((await metrics.healthCheckPortUnresolved.get()).values.map((v) => [`${v.labels.service}/${v.labels.port_name}`, v.value]));
  const reports = () => lines.filter((l) => l.msg.includes('healthCheck.portName') || l.msg.includes('health check port name'));
  const checkPorts = () => {
    const cla = encoder.decodeAny(cache.get('endpoint', 'cart.shop')!.any).message as {
      endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string } }; health_check_config?: { port_value: number } } }[] }[];
    };
    return Object.fromEntries(cla.endpoints.flatMap((l) => l.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, e.endpoint.health_check_config?.port_value ?? null])));
  };
  return { services, policies, pipeline, gauge, reports, checkPorts };
}

const named = (ip: string, namedPorts?: Record<string, number>): EndpointRecord => ({ ...ep('east', ip), ...(namedPorts ? { namedPorts } : {}) });

describe('ResourcePipeline: healthCheck.portName', () => {
  it('serves the named port where a pod has it, and reports the pods without it once per service', async () => {
    const { services, policies, pipeline, gauge, reports, checkPorts } = setup();
    policies.set('cart.shop', { healthCheck: { tcp: true, portName: 'health' } });
    services.set('cart.shop', svc('cart.shop', [named('10.0.0.1', { http: 8080, health: 8081 }), named('10.0.0.2', { http: 8080 })]));
    pipeline.rebuild(['cart.shop']);
    expect(checkPorts()).toEqual({ '10.0.0.1': 8081, '10.0.0.2': null });
    expect(await gauge()).toEqual({ 'cart.shop/health': 1 });
    expect(reports()).toEqual([expect.objectContaining({ level: 40, service: 'cart.shop', port_name: 'health', endpoints: 1, pods: ['east/default/pod-10.0.0.2-8080'] })]);

    // One more pod without it: the gauge follows, the log does not repeat.
    services.set('cart.shop', svc('cart.shop', [named('10.0.0.1', { http: 8080, health: 8081 }), named('10.0.0.2', { http: 8080 }), named('10.0.0.3')]));
    pipeline.rebuild(['cart.shop']);
    expect(await gauge()).toEqual({ 'cart.shop/health': 2 });
    expect(reports()).toHaveLength(1);
    expect(pipeline.healthCheckPorts.current().get('cart.shop')).toEqual({ portName: 'health', endpoints: 2 });

    // The pods roll to ones that name the port: resolved, said once, the series gone.
    services.set('cart.shop', svc('cart.shop', [named('10.0.0.1', { http: 8080, health: 8081 }), named('10.0.0.4', { health: 9091 })]));
    pipeline.rebuild(['cart.shop']);
    expect(checkPorts()).toEqual({ '10.0.0.1': 8081, '10.0.0.4': 9091 });
    expect(await gauge()).toEqual({});
    expect(reports()).toHaveLength(2);
    expect(reports()[1]).toMatchObject({ level: 30, service: 'cart.shop', port_name: 'health' });
    expect(pipeline.healthCheckPorts.current().size).toBe(0);
  });

  it('a pod that keeps leaving and coming back moves the gauge each time but logs once each way', async () => {
    const { services, policies, pipeline, gauge, reports } = setup();
    policies.set('cart.shop', { healthCheck: { tcp: true, portName: 'health' } });
    const withPort = named('10.0.0.1', { health: 8081 });
    for (let round = 0; round < 5; round++) {
      services.set('cart.shop', svc('cart.shop', [withPort, named('10.0.0.2')]));
      pipeline.rebuild(['cart.shop']);
      expect(await gauge()).toEqual({ 'cart.shop/health': 1 });
      services.set('cart.shop', svc('cart.shop', [withPort]));
      pipeline.rebuild(['cart.shop']);
      expect(await gauge()).toEqual({});
    }
    expect(reports().map((l) => l.level)).toEqual([40, 30]);
  });

  it('a policy change to another name moves the series and warns again; dropping the name ends it', async () => {
    const { services, policies, pipeline, gauge, reports, checkPorts } = setup();
    services.set('cart.shop', svc('cart.shop', [named('10.0.0.1', { http: 8080 }), named('10.0.0.2')]));
    policies.set('cart.shop', { healthCheck: { tcp: true, portName: 'health' } });
    pipeline.rebuild(['cart.shop']);
    expect(await gauge()).toEqual({ 'cart.shop/health': 2 });
    policies.set('cart.shop', { healthCheck: { tcp: true, portName: 'http' } });
    pipeline.policiesChanged({ services: ['cart.shop'] });
    expect(checkPorts()).toEqual({ '10.0.0.1': 8080, '10.0.0.2': null });
    expect(await gauge()).toEqual({ 'cart.shop/http': 1 });
    expect(reports().map((l) => [l.level, l.port_name])).toEqual([
      [40, 'health'],
      [40, 'http'],
    ]);
    policies.set('cart.shop', { healthCheck: { tcp: true } });
    pipeline.policiesChanged({ services: ['cart.shop'] });
    expect(checkPorts()).toEqual({ '10.0.0.1': null, '10.0.0.2': null });
    expect(await gauge()).toEqual({});
    expect(reports()).toHaveLength(3);
  });

  it('a service that goes away leaves no series behind', async () => {
    const { services, policies, pipeline, gauge } = setup();
    policies.set('cart.shop', { healthCheck: { tcp: true, portName: 'health' } });
    services.set('cart.shop', svc('cart.shop', [named('10.0.0.1')]));
    pipeline.rebuild(['cart.shop']);
    expect(await gauge()).toEqual({ 'cart.shop/health': 1 });
    services.delete('cart.shop');
    pipeline.rebuild(['cart.shop']);
    expect(await gauge()).toEqual({});
  });

  it('says nothing for services without a port name, nor when every pod has it', async () => {
    const { services, policies, pipeline, gauge, reports } = setup();
    policies.set('cart.shop', { healthCheck: { tcp: true, portName: 'health' } });
    services.set('cart.shop', svc('cart.shop', [named('10.0.0.1', { health: 8081 })]));
    services.set('ledger.pay', svc('ledger.pay', [named('10.0.0.9')]));
    policies.set('ledger.pay', { healthCheck: { tcp: true, port: 9090 } });
    pipeline.rebuild(['cart.shop', 'ledger.pay']);
    expect(await gauge()).toEqual({});
    expect(reports()).toEqual([]);
  });
});
