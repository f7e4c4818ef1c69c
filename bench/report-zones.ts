// The "Zone variants" section of bench/RESULTS.md, from the result file of a `--zones` run (by
// default bench/results/zones.json): what serving Z zone variants of every assignment costs a
// drain against serving one, from runs of each zone count alternated in one session.
import { count, fmt, loadAverages, median } from './report-format.js';
import type { ResultFile } from './run.js';
import type { RunResult } from './scenario.js';
import { percentile, tailLabel } from './stats.js';

/** Issue 19: serving 3 zone variants costs at most this much of the drain fan-out of one. */
const ZONE_COST_FACTOR = 1.2;
const ZONES_COMPARED = { one: 1, many: 3 };

const complete = (r: RunResult): boolean => r.drains.completed > 0 && r.drains.completed === r.drains.attempted;

/** Herald's CPU per drain of a run (ms): the drain series' server CPU over its completed drains (with the 200 ms pauses between them). */
export const cpuPerDrainMs = (r: RunResult): number | null => (complete(r) && r.drains.cpu ? (r.drains.cpu.serverCpuSeconds * 1000) / r.drains.completed : null);

/**
 * Whether a run's Envoys checked what a zoned run must show: each drain reached every stream
 * with its own zone alone at priority 0, from as many zones as the run had, no stream was sent
 * another, and Herald held Z perspectives. The reasons, when not.
 */
export function zoneProblems(r: RunResult): string[] {
  const zones = r.point.zones ?? 0;
  const checks = r.drains.zones;
  const out: string[] = [];
  if (!complete(r)) out.push(`${r.drains.completed}/${r.drains.attempted} drains reached every stream`);
  if (!checks) return [...out, 'no zone checks reported'];
  // A drain no stream reported a check for adds nothing to the lists below: count the drains checked.
  const unchecked = r.drains.completed - checks.ownZoneFirst.length;
  if (unchecked > 0) out.push(`${unchecked} drains with no zone check reported`);
  if (checks.wrongZone > 0) out.push(`${count(checks.wrongZone)} streams sent a drain without their own zone alone at priority 0`);
  const short = checks.ownZoneFirst.filter((n) => n < r.point.streams).length;
  if (short > 0) out.push(`${short} drains checked by fewer than ${count(r.point.streams)} streams`);
  const fewer = checks.distinctZones.filter((n) => n !== zones).length;
  if (fewer > 0) out.push(`${fewer} drains seen first in other than ${zones} zones`);
  if (r.variants === undefined) out.push("Herald's variant counts missing");
  else if (r.variants.perspectives !== zones) out.push(`Herald held ${r.variants.perspectives} perspectives, not ${zones}`);
  return out;
}

interface ByZones {
  zones: number;
  runs: RunResult[];
  /** Median over the runs of each run's CPU per drain (ms). */
  cpuMs: number | null;
  /** Median and p99 (nearest rank) over every drain of the runs: observed → the last stream received it (ms). */
  drainMedianMs: number | null;
  drainP99Ms: number | null;
  drains: number;
}

function byZones(file: ResultFile, zones: number): ByZones | undefined {
  const runs = file.runs.filter((r) => r.subject === 'herald' && r.point.zones === zones);
  if (runs.length === 0) return undefined;
  const cpu = runs.map(cpuPerDrainMs);
  const drains = runs.flatMap((r) => (complete(r) ? r.drains.everyReceivedMs : []));
  const allComplete = runs.every(complete);
  return {
    zones,
    runs,
    cpuMs: cpu.every((c) => c !== null) ? median(cpu as number[]) : null,
    drainMedianMs: allComplete ? median(drains) : null,
    drainP99Ms: allComplete ? percentile(drains, 99) : null,
    drains: drains.length,
  };
}

export interface ZoneVerdict {
  id: 'cpu' | 'latency' | 'correct';
  target: string;
  measured: string;
  met: boolean;
}

/** The target rows: CPU per drain and drain latency of Z=3 against Z=1 (medians over the runs), and the checks. */
export function zoneTargets(file: ResultFile): ZoneVerdict[] {
  const one = byZones(file, ZONES_COMPARED.one);
  const many = byZones(file, ZONES_COMPARED.many);
  if (!one || !many) return [];
  const ratioRow = (id: 'cpu' | 'latency', what: string, a: number | null, b: number | null): ZoneVerdict => ({
    id,
    target: `${what} with ${many.zones} zone variants ≤ ${ZONE_COST_FACTOR}× with one`,
    measured: a === null || b === null ? 'a run did not finish' : `${fmt(b, 1)} vs ${fmt(a, 1)} ms: ${(b / a).toFixed(2)}×`,
    met: a !== null && b !== null && b <= ZONE_COST_FACTOR * a,
  });
  const problems = [...one.runs, ...many.runs].flatMap((r) => zoneProblems(r).map((p) => `Z=${r.point.zones} run ${file.runs.indexOf(r) + 1}: ${p}`));
  return [
    ratioRow('cpu', `Herald CPU per drain (median of the ${many.runs.length} and ${one.runs.length} runs)`, one.cpuMs, many.cpuMs),
    ratioRow('latency', 'drain → every stream, median over every drain of the runs', one.drainMedianMs, many.drainMedianMs),
    {
      id: 'correct',
      target: 'every drain reached every stream with its own zone alone at priority 0, from every zone; Herald held one perspective per zone',
      measured: problems.length === 0 ? `${[...one.runs, ...many.runs].length} runs, no error` : problems.join('; '),
      met: problems.length === 0,
    },
  ];
}

