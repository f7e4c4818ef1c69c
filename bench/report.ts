// Turns one result file into bench/RESULTS.md and the drain plot bench/drain-p99.svg.
//   node .cache/bench-js/bench/report.js [RESULT.json] [--out DIR] [--soak SOAK.json] [--scoped SCOPED.json] [--zones ZONES.json]
// RESULT.json defaults to bench/results/full.json (what `npm run bench` writes), DIR to bench/.
// Every figure in the report is read or computed from that one file, but those of the "Soak"
// section: from SOAK.json, by default bench/results/soak.json (what `npm run soak` writes) if
// there is one, and those of the "Scoped mesh" section: from SCOPED.json, by default
// bench/results/scoped.json (what `npm run bench:scoped` writes) if there is one, and those of
// the "Zone variants" section: from ZONES.json, by default bench/results/zones.json (what
// `npm run bench:zones` writes) if there is one.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { ResultFile } from './run.js';
import { limitsOfCommand, type RecordedLimits } from './run-options.js';
import type { RunResult } from './scenario.js';
import type { SoakResult } from './soak.js';
import { percentile, tailLabel } from './stats.js';
import { count, fmt, loadAverages } from './report-format.js';
import { COLORS, drainPlot, type Series } from './plot.js';
import { scopedSection } from './report-scoped.js';
import { zonesSection } from './report-zones.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
export const PLOT_FILE = 'drain-p99.svg';
const NOTES_LINK = 'results/notes.md';

const SUBJECT_ORDER = ['herald', 'peer-snapshot', 'peer-linear'];
const NAMES: Record<string, string> = { herald: 'Herald', 'peer-snapshot': 'SnapshotCache', 'peer-linear': 'LinearCache' };
const nameOf = (subject: string): string => NAMES[subject] ?? subject;

/** Herald's targets, at S=10k N=600 E=30k K=3. */
const TARGET_POINT = { streams: 10_000, services: 600, endpoints: 30_000, clusters: 3 };
const DRAIN_TARGET_MS = 200;
const STORM_TARGET_S = 30;
const RSS_TARGET_BYTES = 1e9;
const SNAPSHOT_FACTOR = 5;

