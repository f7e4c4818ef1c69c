// A pod's named container ports, as far as Herald needs them: a ServicePolicy's
// healthCheck.portName picks the port Envoy health-checks on each endpoint by name.

/**
 * Container port name → port number, in the pod's container order. A plain frozen object: V8
 * keeps its keys as interned strings, so the thousands of pods that name the same few ports
 * share the names and pay only for the numbers. Never empty (a pod without names has none).
 */
export type NamedPorts = Readonly<Record<string, number>>;

/**
 * Names Herald keeps per pod. Real pods name a handful of ports; the bound keeps a pod that
 * names hundreds from growing every copy of its record (later names are left out).
 */
export const MAX_NAMED_PORTS = 16;

/**
 * A container port name as Kubernetes allows it (IANA_SVC_NAME): 1–15 lowercase letters, digits
 * and single inner hyphens, with at least one letter. The length is checked apart (15).
 */
export const PORT_NAME_PATTERN = '^([0-9]+-)*[0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$';
export const PORT_NAME_MAX_LENGTH = 15;

/** The port named `name`, if the pod has one (own keys only: `constructor` is a valid port name). */
export function namedPort(ports: NamedPorts | undefined, name: string): number | undefined {
  return ports !== undefined && Object.hasOwn(ports, name) ? ports[name] : undefined;
}

export function sameNamedPorts(a: NamedPorts | undefined, b: NamedPorts | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  // Order matters too: it is the pod's container order, which the debug pages show.
  return Object.keys(b).every((k, i) => k === keys[i] && a[k] === b[k]);
}
