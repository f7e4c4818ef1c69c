import { podKey, serviceName, systemClock, type Clock, type ClusterStatus, type NamedPorts, type NodeRecord, type PodRecord, type ServiceScope } from '../../model/index.js';
import type { ClusterSource, SourceSink } from '../types.js';
import { IpPool } from './ip-pool.js';

export interface SimServiceSpec {
  /** The service label value; unique within one simulated cluster. */
  name: string;
  /** Namespace of its pods; the cluster's namespace when left out. */
  namespace?: string;
  replicas: number;
  /** Endpoint port of every pod; 8080 when left out. */
  port?: number;
  /** Named container ports of every pod (say, a health port a policy's healthCheck.portName names); none when left out. */
  namedPorts?: NamedPorts;
}

export interface SimTiming {
  /** How long a new pod stays not Ready. */
  readyDelayMs: number;
  /** How long a terminating pod stays (DRAINING) before it is gone. */
  gracePeriodMs: number;
}

export interface SimulatedClusterOptions {
  name: string;
  region: string;
  zones: string[];
  services: SimServiceSpec[];
  /** First address of the pod network, e.g. '10.1.0.0'; pods get the following addresses in order. */
  ipBase: string;
  /** Addresses before the pool wraps (default 65534). */
  ipPoolSize?: number;
  /** Namespace of services that name none (default `default`). */
  namespace?: string;
  /** How the pods' service names are formed, as `herald serve --service-scope` (default `namespace`). */
  serviceScope?: ServiceScope;
  clock?: Clock;
  random?: () => number;
  timing: SimTiming;
}

const DEFAULT_PORT = 8080;

interface Sleeper {
  timer: ReturnType<typeof setTimeout>;
  resolve: (completed: boolean) => void;
}

/**
 * A Kubernetes cluster in memory, for `herald demo` and benchmarks: pods appear, turn Ready,
 * terminate with a grace period and go away on timers, and every change reaches the sink as
 * the newest state of one pod, as a real watch would deliver it.
 */
export class SimulatedCluster implements ClusterSource {
  readonly name: string;
  private readonly options: SimulatedClusterOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly namespace: string;
  private readonly pool: IpPool;
  private readonly specs = new Map<string, SimServiceSpec>();
  private readonly podMap = new Map<string, PodRecord>();
  private readonly usedIps = new Map<string, number>();
  private readonly terminations = new Map<string, Promise<void>>();
  private readonly deploys = new Map<string, Promise<void>>();
  private readonly sleepers = new Set<Sleeper>();
  private sink: SourceSink | undefined;
  private autopilot: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private seq = 0;
  private current: ClusterStatus;

