// The scope expansion fed by ServicePolicies: a client that declared a service receives the
// services that service's effective policy routes to, and follows changes of that policy.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { noSplitBackends, PolicyScopeExpansion, type Daemon, type SplitBackends } from '../../src/app/index.js';
import { routeBackends } from '../../src/resources/index.js';
import type { PolicyObject, ServicePolicySpec } from '../../src/model/index.js';
import { PolicyRegistry } from '../../src/policy/index.js';
import type { ClientInfo } from '../../src/xds/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { makePod } from '../helpers/manual-source.js';
import { startPolicyDaemon } from '../helpers/policy-daemon.js';
import { TestStream } from '../xds/helpers.js';

const policy = (namespace: string, name: string, generation: number, spec: unknown): PolicyObject => ({ cluster: 'east', namespace, name, generation, spec });

function registry(): PolicyRegistry {
  return new PolicyRegistry({ defaultsNamespace: 'herald', clusters: ['east'], logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }), clock: () => 0 });
}

/** Backends by service, as the test sets them; records the specs it was handed. */
function splitTable(): { backends: Map<string, string[]>; specs: Array<[string, ServicePolicySpec]>; read: SplitBackends } {
  const backends = new Map<string, string[]>();
  const specs: Array<[string, ServicePolicySpec]> = [];
  return {
    backends,
    specs,
    read: (service, spec) => {
      specs.push([service, spec]);
      return backends.get(service) ?? [];
    },
  };
}

describe('PolicyScopeExpansion', () => {
  it('reads a service’s backends from its effective policy', () => {
    const policies = registry();
    const table = splitTable();
    table.backends.set('cart.shop', ['cart-canary.shop']);
    policies.applyPolicy(policy('herald', 'mesh-defaults', 1, { connection: { connectTimeoutMs: 500 } }));
    policies.applyPolicy(policy('shop', 'cart', 1, { circuitBreakers: { maxRequests: 7 } }));
    const expansion = new PolicyScopeExpansion(policies, table.read);
    expect(expansion.backendsOf('cart.shop')).toEqual(['cart-canary.shop']);
    expect(expansion.backendsOf('auth.id')).toEqual([]);
    expect(table.specs).toEqual([
      ['cart.shop', { connection: { connectTimeoutMs: 500 }, circuitBreakers: { maxRequests: 7 } }],
      ['auth.id', { connection: { connectTimeoutMs: 500 } }],
    ]);
  });

  it('tells which services’ policies changed, every service when the mesh defaults did, until unsubscribed', () => {
    const policies = registry();
    const expansion = new PolicyScopeExpansion(policies, splitTable().read);
    const heard: Array<string[] | 'all'> = [];
    const stop = expansion.onChange((services) => heard.push(services === 'all' ? 'all' : [...services]));
    policies.applyPolicy(policy('shop', 'cart', 1, { circuitBreakers: { maxRequests: 7 } }));
    policies.applyPolicy(policy('herald', 'mesh-defaults', 1, { connection: { connectTimeoutMs: 500 } }));
    stop();
    policies.applyPolicy(policy('shop', 'cart', 2, { circuitBreakers: { maxRequests: 8 } }));
    expect(heard).toEqual([['cart.shop'], 'all']);
  });

  it('has nothing split when the policy has no routes', () => {
    expect(noSplitBackends('cart.shop', { circuitBreakers: { maxRequests: 7 } })).toEqual([]);
  });

  it("startDaemon's default reads routes.split: the backends by label in the service's namespace", () => {
    const split = [
      { service: 'cart', weight: 9 },
      { service: 'cart-canary', weight: 1 },
    ];
    expect(routeBackends('cart.shop', { routes: { split } })).toEqual(['cart.shop', 'cart-canary.shop']);
    expect(routeBackends('cart.shop', { routes: { timeoutMs: 5 } })).toEqual([]);
  });
});

let daemon: Daemon | undefined;
let client: grpc.Client | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await daemon?.stop(1_000);
  daemon = undefined;
});

describe('startDaemon with split backends', () => {
  it('gives a client of cart.shop the backend cart.shop’s policy routes to, and shows it in /debug/clients', async () => {
    const east = new ManualPolicySource('east');
    const table = splitTable();
    const pod = (service: string, ip: string) => makePod({ cluster: 'east', name: `${service}-1`, namespace: 'shop', service: `${service}.shop`, ip });
    daemon = await startPolicyDaemon([pod('cart', '10.0.0.1'), pod('cart-canary', '10.0.0.2'), pod('auth', '10.0.0.3')], east, { splitBackends: table.read });
    await daemon.ready;
    client = new grpc.Client(`127.0.0.1:${daemon.xdsPort}`, grpc.credentials.createInsecure());
    const web = new TestStream(client);
    web.request('cluster', { node: { id: 'web', metadata: { fields: { 'herald.io/dependencies': { stringValue: 'cart.shop' } } } } });
    const first = await web.next();
    expect(first.resources.map((r) => r.name)).toEqual(['cart.shop']);
    web.ack(first);

    // cart.shop's policy changes and now routes to its canary: the client's CDS takes it in.
    table.backends.set('cart.shop', ['cart-canary.shop']);
    east.sync([policy('shop', 'cart', 1, { circuitBreakers: { maxRequests: 7 } })]);
    let names: string[] = [];
    for (let i = 0; i < 5 && !names.includes('cart-canary.shop'); i++) {
      const r = await web.next();
      names = r.resources.map((x) => x.name);
      web.ack(r);
    }
    expect(names).toEqual(['cart-canary.shop', 'cart.shop']);

    const clients = (await (await fetch(`http://127.0.0.1:${daemon.adminPort}/debug/clients`)).json()) as ClientInfo[];
    expect(clients.find((c) => c.node?.id === 'web')?.scope).toMatchObject({ declared: true, names: ['cart.shop'], viaRoutes: ['cart-canary.shop'], viaRoutesCount: 1 });
  });
});
