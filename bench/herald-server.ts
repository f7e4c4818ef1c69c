// Herald as a benchmark subject: the real daemon (store → pipeline → cache → xDS) in its own
// process, fed by in-memory sources that the orchestrator drives over stdin (see mesh.ts).
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import { startDaemon } from '../src/app/index.js';
import { SERVE_DEFAULTS } from '../src/config/index.js';
import { DEFAULTS_POLICY_NAME } from '../src/policy/index.js';
import { systemClock, type ClusterStatus, type NodeRecord, type PodRecord } from '../src/model/index.js';
import { StaticPolicySource } from '../src/sources/sim/index.js';
import type { ClusterSource, SourceSink } from '../src/sources/types.js';
import { createLogger, HeraldMetrics } from '../src/telemetry/index.js';
import type { BenchEndpoint, ControlCommand, ControlReply } from './mesh.js';

/**
 * Every simulated Envoy connects from 127.0.0.1, which the per-peer limits would take for one
 * abusive host: the load generator stands for many hosts, so those two limits are lifted here.
 */
const LOADGEN_LIMITS = { maxConnectionsPerPeer: 1_000_000, maxNamesPerPeer: Number.MAX_SAFE_INTEGER };

/** One Kubernetes cluster as an informer would deliver it, driven by control commands. */
class BenchSource implements ClusterSource {
  private sink: SourceSink | undefined;
  private current: ClusterStatus;
  readonly pods = new Map<string, PodRecord>();

  constructor(readonly name: string) {
    this.current = { cluster: name, state: 'syncing', everSynced: false, lastError: undefined, lastChangeMs: systemClock() };
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    sink.setClusterStatus(this.current);
  }

  async stop(): Promise<void> {
    this.sink = undefined;
  }

  status(): ClusterStatus {
    return this.current;
  }

  load(endpoints: BenchEndpoint[]): void {
    const zones = new Map<string, NodeRecord>();
    const pods: PodRecord[] = [];
    for (const e of endpoints) {
      zones.set(e.zone, { cluster: this.name, name: nodeName(e), region: e.region, zone: e.zone });
      const pod = toPod(e);
      this.pods.set(e.pod, pod);
      pods.push(pod);
    }
    const sink = this.requireSink();
    sink.replaceNodes(this.name, [...zones.values()]);
    sink.replacePods(this.name, pods);
    this.current = { ...this.current, state: 'synced', everSynced: true, lastChangeMs: systemClock() };
    sink.setClusterStatus(this.current);
  }

  apply(pod: PodRecord): void {
    this.pods.set(pod.name, pod);
    this.requireSink().applyPod(pod);
  }

  remove(name: string): void {
    this.pods.delete(name);
    this.requireSink().removePod(this.name, `default/${name}`);
  }

  private requireSink(): SourceSink {
    if (!this.sink) throw new Error(`source ${this.name} not started`);
    return this.sink;
  }
}

function nodeName(e: BenchEndpoint): string {
  return `${e.zone}-node`;
}

function toPod(e: BenchEndpoint): PodRecord {
  return {
    cluster: e.cluster,
    namespace: 'default',
    name: e.pod,
    uid: `${e.cluster}/${e.pod}`,
    service: e.service,
    ip: e.ip,
    port: e.port,
    ready: true,
    terminating: false,
    phase: 'Running',
    nodeName: nodeName(e),
    createdAtMs: 1,
    gracePeriodSeconds: undefined,
  };
}

/**
 * BENCH_MESH_DEFAULTS (JSON): the spec of a mesh-defaults ServicePolicy, held by cluster c0 and
 * read as a kube cluster's would be (validated, then applied to every service); absent, no
 * policies, as `herald serve` without the CRD.
 */
function benchPolicies(): { sources: StaticPolicySource[]; clusters: string[]; namespace: string } | undefined {
  const spec = process.env.BENCH_MESH_DEFAULTS;
  if (spec === undefined) return undefined;
  const source = new StaticPolicySource('c0', [{ cluster: 'c0', namespace: SERVE_DEFAULTS.policyNamespace, name: DEFAULTS_POLICY_NAME, generation: 1, spec: JSON.parse(spec) as unknown }]);
  return { sources: [source], clusters: ['c0'], namespace: SERVE_DEFAULTS.policyNamespace };
}