const mb = (bytes: number | null): string => (bytes === null || Number.isNaN(bytes) ? '—' : bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(2)} MB`);
const times = (value: number): string => `${value.toFixed(2)}×`;
const DNF = 'did not finish';

/** Nearest-rank p99 of the drains to every stream: the largest of them below 100 drains. Null unless every drain finished. */
export function drainTail(run: RunResult): number | null {
  const complete = run.drains.completed > 0 && run.drains.completed === run.drains.attempted;
  return complete ? percentile(run.drains.everyReceivedMs, 99) : null;
}

const pointKey = (p: RunResult['point'] | typeof TARGET_POINT): string => `S=${p.streams} N=${p.services} E=${p.endpoints} K=${p.clusters}`;

/** The one number of drains the file has at every point; run.ts uses the same for all. */
export function drainsPerPoint(file: ResultFile): number {
  const counts = [...new Set(file.runs.map((r) => r.point.drains))];
  if (counts.length !== 1) throw new Error(`expected the same number of drains at every point, got ${counts.join(', ') || 'no runs'}`);
  return counts[0]!;
}

/** The header word for a drain figure of this file: "p99" from 100 drains, else "max of N drains". */
export const drainLabel = (file: ResultFile): string => tailLabel(drainsPerPoint(file), 'drain');

const limitsOf = (file: ResultFile): RecordedLimits => file.limits ?? limitsOfCommand(file.command);
const killed = (run: RunResult, limits: RecordedLimits): boolean => run.server.peakRssMb > limits.serverRssLimitMb;
const unique = <T>(values: T[]): T[] => [...new Set(values)];

function groupByPoint(file: ResultFile): Array<{ key: string; runs: RunResult[] }> {
  const byPoint = new Map<string, RunResult[]>();
  for (const run of file.runs) byPoint.set(pointKey(run.point), [...(byPoint.get(pointKey(run.point)) ?? []), run]);
  const rank = (s: string): number => (SUBJECT_ORDER.includes(s) ? SUBJECT_ORDER.indexOf(s) : SUBJECT_ORDER.length);
  return [...byPoint].map(([key, runs]) => ({ key, runs: runs.sort((a, b) => rank(a.subject) - rank(b.subject)) }));
}

const subjectsOf = (file: ResultFile): string[] => unique(groupByPoint(file).flatMap((p) => p.runs.map((r) => r.subject)));

// ---- the targets -----------------------------------------------------------------------------

interface Verdict {
  id: 'drain' | 'storm' | 'storm-vs-peers' | 'rss' | 'drain-vs-peer';
  target: string;
  measured: string;
  met: boolean;
}

function drainTarget(herald: RunResult, drains: number): Verdict {
  const id = 'drain';
  const target = `drain → DRAINING at every stream ≤ ${DRAIN_TARGET_MS} ms (p99) at ${pointKey(TARGET_POINT)}`;
  const tail = drainTail(herald);
  if (tail === null) return { id, target, measured: DNF, met: false };
  if (drains >= 100) return { id, target, measured: `p99 ${fmt(tail)} ms`, met: tail <= DRAIN_TARGET_MS };
  const over = herald.drains.everyReceivedMs.filter((ms) => ms > DRAIN_TARGET_MS).length;
  const measured = `${tailLabel(drains, 'drain')}: ${fmt(tail)} ms; ${over} of ${drains} over ${DRAIN_TARGET_MS} ms`;
  return { id, target, measured: over === 0 ? `${measured} (too few drains for a p99)` : measured, met: over === 0 };
}

/** "drain at least F× faster than PEER": the ratio at every point, and where the peer did not finish. */
function peerDrainTarget(file: ResultFile, peer: string, factor: number): Verdict | undefined {
  const target = factor > 1 ? `drain at least ${factor}× faster than ${nameOf(peer)}, at every point` : `drain faster than ${nameOf(peer)}, at every point`;
  const ratios: number[] = [];
  const unfinished: string[] = [];
  let met = true;
  for (const { key, runs } of groupByPoint(file)) {
    const herald = runs.find((r) => r.subject === 'herald');
    const theirs = runs.find((r) => r.subject === peer);
    if (!herald || !theirs) continue;
    const ours = drainTail(herald);
    const peerTail = drainTail(theirs);
    if (ours === null) met = false;
    else if (peerTail === null) unfinished.push(key);
    else {
      const ratio = peerTail / ours;
      ratios.push(ratio);
      if (factor > 1 ? ratio < factor : ratio <= 1) met = false;
    }
  }
  if (ratios.length === 0 && unfinished.length === 0) return undefined;
  const parts: string[] = [];
  if (ratios.length > 0)
    parts.push(`${nameOf(peer)} ÷ Herald ${times(Math.min(...ratios))} to ${times(Math.max(...ratios))} at the ${ratios.length} point${ratios.length === 1 ? '' : 's'} it finished`);
  if (unfinished.length > 0) parts.push(`${nameOf(peer)} did not finish at ${unfinished.join(', ')}`);
  return { id: 'drain-vs-peer', target, measured: parts.join('; '), met };
}

export function targets(file: ResultFile): Verdict[] {
  const atTarget = groupByPoint(file).find((p) => p.key === pointKey(TARGET_POINT))?.runs ?? [];
  const herald = atTarget.find((r) => r.subject === 'herald');
  const out: Verdict[] = [];
  if (herald) {
    out.push(drainTarget(herald, drainsPerPoint(file)));
    const storm = herald.storm.seconds;
    out.push({
      id: 'storm',
      target: `connect storm ≤ ${STORM_TARGET_S} s at ${pointKey(TARGET_POINT)}`,
      measured: storm === null ? DNF : `${fmt(storm, 2)} s`,
      met: storm !== null && storm <= STORM_TARGET_S,
    });
    const peers = atTarget.filter((r) => r.subject !== 'herald');
    if (peers.length > 0) {
      const each = peers.map((p) => (p.storm.seconds === null ? `${nameOf(p.subject)} did not finish` : `${nameOf(p.subject)} ${storm === null ? '—' : times(p.storm.seconds / storm)}`));
      const met = storm !== null && peers.every((p) => p.storm.seconds === null || p.storm.seconds > storm);
      out.push({
        id: 'storm-vs-peers',
        target: `connect storm faster than ${peers.map((p) => nameOf(p.subject)).join(' and ')} at ${pointKey(TARGET_POINT)}`,
        measured: `peer ÷ Herald: ${each.join(', ')}`,
        met,
      });
    }
    const rssBytes = herald.server.peakRssMb * 2 ** 20;
    out.push({ id: 'rss', target: `Herald peak RSS ≤ 1 GB at ${pointKey(TARGET_POINT)}`, measured: `${fmt(herald.server.peakRssMb)} MiB`, met: rssBytes <= RSS_TARGET_BYTES });
  }
  for (const [peer, factor] of [
    ['peer-snapshot', SNAPSHOT_FACTOR],
    ['peer-linear', 1],
  ] as const) {
    const verdict = peerDrainTarget(file, peer, factor);
    if (verdict) out.push(verdict);
  }
  return out;
}

/** The verdicts as a table; empty when the file has nothing to judge (no Herald). */
function targetTable(file: ResultFile): string {
  const rows = targets(file).map((v) => `| ${v.target} | ${v.measured} | ${v.met ? 'met' : '**not met**'} |`);
  return rows.length === 0 ? '' : ['| target | this run | |', '|---|---|---|', ...rows].join('\n');
}

// ---- the result tables -----------------------------------------------------------------------

interface Metric {
  heading: string;
  digits: number;
  value: (run: RunResult) => number | null;
  /** A value that only bounds the real one from below (a server killed at the memory cap). */
  lowerBound?: (run: RunResult) => boolean;
}

function metrics(file: ResultFile): Metric[] {
  const limits = limitsOf(file);
  const pods = unique(file.runs.map((r) => r.point.rolloutPods));
  return [
    { heading: `Drain → DRAINING at every stream, ${drainLabel(file)} (ms)`, digits: 0, value: drainTail },
    { heading: 'Connect storm → every stream has the full config (s)', digits: 2, value: (r) => r.storm.seconds },
    { heading: `Rolling deploy${pods.length === 1 ? ` of ${pods[0]} pods` : ''} → every stream has the last drain (s)`, digits: 1, value: (r) => r.deploy?.seconds ?? null },
    { heading: 'Server peak RSS (MiB)', digits: 0, value: (r) => r.server.peakRssMb, lowerBound: (r) => killed(r, limits) },
  ];
}

function metricTable(file: ResultFile, metric: Metric): string {
  const subjects = subjectsOf(file);
  const peers = subjects.filter((s) => s !== 'herald');
  const hasHerald = subjects.includes('herald');
  const ratioHeads = hasHerald ? peers.map((p) => `${nameOf(p)} ÷ Herald`) : [];
  const lines = [`| point | ${[...subjects.map(nameOf), ...ratioHeads].join(' | ')} |`, `|---|${[...subjects, ...ratioHeads].map(() => '---|').join('')}`];
  for (const { key, runs } of groupByPoint(file)) {
    const of = (subject: string): RunResult | undefined => runs.find((r) => r.subject === subject);
    const cell = (run: RunResult | undefined): string => {
      if (!run) return '';
      const value = metric.value(run);
      if (value === null) return DNF;
      return metric.lowerBound?.(run) ? `${fmt(value, metric.digits)}, killed at the cap` : fmt(value, metric.digits);
    };
    const ratio = (peer: RunResult | undefined): string => {
      const herald = of('herald');
      if (!peer || !herald) return '';
      const theirs = metric.value(peer);
      const ours = metric.value(herald);
      if (theirs === null) return ours === null ? '—' : `peer ${DNF}`;
      if (ours === null) return `Herald ${DNF}`;
      return `${metric.lowerBound?.(peer) ? '≥ ' : ''}${times(theirs / ours)}`;
    };
    lines.push(`| ${key} | ${[...subjects.map((s) => cell(of(s))), ...(hasHerald ? peers.map((p) => ratio(of(p))) : [])].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Every figure of one point, one row per server. */
function fullTable(runs: RunResult[], limits: RecordedLimits): string {
  const point = runs[0]!.point;
  const per = tailLabel(point.drains, 'drain');
  const spread = point.drains >= 100 ? 'p50 / p99 / max' : `median / ${per}`;
  const pooled = tailLabel(Math.min(...runs.map((r) => r.drains.perStream.n).filter((n) => n > 0), Infinity), 'sample');
  const deployPer = tailLabel(point.rolloutPods, 'drain');
  const lines = [
    `| server | storm → full config (s) | drain → DRAINING at every stream (ms): ${spread} (done/tried) | → ACK written by every stream (ms): ${per} | Herald's tracker, → last ACK received (ms): ${per} | each stream, every (drain, stream) (ms): ${pooled} | bytes per drain | rolling deploy: converged (s) / per drain (ms): ${deployPer} (done/pods) | server CPU: total / storm / per drain (s) | server peak RSS (MiB) | load generator CPU (s) / busiest worker's share of a core in the drains |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const d = r.drains;
    const every = d.everyReceivedMs;
    const deploy = r.deploy;
    const tail = drainTail(r);
    const storm = r.storm.seconds === null ? `${DNF} (${r.storm.fullStreams}/${r.point.streams})` : fmt(r.storm.seconds, 2);
    const drain =
      tail === null
        ? `${DNF} (${d.completed}/${d.attempted})`
        : `${fmt(percentile(every, 50))} / ${point.drains >= 100 ? `${fmt(tail)} / ` : ''}${fmt(Math.max(...every))} (${d.completed}/${d.attempted})`;
    const deployCell = !deploy ? DNF : `${deploy.seconds === null ? DNF : fmt(deploy.seconds, 1)} / ${fmt(percentile(deploy.everyReceivedMs, 99))} (${deploy.completed}/${deploy.pods})`;
    const util = d.cpu ? `${fmt(d.cpu.loadgenMaxUtil * 100)}%` : '—';
    const rss = `${fmt(r.server.peakRssMb)}${killed(r, limits) ? ', killed at the cap' : ''}`;
    lines.push(
      `| ${nameOf(r.subject)} | ${storm} | ${drain} | ${fmt(percentile(d.everyAckedMs, 99))} | ${fmt(percentile(d.serverTrackedMs, 99))} | ${fmt(d.perStream.p99)} | ${mb(d.bytesPerDrain)} | ${deployCell} | ${fmt(r.server.cpuSeconds, 1)} / ${fmt(r.storm.cpu?.serverCpuSeconds, 1)} / ${d.cpu && d.attempted > 0 ? fmt(d.cpu.serverCpuSeconds / d.attempted, 2) : '—'} | ${rss} | ${fmt(r.loadgen.cpuSeconds, 1)} / ${util} |`,
    );
  }
  return lines.join('\n');
}

// ---- the plot --------------------------------------------------------------------------------

/** The streams sweep: the (N, E, K) with the most distinct S, one series per server. */
export function plotSeries(file: ResultFile): { mesh: string; series: Series[] } {
  const meshOf = (r: RunResult): string => `N=${r.point.services} services, E=${r.point.endpoints} endpoints over K=${r.point.clusters} clusters`;
  const sweeps = new Map<string, Set<number>>();
  for (const r of file.runs) sweeps.set(meshOf(r), (sweeps.get(meshOf(r)) ?? new Set()).add(r.point.streams));
  const mesh = [...sweeps].sort((a, b) => b[1].size - a[1].size)[0]?.[0] ?? '';
  const series = subjectsOf(file).map((subject) => ({
    name: nameOf(subject),
    ...(SUBJECT_ORDER.includes(subject) ? { color: COLORS[SUBJECT_ORDER.indexOf(subject)]! } : {}),
    points: file.runs.filter((r) => r.subject === subject && meshOf(r) === mesh).map((r) => ({ x: r.point.streams, y: drainTail(r) })),
  }));
  return { mesh, series };
}

const when = (file: ResultFile): string => `${file.date.slice(0, 16).replace('T', ' ')} UTC`;

export function renderPlot(file: ResultFile, source: string): string {
  const { mesh, series } = plotSeries(file);
  const drains = drainsPerPoint(file);
  const m = file.machine;
  return drainPlot(series, {
    title: `Drain → DRAINING at every stream, ${drainLabel(file)} per point`,
    subtitle: `${mesh}; S streams on the x axis`,
    yLabel: drainLabel(file),
    caption: [
      `Run \`${file.label}\` of ${when(file)}: ${drains} drain${drains === 1 ? '' : 's'} per point, from ${source}.`,
      `${m.cpu}, ${m.cores} cores; the load generator on the same machine.`,
    ],
  });
}

