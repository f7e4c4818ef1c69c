import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { podKey, serviceName, type NodeRecord, type PodRecord, type ServiceScope } from '../../model/index.js';

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

/**
 * Endpoint port, first that applies: the `herald.io/port` annotation, the container port named
 * `portName` in any container, `defaultPort`. An annotation that is not an integer 1..65535 is
 * ignored (falls through to the named port) rather than dropping the pod: a typo in one
 * annotation should not take a serving pod out of the mesh.
 */
export function resolvePort(pod: V1Pod, portName: string, defaultPort: number | undefined): number | undefined {
  const annotated = parsePort(pod.metadata?.annotations?.[PORT_ANNOTATION]);
  if (annotated !== undefined) return annotated;
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === portName && Number.isInteger(port.containerPort) && port.containerPort > 0) return port.containerPort;
    }
  }
  return defaultPort;
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
  return {
    cluster: options.cluster,
    namespace,
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    service: serviceName(label, namespace, options.serviceScope),
    serviceLabel: label,
    ip: status.podIP || undefined,
    port: resolvePort(pod, options.portName, options.defaultPort),
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