  constructor(options: SimulatedClusterOptions) {
    if (options.zones.length === 0) throw new Error(`simulated cluster ${options.name} needs at least one zone`);
    this.name = options.name;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.namespace = options.namespace ?? 'default';
    this.pool = new IpPool(options.ipBase, options.ipPoolSize);
    // One frozen object per service, shared by its pods, as a kube pod's own would be frozen.
    for (const spec of options.services) this.specs.set(spec.name, spec.namedPorts === undefined ? { ...spec } : { ...spec, namedPorts: Object.freeze({ ...spec.namedPorts }) });
    this.current = { cluster: this.name, state: 'syncing', everSynced: false, lastError: undefined, lastChangeMs: this.clock() };
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.sink !== undefined) throw new Error(`simulated cluster ${this.name} already started`);
    this.sink = sink;
    sink.setClusterStatus(this.status());
    for (const spec of this.specs.values()) {
      for (let i = 0; i < spec.replicas; i++) this.createPod(spec, true, false);
    }
    sink.replaceNodes(this.name, this.nodes());
    sink.replacePods(this.name, this.pods());
    this.setStatus('synced', undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopAutopilot();
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.resolve(false);
    }
    this.sleepers.clear();
  }

  status(): ClusterStatus {
    return { ...this.current };
  }

  /** Simulates losing (false) or regaining (true) the API server; pods are untouched. */
  setReachable(reachable: boolean): void {
    if (reachable) this.setStatus('synced', undefined);
    else this.setStatus('unreachable', 'simulated outage');
  }

  nodes(): NodeRecord[] {
    return this.options.zones.map((zone) => ({ cluster: this.name, name: this.nodeName(zone), region: this.options.region, zone }));
  }

  pods(): PodRecord[] {
    return [...this.podMap.values()].map((p) => ({ ...p })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Replaces every pod of the service, `maxSurge` at a time: new pods come up not Ready, turn
   * Ready after readyDelayMs, then as many old pods start terminating. Resolves once the last old
   * pod is gone. A deploy already running for the service is returned instead of starting another.
   */
  rollingDeploy(service: string, options: { maxSurge?: number } = {}): Promise<void> {
    const running = this.deploys.get(service);
    if (running !== undefined) return running;
    const spec = this.specs.get(service);
    if (spec === undefined) return Promise.reject(new Error(`unknown simulated service ${service}`));
    const surge = Math.max(1, Math.floor(options.maxSurge ?? 1));
    const deploy = this.runDeploy(spec, surge).finally(() => this.deploys.delete(service));
    this.deploys.set(service, deploy);
    return deploy;
  }

  /** Starts a graceful delete; resolves once the pod is gone (or the simulation stopped). */
  terminatePod(key: string): Promise<void> {
    const existing = this.terminations.get(key);
    if (existing !== undefined) return existing;
    const pod = this.podMap.get(key);
    if (pod === undefined || !this.isLive()) return Promise.resolve();
    const terminating: PodRecord = { ...pod, terminating: true, gracePeriodSeconds: Math.ceil(this.options.timing.gracePeriodMs / 1000) };
    this.putPod(terminating);
    const done = this.sleep(this.options.timing.gracePeriodMs).then((completed) => {
      this.terminations.delete(key);
      // The pod may have been force-deleted (or replaced under its name) during the grace period.
      if (completed && this.podMap.get(key)?.uid === pod.uid) this.deletePod(key);
    });
    this.terminations.set(key, done);
    return done;
  }

  /** Deletes a pod at once, with no terminating phase (grace period 0). */
  forceDelete(key: string): void {
    if (this.podMap.has(key) && this.isLive()) this.deletePod(key);
  }

  /** Adds not-Ready pods (Ready after readyDelayMs) or terminates the newest ones. Unknown services are created. */
  async scale(service: string, replicas: number, port?: number): Promise<void> {
    let spec = this.specs.get(service);
    if (spec === undefined) {
      spec = { name: service, replicas: 0, ...(port === undefined ? {} : { port }) };
      this.specs.set(service, spec);
    }
    spec.replicas = Math.max(0, Math.floor(replicas));
    const live = this.livePods(service);
    if (live.length < spec.replicas) {
      const added: string[] = [];
      for (let i = live.length; i < spec.replicas; i++) added.push(this.createPod(spec, false, true));
      if (await this.sleep(this.options.timing.readyDelayMs)) this.markReady(added);
      return;
    }
    const surplus = live.sort((a, b) => b.createdAtMs - a.createdAtMs || (a.name < b.name ? 1 : -1)).slice(0, live.length - spec.replicas);
    await Promise.all(surplus.map((p) => this.terminatePod(podKey(p.namespace, p.name))));
  }

  /** Every interval, a rolling deploy of a random service that is not already deploying. */
  startAutopilot(options: { intervalMs: number; maxSurge?: number }): void {
    this.stopAutopilot();
    if (this.stopped) return;
    this.autopilot = setInterval(
      () => {
        const idle = [...this.specs.keys()].filter((name) => !this.deploys.has(name));
        if (idle.length === 0) return;
        const pick = idle[Math.min(idle.length - 1, Math.floor(this.random() * idle.length))] as string;
        // A deploy fails only for an unknown service, and the name comes from specs.
        this.rollingDeploy(pick, { maxSurge: options.maxSurge ?? 1 }).catch(() => undefined);
      },
      Math.max(1, options.intervalMs),
    );
  }

  stopAutopilot(): void {
    if (this.autopilot !== undefined) clearInterval(this.autopilot);
    this.autopilot = undefined;
  }

  /** Services being deployed right now (for tests and the demo's log). */
  deploying(): string[] {
    return [...this.deploys.keys()].sort();
  }

  private async runDeploy(spec: SimServiceSpec, surge: number): Promise<void> {
    const old = this.livePods(spec.name).map((p) => podKey(p.namespace, p.name));
    const gone: Promise<void>[] = [];
    // One step per `surge` old pods: the loop is bounded by the pods that existed at the start.
    for (let i = 0; i < old.length; i += surge) {
      const batch = old.slice(i, i + surge);
      const fresh = batch.map(() => this.createPod(spec, false, true));
      if (!(await this.sleep(this.options.timing.readyDelayMs))) break;
      this.markReady(fresh);
      for (const key of batch) gone.push(this.terminatePod(key));
    }
    await Promise.all(gone);
  }

  private livePods(service: string): PodRecord[] {
    return [...this.podMap.values()].filter((p) => p.serviceLabel === service && !p.terminating);
  }

  private markReady(keys: string[]): void {
    for (const key of keys) {
      const pod = this.podMap.get(key);
      if (pod !== undefined && !pod.ready && !pod.terminating && this.isLive()) this.putPod({ ...pod, ready: true });
    }
  }

  /** Creates a Running pod in the zone where the service has the fewest pods. */
  private createPod(spec: SimServiceSpec, ready: boolean, emit: boolean): string {
    const zones = this.options.zones;
    const perZone = new Map(zones.map((z) => [z, 0]));
    for (const p of this.podMap.values()) {
      if (p.serviceLabel !== spec.name || p.nodeName === undefined) continue;
      const zone = zones.find((z) => this.nodeName(z) === p.nodeName);
      if (zone !== undefined) perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
    }
    let zone = zones[0] as string;
    for (const z of zones) if ((perZone.get(z) ?? 0) < (perZone.get(zone) ?? 0)) zone = z;

    const seq = ++this.seq;
    const name = `${spec.name}-${seq.toString(36).padStart(5, '0')}`;
    const namespace = spec.namespace ?? this.namespace;
    const pod: PodRecord = {
      cluster: this.name,
      namespace,
      name,
      uid: `${this.name}-${seq}`,
      service: serviceName(spec.name, namespace, this.options.serviceScope ?? 'namespace'),
      serviceLabel: spec.name,
      ip: this.pool.allocate((ip) => this.usedIps.has(ip)),
      port: spec.port ?? DEFAULT_PORT,
      ...(spec.namedPorts === undefined ? {} : { namedPorts: spec.namedPorts }),
      ready,
      terminating: false,
      phase: 'Running',
      nodeName: this.nodeName(zone),
      createdAtMs: this.clock(),
      gracePeriodSeconds: undefined,
    };
    if (emit) this.putPod(pod);
    else this.track(pod);
    return podKey(pod.namespace, pod.name);
  }

  private track(pod: PodRecord): void {
    const key = podKey(pod.namespace, pod.name);
    const previous = this.podMap.get(key);
    if (previous?.ip !== undefined) this.releaseIp(previous.ip);
    this.podMap.set(key, pod);
    if (pod.ip !== undefined) this.usedIps.set(pod.ip, (this.usedIps.get(pod.ip) ?? 0) + 1);
  }

  private putPod(pod: PodRecord): void {
    this.track(pod);
    if (!this.stopped) this.sink?.applyPod({ ...pod });
  }

  private deletePod(key: string): void {
    const pod = this.podMap.get(key);
    if (pod === undefined) return;
    this.podMap.delete(key);
    if (pod.ip !== undefined) this.releaseIp(pod.ip);
    if (!this.stopped) this.sink?.removePod(this.name, key);
  }

  private releaseIp(ip: string): void {
    const n = (this.usedIps.get(ip) ?? 1) - 1;
    if (n <= 0) this.usedIps.delete(ip);
    else this.usedIps.set(ip, n);
  }

  private setStatus(state: ClusterStatus['state'], lastError: string | undefined): void {
    this.current = {
      cluster: this.name,
      state,
      everSynced: this.current.everSynced || state === 'synced',
      lastError,
      lastChangeMs: this.clock(),
    };
    this.sink?.setClusterStatus(this.status());
  }

  private nodeName(zone: string): string {
    return `${this.name}-${zone}`;
  }

  private isLive(): boolean {
    return !this.stopped;
  }

  /** Resolves true after `ms`, or false at once when the simulation stops first. */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        timer: setTimeout(
          () => {
            this.sleepers.delete(sleeper);
            resolve(true);
          },
          Math.max(0, ms),
        ),
        resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}