// ---- the report ------------------------------------------------------------------------------

function machineLines(file: ResultFile): string[] {
  const m = file.machine;
  return [
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; load average ${loadAverages(m.loadBefore)} before the run, ${loadAverages(m.loadAfter)} after.`,
    `- Herald under Node ${m.heraldNode ?? m.node}, with the container image's environment (\`bench/image-env.ts\`); the harness under Node ${m.node}; the peers and the load generator built with ${m.go}.`,
  ];
}

function method(file: ResultFile, limits: RecordedLimits): string[] {
  const drains = drainsPerPoint(file);
  const pods = unique(file.runs.map((r) => r.point.rolloutPods)).join(' or ');
  const loadgen = file.machine.loadgen === 'node' ? 'Node' : 'Go';
  const label = drainLabel(file);
  const summary =
    drains >= 100
      ? `The tables give the nearest-rank p99 of the ${drains} drains.`
      : `With ${drains} drain${drains === 1 ? '' : 's'} a point there is no p99 to give: the tables give the ${label} (the nearest-rank p99 of fewer than 100 values is the largest). A run with 100 or more drains reports a p99.`;
  return [
    '**Servers.** Each runs in its own process and gets the same event script from the harness, as JSON lines on stdin/stdout.',
    '- Herald: the daemon itself (store → pipeline → cache → xDS), fed by in-memory pod sources (`bench/herald-server.ts`).',
    "- SnapshotCache: go-control-plane's SnapshotCache with one snapshot per node, as Dyplomat uses it (`bench/peer/`). It keeps per-type versions (an endpoint change does not resend CDS) and sets the same snapshot object for every node, both kinder than a literal port; each pod change rebuilds and sets every node's snapshot.",
    "- LinearCache: go-control-plane's LinearCache for EDS, muxed with one shared CDS snapshot, as Contour uses it (`bench/peer/`).",
    '',
    `**Mesh.** At each point: S streams, N services, E endpoints over K clusters; one of the services has the ${pods} pods the rolling deploy replaces.`,
    '',
    `**Load generator.** ${limits.workers} ${loadgen} worker process${limits.workers === 1 ? '' : 'es'} on the same machine hold the S simulated Envoys between them. Each Envoy has its own TCP + HTTP/2 connection and one ADS stream, sends an Envoy-sized Node (a full Envoy build's list of extensions) in its first request, asks for CDS (wildcard) then EDS for every cluster, and ACKs every response. \`bench/README.md\` describes it.`,
    '',
    '**Connect storm.** The server is loaded with the mesh, then all S streams open at once; measured from opening them to the moment the last stream holds every cluster and every assignment.',
    '',
    `**Drains.** ${drains} single pod drain${drains === 1 ? '' : 's'} per point, one after another. Each is measured from the moment the server applies the terminating pod (its own clock, sent back in its reply to the harness) to the moment the last of the S streams has received the assignment with that endpoint DRAINING, and to the moment the last has written its ACK. ${summary} The per-stream column pools every (drain, stream) pair; bytes per drain are the gRPC messages all streams received during one drain. Herald's own tracker (\`herald_drain_propagation_seconds\`: observed → the last ACK received by Herald) is shown beside. All clocks are the one machine's wall clock (\`performance.timeOrigin + performance.now()\` in Node, \`time.Now()\` in Go).`,
    '',
    `**Rolling deploy.** The rollout service's pods are replaced one at a time, a step every ${limits.deployStepMs} ms without waiting for the server, as a Deployment controller does not: a new pod is added, then an old one drains. Measured from the first step to the moment every stream has received the last drain.`,
    '',
    `**CPU and memory.** From \`/proc/<pid>/stat\` and \`status\` of the server and of each load generator worker, so Node and Go are measured alike. Peak RSS is VmHWM, in MiB. The last column of "All figures" gives the load generator's busiest worker's CPU over the wall time of the drains: near 100 % it, not the server, would set the pace. The machine is shared, so a server whose RSS passes ${limits.serverRssLimitMb} MiB is killed (the memory cap), and so is a load generator worker past ${limits.workerRssLimitMb} MiB.`,
    '',
    `**Deadlines.** The storm has ${limits.stormTimeoutMs / 1000} s, each drain ${limits.drainTimeoutMs / 1000} s and the rolling deploy ${limits.deployTimeoutMs / 1000} s.`,
  ];
}