async function main(): Promise<void> {
  const clusters = Number(process.env.BENCH_CLUSTERS ?? '3');
  const sources = Array.from({ length: clusters }, (_, k) => new BenchSource(`c${k}`));
  const byName = new Map(sources.map((s) => [s.name, s]));
  const podCluster = new Map<string, BenchSource>();
  // Logs go to stderr: stdout carries the control replies.
  const logger = createLogger({ level: 'warn', destination: pino.destination({ dest: 2, sync: false }) });
  const metrics = new HeraldMetrics();
  const localCluster = process.env.BENCH_LOCAL_CLUSTER;
  const daemon = await startDaemon(
    { sources, localCluster, policies: benchPolicies(), initialSyncTimeoutMs: 3_600_000, xds: { host: '127.0.0.1', port: 0, limits: LOADGEN_LIMITS }, admin: undefined },
    { logger, metrics },
  );
  const drains = new Map<string, number[]>();
  let heapWritten = false;
  daemon.onDrain((result) => {
    drains.set(result.podKey.replace(/^default\//, ''), [result.propagationSeconds * 1000, result.deliveredSeconds * 1000, result.clients, result.acked, result.complete ? 1 : 0]);
  });

  const reply = (message: ControlReply): void => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };
  const sourceOf = (pod: string): BenchSource => {
    const source = podCluster.get(pod);
    if (!source) throw new Error(`unknown pod ${pod}`);
    return source;
  };

  const handle = async (command: ControlCommand): Promise<ControlReply> => {
    switch (command.op) {
      case 'load': {
        const perCluster = new Map<string, BenchEndpoint[]>();
        for (const e of command.endpoints) {
          const source = byName.get(e.cluster);
          if (!source) throw new Error(`unknown cluster ${e.cluster}`);
          podCluster.set(e.pod, source);
          let list = perCluster.get(e.cluster);
          if (!list) perCluster.set(e.cluster, (list = []));
          list.push(e);
        }
        for (const source of sources) source.load(perCluster.get(source.name) ?? []);
        await daemon.ready;
        return { id: command.id, ok: true, atMs: systemClock() };
      }
      case 'drain': {
        const source = sourceOf(command.pod);
        const pod = source.pods.get(command.pod)!;
        const atMs = systemClock();
        source.apply({ ...pod, terminating: true, gracePeriodSeconds: 30 });
        return { id: command.id, ok: true, atMs };
      }
      case 'add': {
        const source = byName.get(command.endpoint.cluster);
        if (!source) throw new Error(`unknown cluster ${command.endpoint.cluster}`);
        podCluster.set(command.endpoint.pod, source);
        const atMs = systemClock();
        source.apply(toPod(command.endpoint));
        return { id: command.id, ok: true, atMs };
      }
      case 'remove': {
        const source = sourceOf(command.pod);
        const atMs = systemClock();
        source.remove(command.pod);
        podCluster.delete(command.pod);
        return { id: command.id, ok: true, atMs };
      }
      case 'stats': {
        const stats: Record<string, number | number[]> = {};
        const bytes = await metrics.xdsResponseBytes.get();
        stats.responseBytes = bytes.values.reduce((sum, v) => sum + v.value, 0);
        stats.streams = daemon.xds.clients().length;
        // Perspective variants held: one revision per service and distinct view that differs from the plain one.
        stats.endpointVariantNames = daemon.cache.variantCounts().endpoint.names;
        stats.endpointVariantRevisions = daemon.cache.variantCounts().endpoint.revisions;
        stats.perspectives = (await metrics.xdsPerspectives.get()).values.reduce((sum, v) => sum + v.value, 0);
        const memory = process.memoryUsage();
        stats.heapUsedMb = memory.heapUsed / 2 ** 20;
        stats.heapTotalMb = memory.heapTotal / 2 ** 20;
        // Resident pages per V8 space: where the heap's committed-but-unused memory sits.
        for (const space of getHeapSpaceStatistics()) stats[`heapSpaceMb:${space.space_name}`] = space.physical_space_size / 2 ** 20;
        stats.externalMb = memory.external / 2 ** 20;
        stats.arrayBuffersMb = memory.arrayBuffers / 2 ** 20;
        stats.rssMb = memory.rss / 2 ** 20;
        for (const [pod, values] of drains) stats[`drain:${pod}`] = values;
        drains.clear();
        // For profiling memory: BENCH_HEAP_SNAPSHOT=FILE writes one snapshot at the first stats call.
        const heapFile = process.env.BENCH_HEAP_SNAPSHOT;
        if (heapFile && !heapWritten) {
          heapWritten = true;
          writeHeapSnapshot(heapFile);
        }
        return { id: command.id, ok: true, stats };
      }
      case 'quit':
        await daemon.stop(1_000);
        reply({ id: command.id, ok: true });
        process.exit(0);
    }
  };

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let command: ControlCommand;
    try {
      command = JSON.parse(line) as ControlCommand;
    } catch (err) {
      reply({ id: -1, ok: false, error: `bad command: ${String(err)}` });
      return;
    }
    handle(command).then(reply, (err: unknown) => reply({ id: command.id, ok: false, error: String(err) }));
  });
  // The orchestrator went away: nothing left to serve.
  lines.on('close', () => {
    void daemon.stop(500).then(() => process.exit(0));
  });
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: daemon.xdsPort })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`herald-server: ${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
