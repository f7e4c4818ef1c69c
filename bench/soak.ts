// The soak: the daemon as an operator runs it (`node dist/main.js demo`: simulated clusters
// whose rolling deploys drain a pod about every second), for minutes, with the six attackers of
// soak-attacks.ts and one well-behaved watcher at once, everything on loopback.
//
//   node .cache/bench-js/bench/soak.js [--minutes 5] [--out bench/results/soak.json] [--attacks churn,names,…]
//
// --attacks runs only the named attackers (churn, names, silent, half-sent, forged-nonce, csds),
// to see what one of them costs; by default all six.
//
// The watcher is an Envoy-like ADS client (src/xdsclient) on 127.0.0.1 for the whole soak; it
// notes every endpoint it is sent as DRAINING, and the daemon prints every drain it completed.
// The daemon's RSS (/proc) and /healthz are sampled every second, /metrics every 10 s and at the
// end. Exits non-zero if the daemon died, a /healthz probe failed, or the watcher missed a
// drain the daemon completed: facts of the run, not timing assertions.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AdsClient } from '../src/xdsclient/index.js';
import { benchProtos } from './bench-protos.js';
import { procStats } from './procs.js';
import { get, parseMetrics, startProbes } from './soak-probes.js';
import { ATTACK_KINDS, runAttacks, type AttackResult } from './soak-attacks.js';
import { summarize, type Summary } from './stats.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** The families read from /metrics at the end. */
export const SOAK_METRICS = [
  'herald_xds_limit_exceeded_total',
  'herald_xds_connections_refused_total',
  'herald_xds_connections_closed_total',
  'herald_xds_rejected_requests_total',
  'herald_nodejs_eventloop_lag_p99_seconds',
] as const;

export interface SoakResult {
  label: 'soak';
  date: string;
  command: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; loadBefore: number[]; loadAfter: number[] };
  daemon: {
    command: string;
    /** How it died during the soak; null if it lived until the soak stopped it. */
    died: string | null;
    /** Its exit code once the soak sent it SIGTERM. */
    exitAfterStop: number | null;
    cpuSeconds: number;
    /**
     * Its log lines at warn and above, by level and message (numbers left out), and its stderr
     * lines. Absent in a result from before the soak read the log from the daemon's stdout.
     */
    log?: Record<string, number>;
  };
  minutes: number;
  /** From the attackers' start to their stop. */
  attackSeconds: number;
  attacks: AttackResult[];
  drains: {
    /** Drains the daemon reported while the attackers ran: completed, timed out, or with no client subscribed. */
    done: number;
    complete: number;
    timedOut: number;
    noClient: number;
    /** Endpoints the watcher was sent as DRAINING while the attackers ran. */
    seenByWatcher: number;
    /** Completed drains whose endpoint the watcher was never sent as DRAINING. */
    missed: string[];
    /** Observed → every subscribed stream ACKed, as the daemon reports it, for the completed ones. */
    propagationMs: Summary;
  };
  watcher: { streams: number; breaks: Array<{ atSeconds: number; code: number; details: string }>; drainingUpdates: number; nacks: number };
  rss: { startMb: number; peakMb: number; endMb: number; hwmMb: number };
  healthz: { probes: number; failures: string[]; maxMs: number; p99Ms: number };
  /** herald_nodejs_eventloop_lag_{p99,max}_seconds, the largest of the 10 s scrapes. */
  eventLoop: { p99MaxSeconds: number; lagMaxSeconds: number };
  /** The SOAK_METRICS families at the end: labels → value. */
  metrics: Record<string, Record<string, number>>;
  /** Why the soak exits non-zero; empty if it passed. */
  failures: string[];
}

