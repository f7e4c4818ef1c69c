import { sameNamedPorts, type EndpointRecord, type ServiceEndpoints, type ServiceProtocol } from '../model/index.js';
import { sameServiceProtocol } from './protocol.js';

// Plain code-unit comparison: localeCompare would make the order (and so the encoded bytes)
// depend on the machine's locale.
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareEndpoints(a: EndpointRecord, b: EndpointRecord): number {
  return cmp(a.cluster, b.cluster) || cmp(a.zone ?? '', b.zone ?? '') || cmp(a.ip, b.ip) || a.port - b.port || cmp(a.podKey, b.podKey);
}

export function sameEndpoint(a: EndpointRecord | undefined, b: EndpointRecord | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return (
    a.cluster === b.cluster &&
    a.podKey === b.podKey &&
    a.ip === b.ip &&
    a.port === b.port &&
    a.health === b.health &&
    a.region === b.region &&
    a.zone === b.zone &&
    a.drainingSinceMs === b.drainingSinceMs &&
    a.protocol === b.protocol &&
    a.servingWhileTerminating === b.servingWhileTerminating &&
    sameNamedPorts(a.namedPorts, b.namedPorts)
  );
}

/** Both arguments must already be sorted with compareEndpoints. */
export function sameServiceEndpoints(a: ServiceEndpoints | undefined, b: ServiceEndpoints | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (a.service !== b.service || a.podCount !== b.podCount || a.endpoints.length !== b.endpoints.length) return false;
  if (!sameServiceProtocol(a.protocol, b.protocol)) return false;
  if (a.label !== b.label || a.namespaces.length !== b.namespaces.length || a.namespaces.some((ns, i) => ns !== b.namespaces[i])) return false;
  for (let i = 0; i < a.endpoints.length; i++) {
    if (!sameEndpoint(a.endpoints[i], b.endpoints[i])) return false;
  }
  return true;
}

export interface ServiceMembers {
  label: string;
  namespaces: Iterable<string>;
  podCount: number;
  protocol: ServiceProtocol;
}

export function buildServiceEndpoints(service: string, endpoints: EndpointRecord[], members: ServiceMembers): ServiceEndpoints {
  return {
    service,
    label: members.label,
    namespaces: [...new Set(members.namespaces)].sort(cmp),
    endpoints: [...endpoints].sort(compareEndpoints),
    podCount: members.podCount,
    protocol: members.protocol,
  };
}
