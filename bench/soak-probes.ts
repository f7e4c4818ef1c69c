// The soak's probes of the daemon, on a worker thread of their own so that the attackers' work
// on the soak's main thread does not delay them: every second the daemon's RSS (/proc) and one
// /healthz, every 10 s the event loop gauges of /metrics.
import http from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { procStats } from './procs.js';

export interface ProbeSamples {
  rssMb: number[];
  healthMs: number[];
  /** "<seconds into the soak>: <what went wrong>" per failed /healthz. */
  healthFailures: string[];
  /** The largest herald_nodejs_eventloop_lag_{p99,max}_seconds of the 10 s scrapes. */
  eventLoopP99: number;
  eventLoopMax: number;
}

interface ProbeTarget {
  pid: number;
  adminPort: number;
  /** When the soak started (ms since the epoch). */
  t0: number;
}

export function get(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', fail);
  });
}

/** The samples of the named families in Prometheus text: family → label set → value. */
export function parseMetrics(text: string, families: readonly string[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = Object.fromEntries(families.map((f) => [f, {}]));
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m && out[m[1]!]) out[m[1]!]![m[2] ?? ''] = Number(m[3]);
  }
  return out;
}

const P99 = 'herald_nodejs_eventloop_lag_p99_seconds';
const MAX = 'herald_nodejs_eventloop_lag_max_seconds';

async function probe(target: ProbeTarget, running: () => boolean): Promise<ProbeSamples> {
  const samples: ProbeSamples = { rssMb: [], healthMs: [], healthFailures: [], eventLoopP99: 0, eventLoopMax: 0 };
  for (let tick = 0; running(); tick++) {
    const started = Date.now();
    const rss = procStats(target.pid).rssMb;
    if (rss > 0) samples.rssMb.push(rss);
    const at = `${Math.round((started - target.t0) / 1000)} s`;
    try {
      const res = await get(target.adminPort, '/healthz', 5_000);
      samples.healthMs.push(res.ms);
      if (res.status !== 200) samples.healthFailures.push(`${at}: HTTP ${res.status}`);
    } catch (err) {
      samples.healthFailures.push(`${at}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (tick % 10 === 0) {
      try {
        const gauges = parseMetrics((await get(target.adminPort, '/metrics', 10_000)).body, [P99, MAX]);
        samples.eventLoopP99 = Math.max(samples.eventLoopP99, gauges[P99]?.[''] ?? 0);
        samples.eventLoopMax = Math.max(samples.eventLoopMax, gauges[MAX]?.[''] ?? 0);
      } catch {
        // A failed scrape shows in /healthz too; the gauges are kept from the others.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1_000 - (Date.now() - started))));
  }
  return samples;
}

/** Starts probing on a worker thread; stop() ends it and returns the samples. */
export function startProbes(target: ProbeTarget): { stop(): Promise<ProbeSamples> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: { soakProbes: target } });
  const samples = new Promise<ProbeSamples>((resolve, reject) => {
    worker.once('message', (message: ProbeSamples) => resolve(message));
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const result = await samples;
      await worker.terminate();
      return result;
    },
  };
}

const target = (workerData as { soakProbes?: ProbeTarget } | null)?.soakProbes;
if (!isMainThread && parentPort && target) {
  const port = parentPort;
  let running = true;
  port.once('message', () => void (running = false));
  void probe(target, () => running).then((samples) => port.postMessage(samples));
}
