// One benchmark run: one server, one mesh size, the full event script — connect storm, single
// drains, a rolling deploy — with every figure measured the same way for every server.
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadPool, type LoadgenSpec } from './loadgen/pool.js';
import { Mesh, ROLLOUT_SERVICE, zoneNames, type BenchEndpoint, type MeshSpec } from './mesh.js';
import { ServerProcess, type ProcStats } from './procs.js';
import { Scoping } from './scope.js';
import { maxOf, summarize, type Summary } from './stats.js';

export interface SizePoint extends MeshSpec {
  streams: number;
  /** Single drains, one after another. */
  drains: number;
  /**
   * Herald only: the Envoys declare P kube clusters (`herald.io/kube-cluster` c0…c(P-1), dealt
   * out in turn) and Herald's --local-cluster is c0, so every service spanning the clusters is
   * served as P variants; absent, the Envoys declare none.
   */
  perspectives?: number;
  // zones (MeshSpec): Herald only. The mesh puts each service's pods of a cluster over Z zones,
  // Herald's mesh defaults say `locality.zone: PreferSameZone`, and the Envoys declare kube
  // cluster c0 and c0's zones in turn, so every service is served as Z zone variants (see zoneSetup).
}

/** The mesh-defaults policy of a zoned point: every service prefers the client's zone. */
const ZONE_POLICY = { locality: { zone: 'PreferSameZone' } };

/**
 * What the server and the Envoys are told at a point with `perspectives` or `zones`. Zoned: no
 * --local-cluster and every Envoy in kube cluster c0, so even at Z = 1 each service has one
 * variant besides the plain one (c0 first, then the other clusters; the plain view, with no
 * cluster of its own, has every endpoint at priority 0) and Z = 1 and Z = 3 take the same path.
 */
export function zoneSetup(point: SizePoint): { env: Record<string, string>; places: { kubeClusters: string[]; zones: string[] } | undefined } {
  if (point.zones !== undefined) return { env: { BENCH_MESH_DEFAULTS: JSON.stringify(ZONE_POLICY) }, places: { kubeClusters: ['c0'], zones: zoneNames(0, point.zones) } };
  if (point.perspectives !== undefined) return { env: { BENCH_LOCAL_CLUSTER: 'c0' }, places: { kubeClusters: Array.from({ length: point.perspectives }, (_, k) => `c${k}`), zones: [] } };
  return { env: {}, places: undefined };
}

/** A zoned point's drains as the Envoys checked them (each Envoy, on the assignment that carried the drain). */
export interface ZoneChecks {
  /** Per drain: distinct zones whose Envoys were sent their own zone, alone, at priority 0. */
  distinctZones: number[];
  /** Per drain: Envoys sent their own zone first. */
  ownZoneFirst: number[];
  /** Envoys sent priority 0 empty or holding another zone, over the series (an error). */
  wrongZone: number;
}

/** Herald's assignment variants after the drains (its stats): services with variants, variants, perspectives held. */
export interface VariantCounts {
  services: number;
  variants: number;
  perspectives: number;
}

export interface Limits {
  stormTimeoutMs: number;
  drainTimeoutMs: number;
  deployTimeoutMs: number;
  deployStepMs: number;
  /** The server is killed above this RSS (the machine is shared). */
  serverRssLimitMb: number;
  workerRssLimitMb: number;
  workers: number;
  loadgen?: LoadgenSpec;
}

export interface SubjectSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface PhaseCpu {
  wallSeconds: number;
  serverCpuSeconds: number;
  /** Busiest load generator process: CPU seconds / wall seconds. */
  loadgenMaxUtil: number;
  loadgenCpuSeconds: number;
}

