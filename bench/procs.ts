// Child processes of a benchmark run: a server speaking the control protocol on stdin/stdout,
// and /proc readings so every process (Herald, the Go peer, load generators) is measured alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ControlCommand, ControlReply } from './mesh.js';

const CLOCK_TICKS = 100;

export interface ProcStats {
  cpuSeconds: number;
  rssMb: number;
  /** Peak RSS over the process's life. */
  peakRssMb: number;
}

/** CPU (user+system) and memory of a live process, from /proc; zeros once it is gone. */
export function procStats(pid: number | undefined): ProcStats {
  if (pid === undefined) return { cpuSeconds: 0, rssMb: 0, peakRssMb: 0 };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSeconds, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return { cpuSeconds: 0, rssMb: 0, peakRssMb: 0 };
  }
}

type Command = ControlCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** A benchmarked xDS server: Herald's bench entry or the Go peer, same protocol. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly port: Promise<number>;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: ControlReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private exited: string | undefined;
  private peak = 0;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: Record<string, string> = {},
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let listening: (port: number) => void = () => {};
    let failed: (err: Error) => void = () => {};
    this.port = new Promise((resolve, reject) => {
      listening = resolve;
      failed = reject;
    });
    const lines = createInterface({ input: this.child.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      let message: ControlReply & { event?: string; port?: number };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        process.stderr.write(`[${name}] ${line}\n`);
        return;
      }
      if (message.event === 'listening' && message.port !== undefined) return listening(message.port);
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.ok) waiter.resolve(message);
      else waiter.reject(new Error(`${name}: ${message.error ?? 'command failed'}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `exited (code ${code}, signal ${signal})`;
      const err = new Error(`${name} ${this.exited}`);
      failed(err);
      for (const waiter of this.waiting.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(err);
      }
      this.waiting.clear();
    });
    this.child.stdin!.on('error', () => {});
  }

  get gone(): string | undefined {
    return this.exited;
  }

  request(command: Command, timeoutMs = 120_000): Promise<ControlReply> {
    if (this.exited) return Promise.reject(new Error(`${this.name} ${this.exited}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no reply to ${command.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  stats(): ProcStats {
    const stats = procStats(this.exited ? undefined : this.child.pid);
    this.peak = Math.max(this.peak, stats.peakRssMb);
    return { ...stats, peakRssMb: this.peak };
  }

  /** Asks the server to quit, then kills it (by its own pid) if it does not go within the grace. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stats();
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.request({ op: 'quit' }, graceMs).catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
