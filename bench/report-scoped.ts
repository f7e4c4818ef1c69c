// The "Scoped mesh" section of bench/RESULTS.md, from the result file of a run of scoped points
// (`--points S:N:E:D:G`, by default bench/results/scoped.json), against its own targets. Every
// figure is read or computed from that file, but today's unscoped 10k figures, which come from
// the main result file the rest of RESULTS.md reports.
import { count, fmt, loadAverages, median } from './report-format.js';
import type { ResultFile } from './run.js';
import { DEPLOYMENT_OLD_SPACE_MB } from './image-env.js';
import { optionsOfCommand } from './run-options.js';
import type { DrainSeries, RunResult } from './scenario.js';
import { percentile, tailLabel } from './stats.js';

const NAMES: Record<string, string> = { herald: 'Herald', 'peer-snapshot': 'SnapshotCache', 'peer-linear': 'LinearCache' };
const ORDER = ['herald', 'peer-snapshot', 'peer-linear'];
const nameOf = (subject: string): string => NAMES[subject] ?? subject;

/** The targets of the scoped point (issue 17): S=10k N=600 E=30k K=3, D=20. */
export const SCOPED_TARGET = { streams: 10_000, services: 600, endpoints: 30_000, clusters: 3, dependencies: 20 };
export const SCOPED_DRAIN_MS = 100;
export const SCOPED_FLOOR_FACTOR = 1.5;
export const SCOPED_STORM_S = 10;
export const SCOPED_RSS_BYTES = 600e6;
export const SCOPED_PEER_FACTOR = 5;
/** "No worse than today's": within this share of the main result file's figure (run-to-run spread). */
export const UNSCOPED_SLACK = 0.1;

const mb = (bytes: number | undefined): string => (bytes === undefined || Number.isNaN(bytes) ? '—' : `${(bytes / 1e6).toFixed(2)} MB`);
const DNF = 'did not finish';

const complete = (s: { attempted: number; completed: number }): boolean => s.completed > 0 && s.completed === s.attempted;
/** The drains' tail (nearest-rank p99: the largest below 100 drains); null unless every drain finished. */
const tail = (s: Pick<DrainSeries, 'attempted' | 'completed' | 'everyReceivedMs'>): number | null => (complete(s) ? percentile(s.everyReceivedMs, 99) : null);
const popularMedian = (r: RunResult): number | null => (r.scope && complete(r.scope.popular) ? median(r.scope.popular.everyReceivedMs) : null);
const leaks = (r: RunResult): number => (r.drains.leaked ?? 0) + (r.scope?.popular.leaked ?? 0);

export const scopedKey = (r: RunResult): string =>
  `S=${r.point.streams} N=${r.point.services} E=${r.point.endpoints} K=${r.point.clusters}${r.point.scope ? ` D=${r.point.scope.dependencies} G=${r.point.scope.sets}` : ''}`;

const isTarget = (r: RunResult): boolean =>
  r.point.scope?.dependencies === SCOPED_TARGET.dependencies &&
  r.point.streams === SCOPED_TARGET.streams &&
  r.point.services === SCOPED_TARGET.services &&
  r.point.endpoints === SCOPED_TARGET.endpoints &&
  r.point.clusters === SCOPED_TARGET.clusters;
const isUnscoped10k = (r: RunResult): boolean => !r.point.scope && r.point.streams === 10_000 && r.point.services === 600 && r.point.endpoints === 30_000 && r.point.clusters === 3;

export interface ScopedVerdict {
  id: 'drain' | 'popular-floor' | 'storm' | 'rss' | 'peer-drain' | 'peer-popular' | 'leaks' | 'unscoped';
  target: string;
  measured: string;
  met: boolean;
}

function ratioVerdict(id: 'peer-drain' | 'peer-popular', what: string, herald: RunResult, peers: RunResult[], figure: (r: RunResult) => number | null): ScopedVerdict {
  const ours = figure(herald);
  const parts = peers.map((p) => {
    const theirs = figure(p);
    if (theirs === null) return { text: `${nameOf(p.subject)} ${DNF}`, ok: ours !== null };
    if (ours === null) return { text: `Herald ${DNF}`, ok: false };
    const ratio = theirs / ours;
    return { text: `${nameOf(p.subject)} ÷ Herald ${ratio.toFixed(2)}× (${fmt(theirs)} ms vs ${fmt(ours)} ms)`, ok: ratio >= SCOPED_PEER_FACTOR };
  });
  return {
    id,
    target: `${what} at least ${SCOPED_PEER_FACTOR}× faster than ${peers.map((p) => nameOf(p.subject)).join(' and ')}`,
    measured: parts.map((p) => p.text).join('; '),
    met: parts.length > 0 && parts.every((p) => p.ok),
  };
}

