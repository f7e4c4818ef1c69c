import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, tail, type Managed, type ProcessGroup } from './processes.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const HERALD_MAIN = join(REPO_ROOT, 'dist', 'main.js');

export interface HeraldClusterArg {
  name: string;
  kubeconfig: string;
  context?: string;
}

export interface HeraldOptions {
  group: ProcessGroup;
  /** Where the log file goes. */
  dir: string;
  clusters: HeraldClusterArg[];
  localCluster?: string;
  initialSyncTimeout?: string;
  extraArgs?: string[];
}

export interface ReadyzBody {
  ready: boolean;
  reasons: string[];
  xdsServing: boolean;
  missingClusters: string[];
  clusters: { cluster: string; state: string; everSynced: boolean; lastError?: string | null }[];
}

/** Herald as operators run it: its own process, started through the real CLI. */
export class HeraldProcess {
  readonly xdsPort: number;
  readonly adminPort: number;
  private readonly proc: Managed;
  private readonly group: ProcessGroup;

  private constructor(proc: Managed, group: ProcessGroup, xdsPort: number, adminPort: number) {
    this.proc = proc;
    this.group = group;
    this.xdsPort = xdsPort;
    this.adminPort = adminPort;
  }

  static async start(options: HeraldOptions): Promise<HeraldProcess> {
    if (!existsSync(HERALD_MAIN)) throw new Error(`e2e: ${HERALD_MAIN} is missing: run npm run build first`);
    const xdsPort = await freePort();
    const adminPort = await freePort();
    const args = [HERALD_MAIN, 'serve'];
    for (const c of options.clusters) args.push('--cluster', `${c.name}=${c.kubeconfig}${c.context ? `#${c.context}` : ''}`);
    if (options.localCluster) args.push('--local-cluster', options.localCluster);
    args.push(
      '--xds-host',
      '127.0.0.1',
      '--xds-port',
      String(xdsPort),
      '--admin-host',
      '127.0.0.1',
      '--admin-port',
      String(adminPort),
      '--initial-sync-timeout',
      options.initialSyncTimeout ?? '20s',
      '--log-level',
      'info',
      ...(options.extraArgs ?? []),
    );
    // Herald reads HERALD_* variables as flags: keep the developer's own out of the test.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
    const logFile = join(options.dir, `herald-${adminPort}.log`);
    const proc = options.group.start('herald', process.execPath, args, logFile, env);
    const herald = new HeraldProcess(proc, options.group, xdsPort, adminPort);
    await eventually(
      'herald /healthz answers',
      async () => {
        if (proc.hasExited()) throw new Error(`herald exited:\n${tail(logFile)}`);
        const res = await fetch(`${herald.adminUrl}/healthz`);
        return res.status === 200 ? true : undefined;
      },
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail(logFile)}`);
    });
    return herald;
  }

  get xdsTarget(): string {
    return `127.0.0.1:${this.xdsPort}`;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  get pid(): number {
    return this.proc.pid;
  }

  exited(): boolean {
    return this.proc.hasExited();
  }

  async readyz(): Promise<{ status: number; body: ReadyzBody }> {
    const res = await fetch(`${this.adminUrl}/readyz`);
    return { status: res.status, body: (await res.json()) as ReadyzBody };
  }

  async debug<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.adminUrl}/debug/${path}`);
    return { status: res.status, body: (await res.json()) as T };
  }

  /** Value of one Prometheus sample, or undefined when the series does not exist. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const text = await (await fetch(`${this.adminUrl}/metrics`)).text();
    return parseMetric(text, name, labels);
  }

  log(): string {
    try {
      return readFileSync(this.proc.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Waits for a line the daemon logs: a log line follows the state change it reports (and pino
   * writes asynchronously), so a test that has seen the change may read the file before the line.
   */
  async waitForLog(wanted: string | RegExp, timeoutMs: number): Promise<void> {
    const found = (): boolean => (typeof wanted === 'string' ? this.log().includes(wanted) : wanted.test(this.log()));
    await eventually(`a log line matching ${String(wanted)}`, () => (found() ? true : undefined), timeoutMs);
  }

  logTail(lines = 30): string {
    return tail(this.proc.logFile, lines);
  }

  async stop(): Promise<void> {
    await this.group.stop(this.proc, 15_000);
  }
}

/** Finds `name{labels...} value` in Prometheus text; every given label must match. */
export function parseMetric(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const m of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}
