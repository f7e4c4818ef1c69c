// Plain shapes `herald status` works on, decoupled from protobufjs and from the admin JSON so the
// summarising and formatting functions can be tested with hand-built tables.
import { RESOURCE_KINDS, type EnvoySupport, type ResourceKindSpec } from '../model/index.js';

export const XDS_TYPES = RESOURCE_KINDS.map((spec) => spec.short);
export type XdsType = ResourceKindSpec['short'];

/** Type URL → short name; anything else is not one of Herald's types and is not summarised. */
export const TYPE_OF_URL: Readonly<Record<string, XdsType>> = Object.fromEntries(RESOURCE_KINDS.map((spec) => [spec.typeUrl, spec.short]));

export interface NodeSummary {
  id: string;
  /** node.cluster: for a Herald sidecar, the service the Envoy fronts. */
  cluster: string;
  region: string;
  zone: string;
  subZone: string;
  userAgent: string;
  /** user_agent_build_version as "1.33.2", else user_agent_version; '' when the client sent neither. */
  userAgentVersion: string;
  /** node.metadata as plain JSON. */
  metadata: Record<string, unknown>;
}

/** One CSDS GenericXdsConfig: a resource as the control plane believes the client holds it. */
export interface CsdsResource {
  typeUrl: string;
  name: string;
  version: string;
  /** ConfigStatus name: SYNCED, NOT_SENT, STALE, ERROR or UNKNOWN. */
  configStatus: string;
  /** ClientResourceStatus name: REQUESTED, DOES_NOT_EXIST, ACKED, NACKED or UNKNOWN. */
  clientStatus: string;
  lastUpdatedMs: number | undefined;
  error: { details: string; version: string; atMs: number | undefined } | undefined;
}

/** One CSDS ClientConfig: one connected xDS stream (or client). */
export interface CsdsClient {
  node: NodeSummary | undefined;
  scope: string;
  resources: CsdsResource[];
  /** Deprecated PerXdsConfig entries: a status per type and nothing else. */
  perType: Array<{ type: XdsType; status: string }>;
}

/** What /debug/clients on the admin port says about one stream, reduced to what status shows. */
export interface AdminClient {
  id: string;
  nodeId: string;
  connectedAtMs: number | undefined;
  types: Partial<Record<XdsType, AdminTypeInfo>>;
  /** Which view the stream reads (/debug/clients `perspective`); undefined when the page did not say. */
  perspective: AdminPerspective | undefined;
}

export interface AdminPerspective {
  /** It ignores overprovisioning (proxyless gRPC): Herald spills for it through locality weights. */
  ignoresOverprovisioning: boolean;
  /** It reads the replica's own view: it declared nothing, or was refused. */
  replicaView: boolean;
  /** It declared a perspective past the bound on distinct perspectives. */
  refused: boolean;
}

export interface AdminTypeInfo {
  ackedVersion: string | undefined;
  lastNack: { message: string; rejectedVersion: string; atMs: number | undefined } | undefined;
}

export type TypeState = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT SENT';

export interface TypeSummary {
  state: TypeState;
  /** Resources not yet ACKed at the version Herald holds (STALE/NACKED). */
  behind: number;
  /** Resources CSDS lists for this type. */
  resources: number;
  ackedVersion: string | undefined;
  lastNack: NackSummary | undefined;
}

export interface NackSummary {
  type: XdsType;
  message: string;
  version: string | undefined;
  atMs: number | undefined;
}

export interface StatusRow {
  nodeId: string;
  service: string;
  /** The client's namespace: node metadata `herald.io/namespace`, else the namespace part of `service`. */
  namespace: string | undefined;
  kubeCluster: string | undefined;
  /** region/zone from node.locality, '' parts left out. */
  zone: string | undefined;
  /** node.user_agent_name and its version ('' when unsent); undefined without a node. */
  client: { userAgent: string; version: string } | undefined;
  /** For an Envoy: whether its version keeps DRAINING hosts out of panic/spillover arithmetic. */
  envoySupport: EnvoySupport | undefined;
  /** The services the client declared it calls (node metadata herald.io/dependencies); undefined: the whole mesh. */
  dependencies: string[] | undefined;
  /** The view its assignments are built for, from the admin page; undefined without it. */
  perspective: AdminPerspective | undefined;
  connectedAtMs: number | undefined;
  types: Record<XdsType, TypeSummary>;
  /** The newest NACK of any type. */
  lastNack: NackSummary | undefined;
}