/** The verdicts for the scoped target point; `baseline` is the main result file (today's unscoped figures). */
export function scopedTargets(file: ResultFile, baseline?: ResultFile): ScopedVerdict[] {
  const atTarget = file.runs.filter(isTarget);
  const herald = atTarget.find((r) => r.subject === 'herald');
  const out: ScopedVerdict[] = [];
  if (!herald) return out;
  const point = scopedKey(herald);
  const drains = herald.point.drains;
  const ours = tail(herald.drains);
  out.push({
    id: 'drain',
    target: `drain → DRAINING at every dependent stream ≤ ${SCOPED_DRAIN_MS} ms (p99), pods drained uniformly across services, at ${point}`,
    measured:
      ours === null
        ? DNF
        : `${tailLabel(drains, 'drain')}: ${fmt(ours)} ms${drains < 100 ? ` (${herald.drains.everyReceivedMs.filter((ms) => ms > SCOPED_DRAIN_MS).length} of ${drains} over)` : ''}`,
    met: ours !== null && ours <= SCOPED_DRAIN_MS,
  });
  const scope = herald.scope;
  const popular = popularMedian(herald);
  const floor = scope?.floorMs && scope.floorMs.length > 0 ? median(scope.floorMs) : null;
  out.push({
    id: 'popular-floor',
    target: `the most popular service's drain within ${SCOPED_FLOOR_FACTOR}× of Node's HTTP/2 floor for that many streams (medians, same run)`,
    measured:
      popular === null || floor === null || !scope
        ? `${popular === null ? `drains ${DNF}` : `median ${fmt(popular)} ms`}; floor ${floor === null ? 'not measured' : `${fmt(floor)} ms`}`
        : `${scope.popular.service} (${count(scope.popular.dependentsOfService)} dependents): median ${fmt(popular)} ms, floor ${fmt(floor)} ms: ${(popular / floor).toFixed(2)}×`,
    met: popular !== null && floor !== null && popular <= SCOPED_FLOOR_FACTOR * floor,
  });
  const storm = herald.storm.seconds;
  out.push({
    id: 'storm',
    target: `connect storm to full config ≤ ${SCOPED_STORM_S} s`,
    measured: storm === null ? DNF : `${fmt(storm, 2)} s`,
    met: storm !== null && storm <= SCOPED_STORM_S,
  });
  out.push({
    id: 'rss',
    target: `Herald peak RSS ≤ ${SCOPED_RSS_BYTES / 1e6} MB`,
    measured: `${fmt(herald.server.peakRssMb)} MiB (${fmt((herald.server.peakRssMb * 2 ** 20) / 1e6)} MB)`,
    met: herald.server.peakRssMb * 2 ** 20 <= SCOPED_RSS_BYTES,
  });
  const peers = atTarget.filter((r) => r.subject !== 'herald').sort((a, b) => ORDER.indexOf(a.subject) - ORDER.indexOf(b.subject));
  if (peers.length > 0) {
    out.push(ratioVerdict('peer-drain', `drains (${tailLabel(drains, 'drain')}, uniform across services)`, herald, peers, (r) => tail(r.drains)));
    out.push(ratioVerdict('peer-popular', "the most popular service's drains (median)", herald, peers, popularMedian));
  }
  const leaked = atTarget.map((r) => `${nameOf(r.subject)} ${count(leaks(r))} / ${count(r.scope?.outOfScope ?? 0)}`);
  out.push({
    id: 'leaks',
    target: 'no stream sent a drain of a service it does not depend on, nor any cluster or assignment it did not declare',
    measured: `drains leaked / resources out of scope: ${leaked.join('; ')}`,
    met: atTarget.every((r) => leaks(r) === 0 && (r.scope?.outOfScope ?? 0) === 0),
  });
  const now = file.runs.find((r) => r.subject === 'herald' && isUnscoped10k(r));
  const before = baseline?.runs.find((r) => r.subject === 'herald' && isUnscoped10k(r));
  if (now && before) {
    const figures: Array<[string, number | null, number | null, string]> = [
      [`drain (${tailLabel(now.point.drains, 'drain')})`, tail(now.drains), tail(before.drains), 'ms'],
      ['storm', now.storm.seconds, before.storm.seconds, 's'],
      ['peak RSS', now.server.peakRssMb, before.server.peakRssMb, 'MiB'],
    ];
    const ok = figures.every(([, a, b]) => a !== null && (b === null || a <= b * (1 + UNSCOPED_SLACK)));
    out.push({
      id: 'unscoped',
      target: `the unscoped S=10000 N=600 E=30000 K=3 figures no worse than today's (${baseline!.label} of ${baseline!.date.slice(0, 10)}, within ${UNSCOPED_SLACK * 100}%; Herald's old space ${heraldOldSpaceOf(file.command.split(' && ').at(-1)!)} vs ${heraldOldSpaceOf(baseline!.command)} MB)`,
      measured: `${figures.map(([name, a, b, unit]) => `${name} ${fmt(a, unit === 's' ? 2 : 0)} vs ${fmt(b, unit === 's' ? 2 : 0)} ${unit}`).join('; ')} (1-minute load average before the run ${fmt(file.machine.loadBefore[0], 1)} vs ${fmt(baseline!.machine.loadBefore[0], 1)})`,
      met: ok,
    });
  }
  return out;
}