/** One series of single drains, one after another, each timed to every stream that depends on the service. */
export interface DrainSeries {
  attempted: number;
  completed: number;
  /** Per drain: observed → DRAINING received by the last dependent stream (ms). */
  everyReceivedMs: number[];
  /** Per drain: observed → ACK written by the last dependent stream (ms). */
  everyAckedMs: number[];
  /** Per drain: how many streams depended on the drained service (all of them, unscoped). */
  dependents: number[];
  /** Streams sent a drain of a service they do not depend on, over the series (an error). */
  leaked: number;
  perStream: Summary;
  bytesPerDrain: number;
  /** Zoned points. */
  zones?: ZoneChecks;
}

/** What a scoped point adds: the shape, the most popular service's drains, and what leaked. */
export interface ScopeResult {
  /** D, G as asked, and how many of the G sets came out distinct. */
  dependencies: number;
  sets: number;
  distinctSets: number;
  /** Dependents of the least and the most popular service, and the mean over the N. */
  dependentsMin: number;
  dependentsMax: number;
  dependentsMean: number;
  /** Drains of pods of the most popular service. */
  popular: DrainSeries & { service: string; dependentsOfService: number };
  /** Node's HTTP/2 floor (bench/http2-floor.ts) for that many streams, same run: every message received, ms per round. */
  floorMs?: number[];
  /** Resources sent to scoped streams outside their declared sets, over the whole run (an error). */
  outOfScope: number;
  /** Herald only: its memory after the most popular service's drains (MiB), and its tracker's figure for each (ms). */
  memoryAfter?: { heapUsedMb: number; externalMb: number; arrayBuffersMb: number; rssMb: number };
  serverTrackedMs?: number[];
}

export interface RunResult {
  subject: string;
  point: SizePoint;
  startedAt: string;
  storm: { seconds: number | null; fullStreams: number; streams: number; bytes: number; cpu: PhaseCpu };
  drains: {
    attempted: number;
    completed: number;
    /** Per drain: observed → DRAINING received by the last stream (ms). */
    everyReceivedMs: number[];
    /** Per drain: observed → ACK written by the last stream (ms). */
    everyAckedMs: number[];
    /** Pooled over every (drain, stream): observed → received. */
    perStream: Summary;
    bytesPerDrain: number;
    /** Herald only: its own tracker (observed → last ACK received by the server), ms per drain. */
    serverTrackedMs: number[];
    cpu: PhaseCpu | undefined;
    /** Scoped points: per drain, the streams that depended on the service; and any leaks. */
    dependents?: number[];
    leaked?: number;
    /** Zoned points: what the Envoys checked of each drain. */
    zones?: ZoneChecks;
  };
  /** Herald at points with perspectives or zones: its variants after the drains. */
  variants?: VariantCounts;
  /** Scoped points only. */
  scope?: ScopeResult;
  deploy:
    | {
        pods: number;
        completed: number;
        everyReceivedMs: number[];
        /** First step → last drain received by every stream. */
        seconds: number | null;
        bytes: number;
        cpu: PhaseCpu | undefined;
      }
    | undefined;
  server: { cpuSeconds: number; peakRssMb: number; endRssMb: number };
  /** Herald only, after the drains: where its memory is (V8 heap vs Buffers). */
  serverMemory?: { heapUsedMb: number; heapTotalMb?: number; externalMb: number; arrayBuffersMb: number; rssMb: number; heapSpacesMb?: Record<string, number> };
  loadgen: { cpuSeconds: number; peakRssMb: number };
  notes: string[];
}

const now = (): number => performance.timeOrigin + performance.now();

class PhaseMeter {
  private readonly t0 = now();
  private readonly server0: ProcStats;
  private readonly workers0: ProcStats[];

  constructor(
    private readonly server: ServerProcess,
    private readonly pool: LoadPool,
  ) {
    this.server0 = server.stats();
    this.workers0 = pool.stats();
  }

  end(): PhaseCpu {
    const wall = (now() - this.t0) / 1000;
    const server = this.server.stats();
    const workers = this.pool.stats();
    const deltas = workers.map((w, i) => Math.max(0, w.cpuSeconds - (this.workers0[i]?.cpuSeconds ?? 0)));
    return {
      wallSeconds: wall,
      serverCpuSeconds: Math.max(0, server.cpuSeconds - this.server0.cpuSeconds),
      loadgenCpuSeconds: deltas.reduce((a, b) => a + b, 0),
      loadgenMaxUtil: wall > 0 ? maxOf(deltas) / wall : 0,
    };
  }
}

