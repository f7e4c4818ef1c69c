// The part of RDS an Envoy sidecar's HTTP listener uses: a RouteConfiguration's virtual hosts
// and Envoy's rule for picking one by the request's Host (or :authority).
import type protobuf from 'protobufjs';
import { TYPE_URLS } from '../model/index.js';
import type { AnyResource } from './codec.js';

export interface VirtualHostInfo {
  name: string;
  domains: string[];
  /** The cluster of the first route that names one (Herald's routes send every path to one cluster). */
  cluster: string | undefined;
  /** The weighted clusters of the first route that has them (a ServicePolicy split). */
  weighted?: Array<{ cluster: string; weight: number }>;
}

export interface RouteTable {
  name: string;
  virtualHosts: VirtualHostInfo[];
}

interface RawRouteConfiguration {
  name?: string;
  virtual_hosts?: {
    name?: string;
    domains?: string[];
    routes?: { route?: { cluster?: string; weighted_clusters?: { clusters?: { name?: string; weight?: { value?: number } }[] } } | null }[];
  }[];
}

/** Decodes a RouteConfiguration, refusing one Envoy would reject for listing a domain twice. */
export function decodeRouteTable(type: protobuf.Type, resource: AnyResource): RouteTable {
  if (resource.type_url !== TYPE_URLS.route) throw new Error(`expected ${TYPE_URLS.route}, got ${resource.type_url}`);
  const raw = type.toObject(type.decode(resource.value), { defaults: false }) as RawRouteConfiguration;
  if (!raw.name) throw new Error('RouteConfiguration without a name');
  const seen = new Set<string>();
  const virtualHosts = (raw.virtual_hosts ?? []).map((vh): VirtualHostInfo => {
    const domains = vh.domains ?? [];
    if (domains.length === 0) throw new Error(`${raw.name}: virtual host ${vh.name ?? '?'} without domains`);
    for (const domain of domains) {
      const key = domain.toLowerCase();
      if (seen.has(key)) throw new Error(`${raw.name}: domain ${domain} listed twice`);
      seen.add(key);
    }
    const weighted = (vh.routes ?? []).find((r) => r.route?.weighted_clusters)?.route?.weighted_clusters?.clusters;
    return {
      name: vh.name ?? '',
      domains,
      cluster: (vh.routes ?? []).find((r) => r.route?.cluster)?.route?.cluster,
      ...(weighted === undefined ? {} : { weighted: weighted.map((c) => ({ cluster: c.name ?? '', weight: c.weight?.value ?? 0 })) }),
    };
  });
  return { name: raw.name, virtualHosts };
}

/**
 * The virtual host Envoy picks for a Host header: an exact domain first, then the longest
 * suffix wildcard (`*.example.com`), then the longest prefix wildcard (`cart.shop:*`), then `*`.
 */
export function matchVirtualHost(table: RouteTable, host: string): VirtualHostInfo | undefined {
  const wanted = host.toLowerCase();
  let suffix: { vh: VirtualHostInfo; length: number } | undefined;
  let prefix: { vh: VirtualHostInfo; length: number } | undefined;
  let any: VirtualHostInfo | undefined;
  for (const vh of table.virtualHosts) {
    for (const raw of vh.domains) {
      const domain = raw.toLowerCase();
      if (domain === wanted) return vh;
      if (domain === '*') any ??= vh;
      else if (domain.startsWith('*') && wanted.endsWith(domain.slice(1)) && wanted.length > domain.length - 1) {
        if (!suffix || domain.length > suffix.length) suffix = { vh, length: domain.length };
      } else if (domain.endsWith('*') && wanted.startsWith(domain.slice(0, -1)) && wanted.length > domain.length - 1) {
        if (!prefix || domain.length > prefix.length) prefix = { vh, length: domain.length };
      }
    }
  }
  return suffix?.vh ?? prefix?.vh ?? any;
}
