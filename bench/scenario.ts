// One benchmark run: one server, one mesh size, the full event script — connect storm, single
// drains, a rolling deploy — with every figure measured the same way for every server.
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadPool, type LoadgenSpec } from './loadgen/pool.js';
import { Mesh, ROLLOUT_SERVICE, type BenchEndpoint, type MeshSpec } from './mesh.js';
import { ServerProcess, type ProcStats } from './procs.js';
import { maxOf, summarize, type Summary } from './stats.js';

export interface SizePoint extends MeshSpec {
  streams: number;
  /** Single drains, one after another. */
  drains: number;
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
  };
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
  const notes: string[] = [];
  const server = new ServerProcess(subject.name, subject.command, subject.args, { BENCH_CLUSTERS: String(point.clusters), ...subject.env });
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
    pool.connect(port, point.streams, point.services, `${subject.name}-node`);
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

    const drainsOk = await runDrains(server, pool, mesh, point, limits, result, log);
    if (drainsOk) await runDeploy(server, pool, mesh, limits, result, log);
  } catch (err) {
    notes.push(`aborted: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearInterval(watchdog);
    const serverStats = server.stats();
    result.server = { cpuSeconds: serverStats.cpuSeconds, peakRssMb: serverStats.peakRssMb, endRssMb: serverStats.rssMb };
    const workers = pool.stats();
    result.loadgen = { cpuSeconds: workers.reduce((a, w) => a + w.cpuSeconds, 0), peakRssMb: workers.reduce((a, w) => a + w.peakRssMb, 0) };
    await pool.close();
    await server.stop();
  }
  return result;
}

async function runDrains(server: ServerProcess, pool: LoadPool, mesh: Mesh, point: SizePoint, limits: Limits, result: RunResult, log: (line: string) => void): Promise<boolean> {
  const meter = new PhaseMeter(server, pool);
  const perStream: number[] = [];
  let bytes = 0;
  for (const target of mesh.drainTargets(point.drains)) {
    result.drains.attempted += 1;
    pool.watch(target.service, target.ip);
    const before = (await pool.status()).bytes;
    const reply = await server.request({ op: 'drain', pod: target.pod });
    const observed = reply.atMs!;
    const ok = await pool.waitDone([target.ip], limits.drainTimeoutMs);
    const times = (await pool.collect([target.ip])).get(target.ip)!;
    bytes += (await pool.status()).bytes - before;
    if (!ok) {
      result.notes.push(`drain of ${target.pod}: ${times.received.length}/${point.streams} streams saw DRAINING within ${limits.drainTimeoutMs / 1000} s; later drains skipped`);
      break;
    }
    result.drains.completed += 1;
    result.drains.everyReceivedMs.push(maxOf(times.received) - observed);
    result.drains.everyAckedMs.push(maxOf(times.acked) - observed);
    for (const t of times.received) perStream.push(t - observed);
    log(`${result.subject}: drain ${target.pod} → every stream in ${(maxOf(times.received) - observed).toFixed(1)} ms`);
    await sleep(200);
  }
  result.drains.cpu = meter.end();
  result.drains.perStream = summarize(perStream);
  result.drains.bytesPerDrain = result.drains.completed > 0 ? bytes / result.drains.completed : Number.NaN;
  const stats = await server.request({ op: 'stats' }, 10_000).catch(() => undefined);
  const memory = stats?.stats;
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
  for (const target of mesh.drainTargets(point.drains)) {
    const tracked = stats?.stats?.[`drain:${target.pod}`];
    if (Array.isArray(tracked)) result.drains.serverTrackedMs.push(tracked[0]!);
  }
  return result.drains.completed === result.drains.attempted && result.drains.completed > 0;
}

/** Replaces every pod of the rollout service one at a time; old pods go only after the new ones are in. */
async function runDeploy(server: ServerProcess, pool: LoadPool, mesh: Mesh, limits: Limits, result: RunResult, log: (line: string) => void): Promise<void> {
  const old = mesh.rolloutPods();
  const deploy = { pods: old.length, completed: 0, everyReceivedMs: [] as number[], seconds: null as number | null, bytes: 0, cpu: undefined as PhaseCpu | undefined };
  result.deploy = deploy;
  if (old.length === 0) return;
  const meter = new PhaseMeter(server, pool);
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
    pool.watch(ROLLOUT_SERVICE, target.ip);
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
    if (t.received.length >= alive) {
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
