// Pure: which priority each endpoint of a ClusterLoadAssignment gets, seen from one client, and
// which endpoints are served at all. Priorities follow the client's own kube cluster (its
// `herald.io/kube-cluster`, else the replica's --local-cluster) and, when the service's policy
// asks for it, the client's zone; Envoy and proxyless gRPC both take the lowest priority that
// can serve, so the tiers below are the whole failover story.
import { countsForSpill, spillPlacement, type SpillLocality } from './failover.js';
import { DEFAULT_PERSPECTIVE, DEFAULT_TERMINATING_FALLBACK, namedPort, type EndpointRecord, type Perspective, type ServicePolicySpec } from '../model/index.js';

/** What an assignment is built for: the client's view of the mesh. */
export interface LoadAssignmentOptions {
  /** Herald's name of the kube cluster whose endpoints are preferred (the client's own). */
  localCluster?: string;
  /** Prefer this zone of the local cluster when it has at least `minEndpoints` HEALTHY endpoints (locality.zone: PreferSameZone). */
  zone?: { name: string; minEndpoints: number };
  /**
   * Serve terminating pods that are still Ready as HEALTHY while the service has no HEALTHY
   * endpoint anywhere. assignmentOptions sets it unless the policy says
   * locality.terminatingFallback: Disabled; left out here, the builder sends DRAINING as stored.
   */
  terminatingFallback?: boolean;
  /** A ServicePolicy's health check port: Envoy checks each endpoint there, not on its traffic port. */
  healthCheckPort?: number;
  /**
   * A ServicePolicy's health check port by container port name: each endpoint whose pod has a
   * port of that name is checked there, one without on its traffic port (unresolvedHealthCheckPorts).
   */
  healthCheckPortName?: string;
  /**
   * Kube clusters being evacuated (the mesh defaults' locality.evacuate): their endpoints are the
   * last priority for every client, below every other cluster's; with `drain` they are sent
   * DRAINING as well, unless that would leave the service without a HEALTHY endpoint.
   */
  evacuate?: { clusters: readonly string[]; drain: boolean };
  /**
   * The client ignores overprovisioning (proxyless gRPC): spill traffic to later priorities
   * through locality weights as Envoy's overprovisioning would (failover.ts).
   */
  ignoresOverprovisioning?: boolean;
}

/** zoneMinEndpoints when a policy asks for zone preference without saying how many. */
export const DEFAULT_ZONE_MIN_ENDPOINTS = 1;

/** The options an assignment for a client of this perspective is built with. */
export function assignmentOptions(perspective: Perspective, replicaCluster: string | undefined, policy: ServicePolicySpec): LoadAssignmentOptions {
  const options: LoadAssignmentOptions = {};
  const cluster = perspective.kubeCluster ?? replicaCluster;
  if (cluster !== undefined) options.localCluster = cluster;
  const locality = policy.locality;
  if (locality?.zone === 'PreferSameZone' && perspective.zone !== '') {
    options.zone = { name: perspective.zone, minEndpoints: locality.zoneMinEndpoints ?? DEFAULT_ZONE_MIN_ENDPOINTS };
  }
  // On unless turned off: like kube-proxy, a service whose only pods are terminating keeps them
  // serving through their grace rather than being left with nothing.
  if ((locality?.terminatingFallback ?? DEFAULT_TERMINATING_FALLBACK) === 'Enabled') options.terminatingFallback = true;
  if (policy.healthCheck?.port !== undefined) options.healthCheckPort = policy.healthCheck.port;
  if (policy.healthCheck?.portName !== undefined) options.healthCheckPortName = policy.healthCheck.portName;
  if (locality?.evacuate !== undefined) options.evacuate = { clusters: locality.evacuate, drain: locality.evacuateMode === 'Drain' };
  if (perspective.ignoresOverprovisioning === true) options.ignoresOverprovisioning = true;
  return options;
}

/**
 * The port Envoy health-checks this endpoint on, when not its traffic port: the policy's port,
 * or its pod's container port of the policy's port name (none when the pod has no such port).
 */
export function healthCheckPortOf(e: EndpointRecord, options: Pick<LoadAssignmentOptions, 'healthCheckPort' | 'healthCheckPortName'>): number | undefined {
  if (options.healthCheckPort !== undefined) return options.healthCheckPort;
  return options.healthCheckPortName === undefined ? undefined : namedPort(e.namedPorts, options.healthCheckPortName);
}

