// The floor under a drain's fan-out with Node's HTTP/2 in the way: one server thread writes one
// drain-sized DATA frame (1.7 KB, the 10k drain's assignment) to one open stream on each of N
// HTTP/2 sessions, as Herald's direct write path does, with no gRPC or xDS work on top. The
// clients run in a child process (another core), like the load generator.
//
//   node .cache/bench-js/bench/http2-floor.js [N=10000] [rounds=5] [threads=1]
//
// Per round it prints how long the write loop took, when Node reported every write done (the
// bytes left through the socket), and when the child had every message. With threads > 1 the
// sessions are shared out by the kernel among worker threads that each listen on the port with
// SO_REUSEPORT (Node 22.12 or newer), and every thread writes to its own share at once.
import { fork, type ChildProcess } from 'node:child_process';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const MESSAGE_BYTES = 1_700;
const CONNECT_BATCH = 250;

type ToChild = { kind: 'expect'; bytes: number };
type FromChild = { kind: 'ready'; streams: number } | { kind: 'received'; lastAtMs: number; streams: number } | { kind: 'failed'; message: string };

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nowMs = (): number => performance.timeOrigin + performance.now();

type ToThread = { kind: 'write' };
type FromThread = { kind: 'listening' } | { kind: 'streams'; count: number } | { kind: 'written'; loopMs: number; doneAtMs: number; startMs: number };

/** One server thread's share: accepts sessions on the port and writes the message on command. */
async function serveShare(port: number, reusePort: boolean, report: (message: FromThread) => void): Promise<{ write: () => void; close: () => void }> {
  const streams: http2.ServerHttp2Stream[] = [];
  const server = http2.createServer({ settings: { maxConcurrentStreams: 16 } });
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    streams.push(stream);
    report({ kind: 'streams', count: streams.length });
  });
  server.on('session', (session) => session.on('error', () => undefined));
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port, backlog: 4_096, reusePort } as net.ListenOptions, resolve));
  report({ kind: 'listening' });
  const message = Buffer.alloc(MESSAGE_BYTES, 7);
  return {
    write: () => {
      let written = 0;
      const start = nowMs();
      for (const stream of streams) {
        stream.write(message, () => {
          if (++written === streams.length) report({ kind: 'written', loopMs: loopEnd - start, doneAtMs: nowMs(), startMs: start });
        });
      }
      const loopEnd = nowMs();
    },
    close: () => {
      for (const stream of streams) stream.close();
      server.close();
    },
  };
}

async function serve(connections: number, rounds: number, threads: number): Promise<void> {
  // A port for the worker threads to share: bound here with SO_REUSEPORT, closed once they listen.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen({ host: '127.0.0.1', port: 0, reusePort: threads > 1 } as net.ListenOptions, resolve));
  const port = (probe.address() as net.AddressInfo).port;
  const shares: { streams: number; written?: FromThread & { kind: 'written' }; write: () => void; close: () => void }[] = [];
  let wake = (): void => undefined;
  const changed = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  for (let t = 0; t < threads; t++) {
    const share: (typeof shares)[number] = { streams: 0, write: () => undefined, close: () => undefined };
    shares.push(share);
    const report = (message: FromThread): void => {
      if (message.kind === 'streams') share.streams = message.count;
      if (message.kind === 'written') share.written = message;
      wake();
    };
    if (threads === 1) {
      probe.close();
      const own = await serveShare(port, false, report);
      share.write = own.write;
      share.close = own.close;
      continue;
    }
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { port } });
    worker.on('message', report);
    worker.on('error', (err) => {
      process.stderr.write(`server thread failed: ${err.message}\n`);
      process.exit(1);
    });
    share.write = () => worker.postMessage({ kind: 'write' } satisfies ToThread);
    share.close = () => void worker.terminate();
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
  }
  if (threads > 1) probe.close();

  const child = fork(fileURLToPath(import.meta.url), ['--client', String(port), String(connections)], { stdio: 'inherit' });
  const next = messages(child);
  const ready = await next();
  if (ready.kind !== 'ready') throw new Error(ready.kind === 'failed' ? ready.message : `unexpected ${ready.kind}`);
  for (let waited = 0; shares.reduce((sum, share) => sum + share.streams, 0) < connections; waited += 20) {
    if (waited > 60_000) throw new Error(`not every stream opened in 60 s`);
    await pause(20);
  }

  for (let round = 1; round <= rounds; round++) {
    await pause(500);
    child.send({ kind: 'expect', bytes: MESSAGE_BYTES } satisfies ToChild);
    await pause(100);
    for (const share of shares) share.written = undefined;
    const cpu0 = process.cpuUsage();
    const start = nowMs();
    for (const share of shares) share.write();
    const report = await next();
    if (report.kind !== 'received') throw new Error(report.kind === 'failed' ? report.message : `unexpected ${report.kind}`);
    while (shares.some((share) => !share.written)) await changed();
    const cpu = process.cpuUsage(cpu0);
    const loops = shares.map((share) => share.written!.loopMs.toFixed(0)).join(' + ');
    const done = Math.max(...shares.map((share) => share.written!.doneAtMs)) - start;
    process.stdout.write(
      `round ${round}: ${connections} HTTP/2 streams over ${threads} thread(s) (${shares.map((share) => share.streams).join(' + ')}); ` +
        `write loop ${loops} ms, every write done ${done.toFixed(0)} ms, every message received ${(report.lastAtMs - start).toFixed(0)} ms, ` +
        `process CPU user ${(cpu.user / 1000).toFixed(0)} ms + system ${(cpu.system / 1000).toFixed(0)} ms\n`,
    );
  }
  child.kill();
  for (const share of shares) share.close();
}

/** Reads the child's messages one at a time, in order. */
function messages(child: ChildProcess): () => Promise<FromChild> {
  const queue: FromChild[] = [];
  const waiting: ((message: FromChild) => void)[] = [];
  child.on('message', (message: FromChild) => {
    const resolve = waiting.shift();
    if (resolve) resolve(message);
    else queue.push(message);
  });
  child.on('exit', (code) => {
    for (const resolve of waiting.splice(0)) resolve({ kind: 'failed', message: `client process exited (${code})` });
  });
  return () => {
    const queued = queue.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
  };
}

async function connectClients(port: number, connections: number): Promise<void> {
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  let expected = 0;
  let received = 0;
  let lastAtMs = 0;
  process.on('message', (message: ToChild) => {
    expected = message.bytes * connections;
    received = 0;
  });
  let opened = 0;
  for (let i = 0; i < connections; i++) {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', (err: Error) => send({ kind: 'failed', message: `client session: ${err.message}` }));
    const request = session.request({ ':method': 'POST', ':path': '/floor', 'content-type': 'application/grpc' });
    request.on('response', () => {
      if (++opened === connections) send({ kind: 'ready', streams: opened });
    });
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received === expected) {
        lastAtMs = nowMs();
        send({ kind: 'received', lastAtMs, streams: connections });
      }
    });
    if (i % CONNECT_BATCH === CONNECT_BATCH - 1) await pause(50);
  }
}

async function serveThread(): Promise<void> {
  const port = (workerData as { port: number }).port;
  const own = await serveShare(port, true, (message) => parentPort!.postMessage(message));
  parentPort!.on('message', () => own.write());
}

const args = process.argv.slice(2);
const run = !isMainThread
  ? serveThread()
  : args[0] === '--client'
    ? connectClients(Number(args[1]), Number(args[2]))
    : serve(Number(args[0] ?? 10_000), Number(args[1] ?? 5), Number(args[2] ?? 1));
run.catch((err: unknown) => {
  process.stderr.write(`http2-floor failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
