// The synthetic mesh and the control protocol every benchmarked server speaks, so Herald and the
// go-control-plane peer are fed the identical event script.
import { ROLLOUT_RANK, type ScopeSpec } from './scope.js';

/** One pod of the synthetic mesh, as the control protocol carries it. */
export interface BenchEndpoint {
  /** Pod name, unique in the mesh. */
  pod: string;
  service: string;
  /** Kubernetes cluster (c0 … cK-1). */
  cluster: string;
  ip: string;
  port: number;
  region: string;
  zone: string;
}

export interface MeshSpec {
  services: number;
  endpoints: number;
  clusters: number;
  /** Pods of the service the rolling deploy replaces (part of `endpoints`). */
  rolloutPods: number;
  /** A scoped mesh: each Envoy declares D of the N services (see scope.ts); absent, every Envoy takes all. */
  scope?: ScopeSpec;
  /**
   * Zones per kube cluster: each service's pods of a cluster are dealt out over its Z zones in
   * turn, so every service with at least Z pods in a cluster has some in each of its zones.
   * Absent: three zones per cluster, by address (the mesh every server is measured on).
   */
  zones?: number;
}

export const ROLLOUT_SERVICE = 'rollout';

/** Commands on a server's stdin, one JSON object per line; each gets one reply line with the same id. */
export type ControlCommand =
  | { id: number; op: 'load'; endpoints: BenchEndpoint[] }
  | { id: number; op: 'drain'; pod: string }
  | { id: number; op: 'add'; endpoint: BenchEndpoint }
  | { id: number; op: 'remove'; pod: string }
  | { id: number; op: 'stats' }
  | { id: number; op: 'quit' };

export interface ControlReply {
  id: number;
  ok: boolean;
  error?: string;
  /** When the server applied the change (epoch ms, fractional): the drain's "observed" moment. */
  atMs?: number;
  /** Extra numbers a server chooses to report (Herald: its own drain tracker). */
  stats?: Record<string, number | number[]>;
}

const PORT = 8080;

function ipOf(cluster: number, index: number): string {
  // 10.<cluster+1>.0.0/16 per Kubernetes cluster, addresses handed out in order.
  const value = index + 1;
  return `10.${cluster + 1}.${(value >> 8) & 255}.${value & 255}`;
}

const ZONE_LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function zoneOf(cluster: number, index: number): { region: string; zone: string } {
  const region = `region-${cluster}`;
  return { region, zone: `${region}${ZONE_LETTERS[index % 3]}` };
}

/** The names of kube cluster `cluster`'s zones in a mesh of `zones` zones per cluster. */
export function zoneNames(cluster: number, zones: number): string[] {
  return Array.from({ length: zones }, (_, z) => `region-${cluster}${ZONE_LETTERS[z]}`);
}

/**
 * N services over E endpoints in K clusters: one service (`rollout`) has `rolloutPods` pods in
 * cluster c0, the rest of the endpoints go round-robin over the other services and clusters.
 * Deterministic, so every server gets the same mesh.
 */
export class Mesh {
  readonly endpoints: BenchEndpoint[] = [];
  readonly serviceNames: string[] = [];
  private readonly nextIndex: number[];
  /** With `zones`: pods so far per service and cluster, which deal the next one its zone. */
  private readonly zoneTurn = new Map<string, number>();

  constructor(readonly spec: MeshSpec) {
    if (spec.services < 2) throw new Error('mesh needs at least 2 services');
    if (spec.rolloutPods < 1) throw new Error('the rollout service needs at least 1 pod: it is one of the N services');
    if (spec.endpoints < spec.rolloutPods + spec.services - 1) throw new Error('too few endpoints for the services');
    if (spec.endpoints / spec.clusters > 65_000) throw new Error('too many endpoints per cluster for a /16');
    if (spec.zones !== undefined && (!Number.isInteger(spec.zones) || spec.zones < 1 || spec.zones > ZONE_LETTERS.length)) {
      throw new Error(`zones per cluster must be a whole number from 1 to ${ZONE_LETTERS.length}, got ${spec.zones}`);
    }
    this.nextIndex = Array.from({ length: spec.clusters }, () => 0);
    this.serviceNames.push(ROLLOUT_SERVICE);
    for (let s = 1; s < spec.services; s++) this.serviceNames.push(`svc-${String(s).padStart(4, '0')}`);
    for (let i = 0; i < spec.rolloutPods; i++) this.endpoints.push(this.newPod(ROLLOUT_SERVICE, 0, `rollout-v1-${i}`));
    const regular = spec.endpoints - spec.rolloutPods;
    for (let j = 0; j < regular; j++) {
      const service = this.serviceNames[1 + (j % (spec.services - 1))]!;
      this.endpoints.push(this.newPod(service, j % spec.clusters, `${service}-${j}`));
    }
  }

