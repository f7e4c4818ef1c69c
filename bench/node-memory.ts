// What keeping each client's Node costs per stream, for Envoy-sized Nodes: an Envoy lists every
// extension compiled into it (~300 entries), and Herald keeps the first Node of each stream for
// CSDS. Compares holding the decoded message (as Herald did) with KeptNodes (the fields as
// bytes, the extension list shared by every stream that sent the same one), and times one decode.
//
//   node --expose-gc .cache/bench-js/bench/node-memory.js [streams=2000] [extensions=300]
import { loadEnvoyProtos } from '../src/resources/index.js';
import { KeptNodes } from '../src/xds/bookkeeping/kept-nodes.js';

const streams = Number(process.argv[2] ?? 2_000);
const extensionCount = Number(process.argv[3] ?? 300);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const Node = loadEnvoyProtos().lookupType('envoy.config.core.v3.Node');
const categories = ['envoy.filters.http', 'envoy.filters.network', 'envoy.transport_sockets.upstream', 'envoy.access_loggers', 'envoy.clusters'];
const extensions = Array.from({ length: extensionCount }, (_, i) => {
  const category = categories[i % categories.length]!;
  return { name: `${category}.extension_${i}`, category, type_urls: [`type.googleapis.com/envoy.extensions.${i}.v3.Config`] };
});
const encoded = (i: number): Uint8Array =>
  Node.encode(
    Node.fromObject({
      id: `sidecar~10.0.${i >> 8}.${i & 255}~pod-${i}.shop~shop.svc.cluster.local`,
      cluster: 'shop',
      locality: { region: 'r1', zone: 'z1' },
      user_agent_name: 'envoy',
      user_agent_build_version: { version: { major_number: 1, minor_number: 34, patch: 1 } },
      extensions,
      client_features: ['envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw'],
    }),
  ).finish();

async function heapPerStream(keep: (bytes: Uint8Array) => unknown): Promise<number> {
  await settle();
  const before = process.memoryUsage();
  // The request bytes are garbage by the second reading: only what is kept counts.
  const requests = Array.from({ length: streams }, (_, i) => encoded(i));
  const kept = requests.map(keep);
  requests.length = 0;
  await settle();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.external - (before.heapUsed + before.external);
  if (kept.length !== streams) throw new Error('lost a node');
  return bytes / streams;
}

/** Collects, and gives freed array buffers (swept off the main thread) time to be counted as gone. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const nodes = new KeptNodes();
const sample = encoded(0);
const decoded = await heapPerStream((bytes) => Node.decode(bytes));
const shared = await heapPerStream((bytes) => nodes.keep(bytes));
// What decoding such a Node costs, best of three rounds: the decoder now cuts the list out first.
let decodeUs = Number.POSITIVE_INFINITY;
for (let round = 0; round < 3; round++) {
  const start = performance.now();
  for (let i = 0; i < streams; i++) Node.decode(sample);
  decodeUs = Math.min(decodeUs, ((performance.now() - start) * 1000) / streams);
}
process.stdout.write(
  `${streams} streams, Node of ${sample.length} bytes with ${extensionCount} extensions: ` +
    `decoded ${(decoded / 1024).toFixed(1)} KB per stream, kept ${(shared / 1024).toFixed(2)} KB per stream (${nodes.sharedRuns} shared list); ` +
    `protobufjs decodes it in ${decodeUs.toFixed(0)} µs\n`,
);
