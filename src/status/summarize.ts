import { declaredDependencies, DEPENDENCIES_METADATA, envoySupport } from '../model/index.js';
import { TYPE_OF_URL, XDS_TYPES, type AdminClient, type CsdsClient, type CsdsResource, type NackSummary, type StatusRow, type TypeSummary, type XdsType } from './types.js';

/** node.metadata keys that may name the Kubernetes cluster a client runs in, most specific first. */
export const KUBE_CLUSTER_KEYS = ['herald.io/kube-cluster', 'kube_cluster', 'kubeCluster', 'CLUSTER_ID'] as const;

export function kubeClusterOf(metadata: Record<string, unknown>): string | undefined {
  for (const key of KUBE_CLUSTER_KEYS) {
    const value = metadata[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

export const NAMESPACE_KEY = 'herald.io/namespace';

/**
 * The namespace a client says it runs in, else the one its service name carries: Herald names
 * services `<label>.<namespace>` and namespaces never hold a dot. A flat (mesh scope) name has none.
 */
export function namespaceOf(metadata: Record<string, unknown>, service: string): string | undefined {
  const value = metadata[NAMESPACE_KEY];
  if (typeof value === 'string' && value !== '') return value;
  const dot = service.lastIndexOf('.');
  return dot > 0 && dot < service.length - 1 ? service.slice(dot + 1) : undefined;
}

/** The declared dependencies in node metadata, read as Herald's xDS server reads them; undefined when there are none. */
export function dependenciesOf(metadata: Record<string, unknown>): string[] | undefined {
  const value = metadata[DEPENDENCIES_METADATA];
  if (typeof value === 'string' || Array.isArray(value)) return declaredDependencies(value as string | unknown[]);
  return undefined;
}

export function zoneOf(region: string, zone: string): string | undefined {
  const parts = [region, zone].filter((part) => part !== '');
  return parts.length > 0 ? parts.join('/') : undefined;
}

function newer(a: NackSummary | undefined, b: NackSummary | undefined): NackSummary | undefined {
  if (!a) return b;
  if (!b) return a;
  return (b.atMs ?? -Infinity) > (a.atMs ?? -Infinity) ? b : a;
}

const isNacked = (r: CsdsResource): boolean => r.clientStatus === 'NACKED' || r.configStatus === 'ERROR';
const isStale = (r: CsdsResource): boolean => r.configStatus === 'STALE';
const isSynced = (r: CsdsResource): boolean => r.configStatus === 'SYNCED';

/**
 * One type of one client. CSDS entries are per resource; the type is as good as its worst
 * resource: any NACKed → NACKED, else any not yet ACKed → STALE, else any SYNCED → SYNCED.
 * Subscribed names that do not exist (NOT_SENT / DOES_NOT_EXIST) do not make a type behind.
 * The admin page, when given, knows the type-level ACKed version and NACK history.
 */
export function summarizeType(type: XdsType, resources: readonly CsdsResource[], perTypeStatus: string | undefined, admin: AdminClient['types'][XdsType] | undefined): TypeSummary {
  const nacked = resources.filter(isNacked).length;
  const stale = resources.filter(isStale).length;
  const synced = resources.filter(isSynced).length;

  let state: TypeSummary['state'];
  if (nacked > 0) state = 'NACKED';
  else if (stale > 0) state = 'STALE';
  else if (synced > 0) state = 'SYNCED';
  else if (perTypeStatus === 'SYNCED' || perTypeStatus === 'STALE') state = perTypeStatus;
  else if (perTypeStatus === 'ERROR') state = 'NACKED';
  else state = 'NOT SENT';

  let ackedVersion = admin?.ackedVersion;
  if (ackedVersion === undefined) {
    const versions = new Set(resources.filter((r) => r.clientStatus === 'ACKED' || isSynced(r)).map((r) => r.version));
    versions.delete('');
    // Per-resource versions (content hashes) only make one type version when they agree.
    if (versions.size === 1) ackedVersion = [...versions][0];
  }

  let lastNack: NackSummary | undefined;
  for (const resource of resources) {
    if (!resource.error) continue;
    lastNack = newer(lastNack, { type, message: resource.error.details, version: resource.error.version || undefined, atMs: resource.error.atMs });
  }
  if (admin?.lastNack) {
    const fromAdmin: NackSummary = { type, message: admin.lastNack.message, version: admin.lastNack.rejectedVersion || undefined, atMs: admin.lastNack.atMs };
    lastNack = lastNack ? newer(lastNack, fromAdmin) : fromAdmin;
  }

  return { state, behind: nacked + stale, resources: resources.length, ackedVersion, lastNack };
}

function typesOf(client: CsdsClient): Set<XdsType> {
  const out = new Set<XdsType>();
  for (const resource of client.resources) out.add(TYPE_OF_URL[resource.typeUrl]!);
  for (const entry of client.perType) out.add(entry.type);
  return out;
}

interface Group {
  nodeId: string;
  clients: CsdsClient[];
  types: Set<XdsType>;
}

/**
 * Streams of one node that carry different types (separate CDS and EDS streams) make one line;
 * two streams of one node with the same type (a reconnect in flight, two Envoys sharing an id)
 * stay separate lines so neither hides the other.
 */
function groupByNode(clients: readonly CsdsClient[]): Group[] {
  const groups: Group[] = [];
  for (const client of clients) {
    const nodeId = client.node?.id ?? '';
    const types = typesOf(client);
    const group = groups.find((g) => g.nodeId === nodeId && [...types].every((t) => !g.types.has(t)));
    if (group) {
      group.clients.push(client);
      for (const t of types) group.types.add(t);
    } else {
      groups.push({ nodeId, clients: [client], types });
    }
  }
  return groups;
}

/** Admin entries of this node, one per stream; those already matched to another line are skipped. */
function claimAdmin(nodeId: string, types: ReadonlySet<XdsType>, admin: AdminClient[], claimed: Set<AdminClient>): AdminClient[] {
  const mine: AdminClient[] = [];
  const wanted = new Set(types);
  for (const entry of admin) {
    if (claimed.has(entry) || entry.nodeId !== nodeId) continue;
    const entryTypes = Object.keys(entry.types) as XdsType[];
    if (entryTypes.length > 0 && !entryTypes.some((t) => wanted.has(t))) continue;
    mine.push(entry);
    claimed.add(entry);
    for (const t of entryTypes) wanted.delete(t);
    if (wanted.size === 0) break;
  }
  return mine;
}

/**
 * Builds one line per connected client from a CSDS answer and, optionally, the admin page's
 * client list (the only source of "connected since"). Sorted by node id, then connection time.
 */
export function buildRows(clients: readonly CsdsClient[], admin: readonly AdminClient[] = []): StatusRow[] {
  const claimed = new Set<AdminClient>();
  const pool = [...admin].sort((a, b) => (a.connectedAtMs ?? 0) - (b.connectedAtMs ?? 0));
  const rows = groupByNode(clients).map((group): StatusRow => {
    const node = group.clients.find((c) => c.node)?.node;
    const matched = claimAdmin(group.nodeId, group.types, pool, claimed);
    const connected = matched.map((m) => m.connectedAtMs).filter((ms): ms is number => ms !== undefined);
    const types = {} as Record<XdsType, TypeSummary>;
    let lastNack: NackSummary | undefined;
    for (const type of XDS_TYPES) {
      const resources = group.clients.flatMap((c) => c.resources.filter((r) => TYPE_OF_URL[r.typeUrl] === type));
      const perType = group.clients.flatMap((c) => c.perType.filter((p) => p.type === type))[0]?.status;
      const adminType = matched.find((m) => m.types[type])?.types[type];
      types[type] = summarizeType(type, resources, perType, adminType);
      lastNack = newer(lastNack, types[type].lastNack);
    }
    return {
      nodeId: group.nodeId,
      service: node?.cluster ?? '',
      namespace: node ? namespaceOf(node.metadata, node.cluster) : undefined,
      kubeCluster: node ? kubeClusterOf(node.metadata) : undefined,
      zone: node ? zoneOf(node.region, node.zone) : undefined,
      client: node ? { userAgent: node.userAgent, version: node.userAgentVersion } : undefined,
      envoySupport: node ? envoySupport({ userAgent: node.userAgent, userAgentVersion: node.userAgentVersion || undefined }) : undefined,
      dependencies: node ? dependenciesOf(node.metadata) : undefined,
      perspective: matched.find((m) => m.perspective)?.perspective,
      connectedAtMs: connected.length > 0 ? Math.min(...connected) : undefined,
      types,
      lastNack,
    };
  });
  return rows.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : (a.connectedAtMs ?? 0) - (b.connectedAtMs ?? 0)));
}
