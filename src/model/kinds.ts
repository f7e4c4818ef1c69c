// One descriptor per xDS resource kind: every rule that differs by kind is read from here, so
// adding a kind means a row in this table and a translator in resources/ (plus its builder and
// protos); docs/ARCHITECTURE.md lists the steps and the tests that catch a missed one.
// Sections cited are those of the xDS REST and gRPC protocol document
// (www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol).

export type ResourceKind = 'cluster' | 'endpoint' | 'listener' | 'route';

export interface ResourceKindSpec {
  readonly kind: ResourceKind;
  /** type_url of the resource in DiscoveryRequest/Response and in its Any. */
  readonly typeUrl: string;
  /** The API's short name (CDS, EDS…), as operators and `herald status` say it. */
  readonly short: 'CDS' | 'EDS' | 'LDS' | 'RDS';
  /**
   * What a SotW response holds: the whole subscribed state, where an omitted resource is
   * deleted ("Resource types": LDS and CDS), or only resources that changed, where the client
   * keeps what it was not sent (EDS and RDS).
   */
  readonly sotwResponse: 'full-state' | 'changed-only';
  /** A first request naming nothing subscribes to everything ("How the client specifies what resources to return": legacy wildcard). */
  readonly legacyWildcard: boolean;
  /**
   * Whether a wildcard subscription receives this kind's resources. Herald's listeners are API
   * listeners for proxyless gRPC: a sidecar's wildcard LDS must get none (they would bind nothing
   * and confuse its listener manager), so listeners go only to those who name them.
   */
  readonly wildcardReceives: boolean;
  /**
   * On ADS, the kind that must go first: this kind waits while that one has unsent changes
   * ("Eventual consistency considerations": CDS before the EDS it needs, LDS before RDS).
   */
  readonly after: ResourceKind | undefined;
  /**
   * A kind whose change of the same-named resource makes this one travel again even when its
   * bytes did not change: Envoy warms a cluster on every CDS update until its assignment arrives.
   */
  readonly resentAfter: ResourceKind | undefined;
  /** The field of the resource message that names it. */
  readonly nameField: 'name' | 'cluster_name';
  /** The kind's own xDS service and its SotW and Delta methods (ADS serves every kind). */
  readonly service: { readonly name: string; readonly sotw: string; readonly delta: string };
}

/** The descriptors, in ADS push order. */
export const RESOURCE_KINDS: readonly ResourceKindSpec[] = [
  {
    kind: 'cluster',
    typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    short: 'CDS',
    sotwResponse: 'full-state',
    legacyWildcard: true,
    wildcardReceives: true,
    after: undefined,
    resentAfter: undefined,
    nameField: 'name',
    service: { name: 'envoy.service.cluster.v3.ClusterDiscoveryService', sotw: 'StreamClusters', delta: 'DeltaClusters' },
  },
  {
    kind: 'endpoint',
    typeUrl: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
    short: 'EDS',
    sotwResponse: 'changed-only',
    legacyWildcard: false,
    wildcardReceives: true,
    after: 'cluster',
    resentAfter: 'cluster',
    nameField: 'cluster_name',
    service: { name: 'envoy.service.endpoint.v3.EndpointDiscoveryService', sotw: 'StreamEndpoints', delta: 'DeltaEndpoints' },
  },
  {
    kind: 'listener',
    typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener',
    short: 'LDS',
    sotwResponse: 'full-state',
    legacyWildcard: true,
    wildcardReceives: false,
    after: undefined,
    resentAfter: undefined,
    nameField: 'name',
    service: { name: 'envoy.service.listener.v3.ListenerDiscoveryService', sotw: 'StreamListeners', delta: 'DeltaListeners' },
  },
  {
    kind: 'route',
    typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
    short: 'RDS',
    sotwResponse: 'changed-only',
    legacyWildcard: false,
    wildcardReceives: true,
    after: 'listener',
    resentAfter: undefined,
    nameField: 'name',
    service: { name: 'envoy.service.route.v3.RouteDiscoveryService', sotw: 'StreamRoutes', delta: 'DeltaRoutes' },
  },
];

export const KINDS: Readonly<Record<ResourceKind, ResourceKindSpec>> = Object.fromEntries(RESOURCE_KINDS.map((spec) => [spec.kind, spec])) as Record<ResourceKind, ResourceKindSpec>;

/** Order in which ADS pushes types: a cluster before the assignment it needs, a listener before its routes. */
export const PUSH_ORDER: readonly ResourceKind[] = RESOURCE_KINDS.map((spec) => spec.kind);

export const TYPE_URLS: Readonly<Record<ResourceKind, string>> = Object.fromEntries(RESOURCE_KINDS.map((spec) => [spec.kind, spec.typeUrl])) as Record<ResourceKind, string>;

const BY_TYPE_URL = new Map(RESOURCE_KINDS.map((spec) => [spec.typeUrl, spec.kind]));

export function kindOfTypeUrl(typeUrl: string): ResourceKind | undefined {
  return BY_TYPE_URL.get(typeUrl);
}

/** The protobuf message name of a kind (its type URL without the prefix). */
export function messageName(kind: ResourceKind): string {
  const url = KINDS[kind].typeUrl;
  return url.slice(url.indexOf('/') + 1);
}

/** A table with one value per kind, made fresh for each. */
export function perKind<T>(make: (kind: ResourceKind) => T): Record<ResourceKind, T> {
  return Object.fromEntries(PUSH_ORDER.map((kind) => [kind, make(kind)])) as Record<ResourceKind, T>;
}
