// Random valid meshes for property tests: Kubernetes clusters with nodes (regions, zones) and
// pods (services, IPs, ports, readiness, termination), drawn from a seeded generator so a failure
// can be replayed from its seed. Names go to the edges of what Kubernetes accepts: label values
// of 1 and 63 characters with dots, underscores and capitals, namespaces of 1 and 63 characters,
// pod names up to 253, ports 1 and 65535, nodes without zone labels, services without endpoints,
// services speaking HTTP/2 upstream (gRPC, h2c), HTTP/1.1, or both while a rollout is under way.
import { serviceName, type NodeRecord, type PodProtocol, type PodRecord } from '../../src/model/index.js';

/** A small, fast, seeded generator (mulberry32); the same seed gives the same sequence. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = `${LOWER_ALNUM}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;

function draw(rng: Rng, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[rng.int(0, alphabet.length - 1)];
  return out;
}

/** A length: often short, sometimes exactly 1 or the maximum. */
function edgyLength(rng: Rng, max: number): number {
  const r = rng.next();
  if (r < 0.15) return 1;
  if (r < 0.3) return max;
  return rng.int(1, Math.min(max, 20));
}

/** A valid label value (at most 63; alphanumeric at both ends; '-', '_', '.' inside). */
export function labelValue(rng: Rng): string {
  const length = edgyLength(rng, 63);
  if (length <= 2) return draw(rng, ALNUM, length);
  return draw(rng, ALNUM, 1) + draw(rng, `${ALNUM}-_.`, length - 2) + draw(rng, ALNUM, 1);
}

/** A valid DNS-1123 label (namespaces): at most 63, lower-case alphanumeric at both ends, '-' inside. */
export function dnsLabel(rng: Rng, max = 63): string {
  const length = edgyLength(rng, max);
  if (length <= 2) return draw(rng, LOWER_ALNUM, length);
  return draw(rng, LOWER_ALNUM, 1) + draw(rng, `${LOWER_ALNUM}-`, length - 2) + draw(rng, LOWER_ALNUM, 1);
}

/** A valid DNS-1123 subdomain (pod and node names): dot-separated labels, at most 253. */
export function dnsSubdomain(rng: Rng): string {
  if (rng.chance(0.1)) {
    // Exactly 253: four labels of 63 and the dots between them, less two characters.
    const labels = [0, 1, 2, 3].map(() => draw(rng, LOWER_ALNUM, 63));
    return labels.join('.').slice(0, 253).replace(/\.$/, 'x');
  }
  return Array.from({ length: rng.int(1, 3) }, () => dnsLabel(rng, 20)).join('.');
}

export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface RandomCluster {
  name: string;
  nodes: NodeRecord[];
  pods: PodRecord[];
}

export interface RandomMesh {
  clusters: RandomCluster[];
  /** xDS names of the services that have at least one pod. */
  services: string[];
}

export interface MeshShape {
  /** Kube cluster names, first the local one. */
  clusters: readonly string[];
  maxServices: number;
  maxPodsPerService: number;
}

