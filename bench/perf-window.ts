// Reads `perf script` output of a `perf record -e cpu-clock -g -p PID` taken during a run and
// prints, for a time window, where one thread's on-CPU samples went by kind of code (kernel,
// nghttp2, V8's garbage collector, JavaScript and V8 builtins, libc, and the rest of the node
// binary, which includes addresses perf could not name), plus how much the process's other
// threads ran. The drain's native-phase breakdown in results/notes.md comes
// from it.
//
//   perf script -i perf.data -F tid,time,ip,sym,dso -G > samples.txt
//   node .cache/bench-js/bench/perf-window.js samples.txt TID FROM_S TO_S [--buckets MS] [--top N] [--sample-ms 0.5]
//
// Times are seconds from the thread's first sample. --sample-ms is the sampling period
// (1000 / the -F frequency).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { buckets: { type: 'string' }, top: { type: 'string' }, 'sample-ms': { type: 'string', default: '0.5' } } });
const [file, tidText, fromText, toText] = positionals;
if (!file || !tidText || fromText === undefined || toText === undefined) throw new Error('usage: perf-window SAMPLES TID FROM_S TO_S [--buckets MS] [--sample-ms MS]');
const tid = Number(tidText);
const from = Number(fromText);
const to = Number(toText);
const sampleMs = Number(values['sample-ms']);

interface Sample {
  tid: number;
  time: number;
  symbol: string;
  dso: string;
}
const LINE = /^\s*(\d+)\s+([\d.]+):\s+\S+\s+(.*?)\s+\((.*)\)\s*$/;
const samples: Sample[] = [];
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const match = LINE.exec(line);
  if (match) samples.push({ tid: Number(match[1]), time: Number(match[2]), symbol: match[3]!, dso: match[4]!.split('/').pop()! });
}
const own = samples.filter((s) => s.tid === tid);
if (own.length === 0) throw new Error(`no samples of thread ${tid}`);
const start = own[0]!.time;

const KINDS = ['kernel', 'nghttp2', 'gc', 'js', 'libc', 'node'] as const;
function kindOf({ symbol, dso }: Sample): (typeof KINDS)[number] {
  if (dso.includes('kernel')) return 'kernel';
  if (symbol.includes('nghttp2')) return 'nghttp2';
  if (/Sweep|Mark|Scaveng|ConcurrentMarking|GarbageCollect/.test(symbol)) return 'gc';
  if (dso.startsWith('[JIT]') || symbol.startsWith('Builtins_')) return 'js';
  if (dso.startsWith('libc')) return 'libc';
  return 'node';
}

const inWindow = (s: Sample): boolean => s.time - start >= from && s.time - start < to;
const bucketS = values.buckets ? Number(values.buckets) / 1000 : to - from;
const rows = new Map<number, Map<string, number>>();
let others = 0;
const bySymbol = new Map<string, number>();
for (const sample of samples) {
  if (!inWindow(sample)) continue;
  if (sample.tid !== tid) {
    others += sampleMs;
    continue;
  }
  const bucket = Math.floor((sample.time - start - from) / bucketS);
  let row = rows.get(bucket);
  if (!row) rows.set(bucket, (row = new Map<string, number>()));
  const kind = kindOf(sample);
  row.set(kind, (row.get(kind) ?? 0) + sampleMs);
  bySymbol.set(sample.symbol, (bySymbol.get(sample.symbol) ?? 0) + sampleMs);
}

const cell = (ms: number): string => ms.toFixed(1).padStart(8);
console.log(`${'from s'.padStart(7)} ${'on-CPU'.padStart(8)} ${KINDS.map((k) => k.padStart(8)).join(' ')}   (ms of thread ${tid})`);
for (const bucket of [...rows.keys()].sort((a, b) => a - b)) {
  const row = rows.get(bucket)!;
  const busy = [...row.values()].reduce((sum, ms) => sum + ms, 0);
  console.log(`${(from + bucket * bucketS).toFixed(2).padStart(7)} ${cell(busy)} ${KINDS.map((k) => cell(row.get(k) ?? 0)).join(' ')}`);
}
console.log(`other threads of the process: ${others.toFixed(1)} ms on-CPU in ${from}–${to} s`);
if (values.top) {
  console.log(`\nthread ${tid}'s symbols with the most samples:`);
  for (const [symbol, ms] of [...bySymbol].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${cell(ms)} ms  ${symbol.slice(0, 100)}`);
}
