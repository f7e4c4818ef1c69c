// Samples a process's resident memory by mapping kind from /proc/PID/smaps (Linux) until it
// exits: [heap] is malloc's main arena, [anon] V8's pages, large mmap'd buffers and thread
// arenas, file the mapped binaries. The memory-over-time figures in results/notes.md come from
// it, run beside a benchmark with the Herald server's process id.
//
//   node .cache/bench-js/bench/smaps-sample.js PID [interval_s=3]
import { readFileSync } from 'node:fs';

const pid = Number(process.argv[2]);
const intervalMs = Number(process.argv[3] ?? 3) * 1000;
if (!Number.isInteger(pid) || pid <= 0) throw new Error('usage: smaps-sample PID [interval_s]');

function residentByKind(): Map<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = new Map<string, number>();
  let kind = '[anon]';
  for (const line of text.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const name = mapping[1]!.trim();
      kind = name === '' ? '[anon]' : name.startsWith('/') ? 'file' : name;
      continue;
    }
    if (line.startsWith('Rss:')) kb.set(kind, (kb.get(kind) ?? 0) + Number(line.split(/\s+/)[1]));
  }
  return kb;
}

let peak = 0;
let peakLine = '';
for (;;) {
  const kb = residentByKind();
  if (!kb) break;
  const total = [...kb.values()].reduce((sum, v) => sum + v, 0);
  const parts = [...kb]
    .filter(([, v]) => v >= 10 * 1024)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${Math.round(v / 1024)}`);
  const line = `${new Date().toISOString().slice(11, 19)} ${Math.round(total / 1024)} MB (${parts.join(', ')})`;
  process.stdout.write(`${line}\n`);
  if (total > peak) [peak, peakLine] = [total, line];
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
process.stdout.write(`process ${pid} gone; highest sample: ${peakLine}\n`);
