// The orchestrator's handle on the load generator processes: Go workers (herald-bench-loadgen,
// JSON lines on stdin/stdout) or Node workers (worker.ts, fork IPC), with the same commands and
// events either way.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { procStats, type ProcStats } from '../procs.js';
import type { DrainTimes, Places, WorkerCommand, WorkerEvent } from './worker.js';

type StatusEvent = Extract<WorkerEvent, { event: 'status' }>;

export interface PoolStatus {
  streams: number;
  alive: number;
  full: number;
  bytes: number;
  responses: number;
  outOfScope: number;
  firstGone: string | undefined;
}

/** A scoped connect: stream i of the run declares sets[setOf[i]] (see scope.ts). */
export interface StreamScopes {
  sets: string[][];
  setOf: number[];
}

/** Which load generator runs the simulated Envoys. */
export type LoadgenSpec = { kind: 'node' } | { kind: 'go'; binary: string };

interface Worker {
  child: ChildProcess;
  send(command: WorkerCommand): void;
  exited: boolean;
  fullAt: number | undefined;
  done: Set<string>;
  peakRssMb: number;
}

export class LoadPool {
  private readonly workers: Worker[] = [];
  private readonly listeners = new Set<(worker: Worker, event: WorkerEvent) => void>();

  constructor(count: number, loadgen: LoadgenSpec = { kind: 'node' }) {
    for (let i = 0; i < count; i++) {
      const worker = loadgen.kind === 'go' ? goWorker(loadgen.binary) : nodeWorker();
      worker.child.on('exit', () => {
        worker.exited = true;
      });
      worker.child.on('error', (err) => {
        process.stderr.write(`[loadgen ${i}] ${err.message}\n`);
        worker.exited = true;
      });
      const onEvent = (event: WorkerEvent): void => {
        if (event.event === 'full') worker.fullAt = event.at;
        if (event.event === 'done') worker.done.add(event.ip);
        for (const listener of [...this.listeners]) listener(worker, event);
      };
      if (loadgen.kind === 'go') {
        createInterface({ input: worker.child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
          let event: WorkerEvent;
          try {
            event = JSON.parse(line) as WorkerEvent;
          } catch {
            process.stderr.write(`[loadgen ${i}] ${line}\n`);
            return;
          }
          onEvent(event);
        });
      } else {
        worker.child.on('message', onEvent);
      }
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private send(worker: Worker, command: WorkerCommand): void {
    if (!worker.exited) worker.send(command);
  }

  /**
   * Opens `streams` ADS streams spread over the workers, all at once; scoped, each declares its
   * set; with `places`, stream i declares kube cluster and zone by turns (worker.ts placeOf).
   */
  connect(port: number, streams: number, expectedClusters: number, prefix: string, scopes?: StreamScopes, places?: Omit<Places, 'firstIndex'>): void {
    let first = 0;
    this.workers.forEach((worker, i) => {
      const count = Math.floor(streams / this.workers.length) + (i < streams % this.workers.length ? 1 : 0);
      worker.fullAt = undefined;
      const scoped = scopes ? { sets: scopes.sets, setOf: scopes.setOf.slice(first, first + count) } : {};
      const declared = places === undefined ? {} : { places: { ...places, firstIndex: first } };
      this.send(worker, { op: 'connect', port, count, prefix: `${prefix}-w${i}`, expectedClusters, ...scoped, ...declared });
      first += count;
    });
  }

  watch(service: string, ip: string): void {
    for (const worker of this.workers) {
      worker.done.delete(ip);
      this.send(worker, { op: 'watch', service, ip });
    }
  }

  /** Resolves true once every worker reported the condition, false at the deadline. */
  private until(check: (worker: Worker) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const test = (): boolean => this.workers.every((w) => w.exited || check(w));
      if (test()) return resolve(true);
      const listener = (): void => {
        if (!test()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(ok);
      };
      this.listeners.add(listener);
    });
  }

  /** Waits for every stream to hold full config; returns the last stream's time, or undefined at the deadline. */
  async waitFull(timeoutMs: number): Promise<number | undefined> {
    const ok = await this.until((w) => w.fullAt !== undefined, timeoutMs);
    if (!ok) return undefined;
    return Math.max(...this.workers.map((w) => w.fullAt ?? 0));
  }

  waitDone(ips: readonly string[], timeoutMs: number): Promise<boolean> {
    return this.until((w) => ips.every((ip) => w.done.has(ip)), timeoutMs);
  }

  private ask<T extends WorkerEvent['event']>(command: WorkerCommand, reply: T): Promise<Array<Extract<WorkerEvent, { event: T }>>> {
    const live = this.workers.filter((w) => !w.exited);
    return new Promise((resolve) => {
      const answers = new Map<Worker, Extract<WorkerEvent, { event: T }>>();
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve([...answers.values()]);
      };
      const listener = (worker: Worker, event: WorkerEvent): void => {
        if (event.event !== reply) return;
        answers.set(worker, event as Extract<WorkerEvent, { event: T }>);
        if (answers.size >= live.length) finish();
      };
      // A worker that died does not answer; the rest still count.
      const timer = setTimeout(finish, 30_000);
      this.listeners.add(listener);
      for (const worker of live) this.send(worker, command);
      if (live.length === 0) finish();
    });
  }

