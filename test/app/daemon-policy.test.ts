// ServicePolicies through the whole daemon: a policy source's objects reach the served Cluster,
// a rejected generation leaves it as it was, and /debug/policies reports both.
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import type { PolicyObject } from '../../src/model/index.js';
import type { PolicyDebugView } from '../../src/policy/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { makePod, ManualSource } from '../helpers/manual-source.js';
import { startPolicyDaemon } from '../helpers/policy-daemon.js';

const encoder = new ResourceEncoder(loadEnvoyProtos());
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop(1_000);
  daemon = undefined;
});

const policy = (cluster: string, generation: number, spec: unknown): PolicyObject => ({ cluster, namespace: 'shop', name: 'cart', generation, spec });

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`not reached: ${what}`);
}

describe('startDaemon with policy sources', () => {
  it('serves the policy in the cart.shop Cluster, keeps it over an invalid generation, and reports both', async () => {
    const east = new ManualPolicySource('east');
    daemon = await startPolicyDaemon([makePod({ cluster: 'east', name: 'cart-1', namespace: 'shop', service: 'cart.shop', ip: '10.0.0.1' })], east);
    await daemon.ready;
    const cart = () => {
      const cached = daemon!.cache.get('cluster', 'cart.shop');
      return cached && (encoder.decodeAny(cached.any).message as Record<string, any>);
    };
    await until('cart.shop served', () => cart() !== undefined);
    expect(cart()).not.toHaveProperty('circuit_breakers');

    east.sync([policy('east', 1, { circuitBreakers: { maxRequests: 7 } })]);
    await until('circuit breakers served', () => cart()?.circuit_breakers?.thresholds?.[0]?.max_requests?.value === 7);

    east.apply(policy('east', 2, { circuitBreakers: { maxRequests: 0 } }));
    const debug = (await (await fetch(`http://127.0.0.1:${daemon.adminPort}/debug/policies`)).json()) as PolicyDebugView;
    expect(debug.rejections.map((r) => [r.generation, r.keptGeneration, r.errors])).toEqual([[2, 1, [{ path: 'spec.circuitBreakers.maxRequests', message: 'must be ≥ 1' }]]]);
    expect(debug.services.map((s) => [s.service, s.spec, s.from.circuitBreakers?.generation])).toEqual([['cart.shop', { circuitBreakers: { maxRequests: 7 } }, 1]]);
    expect(cart()?.circuit_breakers?.thresholds?.[0]?.max_requests?.value).toBe(7);

    // The per-service gauges name where each section in effect came from, and the rejected copy.
    const metricsText = async () => (await fetch(`http://127.0.0.1:${daemon!.adminPort}/metrics`)).text();
    const scraped = await metricsText();
    expect(scraped).toContain('herald_service_policy_info{service="cart.shop",section="circuitBreakers",role="service",kube_cluster="east"} 1');
    expect(scraped).toContain('herald_policy_rejected{kube_cluster="east",namespace="shop",name="cart"} 1');
    // Mesh defaults reach the service's other sections; fixing the object clears the rejection.
    east.sync([
      policy('east', 3, { circuitBreakers: { maxRequests: 9 } }),
      { cluster: 'east', namespace: 'herald', name: 'mesh-defaults', generation: 1, spec: { connection: { connectTimeoutMs: 300 } } },
    ]);
    await until('generation 3 served', () => cart()?.circuit_breakers?.thresholds?.[0]?.max_requests?.value === 9);
    const after = await metricsText();
    expect(after).toContain('herald_service_policy_info{service="cart.shop",section="connection",role="defaults",kube_cluster="east"} 1');
    expect(after).not.toContain('herald_policy_rejected{');
  });

  it('evacuation in the mesh defaults: /debug/policies and herald_evacuated_clusters show it, the assignment puts the cluster last, and removing it undoes all three', async () => {
    const east = new ManualPolicySource('east');
    const west = new ManualSource('west', { pods: [makePod({ cluster: 'west', name: 'cart-2', namespace: 'shop', service: 'cart.shop', ip: '10.1.0.1' })] });
    const eastPods = new ManualSource('east', { pods: [makePod({ cluster: 'east', name: 'cart-1', namespace: 'shop', service: 'cart.shop', ip: '10.0.0.1' })] });
    daemon = await startPolicyDaemon([], east, { sources: [eastPods, west] });
    await daemon.ready;
    const priorities = () => {
      const cached = daemon!.cache.get('endpoint', 'cart.shop');
      const cla =
        cached && (encoder.decodeAny(cached.any).message as { endpoints: { priority?: number; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] });
      return Object.fromEntries((cla?.endpoints ?? []).flatMap((l) => l.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, l.priority ?? 0])));
    };
    const debug = async () => (await (await fetch(`http://127.0.0.1:${daemon!.adminPort}/debug/policies`)).json()) as PolicyDebugView;
    const metricsText = async () => (await fetch(`http://127.0.0.1:${daemon!.adminPort}/metrics`)).text();
    await until('both clusters served', () => Object.keys(priorities()).length === 2);
    const before = priorities();

    east.sync([{ cluster: 'east', namespace: 'herald', name: 'mesh-defaults', generation: 1, spec: { locality: { evacuate: ['east'], evacuateMode: 'Drain' } } }]);
    await until('east evacuated', () => priorities()['10.0.0.1'] === 1 && priorities()['10.1.0.1'] === 0);
    expect((await debug()).evacuation).toEqual({ clusters: ['east'], mode: 'Drain', from: { cluster: 'east', namespace: 'herald', name: 'mesh-defaults', generation: 1 } });
    expect(await metricsText()).toContain('herald_evacuated_clusters{kube_cluster="east",mode="Drain"} 1');

    east.sync([{ cluster: 'east', namespace: 'herald', name: 'mesh-defaults', generation: 2, spec: {} }]);
    await until('evacuation undone', () => JSON.stringify(priorities()) === JSON.stringify(before));
    expect(await debug()).not.toHaveProperty('evacuation');
    expect(await metricsText()).not.toContain('herald_evacuated_clusters{');
  });

  it("healthCheck.portName: the served assignment carries each pod's named port, and /debug/policies and /metrics name the pods without it", async () => {
    const east = new ManualPolicySource('east');
    daemon = await startPolicyDaemon(
      [
        makePod({ cluster: 'east', name: 'cart-1', namespace: 'shop', service: 'cart.shop', ip: '10.0.0.1', namedPorts: { http: 8080, health: 8081 } }),
        makePod({ cluster: 'east', name: 'cart-2', namespace: 'shop', service: 'cart.shop', ip: '10.0.0.2', namedPorts: { http: 8080 } }),
      ],
      east,
    );
    await daemon.ready;
    const checkPorts = () => {
      const cached = daemon!.cache.get('endpoint', 'cart.shop');
      const cla =
        cached &&
        (encoder.decodeAny(cached.any).message as {
          endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string } }; health_check_config?: { port_value: number } } }[] }[];
        });
      return Object.fromEntries(
        (cla?.endpoints ?? []).flatMap((l) => l.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, e.endpoint.health_check_config?.port_value ?? null])),
      );
    };
    await until('cart.shop served', () => Object.keys(checkPorts()).length === 2);
    expect(checkPorts()).toEqual({ '10.0.0.1': null, '10.0.0.2': null });

    east.sync([policy('east', 1, { healthCheck: { httpPath: '/ready', portName: 'health' } })]);
    await until('named port served', () => checkPorts()['10.0.0.1'] === 8081);
    expect(checkPorts()).toEqual({ '10.0.0.1': 8081, '10.0.0.2': null });
    const debug = (await (await fetch(`http://127.0.0.1:${daemon.adminPort}/debug/policies`)).json()) as { services: { service: string; healthCheckPortUnresolved?: unknown }[] };
    expect(debug.services.map((s) => [s.service, s.healthCheckPortUnresolved])).toEqual([['cart.shop', { portName: 'health', endpoints: 1 }]]);
    const scraped = await (await fetch(`http://127.0.0.1:${daemon.adminPort}/metrics`)).text();
    expect(scraped).toContain('herald_health_check_port_unresolved_endpoints{service="cart.shop",port_name="health"} 1');

    // The same object with a port number: every endpoint, nothing unresolved.
    east.sync([policy('east', 2, { healthCheck: { httpPath: '/ready', port: 9090 } })]);
    await until('port number served', () => checkPorts()['10.0.0.2'] === 9090);
    const after = (await (await fetch(`http://127.0.0.1:${daemon.adminPort}/debug/policies`)).json()) as { services: { healthCheckPortUnresolved?: unknown }[] };
    expect(after.services[0]).not.toHaveProperty('healthCheckPortUnresolved');
  });
});