function limitsSection(file: ResultFile, limits: RecordedLimits): string[] {
  const m = file.machine;
  const drains = drainsPerPoint(file);
  const busiest = Math.max(...file.runs.map((r) => r.drains.cpu?.loadgenMaxUtil ?? 0));
  const drainVerdict = targets(file).find((v) => v.id === 'drain');
  const lines = [
    `- **One machine, ${m.cores} cores.** The server, the ${limits.workers} load generator worker${limits.workers === 1 ? '' : 's'} and the harness share them, so at large S the load generator's reads and ACKs compete with the server's sends. Its busiest worker used at most ${fmt(busiest * 100)}% of a core during any point's drains.`,
    `- **${drains} drain${drains === 1 ? '' : 's'} per point, one run.** ${drains >= 100 ? 'The drain figures are p99s of one run' : `A drain figure is the ${tailLabel(drains, 'drain')}, not a percentile`}; a second run on the same machine gives somewhat different figures.`,
    `- **"${DNF}"** means the server missed a deadline, stopped answering the harness, or was killed at the memory cap: it has no figure for that phase or the phases after it, and a ratio against it says so. A killed server's peak RSS is where the cap caught it, so its ratio is a lower bound (≥). The lines under each point in "All figures" are what the harness recorded.`,
  ];
  if (drainVerdict && !drainVerdict.met) {
    const s = TARGET_POINT.streams.toLocaleString('en-US');
    lines.push(
      `- **The ${DRAIN_TARGET_MS} ms drain target at ${s} streams is not met.** A drain there is one small HTTP/2 DATA frame to each of ${s} sessions, written from Node's one JavaScript thread, and Node's HTTP/2 stack alone, with no xDS work, takes about the whole ${DRAIN_TARGET_MS} ms for that on the run's machine (\`bench/http2-floor.ts\` measures it); the load generator, reading and ACKing the same ${s} responses, needs the same ${m.cores} cores. Meeting it takes more cores, the load generator on other cores than the server's, or an HTTP/2 stack other than Node's.`,
    );
  }
  return lines;
}

