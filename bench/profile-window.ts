// Reads a V8 CPU profile (`run.js --cpu-prof DIR` writes Herald's) and prints, for a time window,
// either where the time went bucket by bucket or the functions with the most self time. The
// drain timelines and per-function figures in results/notes.md come from it.
//
//   node .cache/bench-js/bench/profile-window.js FILE.cpuprofile FROM_S TO_S [--buckets MS] [--top N]
//
// Times are seconds from the profile's start. Bucket classes: the frame a sample sits under
// (fan-out = the cache change listener, ack-read = a socket read, tick, immediate), else the
// sample's own pseudo-frame ((program) = native code, (garbage collector), (idle)).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const CLASSES: [string, string][] = [
  ['fan-out', 'onCacheChange'],
  ['ack-read', 'onStreamRead'],
  ['tick', 'processTicksAndRejections'],
  ['immediate', 'processImmediate'],
];
const PSEUDO = new Set(['(program)', '(garbage collector)', '(idle)']);

const { values, positionals } = parseArgs({ allowPositionals: true, options: { buckets: { type: 'string' }, top: { type: 'string', default: '30' } } });
const [file, fromText, toText] = positionals;
if (!file || fromText === undefined || toText === undefined) throw new Error('usage: profile-window FILE FROM_S TO_S [--buckets MS] [--top N]');
const from = Number(fromText);
const to = Number(toText);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const classes = new Map<number, string>();
function classOf(id: number): string {
  let found = classes.get(id);
  if (found !== undefined) return found;
  const own = byId.get(id)!.callFrame.functionName;
  found = PSEUDO.has(own) ? own : 'other';
  if (!PSEUDO.has(own)) {
    // The outermost matching frame wins, as the innermost listener runs inside it.
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      const match = CLASSES.find(([, fn]) => fn === name);
      if (match) found = match[0];
    }
  }
  classes.set(id, found);
  return found;
}

/** Calls `each` with (sample node, seconds from start, microseconds) for samples in the window. */
function forEachSample(each: (id: number, at: number, us: number) => void): void {
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i]!;
    const at = (time - profile.startTime) / 1e6;
    if (at >= from && at < to) each(profile.samples[i]!, at, profile.timeDeltas[i]!);
  }
}

if (values.buckets) {
  const bucketS = Number(values.buckets) / 1000;
  const names = [...CLASSES.map(([name]) => name), '(program)', '(garbage collector)', 'other', '(idle)'];
  const rows = new Map<number, Map<string, number>>();
  forEachSample((id, at, us) => {
    const bucket = Math.floor((at - from) / bucketS);
    let row = rows.get(bucket);
    if (!row) rows.set(bucket, (row = new Map<string, number>()));
    const name = classOf(id);
    row.set(name, (row.get(name) ?? 0) + us);
  });
  process.stdout.write(`from s  ${names.map((n) => n.slice(0, 10).padStart(10)).join(' ')}   (% of each bucket)\n`);
  for (const bucket of [...rows.keys()].sort((a, b) => a - b)) {
    const row = rows.get(bucket)!;
    const cells = names.map((name) => String(Math.round(((row.get(name) ?? 0) / (bucketS * 1e6)) * 100)).padStart(10));
    process.stdout.write(`${(from + bucket * bucketS).toFixed(2).padStart(6)}  ${cells.join(' ')}\n`);
  }
} else {
  const self = new Map<string, number>();
  let total = 0;
  forEachSample((id, _at, us) => {
    const frame = byId.get(id)!.callFrame;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  });
  process.stdout.write(`${(total / 1000).toFixed(1)} ms sampled between ${from} and ${to} s\n`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    process.stdout.write(`${(us / 1000).toFixed(1).padStart(8)} ms  ${key}\n`);
  }
}