const log = (line: string): void => void process.stderr.write(`[soak] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, Math.max(0, ms)));

interface Options {
  minutes: number;
  out: string;
  attacks: string[];
}

function options(): Options {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, out: { type: 'string' }, attacks: { type: 'string' } } });
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 60) throw new Error(`--minutes: '${values.minutes}' must be a number above 0, at most 60`);
  const attacks = values.attacks === undefined ? ATTACK_KINDS : values.attacks.split(',');
  const unknown = attacks.filter((kind) => !ATTACK_KINDS.includes(kind));
  if (unknown.length > 0) throw new Error(`--attacks: no attacker ${unknown.join(', ')} (there are ${ATTACK_KINDS.join(', ')})`);
  return { minutes, out: resolve(values.out ?? join(repo, 'bench/results/soak.json')), attacks };
}

interface DrainLine {
  endpoint: string;
  kind: 'complete' | 'timedOut' | 'noClient';
  ms: number | undefined;
}

/** One line the demo prints per drain (src/cli/demo.ts). */
export function parseDrainLine(line: string): DrainLine | undefined {
  const m = /^DRAINING \S+ (\S+:\d+) \(.*\): (.*)$/.exec(line);
  if (!m) return undefined;
  const verdict = m[2]!;
  const acked = /^ACKed by \d+\/\d+ clients in (\d+) ms$/.exec(verdict);
  if (acked) return { endpoint: m[1]!, kind: 'complete', ms: Number(acked[1]) };
  return { endpoint: m[1]!, kind: verdict.startsWith('no xDS client') ? 'noClient' : 'timedOut', ms: undefined };
}

/** The demo as a child process: its ports, the drains it prints, its warnings, and how it ended. */
class Demo {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly ports: Promise<{ xds: number; admin: number }>;
  readonly drains: Array<DrainLine & { atMs: number }> = [];
  readonly log: Record<string, number> = {};
  died: string | null = null;
  stopping = false;
  readonly exited: Promise<number | null>;

  constructor(
    readonly args: string[],
    logFile: string,
  ) {
    this.child = spawn(process.execPath, [join(repo, 'dist/main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const started = Date.now();
    this.exited = new Promise((done) =>
      this.child.once('exit', (code, signal) => {
        if (!this.stopping) this.died = `exited (code ${code}, signal ${signal}) ${Math.round((Date.now() - started) / 1000)} s after it started`;
        done(code);
      }),
    );
    // All it writes goes to the file: its log is pino JSON on stdout, among the banner and the drain lines.
    mkdirSync(dirname(logFile), { recursive: true });
    const file = createWriteStream(logFile);
    let xds = 0;
    this.ports = new Promise((done, fail) => {
      void this.exited.then(() => fail(new Error(`the daemon ${this.died ?? 'exited'} before it listened`)));
      createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        file.write(`${line}\n`);
        if (line.startsWith('{')) return this.logLine(line);
        const port = /^\s+(xDS|admin)\s+(?:http:\/\/)?127\.0\.0\.1:(\d+)/.exec(line);
        if (port?.[1] === 'xDS') xds = Number(port[2]);
        else if (port) done({ xds, admin: Number(port[2]) });
        const drain = parseDrainLine(line);
        if (drain) this.drains.push({ ...drain, atMs: Date.now() });
      });
    });
    createInterface({ input: this.child.stderr, crlfDelay: Infinity }).on('line', (line) => {
      file.write(`${line}\n`);
      this.count(`stderr: ${line.slice(0, 120)}`);
    });
    this.child.once('close', () => file.end());
  }

  /** Counts a log line at warn or above by level and message, its numbers left out so alike lines count as one. */
  private logLine(line: string): void {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 40) this.count(`${entry.level! >= 50 ? 'error' : 'warn'}: ${(entry.msg ?? '(no msg)').replace(/\d+/g, 'N')}`);
    } catch {
      this.count(`not JSON: ${line.slice(0, 120)}`);
    }
  }

  private count(key: string): void {
    this.log[key] = (this.log[key] ?? 0) + 1;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM to its pid; SIGKILL to the same pid if it has not exited within graceMs. */
  async stop(graceMs: number): Promise<number | null> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, 'SIGKILL');
    }, graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** The well-behaved client: notes every endpoint it is sent as DRAINING, and every time its stream ends. */
function startWatcher(xdsPort: number, t0: number) {
  const client = new AdsClient({ target: `127.0.0.1:${xdsPort}`, nodeId: 'soak-watcher', cluster: 'soak', zone: 'a', region: 'soak', protos: benchProtos() });
  const seen = new Map<string, number>();
  const breaks: SoakResult['watcher']['breaks'] = [];
  let drainingUpdates = 0;
  client.on('assignment', (_name, assignment) => {
    for (const e of assignment.endpoints) {
      if (e.health !== 'DRAINING') continue;
      drainingUpdates += 1;
      const key = `${e.address}:${e.port}`;
      if (!seen.has(key)) seen.set(key, Date.now());
    }
  });
  client.on('streamEnd', (_target, code, details) => breaks.push({ atSeconds: Math.round((Date.now() - t0) / 1000), code, details }));
  client.on('error', () => undefined);
  client.start();
  return { client, seen, breaks, drainingUpdates: () => drainingUpdates };
}

async function main(): Promise<number> {
  const opts = options();
  const soakMs = Math.round(opts.minutes * 60_000);
  const loadBefore = loadavg();
  // The daemon stops itself a while after the soak would have, should the soak not stop it.
  const args = ['demo', '--duration', `${Math.ceil(soakMs / 1000) + 90}s`, '--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-host', '127.0.0.1', '--admin-port', '0'];
  const demo = new Demo(args, join(repo, '.cache/soak/daemon.log'));
  const onSignal = (): void => {
    void demo.stop(5_000).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await soak(demo, { ...opts, soakMs, loadBefore });
  } finally {
    // Stopped already unless the soak failed on the way.
    await demo.stop(5_000);
  }
}

async function soak(demo: Demo, { minutes, out, attacks: kinds, soakMs, loadBefore }: Options & { soakMs: number; loadBefore: number[] }): Promise<number> {
  const args = demo.args;
  const t0 = Date.now();
  const ports = await demo.ports;
  log(`daemon pid ${demo.pid}: xDS 127.0.0.1:${ports.xds}, admin 127.0.0.1:${ports.admin}`);

  const watcher = startWatcher(ports.xds, t0);
  await watcher.client.waitFor((c) => c.clusters().length > 0 && c.subscriptions().length > 0 && c.subscriptions().every((n) => c.assignment(n)), 30_000);
  const services = watcher.client.subscriptions();
  log(`watcher synced: ${services.length} services (${services.join(', ')})`);
  const probing = startProbes({ pid: demo.pid, adminPort: ports.admin, t0 });
  const cpuStart = procStats(demo.pid).cpuSeconds;
  // Drains tracked before the watcher subscribed are not its to see: the window opens a little later.
  await sleep(5_000);

  const windowStart = Date.now();
  const seenBefore = new Set(watcher.seen.keys());
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), soakMs);
  void demo.exited.then(() => abort.abort());
  log(`attacking for ${minutes} min`);
  const attacks = await runAttacks({ port: ports.xds, protos: benchProtos(), services, signal: abort.signal, minutes }, kinds);
  clearTimeout(timer);
  const attackSeconds = (Date.now() - windowStart) / 1000;
  log(`attackers stopped after ${attackSeconds.toFixed(0)} s`);
  // Drains under way when the attackers stopped finish (the last attacker streams are gone now).
  await sleep(5_000);
  const windowEnd = Date.now();

  const end = procStats(demo.pid);
  const metrics = await get(ports.admin, '/metrics', 10_000).then(
    (res) => parseMetrics(res.body, SOAK_METRICS),
    () => ({}),
  );
  const probes = await probing.stop();
  await watcher.client.close();
  const exitAfterStop = demo.died ? null : await demo.stop(15_000);

  const drains = demo.drains.filter((d) => d.atMs >= windowStart && d.atMs <= windowEnd);
  const complete = drains.filter((d) => d.kind === 'complete');
  const missed = complete.filter((d) => !watcher.seen.has(d.endpoint)).map((d) => d.endpoint);
  const seenByWatcher = [...watcher.seen].filter(([key, at]) => !seenBefore.has(key) && at >= windowStart && at <= windowEnd).length;
  const failures: string[] = [];
  if (demo.died) failures.push(`the daemon ${demo.died}`);
  if (probes.healthFailures.length > 0) failures.push(`${probes.healthFailures.length} /healthz probes failed (first: ${probes.healthFailures[0]})`);
  if (missed.length > 0) failures.push(`the watcher was never sent ${missed.length} drains the daemon completed (${missed.slice(0, 5).join(', ')})`);

  const result: SoakResult = {
    label: 'soak',
    date: new Date(windowStart).toISOString(),
    command: `node .cache/bench-js/bench/soak.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, loadBefore, loadAfter: loadavg() },
    daemon: { command: `node dist/main.js ${args.join(' ')}`, died: demo.died, exitAfterStop, cpuSeconds: end.cpuSeconds - cpuStart, log: demo.log },
    minutes,
    attackSeconds,
    attacks,
    drains: {
      done: drains.length,
      complete: complete.length,
      timedOut: drains.filter((d) => d.kind === 'timedOut').length,
      noClient: drains.filter((d) => d.kind === 'noClient').length,
      seenByWatcher,
      missed,
      propagationMs: summarize(complete.map((d) => d.ms!)),
    },
    watcher: { streams: watcher.client.stats().streams, breaks: watcher.breaks, drainingUpdates: watcher.drainingUpdates(), nacks: watcher.client.stats().nacks },
    rss: { startMb: probes.rssMb[0] ?? 0, peakMb: Math.max(0, ...probes.rssMb), endMb: end.rssMb, hwmMb: end.peakRssMb },
    healthz: {
      probes: probes.healthMs.length + probes.healthFailures.length,
      failures: probes.healthFailures,
      maxMs: Math.max(0, ...probes.healthMs),
      p99Ms: summarize(probes.healthMs).p99,
    },
    eventLoop: { p99MaxSeconds: probes.eventLoopP99, lagMaxSeconds: probes.eventLoopMax },
    metrics,
    failures,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
  summary(result, out.startsWith(repo) ? relative(repo, out) : out);
  return failures.length === 0 ? 0 : 1;
}

