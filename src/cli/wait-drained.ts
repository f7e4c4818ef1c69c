import { lookup } from 'node:dns/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { CommandModule } from 'yargs';
import { ConfigError, validateDuration, validatePort } from '../config/index.js';
import { parseAddress, readToken } from './status.js';

/** One replica's admin address. */
export interface Replica {
  host: string;
  port: number;
}

/** What one replica last said about the pod (the JSON of /debug/drains/wait), or why it said nothing. */
export type ReplicaAnswer = { replica: Replica; kind: 'answer'; drained: boolean; body: DrainBody } | { replica: Replica; kind: 'error'; message: string; final: boolean };

/** The fields of /debug/drains/wait this command reads. */
export interface DrainBody {
  replica?: string;
  state?: string;
  clients?: number;
  acked?: number;
  gone?: number;
  waitingFor?: string[];
}

/** States after which asking again changes nothing. */
const SETTLED = new Set(['drained', 'not_in_mesh', 'incomplete']);

const hostPort = (r: Replica): string => (r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`);

function describeReplica(answer: ReplicaAnswer): string {
  const where = answer.kind === 'answer' && answer.body.replica ? `${hostPort(answer.replica)} (${answer.body.replica})` : hostPort(answer.replica);
  if (answer.kind === 'error') return `${where}: ${answer.message}`;
  const b = answer.body;
  const counts = `${b.acked ?? 0}/${b.clients ?? 0} clients ACKed${b.gone ? `, ${b.gone} gone` : ''}`;
  const waiting = b.waitingFor && b.waitingFor.length > 0 ? `, never ACKed: ${b.waitingFor.join(', ')}` : '';
  return `${where}: ${b.state ?? 'unknown'}, ${counts}${waiting}`;
}

/**
 * The one line the command prints and its exit code: 0 when every replica reports the pod
 * drained, 1 otherwise (naming each replica that does not, and the clients it waits on).
 */
export function verdict(pod: string, answers: readonly ReplicaAnswer[], waitedMs: number): { code: number; line: string } {
  const notDrained = answers.filter((a) => a.kind !== 'answer' || !a.drained);
  if (answers.length > 0 && notDrained.length === 0) {
    const clients = answers.reduce((n, a) => n + (a.kind === 'answer' ? (a.body.clients ?? 0) : 0), 0);
    return { code: 0, line: `drained: ${pod}: all ${answers.length} Herald replicas report every xDS client ACKed DRAINING (${clients} clients in all)` };
  }
  if (answers.length === 0) return { code: 1, line: `not drained: ${pod}: no Herald replica to ask` };
  const seconds = `${Math.round(waitedMs / 100) / 10}s`;
  return { code: 1, line: `not drained after ${seconds}: ${pod}: ${notDrained.length}/${answers.length} replicas do not agree: ${notDrained.map(describeReplica).join('; ')}` };
}

export interface WaitOptions {
  replicas: readonly Replica[];
  /** The query string naming the pod (cluster, namespace, name or ip). */
  query: URLSearchParams;
  timeoutMs: number;
  token: string | undefined;
  /** Longest single long-poll (the server caps it too). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.ceil(ms))));

/** Asks one replica until it reports the pod settled or the deadline passes; resolves with its last answer. */
async function askUntilSettled(replica: Replica, options: WaitOptions, deadline: number): Promise<ReplicaAnswer> {
  let last: ReplicaAnswer = { replica, kind: 'error', message: 'not asked', final: false };
  const pollMs = options.pollMs ?? 30_000;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return last;
    const started = performance.now();
    const query = new URLSearchParams(options.query);
    // Leave the server time to answer before our own deadline.
    query.set('wait', `${Math.max(0, Math.floor(Math.min(pollMs, left - 250)))}ms`);
    const url = `http://${hostPort(replica)}/debug/drains/wait?${query.toString()}`;
    let retryAfterMs = 0;
    try {
      const res = await fetch(url, {
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(left))),
      });
      const body = (await res.json().catch(() => ({}))) as DrainBody & { error?: string };
      if (res.status === 200 || res.status === 503) {
        last = { replica, kind: 'answer', drained: res.status === 200, body };
        if (res.status === 200 || SETTLED.has(body.state ?? '')) return last;
      } else if (res.status === 429) {
        retryAfterMs = Number(res.headers.get('retry-after') ?? '1') * 1000;
        last = { replica, kind: 'error', message: 'busy (too many callers waiting)', final: false };
      } else {
        // 400, 401, 403, 404: asking again will not help.
        return { replica, kind: 'error', message: `HTTP ${res.status}${body.error ? `: ${body.error}` : ''}`, final: true };
      }
    } catch (err) {
      if (performance.now() >= deadline) return last.kind === 'answer' ? last : { replica, kind: 'error', message: 'no answer in time', final: false };
      const cause = errorCode(err);
      last = { replica, kind: 'error', message: `unreachable (${cause})`, final: false };
      retryAfterMs = 500;
    }
    // Never spin: a quick non-final answer (an older Herald, a restart) waits a moment.
    await sleep(Math.ceil(Math.min(Math.max(retryAfterMs, 250 - (performance.now() - started)), deadline - performance.now())));
  }
}

/** The most telling part of a fetch error: undici wraps the socket's error (ECONNREFUSED) in its cause. */
function errorCode(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; errors?: { code?: string }[]; message?: string } | undefined;
  return cause?.code ?? cause?.errors?.find((e) => e.code)?.code ?? cause?.message ?? err.message;
}

