// Pure translation from Herald's model to Envoy resources. No I/O, clock or randomness: the same
// input always yields an equal object, so the encoder yields the same bytes and the cache can
// tell "nothing changed" by comparing content versions.

import type { EndpointRecord, ServiceEndpoints, ServicePolicySpec, UpstreamProtocol } from '../model/index.js';
import { HTTP_PROTOCOL_OPTIONS_KEY, httpProtocolOptions, withPolicy } from './policy-cluster.js';
import { countsForSpill, spillPlacement, type SpillLocality } from './failover.js';
import { assignedEndpoints, healthCheckPortOf, priorityOf, uniqueAddresses, type LoadAssignmentOptions } from './locality.js';
import type {
  AdsConfigSource,
  ClusterLoadAssignmentResource,
  ClusterResource,
  Duration,
  HealthCheckResource,
  LbEndpointResource,
  ListenerResource,
  LocalityLbEndpointsResource,
} from './types.js';

export const HTTP_CONNECTION_MANAGER_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';
/** The key Envoy reads a cluster's upstream HTTP options under, and the type it expects there. */
export { HTTP_PROTOCOL_OPTIONS_KEY, HTTP_PROTOCOL_OPTIONS_TYPE } from './policy-cluster.js';

export interface HealthCheckOptions {
  /** HTTP path probed on every endpoint. */
  path: string;
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

export interface ClusterOptions {
  /** Default 1000 ms. Envoy's proto requires it to be > 0. */
  connectTimeoutMs?: number;
  /**
   * Default 0. Envoy otherwise merges health changes for 1 s, which would delay a DRAINING flip;
   * the proto documents 0 as "disable merging".
   */
  updateMergeWindowMs?: number;
  /** Active HTTP health checking; off when absent. */
  healthCheck?: HealthCheckOptions;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
const DEFAULT_UPDATE_MERGE_WINDOW_MS = 0;

/** Milliseconds to a protobuf Duration; throws on values the API cannot carry. */
export function durationFromMs(ms: number, what: string): Duration {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what} must be a finite number ≥ 0, got ${ms}`);
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1_000_000);
  // Rounding a fraction just below the next second can reach 1e9, which Duration forbids.
  if (nanos >= 1_000_000_000) {
    seconds += 1;
    nanos -= 1_000_000_000;
  }
  return { seconds, nanos };
}

function positiveDuration(ms: number, what: string): Duration {
  if (!(ms > 0)) throw new RangeError(`${what} must be > 0, got ${ms}`);
  return durationFromMs(ms, what);
}

function positiveInteger(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError(`${what} must be an integer ≥ 1, got ${n}`);
  return n;
}

function adsConfigSource(): AdsConfigSource {
  return { ads: {}, resource_api_version: 'V3' };
}

function buildHealthCheck(options: HealthCheckOptions): HealthCheckResource {
  if (options.path.length === 0) throw new RangeError('healthCheck.path must not be empty');
  return {
    timeout: positiveDuration(options.timeoutMs, 'healthCheck.timeoutMs'),
    interval: positiveDuration(options.intervalMs, 'healthCheck.intervalMs'),
    unhealthy_threshold: { value: positiveInteger(options.unhealthyThreshold, 'healthCheck.unhealthyThreshold') },
    healthy_threshold: { value: positiveInteger(options.healthyThreshold, 'healthCheck.healthyThreshold') },
    http_health_check: { path: options.path },
  };
}

/**
 * The Envoy cluster (CDS) of a service: EDS over ADS, without `service_name`, so the EDS
 * resource name is the Envoy cluster's name itself. An HTTP/2 service (gRPC, h2c) gets explicit
 * HTTP/2 upstream options, with Envoy's defaults: Envoy would otherwise speak HTTP/1.1 to it
 * whatever the downstream spoke. An HTTP/1.1 service gets no option at all, so its cluster is
 * the same bytes as before protocols existed. The service's ServicePolicy (validated, merged with
 * the mesh defaults) sets more fields; an empty one sets none.
 */
export function buildCluster(service: string, options: ClusterOptions = {}, protocol: UpstreamProtocol = 'HTTP/1.1', policy: ServicePolicySpec = {}): ClusterResource {
  const cluster: ClusterResource = {
    name: service,
    type: 'EDS',
    eds_cluster_config: { eds_config: adsConfigSource() },
    connect_timeout: positiveDuration(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
    lb_policy: 'ROUND_ROBIN',
    common_lb_config: {
      update_merge_window: durationFromMs(options.updateMergeWindowMs ?? DEFAULT_UPDATE_MERGE_WINDOW_MS, 'updateMergeWindowMs'),
    },
  };
  if (options.healthCheck) {
    cluster.health_checks = [buildHealthCheck(options.healthCheck)];
    // A host removed from EDS would otherwise linger for as long as it passes health checks.
    cluster.ignore_health_on_host_removal = true;
  }
  // One HttpProtocolOptions carries both the HTTP/2 choice and the policy's connection options.
  const http = httpProtocolOptions(protocol, policy);
  if (http !== undefined) cluster.typed_extension_protocol_options = { [HTTP_PROTOCOL_OPTIONS_KEY]: http };
  return withPolicy(cluster, policy, protocol);
}

function compareStrings(a: string, b: string): number {
  // Code-unit order, not localeCompare: bytes must not depend on the process locale.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order of lb_endpoints inside one locality: by address first, unlike the store's order
 * (by kube cluster and zone first), which groups endpoints and is already split by locality here.
 */
function compareLbEndpoints(a: EndpointRecord, b: EndpointRecord): number {
  return compareStrings(a.ip, b.ip) || a.port - b.port || compareStrings(a.cluster, b.cluster) || compareStrings(a.podKey, b.podKey) || compareStrings(a.health, b.health);
}

interface LocalityGroup {
  priority: number;
  region: string;
  zone: string;
  endpoints: EndpointRecord[];
}

function spillLocality(g: LocalityGroup): SpillLocality {
  return { priority: g.priority, healthy: g.endpoints.filter((e) => e.health === 'HEALTHY').length, total: g.endpoints.filter(countsForSpill).length };
}

/** sub_zone of a locality merged into priority 0 from priority N, followed by N. */
export const SPILL_SUB_ZONE_PREFIX = 'herald-spill-';

function compareGroups(a: LocalityGroup, b: LocalityGroup): number {
  return a.priority - b.priority || compareStrings(a.region, b.region) || compareStrings(a.zone, b.zone);
}

function toLbEndpoint(e: EndpointRecord, options: LoadAssignmentOptions): LbEndpointResource {
  // Per endpoint, not the cluster's health_checks[].alt_port: Envoy has never implemented alt_port.
  const healthCheckPort = healthCheckPortOf(e, options);
  const address = { socket_address: { address: e.ip, port_value: e.port } };
  return {
    endpoint: healthCheckPort === undefined ? { address } : { address, health_check_config: { port_value: healthCheckPort } },
    health_status: e.health,
  };
}

/**
 * Locality weight = number of HEALTHY endpoints in it, at least 1. Proxyless gRPC splits traffic
 * between localities of a priority by this weight (and drops localities without one), so counting
 * only endpoints that can take picks keeps the per-endpoint share even across zones while pods
 * drain; Envoy sidecars ignore it unless locality-weighted balancing is turned on.
 */
export function localityWeight(endpoints: readonly EndpointRecord[]): number {
  return Math.max(1, endpoints.filter((e) => e.health === 'HEALTHY').length);
}

/**
 * The EDS resource of a service as one client sees it (see locality.ts), grouped into
 * localities by (priority, region, zone).
 */
export function buildLoadAssignment(svc: ServiceEndpoints, options: LoadAssignmentOptions = {}): ClusterLoadAssignmentResource {
  const endpoints = assignedEndpoints(svc.endpoints, options);
  const priority = priorityOf(endpoints, options);
  const groups = new Map<string, LocalityGroup>();
  for (const e of uniqueAddresses(endpoints, priority)) {
    const group: LocalityGroup = { priority: priority(e), region: e.region ?? '', zone: e.zone ?? '', endpoints: [] };
    // JSON of the tuple is an unambiguous key whatever characters region/zone contain.
    const key = JSON.stringify([group.priority, group.region, group.zone]);
    const existing = groups.get(key);
    if (existing) existing.endpoints.push(e);
    else {
      group.endpoints.push(e);
      groups.set(key, group);
    }
  }
  const sorted = [...groups.values()].sort(compareGroups);
  const placement = options.ignoresOverprovisioning === true ? spillPlacement(sorted.map(spillLocality)) : undefined;
  const localities: LocalityLbEndpointsResource[] = sorted.map((g, i) => {
    const place = placement?.[i];
    // Merged from priority 1 or later: a sub_zone keeps it apart from a locality of the same zone it joined (gRPC rejects duplicate localities in one priority).
    const locality =
      place?.spilledFrom !== undefined && place.spilledFrom > 0
        ? { region: g.region, zone: g.zone, sub_zone: `${SPILL_SUB_ZONE_PREFIX}${place.spilledFrom}` }
        : { region: g.region, zone: g.zone };
    return {
      locality,
      lb_endpoints: [...g.endpoints].sort(compareLbEndpoints).map((e) => toLbEndpoint(e, options)),
      load_balancing_weight: { value: place?.weight ?? localityWeight(g.endpoints) },
      priority: place?.priority ?? g.priority,
    };
  });
  return { cluster_name: svc.service, endpoints: distinctLocalities(localities) };
}

/** sub_zone of a locality whose region and zone already appear at an earlier priority, followed by its priority. */
const PRIORITY_SUB_ZONE_PREFIX = 'herald-priority-';

/**
 * Gives a locality that repeats one of an earlier priority (the same zone name in two kube
 * clusters, or in the client's own tier and the next) a sub_zone naming its priority, so each
 * locality appears once in the assignment. grpc-java keys an assignment's localities by
 * region/zone/sub_zone alone, whatever their priority: of two equal ones it keeps only the last,
 * endpoints and priority, and its calls then go to the wrong tier (test/interop/zone-preference).
 * Envoy and the other gRPC clients keep localities apart per priority; to them the sub_zone is a
 * name only (Envoy's zone-aware routing compares priority 0 alone, where no locality repeats).
 */
function distinctLocalities(localities: LocalityLbEndpointsResource[]): LocalityLbEndpointsResource[] {
  const seen = new Set<string>();
  return localities.map((l) => {
    const key = JSON.stringify([l.locality.region, l.locality.zone, l.locality.sub_zone ?? '']);
    if (!seen.has(key)) {
      seen.add(key);
      return l;
    }
    return { ...l, locality: { ...l.locality, sub_zone: `${PRIORITY_SUB_ZONE_PREFIX}${l.priority}` } };
  });
}

/**
 * The API listener a proxyless gRPC client asks for with `xds:///service`: an
 * HttpConnectionManager whose routes come from RDS over ADS, router filter last.
 */
export function buildListener(service: string): ListenerResource {
  return {
    name: service,
    api_listener: {
      api_listener: {
        '@type': HTTP_CONNECTION_MANAGER_TYPE,
        // Envoy's proto requires a non-empty stat_prefix even though gRPC ignores it.
        stat_prefix: service,
        rds: { config_source: adsConfigSource(), route_config_name: service },
        http_filters: [{ name: ROUTER_FILTER_NAME, typed_config: { '@type': ROUTER_TYPE } }],
      },
    },
  };
}