/**
 * The endpoints a healthCheck.portName does not resolve for (their pods have no container port
 * of that name), which Envoy then checks on their traffic port; empty without a port name. The
 * same for every client: it reads only the endpoints and the service's policy.
 */
export function unresolvedHealthCheckPorts(endpoints: readonly EndpointRecord[], policy: ServicePolicySpec): EndpointRecord[] {
  const check = policy.healthCheck;
  if (check?.portName === undefined) return [];
  const options = { healthCheckPortName: check.portName, ...(check.port !== undefined ? { healthCheckPort: check.port } : {}) };
  return endpoints.filter((e) => healthCheckPortOf(e, options) === undefined);
}

/** The options of a client that declared nothing: the replica's own view. */
export function replicaAssignmentOptions(replicaCluster: string | undefined, policy: ServicePolicySpec): LoadAssignmentOptions {
  return assignmentOptions(DEFAULT_PERSPECTIVE, replicaCluster, policy);
}

/**
 * Priority per endpoint. Tiers, best first: the client's zone of its own cluster (only with zone
 * preference and enough HEALTHY endpoints there), the rest of its own cluster, the other
 * clusters, the evacuated clusters (its own included). Empty tiers are skipped, because Envoy
 * requires priorities to start at 0 without gaps: a client whose cluster has no endpoint of the
 * service gets every endpoint that is not evacuated at 0.
 */
export function priorityOf(endpoints: readonly EndpointRecord[], options: LoadAssignmentOptions): (e: EndpointRecord) => number {
  const local = options.localCluster;
  const evacuated = new Set(options.evacuate?.clusters ?? []);
  if (local === undefined && evacuated.size === 0) return () => 0;
  const zone = options.zone;
  let zoneHealthy = 0;
  const present = [false, false, false, false];
  const tierOf = (e: EndpointRecord): number => (evacuated.has(e.cluster) ? 3 : e.cluster !== local ? 2 : zone !== undefined && e.zone === zone.name ? 0 : 1);
  for (const e of endpoints) {
    present[tierOf(e)] = true;
    if (e.health === 'HEALTHY' && tierOf(e) === 0) zoneHealthy += 1;
  }
  // Too few HEALTHY endpoints in the zone: it is no tier of its own, so a zone of one pod does not take all of the cluster's traffic.
  const zoneTier = zone !== undefined && zoneHealthy >= Math.max(1, zone.minEndpoints);
  if (!zoneTier && present[0]) {
    present[1] = true;
    present[0] = false;
  }
  const rank: number[] = [];
  let next = 0;
  for (let tier = 0; tier < present.length; tier++) rank.push(present[tier] ? next++ : next);
  if (next <= 1) return () => 0;
  return (e) => {
    const tier = tierOf(e);
    return rank[tier === 0 && !zoneTier ? 1 : tier]!;
  };
}

/**
 * Evacuation's Drain mode: the HEALTHY endpoints of the evacuated clusters are sent DRAINING, so
 * no client (Envoy or proxyless gRPC) picks them for new requests. Only while some endpoint of
 * another cluster is HEALTHY: an evacuated cluster holding the service's only HEALTHY endpoints
 * keeps serving them (at the last priority, which is then the only one), since draining them
 * would leave the service with nothing. `drained` says whether endpoints were sent DRAINING.
 */
export function evacuatedEndpoints(endpoints: readonly EndpointRecord[], options: LoadAssignmentOptions): { endpoints: readonly EndpointRecord[]; drained: boolean } {
  const evacuate = options.evacuate;
  if (evacuate === undefined || !evacuate.drain) return { endpoints, drained: false };
  const evacuated = new Set(evacuate.clusters);
  const drains = (e: EndpointRecord): boolean => evacuated.has(e.cluster) && e.health === 'HEALTHY';
  if (!endpoints.some(drains) || !endpoints.some((e) => !evacuated.has(e.cluster) && e.health === 'HEALTHY')) return { endpoints, drained: false };
  return { endpoints: endpoints.map((e) => (drains(e) ? { ...e, health: 'DRAINING' } : e)), drained: true };
}

/** The endpoints an assignment built with `options` holds, with the health it announces: the terminating fallback, then evacuation's Drain mode. */
export function assignedEndpoints(endpoints: readonly EndpointRecord[], options: LoadAssignmentOptions): readonly EndpointRecord[] {
  return evacuatedEndpoints(servedEndpoints(endpoints, options.terminatingFallback === true).endpoints, options).endpoints;
}

