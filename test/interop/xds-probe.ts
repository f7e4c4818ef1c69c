// Drives a proxyless xDS probe (grpc-go's, grpc-java's or gRPC C-core's xDS client, see
// probe-clients.ts) from a test: one process, a channel to an xds:/// target, commands on stdin,
// one JSON answer line per command on stdout. Every probe speaks the same protocol:
//
//   started   first line: {"started": TARGET}
//   call N    N sequential unary calls on the target: {"backends": {name: count}, "errors": n, "lastError"?}
//   watch T   open one more channel, to xds:/// target T, and start it connecting: {"watching": T}
//   quit      exit (the probes also exit when stdin closes)
//
// and takes the same arguments: --target TARGET --deadline-ms N, its xDS bootstrap as JSON in
// GRPC_XDS_BOOTSTRAP_CONFIG.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CallReport {
  /** Replies per backend name. */
  backends: Record<string, number>;
  errors: number;
  lastError?: string;
}

/** How to run one probe: the program and its leading arguments; the common flags are appended. */
export interface ProbeLaunch {
  command: string;
  args: readonly string[];
  /** Added to the environment (e.g. a JVM's options). */
  env?: Readonly<Record<string, string>>;
}

export interface XdsProbeOptions {
  launch: ProbeLaunch;
  /** Names the probe in errors, e.g. grpc-java. */
  label?: string;
  /** e.g. xds:///echo */
  target: string;
  /** The xDS bootstrap, passed as GRPC_XDS_BOOTSTRAP_CONFIG. */
  bootstrap: object;
  /** Deadline of each call; default 5000 ms. */
  callDeadlineMs?: number;
  /** How long start() waits for the process to come up; default 30 s (a JVM on a loaded machine is slow). */
  startTimeoutMs?: number;
}

/** The bootstrap of a probe talking to a Herald on loopback, as a client in zone r1/z1. */
export function loopbackBootstrap(xdsPort: number, nodeId: string): object {
  return {
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, locality: { region: 'r1', zone: 'z1' } },
  };
}

// Variables that would send the probe's traffic anywhere but where the bootstrap says.
const DROPPED_ENV = ['GRPC_XDS_BOOTSTRAP', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'GRPC_PROXY', 'grpc_proxy', 'ALL_PROXY', 'all_proxy'];

export class XdsProbe {
  private readonly lines: string[] = [];
  private readonly waiting: ((line: string | undefined) => void)[] = [];
  private stderrTail = '';
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly callDeadlineMs: number,
    private readonly label: string,
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

  static async start(options: XdsProbeOptions): Promise<XdsProbe> {
    const deadlineMs = options.callDeadlineMs ?? 5_000;
    const label = options.label ?? options.launch.command;
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.launch.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(options.bootstrap) };
    for (const name of DROPPED_ENV) delete env[name];
    const child = spawn(options.launch.command, [...options.launch.args, '--target', options.target, '--deadline-ms', String(deadlineMs)], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const probe = new XdsProbe(child, deadlineMs, label);
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned;
    const first = await probe.nextLine(options.startTimeoutMs ?? 30_000);
    if (!first.includes('"started"')) {
      await probe.close();
      throw new Error(`${label} probe did not start: ${first} ${probe.stderrTail}`);
    }
    return probe;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Recent stderr of the probe (its gRPC library's logs), for failure messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Makes n sequential calls and reports which backend answered each. */
  async call(n: number): Promise<CallReport> {
    // Each call is bounded by its deadline; the margin covers process scheduling.
    return this.command<CallReport>(`call ${n}`, n * this.callDeadlineMs + 10_000);
  }

  /** Opens one more channel, to another xds:/// target, and starts it resolving and connecting. */
  async watch(target: string): Promise<void> {
    if (/\s/.test(target)) throw new Error(`watch: a target has no white space: '${target}'`);
    await this.command<{ watching: string }>(`watch ${target}`, 10_000);
  }

  private async command<T extends object>(line: string, timeoutMs: number): Promise<T> {
    if (this.exited) throw new Error(`${this.label} probe has exited: ${this.stderrTail}`);
    this.child.stdin.write(`${line}\n`);
    const answer = await this.nextLine(timeoutMs);
    const parsed = JSON.parse(answer) as T | { error: string };
    if ('error' in parsed) throw new Error(`${this.label} probe: ${parsed.error}`);
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
    if (this.exited) return Promise.reject(new Error(`${this.label} probe has exited: ${this.stderrTail}`));
    return new Promise((resolve, reject) => {
      const waiter = (line: string | undefined) => {
        clearTimeout(timer);
        if (line === undefined) reject(new Error(`${this.label} probe exited: ${this.stderrTail}`));
        else resolve(line);
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new Error(`no answer from the ${this.label} probe within ${timeoutMs} ms; stderr: ${this.stderrTail}`));
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }
}
