// Benchmark entry point: Herald and the go-control-plane peers through the same event script.
//
//   node .cache/bench-js/bench/run.js            full matrix (see DEFAULT_POINTS), writes bench/results/
//   node .cache/bench-js/bench/run.js --smoke    tiny size, one drain, for CI (no timing assertions)
//   options: --points S:N:E[:D:G][,…] (D:G: a scoped mesh, each Envoy declaring D services, G distinct sets) --subjects herald,peer-snapshot,peer-linear --drains 10 --workers 2
//            --rollout-pods 100 --deploy-step-ms 50 --storm-timeout-s 180 --label NAME --cpu-prof DIR (profile Herald) --no-peer
//            --herald-node PATH (the Node binary that runs Herald; default: this one)
//            --loadgen go|node (the load generator workers; default go when its binary builds, else node)
//            --append (add to the label's result file, e.g. a Herald-only point to a run of all servers)
//            --perspectives P (Herald only: the Envoys declare P kube clusters, so Herald serves P assignment variants)
//            --zones Z[,Z…] (Herald only: each point once per Z, in order — pods over Z zones per cluster,
//              mesh defaults locality.zone PreferSameZone, the Envoys in c0's zones by turns; --label zones)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadgenSpec } from './loadgen/pool.js';
import { runScenario, type Limits, type RunResult, type SizePoint, type SubjectSpec } from './scenario.js';
import { parseRunArgs, runLimits, type RecordedLimits } from './run-options.js';
import { IMAGE_ENV } from './image-env.js';
import { linkProtos } from './bench-protos.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

const DEFAULT_POINTS = '1000:600:30000,3000:600:30000,10000:600:30000,1000:600:3000,1000:600:100000';

export interface ResultFile {
  label: string;
  command: string;
  /** loadgen: which load generator ran (absent in files from before the Go worker: node). */
  machine: { cpu: string; cores: number; memoryGb: number; node: string; heraldNode?: string; go: string; loadgen?: 'go' | 'node'; loadBefore: number[]; loadAfter: number[] };
  /** The run's deadlines and memory caps (absent in older files: report.ts reads them from `command`). */
  limits?: RecordedLimits;
  date: string;
  runs: RunResult[];
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function parsePoints(text: string, clusters: number, drains: number, rolloutPods: number): SizePoint[] {
  // The rollout service is one of the N: without pods it has no cluster, and no simulated Envoy
  // would ever see all N (the storm would wait out its timeout).
  if (!Number.isInteger(rolloutPods) || rolloutPods < 1) throw new Error(`--rollout-pods must be a whole number of at least 1, got ${rolloutPods}`);
  return text.split(',').map((part) => {
    const fields = part.split(':').map(Number);
    const [s, n, e, d, g] = fields;
    if (!s || !n || !e || (fields.length !== 3 && fields.length !== 5) || (fields.length === 5 && (!d || !g))) throw new Error(`bad point ${part} (want S:N:E or S:N:E:D:G)`);
    const point: SizePoint = { streams: s, services: n, endpoints: e, clusters, rolloutPods: Math.min(rolloutPods, e - n), drains };
    if (d && g) point.scope = { dependencies: d, sets: g };
    return point;
  });
}

/**
 * `--zones Z[,Z…]`: every point once per listed Z, in that order, so alternating counts (1,3,1,3)
 * see the same noise of a shared machine.
 */
function zonedPoints(points: SizePoint[], list: string, values: { subjects: string; perspectives?: string | undefined }): SizePoint[] {
  const counts = list.split(',').map(Number);
  if (counts.some((z) => !Number.isInteger(z) || z < 1)) throw new Error(`--zones wants whole numbers of at least 1, got ${list}`);
  // Only Herald has zone preference; perspectives and zones are two different shapes.
  if (values.subjects !== 'herald') throw new Error('--zones needs --subjects herald');
  if (values.perspectives !== undefined) throw new Error('--zones and --perspectives do not go together');
  return points.flatMap((point) => counts.map((zones) => ({ ...point, zones })));
}

/** The smoke points: the unscoped one, and a scoped one (5 of 20 services per Envoy, 10 sets). */
const SMOKE_POINTS: SizePoint[] = [
  { streams: 50, services: 20, endpoints: 200, clusters: 3, rolloutPods: 20, drains: 1 },
  { streams: 50, services: 20, endpoints: 200, clusters: 3, rolloutPods: 20, drains: 1, scope: { dependencies: 5, sets: 10 } },
];

/**
 * bench/http2-floor.ts for `streams` streams under `node` (the one that runs Herald): "every
 * message received" of each round, ms. Run between servers, so nothing else is serving.
 */
function http2Floor(node: string, streams: number, rounds: number): Promise<number[]> {
  const script = fileURLToPath(new URL('./http2-floor.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(node, [script, String(streams), String(rounds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const rounds = [...out.matchAll(/every message received (\d+) ms/g)].map((m) => Number(m[1]));
      if (code !== 0 || rounds.length === 0) reject(new Error(`http2-floor.js ${streams} exited ${code}: ${out.trim().slice(-200)}`));
      else resolve(rounds);
    });
  });
}