/** Asks every replica at once; resolves when all have settled or the time is up. */
export async function waitDrained(options: WaitOptions): Promise<ReplicaAnswer[]> {
  const deadline = performance.now() + options.timeoutMs;
  return Promise.all(options.replicas.map((replica) => askUntilSettled(replica, options, deadline)));
}

/** Every address of the name (all A and AAAA records of a headless Service), with the admin port. */
export async function resolveReplicas(name: string, port: number): Promise<Replica[]> {
  if (isIP(name) !== 0) return [{ host: name, port }];
  let addresses: { address: string }[];
  try {
    addresses = await lookup(name, { all: true });
  } catch (err) {
    throw new ConfigError(`--replicas: cannot resolve ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const unique = [...new Set(addresses.map((a) => a.address))].sort();
  return unique.map((host) => ({ host, port }));
}

/** The pod query from the flags: --namespace and --pod, or --ip; --cluster optional. */
export function podQuery(args: { cluster?: unknown; namespace?: unknown; pod?: unknown; ip?: unknown }): { query: URLSearchParams; label: string } {
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const [cluster, namespace, pod, ip] = [text(args.cluster), text(args.namespace), text(args.pod), text(args.ip)];
  const query = new URLSearchParams();
  if (cluster) query.set('cluster', cluster);
  if (pod !== undefined) {
    if (namespace === undefined) throw new ConfigError('--pod needs --namespace');
    query.set('namespace', namespace);
    query.set('name', pod);
  } else if (ip === undefined) throw new ConfigError('name the pod: --namespace and --pod, or --ip');
  if (ip !== undefined) {
    if (isIP(ip) === 0) throw new ConfigError(`--ip: '${ip}' is not an IP address`);
    query.set('ip', ip);
  }
  const name = pod !== undefined ? `pod ${namespace}/${pod}` : `pod ${ip}`;
  return { query, label: cluster ? `${name} (cluster ${cluster})` : name };
}

export function waitDrainedCommand(setExitCode: (code: number) => void): CommandModule {
  return {
    command: 'wait-drained',
    describe: "Wait until every Herald replica reports that every xDS client ACKed a terminating pod's DRAINING state (for preStop hooks)",
    builder: (args) =>
      args
        .option('replicas', { type: 'string', default: 'herald.herald.svc', describe: 'DNS name whose every address is a Herald replica (a headless Service)' })
        .option('replica', { type: 'string', array: true, describe: "HOST:PORT of one replica's admin port (repeatable); replaces --replicas" })
        .option('admin-port', { type: 'string', default: '18001', describe: "the replicas' admin port" })
        .option('cluster', { type: 'string', describe: "the pod's kube cluster, as Herald names it (needed only when several clusters have the pod)" })
        .option('namespace', { type: 'string', describe: "the pod's namespace (e.g. from the downward API)" })
        .option('pod', { type: 'string', describe: "the pod's name" })
        .option('ip', { type: 'string', describe: "the pod's IP, instead of --namespace and --pod" })
        .option('timeout', { type: 'string', default: '30s', describe: 'give up after this long (keep it below terminationGracePeriodSeconds)' })
        .option('token-file', { type: 'string', describe: "file holding Herald's admin token (its --admin-token-file); required unless Herald is on loopback" })
        .option('listen', {
          type: 'string',
          describe:
            'instead of waiting once, serve GET /wait-drained on this port and wait on each request (200 drained, 503 not): a preStop httpGet hook for an application container without a shell',
        }),
    handler: async (argv) => {
      const timeoutMs = validateDuration('--timeout', argv['timeout'], { allowZero: false });
      const { query, label } = podQuery(argv as Record<string, unknown>);
      const explicit = (argv['replica'] as string[] | undefined) ?? [];
      const adminPort = validatePort('--admin-port', argv['adminPort'], { allowZero: false });
      const once = async (): Promise<{ code: number; line: string }> => {
        // Asked again each time: the token may have rotated and replicas come and gone.
        const token = readToken(argv['tokenFile']);
        const replicas = explicit.length > 0 ? explicit.map((value) => parseAddress(value)) : await resolveReplicas(String(argv['replicas']), adminPort);
        const started = performance.now();
        return verdict(label, await waitDrained({ replicas, query, timeoutMs, token }), performance.now() - started);
      };
      if (argv['listen'] !== undefined) {
        readToken(argv['tokenFile']);
        const { port, close } = await serveGate(validatePort('--listen', argv['listen']), once);
        process.stdout.write(`wait-drained: serving GET /wait-drained on port ${port} for ${label}\n`);
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
        });
        close();
        setExitCode(0);
        return;
      }
      const { code, line } = await once();
      process.stdout.write(`${line}\n`);
      setExitCode(code);
    },
  };
}

/**
 * The preStop gate: kubelet's httpGet hook holds the application container until the answer
 * comes. Concurrent requests share one wait, so the port cannot be used to multiply the load
 * on Herald; anything but GET /wait-drained is 404.
 */
function serveGate(port: number, once: () => Promise<{ code: number; line: string }>): Promise<{ port: number; close: () => void }> {
  let inFlight: Promise<{ code: number; line: string }> | undefined;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/wait-drained') {
      res.writeHead(404).end();
      return;
    }
    inFlight ??= once().finally(() => (inFlight = undefined));
    inFlight.then(
      ({ code, line }) => {
        process.stdout.write(`${line}\n`);
        res.writeHead(code === 0 ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${line}\n`);
      },
      (err: unknown) => res.writeHead(500).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => {
          server.close();
          server.closeAllConnections();
        },
      }),
    );
  });
}