function summary(r: SoakResult, out: string): void {
  const lines = [
    `soak: ${r.minutes} min of attacks (${r.attackSeconds.toFixed(0)} s) on ${r.daemon.command}`,
    ...r.attacks.map(
      (a) =>
        `  ${a.kind} from ${a.from}: ${a.attempts} ${a.unit}; ${
          Object.entries(a.outcomes)
            .map(([k, v]) => `${v} ${k}`)
            .join('; ') || 'none ended'
        }`,
    ),
    `  drains: ${r.drains.done} done by the daemon (${r.drains.complete} complete, ${r.drains.timedOut} timed out, ${r.drains.noClient} with no client), ${r.drains.seenByWatcher} seen DRAINING by the watcher, ${r.drains.missed.length} missed`,
    `  watcher: ${r.watcher.streams} stream${r.watcher.streams === 1 ? '' : 's'}, ${r.watcher.breaks.length === 0 ? 'never broke' : `broke ${r.watcher.breaks.length} times`}`,
    `  RSS ${r.rss.startMb.toFixed(0)} → peak ${r.rss.peakMb.toFixed(0)} → ${r.rss.endMb.toFixed(0)} MiB (VmHWM ${r.rss.hwmMb.toFixed(0)}); /healthz max ${r.healthz.maxMs.toFixed(1)} ms over ${r.healthz.probes} probes; event loop p99 ≤ ${(r.eventLoop.p99MaxSeconds * 1000).toFixed(1)} ms`,
    r.failures.length === 0 ? `  passed; results in ${out}` : `  FAILED: ${r.failures.join('; ')}; results in ${out}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
      process.exit(1);
    },
  );
}