/**
 * The endpoints a client is sent. While the service has no HEALTHY endpoint in any cluster, its
 * terminating pods that are still Ready are served as HEALTHY (the rule kube-proxy follows for
 * terminating endpoints): a terminating pod keeps serving until its grace period ends, and an
 * assignment of only DRAINING hosts leaves proxyless gRPC clients with nothing and Envoys with
 * nothing but panic routing. `fallback` says whether that happened.
 */
export function servedEndpoints(endpoints: readonly EndpointRecord[], fallbackEnabled: boolean): { endpoints: readonly EndpointRecord[]; fallback: boolean } {
  if (!fallbackEnabled || endpoints.some((e) => e.health === 'HEALTHY') || !endpoints.some((e) => e.servingWhileTerminating === true)) return { endpoints, fallback: false };
  return { endpoints: endpoints.map((e) => (e.servingWhileTerminating === true ? { ...e, health: 'HEALTHY' } : e)), fallback: true };
}

/**
 * A summary of everything a perspective changes in the assignment: equal keys, equal bytes, so
 * perspectives with equal keys share one variant and one encoding.
 */
export function assignmentKey(endpoints: readonly EndpointRecord[], options: LoadAssignmentOptions): string {
  const priority = priorityOf(endpoints, options);
  const byGroup = new Map<string, number>();
  for (const e of endpoints) byGroup.set(JSON.stringify([e.cluster, e.zone ?? '']), priority(e));
  const groups = [...byGroup].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // Drain mode changes health, which the spill reads: the spill is decided on the endpoints as sent.
  const evacuated = evacuatedEndpoints(endpoints, options);
  // A client that ignores overprovisioning reads the plain variant too while nothing spills; the spill's weights follow from the endpoints and priorities already keyed.
  const spills = options.ignoresOverprovisioning === true && spillPlacement(spillLocalities(uniqueAddresses(evacuated.endpoints, priority), priority)) !== undefined;
  const key = [options.terminatingFallback === true, evacuated.drained, groups];
  // Every other element is an array or a boolean, so only this marker can end the key as SPILL_KEY_END.
  return JSON.stringify(spills ? [...key, 'spill'] : key);
}

/** The marker assignmentKey ends a key with when the assignment carries the spill. */
const SPILL_KEY_END = ',"spill"]';

/**
 * Whether an assignmentKey is that of an assignment moving traffic to later priorities through
 * spill weights (a client that ignores overprovisioning, while priority 0 is too weak to keep
 * everything). Reads the key alone, so a count over many variants encodes and computes nothing.
 */
export function assignmentKeySpills(key: string): boolean {
  return key.endsWith(SPILL_KEY_END);
}

/** Per priority, the health counts the spill is computed from (one pseudo-locality per priority: the merge decision only reads the sums). */
function spillLocalities(endpoints: readonly EndpointRecord[], priority: (e: EndpointRecord) => number): SpillLocality[] {
  const byPriority = new Map<number, SpillLocality>();
  for (const e of endpoints) {
    const p = priority(e);
    const l = byPriority.get(p) ?? { priority: p, healthy: 0, total: 0 };
    if (countsForSpill(e)) l.total += 1;
    if (e.health === 'HEALTHY') l.healthy += 1;
    byPriority.set(p, l);
  }
  return [...byPriority.values()];
}

/**
 * One endpoint per ip:port. The same address twice (pod networks overlapping across kube clusters,
 * which the store reports) would make proxyless gRPC reject the whole assignment; Envoy would
 * merge them anyway. The survivor is the one of the better priority, then by kube cluster and pod
 * name, so the choice does not depend on input order.
 */
export function uniqueAddresses(endpoints: readonly EndpointRecord[], priority: (e: EndpointRecord) => number): EndpointRecord[] {
  const byAddress = [...endpoints].sort(
    (a, b) =>
      compareText(a.ip, b.ip) || a.port - b.port || priority(a) - priority(b) || compareText(a.cluster, b.cluster) || compareText(a.podKey, b.podKey) || compareText(a.health, b.health),
  );
  return byAddress.filter((e, i) => {
    const previous = byAddress[i - 1];
    return previous === undefined || previous.ip !== e.ip || previous.port !== e.port;
  });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