/** Builds the peer and the Go load generator if Go is there; their directory, or the reason it cannot. */
function goBinaries(): { dir: string } | { failed: string } {
  const built = spawnSync('bash', [join(repo, 'bench/build-peer.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) return { failed: `build-peer.sh exited ${built.status}` };
  return { dir: built.stdout.trim() };
}

function nodeVersion(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : 'unknown';
}

function goVersion(): string {
  const out = spawnSync('go', ['version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : 'none';
}

function heraldOldSpaceMb(value: string): number {
  const mb = Number(value);
  if (!Number.isInteger(mb) || mb < 128) throw new Error(`--herald-old-space-mb must be a whole number of at least 128, got ${value}`);
  return mb;
}

async function main(): Promise<void> {
  const values = parseRunArgs(process.argv.slice(2));
  if (values.loadgen !== undefined && values.loadgen !== 'go' && values.loadgen !== 'node') throw new Error(`--loadgen ${values.loadgen}: want go or node`);
  const smoke = values.smoke;
  let points = smoke ? SMOKE_POINTS : parsePoints(values.points ?? DEFAULT_POINTS, Number(values.clusters), Number(values.drains), Number(values['rollout-pods']));
  if (values.perspectives !== undefined) {
    const perspectives = Number(values.perspectives);
    if (!Number.isInteger(perspectives) || perspectives < 1) throw new Error(`--perspectives must be a whole number of at least 1, got ${values.perspectives}`);
    // Only Herald reads a declared kube cluster.
    if (values.subjects !== 'herald') throw new Error('--perspectives needs --subjects herald');
    for (const point of points) point.perspectives = perspectives;
  }
  if (values.zones !== undefined) points = zonedPoints(points, values.zones, values);
  const limits: Limits = runLimits(values);

  const wanted = new Set(values.subjects.split(','));
  const heraldNode = values['herald-node'] ?? process.execPath;
  const subjects: SubjectSpec[] = [];
  if (wanted.has('herald')) {
    linkProtos();
    const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
    subjects.push({
      name: 'herald',
      command: heraldNode,
      env: { ...IMAGE_ENV },
      args: [`--max-old-space-size=${heraldOldSpaceMb(values['herald-old-space-mb'])}`, ...prof, fileURLToPath(new URL('./herald-server.js', import.meta.url))],
    });
  }
  const peerModes = ['snapshot', 'linear'].filter((mode) => wanted.has(`peer-${mode}`));
  const wantPeer = peerModes.length > 0 && !values['no-peer'];
  const go = wantPeer || values.loadgen !== 'node' ? goBinaries() : undefined;
  if (go && 'failed' in go) {
    if (values.loadgen === 'go') throw new Error(`--loadgen go, but the Go binaries did not build (${go.failed})`);
    log(`Go binaries not built (${go.failed}): ${wantPeer ? 'running Herald only, ' : ''}Node load generator`);
  }
  const goDir = go && 'dir' in go ? go.dir : undefined;
  if (goDir && wantPeer) for (const mode of peerModes) subjects.push({ name: `peer-${mode}`, command: join(goDir, 'herald-bench-peer'), args: ['-mode', mode] });
  // Go by default: at 10k streams the Node workers cost more CPU than the server they measure.
  const loadgen: LoadgenSpec = goDir && values.loadgen !== 'node' ? { kind: 'go', binary: join(goDir, 'herald-bench-loadgen') } : { kind: 'node' };
  limits.loadgen = loadgen;
  log(`load generator: ${loadgen.kind}, ${limits.workers} worker${limits.workers === 1 ? '' : 's'}`);

  const file: ResultFile = {
    label: values.label ?? (smoke ? 'smoke' : 'full'),
    command: `node .cache/bench-js/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      heraldNode: nodeVersion(heraldNode),
      go: goVersion(),
      loadgen: loadgen.kind,
      loadBefore: loadavg(),
      loadAfter: [],
    },
    limits: runLimits(values),
    date: new Date().toISOString(),
    runs: [],
  };
  const outDir = smoke ? join(repo, '.cache/bench-smoke') : join(repo, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `${file.label}.json`);
  if (values.append && existsSync(outFile)) {
    const earlier = JSON.parse(readFileSync(outFile, 'utf8')) as ResultFile;
    file.runs = earlier.runs;
    file.command = `${earlier.command} && ${file.command}`;
    file.date = earlier.date;
    file.machine.loadBefore = earlier.machine.loadBefore;
    // The report reads the file's limits for the first command's runs (whether a peer hit the RSS cap).
    file.limits = earlier.limits;
  }
  for (const point of points) {
    for (const subject of subjects) {
      const scope = point.scope ? ` D=${point.scope.dependencies} G=${point.scope.sets}` : '';
      log(`${subject.name} at S=${point.streams} N=${point.services} E=${point.endpoints} K=${point.clusters}${scope}${point.zones !== undefined ? ` Z=${point.zones}` : ''}`);
      const run = await runScenario(subject, point, limits, log);
      if (run.scope && subject.name === 'herald') {
        // The floor for the most popular service's fan-out, under the same Node, in the same run.
        const streams = run.scope.popular.dependentsOfService;
        try {
          run.scope.floorMs = await http2Floor(heraldNode, streams, 5);
          log(`HTTP/2 floor for ${streams} streams: ${run.scope.floorMs.join(', ')} ms`);
        } catch (err) {
          run.notes.push(`HTTP/2 floor for ${streams} streams not measured: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      for (const note of run.notes) log(`${subject.name}: ${note}`);
      file.runs.push(run);
      file.machine.loadAfter = loadavg();
      // Written after every run, so a long matrix that is stopped keeps what it measured.
      writeFileSync(outFile, `${JSON.stringify(file, null, 1)}\n`);
    }
  }
  log(`results in ${outFile}`);
  if (smoke) {
    // The smoke run proves the harness end to end; it asserts completion, never speed.
    // Scoped: the most popular service's drains done too, and nothing sent outside a stream's set.
    const scopedBroken = (r: RunResult): boolean =>
      r.point.scope !== undefined &&
      (!r.scope || r.scope.popular.completed === 0 || r.scope.popular.completed < r.scope.popular.attempted || r.scope.outOfScope > 0 || (r.drains.leaked ?? 0) + r.scope.popular.leaked > 0);
    const broken = file.runs.filter(
      (r) => r.storm.seconds === null || r.drains.completed < r.drains.attempted || r.drains.completed === 0 || (r.deploy?.completed ?? 0) < (r.deploy?.pods ?? 1) || scopedBroken(r),
    );
    for (const r of broken) log(`SMOKE FAILED: ${r.subject}: ${r.notes.join('; ') || 'incomplete'}`);
    if (broken.length > 0 || file.runs.length === 0) process.exit(1);
    log(`smoke ok: ${file.runs.map((r) => r.subject).join(', ')}`);
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