function runRow(r: RunResult, index: number): string {
  const d = r.drains;
  const checks = d.zones;
  const v = r.variants;
  const drains = complete(r) ? `${fmt(median(d.everyReceivedMs))} / ${fmt(percentile(d.everyReceivedMs, 99))}` : `did not finish (${d.completed}/${d.attempted})`;
  const zoneCheck = checks
    ? `${fmt(median(checks.ownZoneFirst))} / ${checks.distinctZones.length > 0 ? `${Math.min(...checks.distinctZones)}–${Math.max(...checks.distinctZones)}` : '—'} / ${count(checks.wrongZone)}`
    : '—';
  return `| ${index + 1} | ${r.point.zones ?? '—'} | ${v ? `${v.perspectives} / ${count(v.variants)} / ${v.services}` : '—'} | ${fmt(cpuPerDrainMs(r), 1)} | ${drains} | ${fmt(d.perStream.p50)} / ${fmt(d.perStream.p99)} | ${fmt(d.bytesPerDrain / 1e6, 2)} | ${zoneCheck} | ${fmt(r.storm.seconds, 2)} | ${fmt(r.server.peakRssMb)} |`;
}

/** The section's lines. */
export function zonesSection(file: ResultFile, source: string): string[] {
  const m = file.machine;
  const runs = file.runs.filter((r) => r.subject === 'herald' && r.point.zones !== undefined);
  const first = runs[0];
  const point = first ? `S=${count(first.point.streams)} N=${first.point.services} E=${count(first.point.endpoints)} K=${first.point.clusters}, ${first.point.drains} drains a run` : '';
  const verdicts = zoneTargets(file);
  const out = [
    '## Zone variants',
    '',
    `What a drain costs Herald when every service is served as Z zone variants instead of one. Run \`${file.label}\` of ${file.date.slice(0, 16).replace('T', ' ')} UTC, generated from \`${source}\`; command \`${file.command}\`. ${m.cpu}, ${m.cores} cores, shared with other work (load average ${loadAverages(m.loadBefore)} before, ${loadAverages(m.loadAfter)} after); Herald under Node ${m.heraldNode ?? m.node}, the load generator (${m.loadgen === 'node' ? 'Node' : 'Go'}) on the same machine. Zone counts alternate run by run, so each sees the same noise of the shared machine.`,
    '',
    `**Shape** (${point}). With \`--zones Z\` each service's pods of a kube cluster are dealt out over that cluster's Z zones in turn, Herald's mesh-defaults ServicePolicy says \`locality.zone: PreferSameZone\`, and every Envoy declares \`herald.io/kube-cluster\` c0 and \`node.locality.zone\` one of c0's zones, in turn. Herald has no \`--local-cluster\`, so its plain view puts every endpoint at priority 0 and an Envoy's view differs from it at Z = 1 too (c0 first, then the other clusters): Z = 1 is one variant per service and Z = 3 three, through the same code. The rollout service lives in c0 alone, so at Z = 1 its one view equals the plain one and it has no variant; the drained pods are of the other services. **Checks**, counted as errors: every Envoy, on the assignment that carries a timed drain, reads the zones of the priority-0 localities and counts whether they are its own zone and nothing else; Herald reports the perspectives and variants it holds after the drains. **CPU per drain**: Herald's CPU over the drain series (one drain at a time, 200 ms apart) divided by the drains.`,
    '',
  ];
  if (verdicts.length > 0)
    out.push('### Against the target', '', '| target | this run | |', '|---|---|---|', ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${v.met ? 'met' : '**not met**'} |`), '');
  out.push(
    '### Runs, in the order they ran',
    '',
    `| run | Z | perspectives / variants / services with variants | Herald CPU per drain (ms) | drain → every stream (ms): median / ${tailLabel(first?.point.drains ?? 0, 'drain')} | per stream (ms): p50 / p99 | MB sent per drain | own zone first per drain: median streams / zones / errors | storm (s) | Herald peak RSS (MiB) |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => runRow(r, file.runs.indexOf(r))),
    '',
  );
  const groups = [...new Set(runs.map((r) => r.point.zones!))].sort((a, b) => a - b).map((z) => byZones(file, z)!);
  if (groups.length > 0) {
    out.push(
      '### By zone count',
      '',
      `| Z | runs | Herald CPU per drain (ms): median of the runs (each run) | drain → every stream (ms): median / ${tailLabel(groups[0]!.drains, 'drain')} over every drain of the runs | MB sent per drain |`,
      '|---|---|---|---|---|',
      ...groups.map(
        (g) =>
          `| ${g.zones} | ${g.runs.length} | ${fmt(g.cpuMs, 1)} (${g.runs.map((r) => fmt(cpuPerDrainMs(r), 1)).join(', ')}) | ${fmt(g.drainMedianMs)} / ${fmt(g.drainP99Ms)} | ${fmt(median(g.runs.map((r) => r.drains.bytesPerDrain)) / 1e6, 2)} |`,
      ),
      '',
    );
  }
  const notes = runs.flatMap((r) => r.notes.map((n) => `- run ${file.runs.indexOf(r) + 1} (Z=${r.point.zones}): ${n}`));
  if (notes.length > 0) out.push(...notes, '');
  return out;
}
