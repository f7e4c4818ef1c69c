import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A child process this harness started, with its output in a log file. */
export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  hasExited(): boolean;
}

/**
 * Every process a test file starts, so they can be stopped by pid at the end — also when the
 * test process itself is interrupted or exits early.
 */
export class ProcessGroup {
  private readonly live = new Map<number, Managed>();
  private readonly onExit = (): void => this.killAllNow();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.killAllNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  constructor() {
    process.on('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  start(name: string, command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Managed {
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    if (child.pid === undefined) throw new Error(`e2e: could not start ${name} (${command})`);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    let done = false;
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => {
        done = true;
        this.live.delete(child.pid!);
        resolve(code ?? signal ?? 'unknown');
      });
      child.once('error', () => {
        done = true;
        this.live.delete(child.pid!);
        resolve('spawn-error');
      });
    });
    void exited.then(() => setTimeout(() => log.end(), 50));
    const managed: Managed = { name, pid: child.pid, child, logFile, exited, hasExited: () => done };
    this.live.set(child.pid, managed);
    return managed;
  }

  /** SIGTERM, then SIGKILL if the process is still there after graceMs. */
  async stop(proc: Managed, graceMs = 10_000): Promise<void> {
    if (proc.hasExited()) return;
    signal(proc.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(proc.pid, 'SIGKILL'), graceMs);
    await proc.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: the process gets no chance to say goodbye (an apiserver crash). */
  async kill(proc: Managed): Promise<void> {
    if (proc.hasExited()) return;
    signal(proc.pid, 'SIGKILL');
    await proc.exited;
  }

  async stopAll(graceMs = 10_000, which: (proc: Managed) => boolean = () => true): Promise<void> {
    await Promise.all([...this.live.values()].filter(which).map((p) => this.stop(p, graceMs)));
  }

  dispose(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private killAllNow(): void {
    for (const proc of this.live.values()) signal(proc.pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** The last lines of a log, for failure messages. */
export function tail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** An error that ends `eventually` at once: waiting longer cannot help (the process exited). */
export function fatal(message: string): Error {
  return Object.assign(new Error(message), { fatal: true });
}

/** Polls `check` until it returns a value other than undefined, at most timeoutMs, or until it throws a fatal() error. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
      if ((error as { fatal?: boolean }).fatal === true) throw new Error(`e2e: ${what}: ${(error as Error).message}`, { cause: error });
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`e2e: ${what}: not within ${timeoutMs} ms${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
