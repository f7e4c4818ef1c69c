// Reads a V8 heap snapshot (BENCH_HEAP_SNAPSHOT=FILE makes the bench's Herald write one) and
// prints where the bytes are: self size by node kind and name, and array buffers by size. The
// heap composition in results/notes.md comes from it.
//
//   node .cache/bench-js/bench/heap-summary.js FILE.heapsnapshot [--top N]
//
// Strings are summed as one row and code as another; native nodes (nghttp2's memory, array
// buffer contents) are listed by name, as the snapshot reports their sizes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' } } });
const [file] = positionals;
if (!file) throw new Error('usage: heap-summary FILE.heapsnapshot [--top N]');
const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = heap.snapshot.meta.node_fields;
const kinds = heap.snapshot.meta.node_types[0];
const stride = fields.length;
const typeAt = fields.indexOf('type');
const nameAt = fields.indexOf('name');
const sizeAt = fields.indexOf('self_size');

const STRING_KINDS = new Set(['string', 'concatenated string', 'sliced string']);
const rows = new Map<string, { bytes: number; count: number }>();
const bufferSizes = new Map<number, number>();
let total = 0;
for (let i = 0; i < heap.nodes.length; i += stride) {
  const kind = kinds[heap.nodes[i + typeAt]!]!;
  const name = heap.strings[heap.nodes[i + nameAt]!]!;
  const size = heap.nodes[i + sizeAt]!;
  total += size;
  let key: string;
  if (STRING_KINDS.has(kind)) key = '(strings)';
  else if (kind === 'code') key = '(code)';
  else key = `${kind}: ${name.slice(0, 50)}`;
  const row = rows.get(key) ?? { bytes: 0, count: 0 };
  row.bytes += size;
  row.count += 1;
  rows.set(key, row);
  if (kind === 'native' && name === 'system / JSArrayBufferData') bufferSizes.set(size, (bufferSizes.get(size) ?? 0) + 1);
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1).padStart(8);
const top = Number(values.top);
console.log(`${mb(total)} MB in ${heap.nodes.length / stride} nodes`);
console.log('\nself size by kind and name:');
for (const [key, row] of [...rows].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(`${mb(row.bytes)} MB ${String(row.count).padStart(9)}  ${key}`);
}
console.log('\narray buffer contents by size (bytes × count):');
for (const [size, count] of [...bufferSizes].sort((a, b) => b[0] * b[1] - a[0] * a[1]).slice(0, 10)) {
  console.log(`${mb(size * count)} MB  ${size} × ${count}`);
}
