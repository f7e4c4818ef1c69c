// Drives grpc-xds-probe (grpc-go's xDS client) from a test: one process, one channel to an
// xds:/// target, commands on stdin, one JSON answer line per command on stdout.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CallReport {
  /** Replies per backend name. */
  backends: Record<string, number>;
  errors: number;
  lastError?: string;
}

export interface GrpcGoProbeOptions {
  binary: string;
  /** e.g. xds:///echo */
  target: string;
  /** grpc-go's bootstrap, passed as GRPC_XDS_BOOTSTRAP_CONFIG. */
  bootstrap: object;
  /** Deadline of each call; default 5000 ms. */
  callDeadlineMs?: number;
  /** How long start() waits for the process to come up; default 10 s. */
  startTimeoutMs?: number;
}

// Variables that would send the probe's traffic anywhere but where the bootstrap says.
const DROPPED_ENV = ['GRPC_XDS_BOOTSTRAP', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'GRPC_PROXY', 'grpc_proxy', 'ALL_PROXY', 'all_proxy'];

export class GrpcGoProbe {
  private readonly lines: string[] = [];
  private readonly waiting: ((line: string | undefined) => void)[] = [];
  private stderrTail = '';
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly callDeadlineMs: number,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4_000);
    });
    child.stdin.on('error', () => undefined);
    this.exit = new Promise((resolve) =>
      child.on('close', () => {
        this.exited = true;
        for (const waiter of this.waiting.splice(0)) waiter(undefined);
        resolve();
      }),
    );
  }

  static async start(options: GrpcGoProbeOptions): Promise<GrpcGoProbe> {
    const deadlineMs = options.callDeadlineMs ?? 5_000;
    const env: NodeJS.ProcessEnv = { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(options.bootstrap) };
    for (const name of DROPPED_ENV) delete env[name];
    const child = spawn(options.binary, ['-target', options.target, '-deadline', `${deadlineMs}ms`], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const probe = new GrpcGoProbe(child, deadlineMs);
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned;
    const first = await probe.nextLine(options.startTimeoutMs ?? 10_000);
    if (!first.includes('"started"')) {
      await probe.close();
      throw new Error(`grpc-xds-probe did not start: ${first} ${probe.stderrTail}`);
    }
    return probe;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Recent stderr of the probe (grpc-go logs), for failure messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Makes n sequential calls and reports which backend answered each. */
  async call(n: number): Promise<CallReport> {
    if (this.exited) throw new Error(`grpc-xds-probe has exited: ${this.stderrTail}`);
    this.child.stdin.write(`call ${n}\n`);
    // Each call is bounded by its deadline; the margin covers process scheduling.
    const line = await this.nextLine(n * this.callDeadlineMs + 10_000);
    const parsed = JSON.parse(line) as CallReport | { error: string };
    if ('error' in parsed) throw new Error(`grpc-xds-probe: ${parsed.error}`);
    return parsed;
  }

  /** Asks the probe to quit, then kills it by pid if it has not exited within graceMs. */
  async close(graceMs = 3_000): Promise<void> {
    if (this.exited) return;
    this.child.stdin.end('quit\n');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const late = await Promise.race([this.exit.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late && !this.exited && this.child.pid !== undefined) {
      process.kill(this.child.pid, 'SIGKILL');
      await this.exit;
    }
  }

  private nextLine(timeoutMs: number): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exited) return Promise.reject(new Error(`grpc-xds-probe has exited: ${this.stderrTail}`));
    return new Promise((resolve, reject) => {
      const waiter = (line: string | undefined) => {
        clearTimeout(timer);
        if (line === undefined) reject(new Error(`grpc-xds-probe exited: ${this.stderrTail}`));
        else resolve(line);
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new Error(`no answer from grpc-xds-probe within ${timeoutMs} ms; stderr: ${this.stderrTail}`));
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }
}
