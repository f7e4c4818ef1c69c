// The sidecar egress RouteConfiguration carries each service's ring-hash header, and follows a
// policy change that alters only the route (the Cluster bytes stay the same).
import { describe, expect, it } from 'vitest';
import { EgressRoutes } from '../../src/app/egress-routes.js';
import { ResourceCache } from '../../src/cache/index.js';
import { egressRouteName, type ServicePolicySpec } from '../../src/model/index.js';
import { buildCluster, buildRouteConfiguration, hashPolicyFor, loadEnvoyProtos, ResourceEncoder, routeAction, type RouteConfigurationResource } from '../../src/resources/index.js';
import { HeraldMetrics } from '../../src/telemetry/index.js';

const encoder = new ResourceEncoder(loadEnvoyProtos());

describe('EgressRoutes with ServicePolicies', () => {
  it('puts the hash policy of a RingHash service on its virtual host, and follows a header change', async () => {
    const cache = new ResourceCache();
    const policies = new Map<string, ServicePolicySpec>([['cart.shop', { loadBalancing: { policy: 'RingHash', hashHeader: 'x-user' } }]]);
    const egress = new EgressRoutes({
      encoder,
      cache,
      metrics: new HeraldMetrics({ defaultMetrics: false }),
      clusterDomain: 'cluster.local',
      routeOf: (s) => routeAction(s, undefined, new Set(), hashPolicyFor(policies.get(s) ?? {})),
    });
    const publish = (service: string) =>
      cache.apply([
        { kind: 'cluster', name: service, any: encoder.encodeAny('cluster', buildCluster(service, {}, 'HTTP/1.1', policies.get(service) ?? {})) },
        { kind: 'route', name: service, any: encoder.encodeAny('route', buildRouteConfiguration(service, policies.get(service) ?? {})) },
      ]);
    publish('cart.shop');
    publish('ledger.pay');
    const name = egressRouteName(['cart.shop', 'ledger.pay']);
    egress.added(['cart.shop', 'ledger.pay']);
    await Promise.resolve();
    const routes = () => {
      const config = encoder.decodeAny(cache.get('route', name)!.any).message as unknown as RouteConfigurationResource;
      return Object.fromEntries(config.virtual_hosts.map((vh) => [vh.name, vh.routes[0]!.route.hash_policy ?? null]));
    };
    expect(routes()).toEqual({ 'cart.shop': [{ header: { header_name: 'x-user' } }], 'ledger.pay': null });

    // Only the header changes: the Cluster is the same bytes, the service's own route is not.
    const cluster = cache.get('cluster', 'cart.shop')!.any;
    policies.set('cart.shop', { loadBalancing: { policy: 'RingHash', hashHeader: 'x-tenant' } });
    publish('cart.shop');
    expect(cache.get('cluster', 'cart.shop')!.any.equals(cluster)).toBe(true);
    await Promise.resolve();
    expect(routes()).toEqual({ 'cart.shop': [{ header: { header_name: 'x-tenant' } }], 'ledger.pay': null });
  });
});
