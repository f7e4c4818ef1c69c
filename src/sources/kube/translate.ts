import type { V1Node, V1Pod } from '@kubernetes/client-node';
import {
  MAX_NAMED_PORTS,
  podKey,
  PORT_NAME_MAX_LENGTH,
  PORT_NAME_PATTERN,
  serviceName,
  type NamedPorts,
  type NodeRecord,
  type PodProtocol,
  type PodRecord,
  type ServiceScope,
} from '../../model/index.js';
import { APP_PROTOCOL_ANNOTATION, podProtocol } from './protocol.js';

export const PORT_ANNOTATION = 'herald.io/port';
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface PodTranslateOptions {
  cluster: string;
  serviceLabel: string;
  serviceScope: ServiceScope;
  portName: string;
  defaultPort?: number | undefined;
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d{1,5}\s*$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The endpoint port and the name of the container port it is, when one has that number and a name. */
export interface ResolvedPort {
  port: number;
  name: string | undefined;
}

function nameOfContainerPort(pod: V1Pod, port: number): string | undefined {
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.containerPort === port && p.name) return p.name;
    }
  }
  return undefined;
}

/**
 * Endpoint port, first that applies: the `herald.io/port` annotation, the container port named
 * `portName` in any container, `defaultPort`. An annotation that is not an integer 1..65535 is
 * ignored (falls through to the named port) rather than dropping the pod: a typo in one
 * annotation should not take a serving pod out of the mesh. The port's name (for the protocol)
 * is that of the container port with the same number when the port was not found by name.
 */
export function resolveEndpointPort(pod: V1Pod, portName: string, defaultPort: number | undefined): ResolvedPort | undefined {
  const annotated = parsePort(pod.metadata?.annotations?.[PORT_ANNOTATION]);
  if (annotated !== undefined) return { port: annotated, name: nameOfContainerPort(pod, annotated) };
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === portName && Number.isInteger(port.containerPort) && port.containerPort > 0) return { port: port.containerPort, name: portName };
    }
  }
  return defaultPort === undefined ? undefined : { port: defaultPort, name: nameOfContainerPort(pod, defaultPort) };
}

/** The endpoint port alone (see resolveEndpointPort). */
export function resolvePort(pod: V1Pod, portName: string, defaultPort: number | undefined): number | undefined {
  return resolveEndpointPort(pod, portName, defaultPort)?.port;
}

/** The pod's upstream protocol (see podProtocol), from its annotation and its endpoint port's name. */
export function resolveProtocol(pod: V1Pod, resolved: ResolvedPort | undefined): PodProtocol {
  return podProtocol(pod.metadata?.annotations?.[APP_PROTOCOL_ANNOTATION], resolved?.name);
}

const PORT_NAME = new RegExp(PORT_NAME_PATTERN);

/**
 * The pod's named TCP container ports, in container order, for a health check that names its
 * port (healthCheck.portName). The apiserver validates names already; one that is not a valid
 * name anyway (an apiserver too old or too lenient), a port that is not 1..65535 or not TCP
 * (Envoy checks over TCP only) is skipped, and the first of a name that appears twice wins, as
 * it does for --port-name. At most MAX_NAMED_PORTS: a pod naming more keeps the first ones
 * and loses nothing else. Undefined when it names none, so most pods carry nothing.
 */
export function namedPortsOf(pod: V1Pod): NamedPorts | undefined {
  let out: Record<string, number> | undefined;
  let count = 0;
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (count >= MAX_NAMED_PORTS) return Object.freeze(out);
      const name = p.name;
      if (typeof name !== 'string' || name.length > PORT_NAME_MAX_LENGTH || !PORT_NAME.test(name)) continue;
      if ((p.protocol ?? 'TCP') !== 'TCP' || !Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) continue;
      out ??= {};
      if (Object.hasOwn(out, name)) continue;
      out[name] = p.containerPort;
      count++;
    }
  }
  return out === undefined ? undefined : Object.freeze(out);
}

// Objects from the list API carry Date instances; objects from the watch stream carry the raw
// RFC 3339 strings. Accept both.
function toEpochMs(value: Date | string | undefined): number {
  if (value === undefined || value === null) return 0;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : 0;
}

export function translatePod(pod: V1Pod, options: PodTranslateOptions): PodRecord {
  const metadata = pod.metadata ?? {};
  const status = pod.status ?? {};
  const ready = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const terminating = metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null;
  const namespace = metadata.namespace ?? '';
  const label = metadata.labels?.[options.serviceLabel];
  const resolved = resolveEndpointPort(pod, options.portName, options.defaultPort);
  const namedPorts = namedPortsOf(pod);
  return {
    cluster: options.cluster,
    namespace,
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    service: serviceName(label, namespace, options.serviceScope),
    serviceLabel: label,
    ip: status.podIP || undefined,
    port: resolved?.port,
    protocol: resolveProtocol(pod, resolved),
    ...(namedPorts === undefined ? {} : { namedPorts }),
    ready,
    terminating,
    phase: status.phase ?? 'Unknown',
    nodeName: pod.spec?.nodeName || undefined,
    createdAtMs: toEpochMs(metadata.creationTimestamp),
    gracePeriodSeconds: terminating ? (metadata.deletionGracePeriodSeconds ?? undefined) : undefined,
  };
}

export function translatePodKey(pod: V1Pod): string {
  return podKey(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
}

export function translateNode(node: V1Node, cluster: string): NodeRecord {
  const labels = node.metadata?.labels ?? {};
  return {
    cluster,
    name: node.metadata?.name ?? '',
    region: labels[REGION_LABEL] || undefined,
    zone: labels[ZONE_LABEL] || undefined,
  };
}
