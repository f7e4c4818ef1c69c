// Routes to Herald's services, the same for proxyless gRPC (one RouteConfiguration per service,
// behind its API listener) and for sidecars (one RouteConfiguration per declared dependency
// set, behind the static egress listener of `herald bootstrap`). Both take a service's routes
// from serviceRoutes(), so per-service route policy reaches both with no bootstrap change.
import type { ServicePolicySpec } from '../model/index.js';
import { hashPolicyFor } from './policy-cluster.js';
import { routeAction } from './policy-routes.js';
import type { RouteActionResource, RouteConfigurationResource, VirtualHostResource } from './types.js';

/** The DNS suffix of in-cluster Service names, unless a cluster says otherwise. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/**
 * What a request to the service goes through: every path to `action`, by default the service's
 * Envoy cluster; routeAction() gives the one its ServicePolicy asks for.
 */
export function serviceRoutes(service: string, action: RouteActionResource = { cluster: service }): VirtualHostResource['routes'] {
  return [{ match: { prefix: '' }, route: action }];
}

/**
 * One virtual host matching any authority, sending every path to the service's Envoy cluster,
 * or as the policy's routes section says; `healthy` holds the split backends with a HEALTHY endpoint.
 */
export function buildRouteConfiguration(service: string, policy: ServicePolicySpec = {}, healthy: ReadonlySet<string> = new Set()): RouteConfigurationResource {
  return { name: service, virtual_hosts: [{ name: service, domains: ['*'], routes: serviceRoutes(service, routeAction(service, policy.routes, healthy, hashPolicyFor(policy))) }] };
}

/**
 * The names an application may call a service by: Herald's name (`cart.shop`) and, for a
 * namespaced name, the in-cluster DNS forms of a Service of the same name (`cart.shop.svc`,
 * `cart.shop.svc.cluster.local`), each also with any port (`cart.shop:8080`).
 */
export function egressDomains(service: string, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): string[] {
  const hosts = service.includes('.') ? [service, `${service}.svc`, `${service}.svc.${clusterDomain}`] : [service];
  return hosts.flatMap((host) => [host, `${host}:*`]);
}

/**
 * The routes of a sidecar's egress listener for one declared dependency set: a virtual host
 * per service. Envoy rejects a RouteConfiguration that lists a domain twice, so a domain
 * claimed by an earlier service (in name order) is left to it: a label with dots in it can
 * make one service's name another's DNS form. `actionOf` gives each service's route action, the
 * same as its proxyless RouteConfiguration's.
 */
export function buildEgressRouteConfiguration(
  name: string,
  services: readonly string[],
  clusterDomain: string = DEFAULT_CLUSTER_DOMAIN,
  actionOf: (service: string) => RouteActionResource = (service) => ({ cluster: service }),
): RouteConfigurationResource {
  const claimed = new Set<string>();
  const virtualHosts: VirtualHostResource[] = [];
  for (const service of [...new Set(services)].sort()) {
    const domains = egressDomains(service, clusterDomain).filter((domain) => !claimed.has(domain));
    if (domains.length === 0) continue;
    for (const domain of domains) claimed.add(domain);
    virtualHosts.push({ name: service, domains, routes: serviceRoutes(service, actionOf(service)) });
  }
  return { name, virtual_hosts: virtualHosts };
}