  async collect(ips: string[]): Promise<Map<string, DrainTimes>> {
    const answers = await this.ask({ op: 'collect', ips }, 'collected');
    const out = new Map<string, DrainTimes>();
    for (const ip of ips) out.set(ip, { received: [], acked: [], leaked: 0 });
    for (const answer of answers) {
      for (const [ip, times] of Object.entries(answer.drains)) {
        const merged = out.get(ip)!;
        for (const t of times.received) merged.received.push(t);
        for (const t of times.acked) merged.acked.push(t);
        merged.leaked! += times.leaked ?? 0;
        if (times.expected !== undefined) merged.expected = (merged.expected ?? 0) + times.expected;
        if (times.wrongZone) merged.wrongZone = (merged.wrongZone ?? 0) + times.wrongZone;
        for (const [zone, n] of Object.entries(times.ownZoneFirst ?? {})) (merged.ownZoneFirst ??= {})[zone] = (merged.ownZoneFirst[zone] ?? 0) + n;
      }
    }
    return out;
  }

  async status(): Promise<PoolStatus> {
    const answers: StatusEvent[] = await this.ask({ op: 'status' }, 'status');
    const sum = (key: 'streams' | 'alive' | 'full' | 'bytes' | 'responses'): number => answers.reduce((total, a) => total + a[key], 0);
    return {
      streams: sum('streams'),
      alive: sum('alive'),
      full: sum('full'),
      bytes: sum('bytes'),
      responses: sum('responses'),
      outOfScope: answers.reduce((total, a) => total + (a.outOfScope ?? 0), 0),
      firstGone: answers.find((a) => a.firstGone !== undefined)?.firstGone,
    };
  }

  /** Stops one worker (the watchdog's last resort); its streams count as gone. */
  kill(index: number): void {
    const worker = this.workers[index];
    if (worker && !worker.exited) worker.child.kill('SIGKILL');
  }

  /** Per worker CPU seconds and memory, from /proc. */
  stats(): ProcStats[] {
    return this.workers.map((w) => {
      const stats = procStats(w.exited ? undefined : w.child.pid);
      w.peakRssMb = Math.max(w.peakRssMb, stats.peakRssMb);
      return { ...stats, peakRssMb: w.peakRssMb };
    });
  }

  async close(): Promise<void> {
    this.stats();
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exited) return resolve();
            const timer = setTimeout(() => worker.child.kill('SIGKILL'), 5_000);
            worker.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            this.send(worker, { op: 'close' });
          }),
      ),
    );
  }
}

function nodeWorker(): Worker {
  const script = fileURLToPath(new URL('./worker.js', import.meta.url));
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=3072'] });
  return {
    child,
    send: (command) => {
      if (child.connected) child.send(command);
    },
    exited: false,
    fullAt: undefined,
    done: new Set(),
    peakRssMb: 0,
  };
}

/** A Go worker reads commands as JSON lines on stdin and exits when stdin closes. */
function goWorker(binary: string): Worker {
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stdin = child.stdin!;
  // A worker that died mid-write must not take the orchestrator down with EPIPE.
  stdin.on('error', () => {});
  return {
    child,
    send: (command) => {
      if (stdin.writable) stdin.write(`${JSON.stringify(command)}\n`);
    },
    exited: false,
    fullAt: undefined,
    done: new Set(),
    peakRssMb: 0,
  };
}