/** IPs on 127.0.0.0/8 (never leaving the machine), distinct within the whole mesh unless shared on purpose. */
class LoopbackIps {
  private readonly used = new Set<string>();
  constructor(private readonly rng: Rng) {}
  take(): string {
    for (;;) {
      const ip = `127.${this.rng.int(100, 250)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
  }
}

const HTTP2_PODS: readonly PodProtocol[] = [
  { protocol: 'HTTP/2', source: 'annotation', detail: 'grpc' },
  { protocol: 'HTTP/2', source: 'annotation', detail: 'kubernetes.io/h2c' },
  { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc-api' },
  { protocol: 'HTTP/2', source: 'port_name', detail: 'h2c' },
];
const HTTP1_PODS: readonly (PodProtocol | undefined)[] = [
  undefined,
  { protocol: 'HTTP/1.1', source: 'default' },
  { protocol: 'HTTP/1.1', source: 'annotation', detail: 'http' },
  { protocol: 'HTTP/1.1', source: 'default', ignored: 'herald.io/app-protocol "quic" is not one Herald knows' },
];

type ServiceProtocolMode = 'http2' | 'http1' | 'mixed';

/** Every third service speaks HTTP/2, so each mesh of three services or more has one. */
function protocolMode(rng: Rng, index: number): ServiceProtocolMode {
  if (index % 3 === 0) return 'http2';
  return rng.chance(0.2) ? 'mixed' : 'http1';
}

function podProtocol(rng: Rng, mode: ServiceProtocolMode): PodProtocol | undefined {
  const http2 = mode === 'http2' || (mode === 'mixed' && rng.chance(0.5));
  return http2 ? rng.pick(HTTP2_PODS) : rng.pick(HTTP1_PODS);
}

function port(rng: Rng): number {
  const r = rng.next();
  if (r < 0.1) return 1;
  if (r < 0.2) return 65535;
  return rng.int(1024, 60000);
}

/**
 * Named container ports (healthCheck.portName resolves against them), from values already drawn
 * so the random stream stays as it was: a third of the pods name none, a third only their
 * traffic port `http`, a third also a `health` port (the other end of the port range at the bounds).
 */
function namedPortsFor(index: number, trafficPort: number): Pick<PodRecord, 'namedPorts'> {
  if (index % 3 === 0) return {};
  if (index % 3 === 1) return { namedPorts: { http: trafficPort } };
  return { namedPorts: { http: trafficPort, health: trafficPort === 65535 ? 1 : trafficPort + 1 } };
}

export function randomMesh(rng: Rng, shape: MeshShape): RandomMesh {
  const ips = new LoopbackIps(rng);
  const clusters: RandomCluster[] = shape.clusters.map((name) => {
    const region = rng.chance(0.1) ? undefined : labelValue(rng);
    const nodes: NodeRecord[] = Array.from({ length: rng.int(1, 3) }, () => ({
      cluster: name,
      name: dnsSubdomain(rng),
      region,
      zone: region === undefined || rng.chance(0.1) ? undefined : labelValue(rng),
    }));
    return { name, nodes: dedupeBy(nodes, (n) => n.name), pods: [] };
  });
  const services = new Set<string>();
  const serviceCount = rng.int(1, shape.maxServices);
  for (let s = 0; s < serviceCount; s++) {
    const namespace = dnsLabel(rng);
    const label = labelValue(rng);
    const service = serviceName(label, namespace, 'namespace')!;
    const podCount = rng.int(0, shape.maxPodsPerService);
    const mode = protocolMode(rng, s);
    for (let p = 0; p < podCount; p++) {
      const cluster = rng.pick(clusters);
      const state = rng.next();
      const pending = state < 0.05;
      const protocol = podProtocol(rng, mode);
      const trafficPort = port(rng);
      cluster.pods.push({
        cluster: cluster.name,
        namespace,
        name: dnsSubdomain(rng),
        uid: `${rng.seed}-${s}-${p}`,
        service,
        serviceLabel: label,
        ip: pending ? undefined : ips.take(),
        port: trafficPort,
        ...(protocol === undefined ? {} : { protocol }),
        ...namedPortsFor(p, trafficPort),
        ready: !pending && state >= 0.15,
        terminating: state >= 0.85,
        phase: pending ? 'Pending' : 'Running',
        nodeName: pending ? undefined : rng.pick(cluster.nodes).name,
        createdAtMs: rng.int(1, 2_000_000_000) * 1000,
        gracePeriodSeconds: state >= 0.85 ? rng.int(0, 3600) : undefined,
      });
    }
    services.add(service);
  }
  for (const c of clusters) c.pods = dedupeBy(c.pods, (p) => `${p.namespace}/${p.name}`);
  const withPods = new Set(clusters.flatMap((c) => c.pods.map((p) => p.service!)));
  return { clusters, services: [...services].filter((s) => withPods.has(s)).sort() };
}

function dedupeBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