export async function runScenario(subject: SubjectSpec, point: SizePoint, limits: Limits, log: (line: string) => void): Promise<RunResult> {
  const mesh = new Mesh(point);
  const scoping = point.scope ? new Scoping(point.scope, mesh.popularityRanking(), point.streams) : undefined;
  const notes: string[] = [];
  const setup = zoneSetup(point);
  const server = new ServerProcess(subject.name, subject.command, subject.args, { BENCH_CLUSTERS: String(point.clusters), ...setup.env, ...subject.env });
  const pool = new LoadPool(limits.workers, limits.loadgen);
  const result: RunResult = {
    subject: subject.name,
    point,
    startedAt: new Date().toISOString(),
    storm: { seconds: null, fullStreams: 0, streams: point.streams, bytes: 0, cpu: undefined as unknown as PhaseCpu },
    drains: { attempted: 0, completed: 0, everyReceivedMs: [], everyAckedMs: [], perStream: summarize([]), bytesPerDrain: Number.NaN, serverTrackedMs: [], cpu: undefined },
    deploy: undefined,
    server: { cpuSeconds: 0, peakRssMb: 0, endRssMb: 0 },
    loadgen: { cpuSeconds: 0, peakRssMb: 0 },
    notes,
  };
  // The machine is shared: a server that outgrows its budget is stopped rather than left to swap.
  const watchdog = setInterval(() => {
    const stats = server.stats();
    const workers = pool.stats();
    workers.forEach((w, i) => {
      if (w.rssMb > limits.workerRssLimitMb) {
        notes.push(`load generator ${i} RSS ${Math.round(w.rssMb)} MiB passed the ${limits.workerRssLimitMb} MiB limit; killed`);
        pool.kill(i);
      }
    });
    if (stats.rssMb > limits.serverRssLimitMb && !server.gone) {
      notes.push(`server RSS ${Math.round(stats.rssMb)} MiB passed the ${limits.serverRssLimitMb} MiB limit; killed`);
      server.child.kill('SIGKILL');
    }
  }, 500);
  try {
    const port = await server.port;
    await server.request({ op: 'load', endpoints: mesh.endpoints }, 300_000);
    log(`${subject.name}: mesh loaded (${point.services} services, ${mesh.endpoints.length} endpoints), port ${port}`);

    // Connect storm: every stream at once, as after a replica restart.
    const storm = new PhaseMeter(server, pool);
    const t0 = now();
    pool.connect(port, point.streams, point.services, `${subject.name}-node`, scoping, setup.places);
    const fullAt = await pool.waitFull(limits.stormTimeoutMs);
    result.storm.cpu = storm.end();
    const afterStorm = await pool.status();
    result.storm.fullStreams = afterStorm.full;
    result.storm.bytes = afterStorm.bytes;
    if (fullAt === undefined) {
      notes.push(`connect storm: ${afterStorm.full}/${point.streams} streams had full config after ${limits.stormTimeoutMs / 1000} s`);
      return result;
    }
    result.storm.seconds = (fullAt - t0) / 1000;
    if (afterStorm.alive < point.streams) notes.push(`${point.streams - afterStorm.alive} streams failed during the storm (${afterStorm.firstGone})`);
    log(`${subject.name}: storm to full config ${result.storm.seconds.toFixed(2)} s`);
    await sleep(1_000);

    const drainsOk = await runDrains(server, pool, mesh, scoping, point, limits, result, log);
    if (drainsOk && scoping) await runPopular(server, pool, mesh, scoping, new Set(uniformTargets(mesh, scoping, point.drains).map((e) => e.pod)), point, limits, result, log);
    if (drainsOk) await runDeploy(server, pool, mesh, limits, result, log);
  } catch (err) {
    notes.push(`aborted: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearInterval(watchdog);
    const serverStats = server.stats();
    result.server = { cpuSeconds: serverStats.cpuSeconds, peakRssMb: serverStats.peakRssMb, endRssMb: serverStats.rssMb };
    const workers = pool.stats();
    if (result.scope) {
      const outOfScope = (await pool.status().catch(() => undefined))?.outOfScope ?? 0;
      result.scope.outOfScope = outOfScope;
      if (outOfScope > 0) notes.push(`${outOfScope} clusters or assignments were sent to streams that had not declared them`);
    }
    result.loadgen = { cpuSeconds: workers.reduce((a, w) => a + w.cpuSeconds, 0), peakRssMb: workers.reduce((a, w) => a + w.peakRssMb, 0) };
    await pool.close();
    await server.stop();
  }
  return result;
}

/** Drains `targets` one after another; each is timed to every stream that depends on its service. */
async function drainSeries(
  server: ServerProcess,
  pool: LoadPool,
  targets: BenchEndpoint[],
  limits: Limits,
  subject: string,
  notes: string[],
  log: (line: string) => void,
): Promise<DrainSeries> {
  const series: DrainSeries = { attempted: 0, completed: 0, everyReceivedMs: [], everyAckedMs: [], dependents: [], leaked: 0, perStream: summarize([]), bytesPerDrain: Number.NaN };
  const zones: ZoneChecks = { distinctZones: [], ownZoneFirst: [], wrongZone: 0 };
  let zoned = false;
  const perStream: number[] = [];
  let bytes = 0;
  for (const target of targets) {
    series.attempted += 1;
    pool.watch(target.service, target.ip);
    const before = (await pool.status()).bytes;
    const reply = await server.request({ op: 'drain', pod: target.pod });
    const observed = reply.atMs!;
    const ok = await pool.waitDone([target.ip], limits.drainTimeoutMs);
    const times = (await pool.collect([target.ip])).get(target.ip)!;
    bytes += (await pool.status()).bytes - before;
    const expected = times.expected ?? (await pool.status()).alive;
    series.leaked += times.leaked ?? 0;
    if (times.leaked) notes.push(`drain of ${target.pod}: ${times.leaked} streams that do not depend on ${target.service} were sent it`);
    if (times.ownZoneFirst || times.wrongZone) {
      zoned = true;
      const byZone = Object.values(times.ownZoneFirst ?? {});
      zones.distinctZones.push(byZone.length);
      zones.ownZoneFirst.push(byZone.reduce((a, b) => a + b, 0));
      zones.wrongZone += times.wrongZone ?? 0;
      if (times.wrongZone) notes.push(`drain of ${target.pod}: ${times.wrongZone} streams were sent it without their own zone alone at priority 0`);
    }
    if (!ok) {
      notes.push(`drain of ${target.pod}: ${times.received.length}/${expected} dependent streams saw DRAINING within ${limits.drainTimeoutMs / 1000} s; later drains skipped`);
      break;
    }
    series.completed += 1;
    series.dependents.push(expected);
    // A drain no stream depends on (possible in a scoped mesh) reaches every dependent at once.
    const last = times.received.length > 0 ? maxOf(times.received) - observed : 0;
    series.everyReceivedMs.push(last);
    series.everyAckedMs.push(times.acked.length > 0 ? maxOf(times.acked) - observed : 0);
    for (const t of times.received) perStream.push(t - observed);
    log(`${subject}: drain ${target.pod} → every dependent stream (${expected}) in ${last.toFixed(1)} ms`);
    await sleep(200);
  }
  series.perStream = summarize(perStream);
  series.bytesPerDrain = series.completed > 0 ? bytes / series.completed : Number.NaN;
  if (zoned) series.zones = zones;
  return series;
}

/** Scoped: one pod of each of `drains` services spread evenly over those with a dependent; else over the mesh. */
function uniformTargets(mesh: Mesh, scoping: Scoping | undefined, count: number): BenchEndpoint[] {
  if (!scoping) return mesh.drainTargets(count);
  const services = mesh.serviceNames.filter((s) => s !== ROLLOUT_SERVICE && scoping.dependentsOf(s) > 0);
  return mesh.drainTargetsOver(services, count);
}

async function runDrains(
  server: ServerProcess,
  pool: LoadPool,
  mesh: Mesh,
  scoping: Scoping | undefined,
  point: SizePoint,
  limits: Limits,
  result: RunResult,
  log: (line: string) => void,
): Promise<boolean> {
  const meter = new PhaseMeter(server, pool);
  const targets = uniformTargets(mesh, scoping, point.drains);
  const series = await drainSeries(server, pool, targets, limits, result.subject, result.notes, log);
  Object.assign(result.drains, {
    attempted: series.attempted,
    completed: series.completed,
    everyReceivedMs: series.everyReceivedMs,
    everyAckedMs: series.everyAckedMs,
    perStream: series.perStream,
    bytesPerDrain: series.bytesPerDrain,
  });
  if (scoping) {
    result.drains.dependents = series.dependents;
    result.drains.leaked = series.leaked;
  }
  if (series.zones) result.drains.zones = series.zones;
  result.drains.cpu = meter.end();
  const stats = await server.request({ op: 'stats' }, 10_000).catch(() => undefined);
  const memory = stats?.stats;
  if ((point.perspectives !== undefined || point.zones !== undefined) && typeof memory?.endpointVariantRevisions === 'number') {
    const variants = { services: memory.endpointVariantNames as number, variants: memory.endpointVariantRevisions, perspectives: memory.perspectives as number };
    result.variants = variants;
    const declared = point.zones !== undefined ? `${point.zones} zone${point.zones === 1 ? '' : 's'}` : `${point.perspectives} perspectives`;
    result.notes.push(`${declared} declared: ${variants.perspectives} perspectives held, ${variants.variants} assignment variants over ${variants.services} services`);
  }
  if (memory && typeof memory.heapUsedMb === 'number') {
    const heapSpacesMb = Object.fromEntries(
      Object.entries(memory)
        .filter(([key]) => key.startsWith('heapSpaceMb:'))
        .map(([key, value]) => [key.slice('heapSpaceMb:'.length), value as number]),
    );
    result.serverMemory = {
      heapUsedMb: memory.heapUsedMb,
      heapTotalMb: memory.heapTotalMb as number,
      externalMb: memory.externalMb as number,
      arrayBuffersMb: memory.arrayBuffersMb as number,
      rssMb: memory.rssMb as number,
      heapSpacesMb,
    };
  }
  for (const target of targets) {
    const tracked = stats?.stats?.[`drain:${target.pod}`];
    if (Array.isArray(tracked)) result.drains.serverTrackedMs.push(tracked[0]!);
  }
  return result.drains.completed === result.drains.attempted && result.drains.completed > 0;
}

/** Scoped: drains of the most popular service's pods, the widest fan-out of the mesh. */
async function runPopular(
  server: ServerProcess,
  pool: LoadPool,
  mesh: Mesh,
  scoping: Scoping,
  drained: ReadonlySet<string>,
  point: SizePoint,
  limits: Limits,
  result: RunResult,
  log: (line: string) => void,
): Promise<void> {
  const service = scoping.mostPopular();
  const counts = mesh.serviceNames.map((s) => scoping.dependentsOf(s));
  const targets = mesh.podsToDrain(service, point.drains, drained);
  const popular = await drainSeries(server, pool, targets, limits, result.subject, result.notes, log);
  const stats = (await server.request({ op: 'stats' }, 10_000).catch(() => undefined))?.stats;
  const mib = (key: string): number => (typeof stats?.[key] === 'number' ? stats[key] : Number.NaN);
  const memoryAfter =
    stats && typeof stats.heapUsedMb === 'number' ? { heapUsedMb: mib('heapUsedMb'), externalMb: mib('externalMb'), arrayBuffersMb: mib('arrayBuffersMb'), rssMb: mib('rssMb') } : undefined;
  const serverTrackedMs = targets.flatMap((t) => {
    const tracked = stats?.[`drain:${t.pod}`];
    return Array.isArray(tracked) ? [tracked[0]!] : [];
  });
  result.scope = {
    dependencies: scoping.spec.dependencies,
    sets: scoping.spec.sets,
    distinctSets: scoping.distinctSets(),
    dependentsMin: Math.min(...counts),
    dependentsMax: Math.max(...counts),
    dependentsMean: counts.reduce((a, b) => a + b, 0) / counts.length,
    popular: { ...popular, service, dependentsOfService: scoping.dependentsOf(service) },
    outOfScope: 0,
    ...(memoryAfter ? { memoryAfter } : {}),
    ...(serverTrackedMs.length > 0 ? { serverTrackedMs } : {}),
  };
}

/** Replaces every pod of the rollout service one at a time; old pods go only after the new ones are in. */
async function runDeploy(server: ServerProcess, pool: LoadPool, mesh: Mesh, limits: Limits, result: RunResult, log: (line: string) => void): Promise<void> {
  const old = mesh.rolloutPods();
  const deploy = { pods: old.length, completed: 0, everyReceivedMs: [] as number[], seconds: null as number | null, bytes: 0, cpu: undefined as PhaseCpu | undefined };
  result.deploy = deploy;
  if (old.length === 0) return;
  const meter = new PhaseMeter(server, pool);
  // Every old pod is watched before the first step, and the status round trip makes sure each
  // worker has taken the watches in: a watch sent beside its drain could reach a busy worker after
  // the DRAINING assignment did, and the last step's drain would then never count as received.
  for (const target of old) pool.watch(ROLLOUT_SERVICE, target.ip);
  const before = (await pool.status()).bytes;
  const observed = new Map<string, number>();
  const replies: Promise<unknown>[] = [];
  const t0 = now();
  // Open loop: steps go out on the clock whether or not the server has answered the last one, as
  // a Deployment controller does not wait for the control plane.
  for (let i = 0; i < old.length; i++) {
    const fresh: BenchEndpoint = mesh.newPod(ROLLOUT_SERVICE, 0, `rollout-v2-${i}`);
    const target = old[i]!;
    replies.push(server.request({ op: 'add', endpoint: fresh }));
    replies.push(server.request({ op: 'drain', pod: target.pod }).then((reply) => observed.set(target.ip, reply.atMs!)));
    await sleep(limits.deployStepMs);
  }
  await Promise.all(replies);
  const ips = old.map((e) => e.ip);
  const ok = await pool.waitDone(ips, limits.deployTimeoutMs);
  const times = await pool.collect(ips);
  // Streams that died earlier (counted in the notes) cannot receive anything.
  const alive = (await pool.status()).alive;
  let last = 0;
  for (const [ip, t] of times) {
    if (t.received.length === 0) continue;
    const lastReceived = maxOf(t.received);
    last = Math.max(last, lastReceived);
    // Scoped: the streams that depend on the rollout service (the Go worker counts them).
    if (t.received.length >= (t.expected ?? alive)) {
      deploy.completed += 1;
      deploy.everyReceivedMs.push(lastReceived - observed.get(ip)!);
    }
  }
  if (ok) deploy.seconds = (last - t0) / 1000;
  else result.notes.push(`rolling deploy: ${deploy.completed}/${old.length} drains reached every stream within ${limits.deployTimeoutMs / 1000} s`);
  deploy.bytes = (await pool.status()).bytes - before;
  deploy.cpu = meter.end();
  // The grace periods end: old pods go away (not timed).
  for (const pod of old) await server.request({ op: 'remove', pod: pod.pod }).catch(() => undefined);
  log(`${result.subject}: rolling deploy of ${old.length} pods converged in ${deploy.seconds?.toFixed(2) ?? 'n/a'} s`);
}