function resultsTable(runs: RunResult[], rssLimitMb: number | undefined): string {
  const drains = runs[0]!.point.drains;
  const per = tailLabel(drains, 'drain');
  const lines = [
    `| server | storm → full config (s) | uniform drains → every dependent stream (ms): median / ${per} (done/tried) | dependents per drain: min – max | most popular service's drains (ms): median / ${per} (done/tried) | HTTP/2 floor for as many streams (ms): median of its rounds | bytes per drain: uniform / popular | rolling deploy → every dependent stream (s) | drains leaked / resources out of scope | server CPU (s) | server peak RSS (MiB) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const d = r.drains;
    const p = r.scope?.popular;
    const uniform = tail(d) === null ? `${DNF} (${d.completed}/${d.attempted})` : `${fmt(median(d.everyReceivedMs))} / ${fmt(tail(d))} (${d.completed}/${d.attempted})`;
    const deps = d.dependents && d.dependents.length > 0 ? `${count(Math.min(...d.dependents))} – ${count(Math.max(...d.dependents))}` : '—';
    const pop = !p
      ? r.point.scope
        ? DNF
        : '—'
      : tail(p) === null
        ? `${DNF} (${p.completed}/${p.attempted})`
        : `${fmt(median(p.everyReceivedMs))} / ${fmt(tail(p))} (${p.completed}/${p.attempted})`;
    const floor = r.scope?.floorMs && r.scope.floorMs.length > 0 ? `${fmt(median(r.scope.floorMs))} (${r.scope.floorMs.join(', ')})` : '—';
    const bytes = `${mb(d.bytesPerDrain)} / ${mb(p?.bytesPerDrain)}`;
    const deploy = r.deploy?.seconds === null || r.deploy === undefined ? DNF : fmt(r.deploy.seconds, 1);
    lines.push(
      `| ${nameOf(r.subject)} | ${r.storm.seconds === null ? `${DNF} (${r.storm.fullStreams}/${r.point.streams})` : fmt(r.storm.seconds, 2)} | ${uniform} | ${deps} | ${pop} | ${floor} | ${bytes} | ${deploy} | ${count(leaks(r))} / ${count(r.scope?.outOfScope ?? 0)} | ${fmt(r.server.cpuSeconds, 1)} | ${fmt(r.server.peakRssMb)}${rssLimitMb !== undefined && r.server.peakRssMb > rssLimitMb ? ', killed at the cap' : ''} |`,
    );
  }
  return lines.join('\n');
}

/** The old-space cap (MB) a recorded command gave Herald. */
const heraldOldSpaceOf = (command: string): number => Number(optionsOfCommand(command)['herald-old-space-mb']);

/** The section's lines; `baseline` is the main result file and its path. */
export function scopedSection(file: ResultFile, source: string, baseline?: { file: ResultFile; source: string }): string[] {
  const m = file.machine;
  const verdicts = scopedTargets(file, baseline?.file);
  const out = [
    '## Scoped mesh',
    '',
    `Each simulated Envoy declares the services it calls in its Node metadata (\`herald.io/dependencies\`), and is to be sent only those clusters and their assignments. Run \`${file.label}\` of ${file.date.slice(0, 16).replace('T', ' ')} UTC, generated from \`${source}\`${baseline ? ` (today's unscoped figures from \`${baseline.source}\`)` : ''}; command \`${file.command}\`. ${m.cpu}, ${m.cores} cores, shared with other work (load average ${loadAverages(m.loadBefore)} before, ${loadAverages(m.loadAfter)} after); Herald under Node ${m.heraldNode ?? m.node} with its V8 old space capped at ${heraldOldSpaceOf(file.command)} MB${heraldOldSpaceOf(file.command) === DEPLOYMENT_OLD_SPACE_MB ? ' (as the example Deployment runs it)' : ''} at the scoped point, the load generator (${file.machine.loadgen === 'node' ? 'Node' : 'Go'}) on the same machine.`,
    '',
    '**Shape.** At a point `S:N:E:D:G`, G dependency sets stand for G apps: each names D distinct services drawn with Zipf-like popularity (weight 1/rank over the N services; `bench/scope.ts`, seeded), and the S Envoys are dealt out over the sets in turn, S/G Envoys per app. The rollout service is ranked 10th. **Drains:** as many pods as the run has drains, one each of services spread evenly (in name order, the middle of each of as many equal runs) over those with at least one dependent, each timed from the moment the server applied it to the last *dependent* stream receiving it DRAINING; then as many drains of pods of the most popular service, and, for the Herald run, `bench/http2-floor.ts` under the same Node for that many streams (one server thread, one DATA frame per stream: the floor under a single-threaded fan-out). A stream that receives a drain of a service it does not depend on, or any cluster or assignment it did not declare, is counted as an error.',
    '',
    "**Peers, scoped.** SnapshotCache keys nodes by their declared set (one snapshot per distinct set, holding only its clusters and assignments, set again only when one of its services changes). LinearCache: a scoped node's wildcard CDS request is rewritten in the stream callback to name its declared services, so a CDS LinearCache watches exactly those for the stream; EDS is the LinearCache watch on the names the stream asks for, as unscoped.",
    '',
  ];
  if (verdicts.length > 0) {
    out.push('### Against the targets', '', '| target | this run | |', '|---|---|---|', ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${v.met ? 'met' : '**not met**'} |`), '');
  }
  const byPoint = new Map<string, RunResult[]>();
  for (const r of file.runs) byPoint.set(scopedKey(r), [...(byPoint.get(scopedKey(r)) ?? []), r]);
  for (const [key, runs] of byPoint) {
    runs.sort((a, b) => ORDER.indexOf(a.subject) - ORDER.indexOf(b.subject));
    const scope = runs.find((r) => r.scope)?.scope;
    out.push(`### ${key}`, '');
    if (scope)
      out.push(
        `${count(scope.distinctSets)} distinct sets of D=${scope.dependencies}; dependents per service ${count(scope.dependentsMin)} – ${count(scope.dependentsMax)} (mean ${fmt(scope.dependentsMean)}); the most popular service, ${scope.popular.service}, has ${count(scope.popular.dependentsOfService)}.`,
        '',
      );
    out.push(resultsTable(runs, file.limits?.serverRssLimitMb), '');
    const herald = runs.find((r) => r.subject === 'herald');
    const after = herald?.scope?.memoryAfter;
    const before = herald?.serverMemory;
    if (herald && before && after) {
      const mem = (m: { heapUsedMb: number; externalMb: number; rssMb: number }): string => `V8 heap used ${fmt(m.heapUsedMb)}, external ${fmt(m.externalMb)}, RSS ${fmt(m.rssMb)}`;
      out.push(`Herald's memory (MiB) after the uniform drains: ${mem(before)}; after the most popular service's: ${mem(after)}.`, '');
    }
    const tracked = herald?.scope?.serverTrackedMs;
    if (tracked && tracked.length > 0) out.push(`Herald's own tracker for the most popular service's drains (observed → the last ACK it received): median ${fmt(median(tracked))} ms.`, '');
    const notes = runs.flatMap((r) => r.notes.map((n) => `- ${nameOf(r.subject)}: ${n}`));
    if (notes.length > 0) out.push(...notes, '');
  }
  return out;
}