// ---- the soak ---------------------------------------------------------------------------------

function soakSection(soak: SoakResult, source: string): string[] {
  const m = soak.machine;
  const d = soak.drains;
  const w = soak.watcher;
  const verdict =
    soak.failures.length === 0
      ? 'passed: the daemon lived through it, every `/healthz` probe answered 200, and the watcher was sent every drain the daemon completed.'
      : `**failed**: ${soak.failures.join('; ')}.`;
  const attackRows = soak.attacks.map((a) => {
    const made = [`${count(a.attempts)} ${a.unit}`, ...Object.entries(a.figures).map(([k, v]) => `${count(v)} ${k}`)].join(', ');
    const ended = Object.entries(a.outcomes)
      .map(([k, v]) => `${count(v)} ${k}`)
      .join('; ');
    const after = a.endedAfterMs ? `${count(a.endedAfterMs.min)} – ${count(a.endedAfterMs.max)}` : '—';
    return `| ${a.kind}: ${a.what} | ${a.from} | ${a.pace} | ${made} | ${ended || '—'} | ${after} |`;
  });
  const stream =
    w.breaks.length === 0
      ? `${w.streams === 1 ? 'one stream' : `${w.streams} streams`}, never broke`
      : `broke ${w.breaks.length} times (${w.breaks.map((b) => `${b.atSeconds} s: ${grpc.status[b.code] ?? b.code}`).join(', ')})`;
  const p = d.propagationMs;
  const logLines = soak.daemon.log ? Object.entries(soak.daemon.log) : undefined;
  const metricRows = Object.entries(soak.metrics).flatMap(([family, samples]) =>
    Object.entries(samples).map(([labels, value]) => `| ${family} | ${labels ? `\`${labels}\`` : ''} | ${count(value)} |`),
  );
  return [
    '## Soak',
    '',
    `\`npm run soak\` (\`bench/soak.ts\`): the daemon as an operator runs it, \`node dist/main.js demo\` (two simulated clusters whose rolling deploys drain a pod about every second, three simulated Envoys), with ${soak.attacks.length} attackers and one well-behaved watcher at once for ${soak.minutes} minute${soak.minutes === 1 ? '' : 's'}, all on loopback. Run of ${soak.date.slice(0, 16).replace('T', ' ')} UTC; generated from \`${source}\`.`,
    '',
    `**Verdict:** ${verdict} The soak asserts only these; the figures below are what it measured.`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, shared with other work; load average ${loadAverages(m.loadBefore)} before, ${loadAverages(m.loadAfter)} after. The daemon and the soak under Node ${m.node}.`,
    `- Command: \`${soak.command}\`; the daemon: \`${soak.daemon.command}\` (its default limits), ended by SIGTERM to its pid (exit code ${soak.daemon.exitAfterStop ?? '—'}).`,
    `- The attackers ran ${fmt(soak.attackSeconds)} s, each from its own loopback address, so the per-peer limits fall on them and not on the watcher (127.0.0.1).`,
    '',
    '### Attackers',
    '',
    '| attacker | from | pace | made | how they ended | ended after (ms) |',
    '|---|---|---|---|---|---|',
    ...attackRows,
    '',
    '### Drains and the watcher',
    '',
    "The watcher is one Envoy-like ADS client (`src/xdsclient`): CDS wildcard, EDS for every cluster, every response ACKed. A drain is counted from the daemon's own line for it, while the attackers ran.",
    '',
    '| drains done by the daemon | complete / timed out / no client subscribed | endpoints sent to the watcher as DRAINING | completed drains the watcher was not sent | the watcher | propagation, observed → every stream ACKed (ms): p50 / p99 / max |',
    '|---|---|---|---|---|---|',
    `| ${count(d.done)} | ${d.complete} / ${d.timedOut} / ${d.noClient} | ${count(d.seenByWatcher)} | ${d.missed.length} | ${stream}, ${count(w.drainingUpdates)} DRAINING endpoints in the assignments it was sent, ${w.nacks} NACKs | ${fmt(p.p50)} / ${fmt(p.p99)} / ${fmt(p.max)} |`,
    '',
    '### The daemon',
    '',
    '| RSS at the start / peak / end (MiB) | VmHWM (MiB) | `/healthz`, one a second: max / p99 (ms) | event loop lag: largest 10 s p99 / max (ms) | CPU (s) |',
    '|---|---|---|---|---|',
    `| ${fmt(soak.rss.startMb)} / ${fmt(soak.rss.peakMb)} / ${fmt(soak.rss.endMb)} | ${fmt(soak.rss.hwmMb)} | ${fmt(soak.healthz.maxMs, 1)} / ${fmt(soak.healthz.p99Ms, 1)} over ${soak.healthz.probes} probes, ${soak.healthz.failures.length} failed | ${fmt(soak.eventLoop.p99MaxSeconds * 1000, 1)} / ${fmt(soak.eventLoop.lagMaxSeconds * 1000, 1)} | ${fmt(soak.daemon.cpuSeconds, 1)} |`,
    '',
    ...(logLines === undefined
      ? []
      : [logLines.length === 0 ? 'The daemon logged nothing at warn or above.' : `The daemon's log at warn and above: ${logLines.map(([k, v]) => `${count(v)} × ${k}`).join('; ')}.`, '']),
    '### Limit metrics at the end',
    '',
    "Read from `/metrics` 5 s after the attackers stopped. The event loop gauge is prom-client's, over the time since the previous scrape (10 s at most).",
    '',
    '| metric | labels | value |',
    '|---|---|---|',
    ...metricRows,
  ];
}