  /** A new pod with the next free address of the cluster (for rolling deploys). */
  newPod(service: string, cluster: number, pod: string): BenchEndpoint {
    const index = this.nextIndex[cluster]!;
    this.nextIndex[cluster] = index + 1;
    return { pod, service, cluster: `c${cluster}`, ip: ipOf(cluster, index), port: PORT, ...this.placeOf(service, cluster, index) };
  }

  private placeOf(service: string, cluster: number, index: number): { region: string; zone: string } {
    const zones = this.spec.zones;
    if (zones === undefined) return zoneOf(cluster, index);
    const key = `${service}/${cluster}`;
    const turn = this.zoneTurn.get(key) ?? 0;
    this.zoneTurn.set(key, turn + 1);
    return { region: `region-${cluster}`, zone: zoneNames(cluster, zones)[turn % zones]! };
  }

  /**
   * `count` pods of regular services spread over the mesh, to drain one after another. Each
   * service keeps its last pod: draining a service's last Ready pod would measure Herald's
   * terminating fallback (the pod stays HEALTHY), not a drain.
   */
  drainTargets(count: number): BenchEndpoint[] {
    const kept = this.keptPods();
    const regular = this.endpoints.filter((e) => e.service !== ROLLOUT_SERVICE && !kept.has(e.pod));
    const step = Math.max(1, Math.floor(regular.length / Math.max(1, count)));
    const out: BenchEndpoint[] = [];
    for (let i = 0; i < count && i * step < regular.length; i++) out.push(regular[i * step]!);
    return out;
  }

  /**
   * `count` pods, one of each of `count` services spread evenly over `services` (in its order):
   * the middle of each of `count` equal runs, so the first service (in a scoped mesh, the most
   * popular) is not picked more often than any other.
   */
  drainTargetsOver(candidates: readonly string[], count: number): BenchEndpoint[] {
    // A service of one pod has none to drain (it keeps its last).
    const services = candidates.filter((s) => this.podsOf(s).length > 1);
    const step = services.length / Math.max(1, Math.min(count, services.length));
    const out: BenchEndpoint[] = [];
    for (let i = 0; i < count && i < services.length; i++) out.push(this.podsOf(services[Math.floor((i + 0.5) * step)]!)[0]!);
    return out;
  }

  /** `count` different pods of one service, spread over its pods, leaving out the pods in `drained` and the one it keeps. */
  podsToDrain(service: string, count: number, drained: ReadonlySet<string> = new Set()): BenchEndpoint[] {
    const kept = this.keptPods();
    const pods = this.podsOf(service).filter((e) => !drained.has(e.pod) && !kept.has(e.pod));
    const step = Math.max(1, Math.floor(pods.length / Math.max(1, count)));
    const out: BenchEndpoint[] = [];
    for (let i = 0; i < count && i * step < pods.length; i++) out.push(pods[i * step]!);
    return out;
  }

  /** The pod each service keeps through the drain series (its last): drains leave no service without a HEALTHY pod. */
  private keptPods(): Set<string> {
    const last = new Map<string, string>();
    for (const e of this.endpoints) last.set(e.service, e.pod);
    return new Set(last.values());
  }

  podsOf(service: string): BenchEndpoint[] {
    return this.endpoints.filter((e) => e.service === service);
  }

  /**
   * Every service, most popular first, for a scoped mesh: the regular services in name order with
   * the rollout service at rank ROLLOUT_RANK, so the rolling deploy reaches many Envoys but not
   * the most.
   */
  popularityRanking(): string[] {
    const regular = this.serviceNames.filter((s) => s !== ROLLOUT_SERVICE);
    const at = Math.min(ROLLOUT_RANK - 1, regular.length);
    return [...regular.slice(0, at), ROLLOUT_SERVICE, ...regular.slice(at)];
  }

  rolloutPods(): BenchEndpoint[] {
    return this.endpoints.filter((e) => e.service === ROLLOUT_SERVICE);
  }
}