/**
 * `soak`: the result of `npm run soak` and its path, for the "Soak" section; `scoped`: a run of
 * scoped points and its path, for the "Scoped mesh" section; `zones`: a `--zones` run and its
 * path, for the "Zone variants" section; without them there is none.
 */
export function renderReport(
  file: ResultFile,
  source: string,
  soak?: { result: SoakResult; source: string },
  scoped?: { result: ResultFile; source: string },
  zones?: { result: ResultFile; source: string },
): string {
  const limits = limitsOf(file);
  const m = file.machine;
  const subjects = subjectsOf(file);
  const peers = subjects.filter((s) => s !== 'herald').map(nameOf);
  const peerText = peers.length > 0 ? `go-control-plane's ${peers.join(' and ')}` : '';
  const servers = subjects.includes('herald')
    ? peerText
      ? `Herald against ${peerText}, fed the same event script on the same machine and measured the same way`
      : 'Herald alone'
    : peerText;
  const ratios = subjects.includes('herald') && peers.length > 0;
  const verdicts = targetTable(file);
  const out: string[] = [
    '# Benchmark results',
    '',
    `${servers}: a connect storm, single pod drains and a rolling deploy. Run \`${file.label}\` of ${when(file)}, on one ${m.cores}-core machine (${m.cpu}) that also runs the load generator. Generated by \`bench/report.ts\` from \`${source}\`; edit those, not this file.`,
    '',
    ...(verdicts ? ['## Against the targets', '', verdicts, ''] : []),
    '## Results',
    '',
    `S streams, N services, E endpoints over K clusters.${ratios ? " A ratio is the peer's figure divided by Herald's: above 1× Herald is faster, or smaller." : ''}`,
    '',
    `![Drain to every stream (${drainLabel(file)}) against streams](${PLOT_FILE})`,
    '',
  ];
  for (const metric of metrics(file)) out.push(`### ${metric.heading}`, '', metricTable(file, metric), '');
  out.push('### All figures', '');
  for (const { key, runs } of groupByPoint(file)) {
    out.push(`#### ${key}`, '', fullTable(runs, limits), '');
    const notes = runs.flatMap((run) => run.notes.map((n) => `- ${nameOf(run.subject)}: ${n}`));
    if (notes.length > 0) out.push(...notes, '');
  }
  out.push(
    '## Machine and command',
    '',
    ...machineLines(file),
    `- This run's command: \`${file.command}\``,
    '',
    '`npm run bench` builds `bench/` and runs the whole matrix, writing `bench/results/full.json`, then this file and the plot; `bench/README.md` lists the options of `run.js`. To rebuild this file and the plot from the JSON without running anything:',
    '',
    '```sh',
    'npx tsc -p bench/tsconfig.json && node .cache/bench-js/bench/report.js [RESULT.json] [--out DIR] [--soak SOAK.json] [--scoped SCOPED.json] [--zones ZONES.json]',
    '```',
    '',
    '## Method',
    '',
    ...method(file, limits),
    '',
    '## Limits',
    '',
    ...limitsSection(file, limits),
    '',
    `Profiles, experiments and the CPU budget of a drain are in the [engineering notes](${NOTES_LINK}).`,
  );
  if (scoped) out.push('', ...scopedSection(scoped.result, scoped.source, { file, source }));
  if (zones) out.push('', ...zonesSection(zones.result, zones.source));
  if (soak) out.push('', ...soakSection(soak.result, soak.source));
  return `${out.join('\n').trim()}\n`;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: 'string' }, soak: { type: 'string' }, scoped: { type: 'string' }, zones: { type: 'string' } },
  });
  if (positionals.length > 1) throw new Error('report.js takes one result file');
  const input = resolve(positionals[0] ?? join(repo, 'bench/results/full.json'));
  const outDir = resolve(values.out ?? join(repo, 'bench'));
  const file = JSON.parse(readFileSync(input, 'utf8')) as ResultFile;
  const source = relative(repo, input);
  const soakFile = resolve(values.soak ?? join(repo, 'bench/results/soak.json'));
  const soak = values.soak !== undefined || existsSync(soakFile) ? { result: JSON.parse(readFileSync(soakFile, 'utf8')) as SoakResult, source: relative(repo, soakFile) } : undefined;
  const scopedFile = resolve(values.scoped ?? join(repo, 'bench/results/scoped.json'));
  const scoped =
    values.scoped !== undefined || existsSync(scopedFile) ? { result: JSON.parse(readFileSync(scopedFile, 'utf8')) as ResultFile, source: relative(repo, scopedFile) } : undefined;
  const zonesFile = resolve(values.zones ?? join(repo, 'bench/results/zones.json'));
  const zones = values.zones !== undefined || existsSync(zonesFile) ? { result: JSON.parse(readFileSync(zonesFile, 'utf8')) as ResultFile, source: relative(repo, zonesFile) } : undefined;
  writeFileSync(join(outDir, 'RESULTS.md'), renderReport(file, source, soak, scoped, zones));
  writeFileSync(join(outDir, PLOT_FILE), renderPlot(file, source));
  const also = [soak?.source, scoped?.source, zones?.source].filter((s) => s !== undefined);
  process.stderr.write(`wrote RESULTS.md and ${PLOT_FILE} in ${outDir} from ${source}${also.length > 0 ? ` and ${also.join(' and ')}` : ''}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
