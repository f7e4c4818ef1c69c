// The attackers of the soak (bench/soak.ts): the attacks of test/conformance/limits.test.ts and
// CSDS's catastrophic regex, each as a loop from its own loopback address, at a fixed pace and
// at most a fixed number of times, stopping when the soak ends. Each returns what it sent and
// how Herald ended what it sent; every socket it opened is closed when it returns.
import http2 from 'node:http2';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const DELTA_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
const CSDS_FETCH_PATH = '/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus';
const CDS_URL = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS_URL = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export interface AttackContext {
  /** Herald's xDS port on 127.0.0.1. */
  port: number;
  protos: protobuf.Root;
  /** The EDS names the daemon serves, as the watcher learnt them. */
  services: readonly string[];
  /** Aborted when the soak ends: every loop stops and closes what it holds. */
  signal: AbortSignal;
  minutes: number;
}

export interface AttackResult {
  kind: string;
  /** What the attacker does, in a few words. */
  what: string;
  /** The loopback address it connects from. */
  from: string;
  /** Its pace and bound. */
  pace: string;
  /** Connections, streams or calls made. */
  attempts: number;
  unit: string;
  /** Other figures of the attack (names subscribed, forged ACKs, wrong answers). */
  figures: Record<string, number>;
  /** How what it sent ended: by Herald's status or reset, or left open when the soak ended. */
  outcomes: Record<string, number>;
  /** From opening to Herald ending (or answering) it, in ms, over the attempts Herald ended. */
  endedAfterMs: { min: number; max: number } | null;
}

/** Resolves after ms, or at once when the soak ends. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Resolves with the promise's value, or undefined after ms or when the soak ends. */
function within<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | undefined> {
  return Promise.race([promise, sleep(ms, signal).then(() => undefined)]);
}

/** At most `cap` rounds, one every intervalMs (or as soon as the last one finished if it took longer), until the soak ends. */
async function paced(ctx: AttackContext, intervalMs: number, cap: number, round: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < cap && !ctx.signal.aborted; i++) {
    const started = Date.now();
    await round(i);
    await sleep(intervalMs - (Date.now() - started), ctx.signal);
  }
}

class Tally {
  readonly counts: Record<string, number> = {};
  private min = Infinity;
  private max = -Infinity;
  add(key: string): void {
    this.counts[key] = (this.counts[key] ?? 0) + 1;
  }
  took(ms: number): void {
    this.min = Math.min(this.min, ms);
    this.max = Math.max(this.max, ms);
  }
  /** The attack's result, with how its attempts ended and how long Herald took to end them. */
  result(attack: Omit<AttackResult, 'outcomes' | 'endedAfterMs' | 'figures'> & { figures?: AttackResult['figures'] }): AttackResult {
    const endedAfterMs = this.max < 0 ? null : { min: Math.round(this.min), max: Math.round(this.max) };
    return { figures: {}, ...attack, outcomes: this.counts, endedAfterMs };
  }
}

const OPEN_AT_END = 'still open when the soak ended';

function grpcFrame(message: Uint8Array, declaredLength = message.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, message]);
}

function encoder(ctx: AttackContext, type: string): (fields: Record<string, unknown>) => Buffer {
  const t = ctx.protos.lookupType(type);
  return (fields) => grpcFrame(t.encode(t.fromObject(fields)).finish());
}

/** An HTTP/2 session to the xDS port from `localAddress`. */
function session(ctx: AttackContext, localAddress: string, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${ctx.port}`, { settings, createConnection: () => net.connect({ host: '127.0.0.1', port: ctx.port, localAddress }) });
  s.on('error', () => undefined);
  return s;
}

interface CallEnd {
  /** grpc-status, if the call got one. */
  status: number | undefined;
  message: string;
  /** RST_STREAM code, if the stream was reset instead. */
  rstCode: number;
  ms: number;
}

interface RawCall {
  stream: http2.ClientHttp2Stream;
  ended: Promise<CallEnd>;
  /** Each gRPC message received, whole. */
  onMessage(handler: (message: Buffer) => void): void;
}

function call(s: http2.ClientHttp2Session, path: string): RawCall {
  const started = Date.now();
  const stream = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  const handlers: Array<(message: Buffer) => void> = [];
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    if (handlers.length === 0) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const length = pending.readUInt32BE(1);
      if (pending.length < 5 + length) break;
      const message = pending.subarray(5, 5 + length);
      pending = pending.subarray(5 + length);
      for (const handler of handlers) handler(message);
    }
  });
  // Over at its status (in the response headers or the trailers): the stream is only half closed
  // until the client ends its side too. Else over when the stream closes (reset, or destroyed).
  const ended = new Promise<CallEnd>((resolve) => {
    const take = (headers: http2.IncomingHttpHeaders): void => {
      if (headers['grpc-status'] === undefined) return;
      const message = typeof headers['grpc-message'] === 'string' ? decodeURIComponent(headers['grpc-message']) : '';
      resolve({ status: Number(headers['grpc-status']), message, rstCode: 0, ms: Date.now() - started });
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('close', () => resolve({ status: undefined, message: '', rstCode: stream.rstCode ?? 0, ms: Date.now() - started }));
  });
  return { stream, ended, onMessage: (handler) => void handlers.push(handler) };
}

const RST_NAMES: Record<number, string> = {
  [http2.constants.NGHTTP2_REFUSED_STREAM]: 'REFUSED_STREAM',
  [http2.constants.NGHTTP2_CANCEL]: 'CANCEL',
  [http2.constants.NGHTTP2_ENHANCE_YOUR_CALM]: 'ENHANCE_YOUR_CALM',
};

/** How a call ended, in a few words: the status and the limit flag its message names, or the reset. */
function outcome(end: CallEnd, aborted: boolean): string {
  if (end.status !== undefined) {
    const flag = /--[a-z-]+/.exec(end.message)?.[0];
    return `${grpc.status[end.status] ?? end.status}${flag ? ` (${flag})` : ''}`;
  }
  if (aborted) return OPEN_AT_END;
  if (end.rstCode !== 0) return `RST_STREAM ${RST_NAMES[end.rstCode] ?? end.rstCode}`;
  return 'closed without a status';
}

const count = (n: number): string => n.toLocaleString('en-US');

// ---- (1) connect churn -------------------------------------------------------------------------

/** Connects, subscribes CDS and EDS for every service, takes both answers and closes, ten times a second. */
async function churn(ctx: AttackContext): Promise<AttackResult> {
  const from = '127.0.0.2';
  const perSecond = 10;
  const cap = ctx.minutes * 60 * perSecond;
  const request = encoder(ctx, 'envoy.service.discovery.v3.DiscoveryRequest');
  const Response = ctx.protos.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  const tally = new Tally();
  let connects = 0;
  await paced(ctx, 1000 / perSecond, cap, async (i) => {
    const s = session(ctx, from);
    s.once('connect', () => void (connects += 1));
    const c = call(s, ADS_PATH);
    const served = new Promise<boolean>((resolve) => {
      const types = new Set<string>();
      c.onMessage((message) => {
        types.add((Response.decode(message) as unknown as { type_url: string }).type_url);
        if (types.has(CDS_URL) && types.has(EDS_URL)) resolve(true);
      });
      void c.ended.then(() => resolve(false));
    });
    c.stream.write(request({ node: { id: `soak-churn-${i}` }, type_url: CDS_URL }));
    c.stream.write(request({ type_url: EDS_URL, resource_names: ctx.services }));
    const ok = await within(served, 10_000, ctx.signal);
    s.destroy();
    if (ok) tally.add('served CDS and EDS, then closed by the client');
    else if (ok === false) tally.add(outcome(await c.ended, false));
    else tally.add(ctx.signal.aborted ? OPEN_AT_END : 'not served within 10 s');
  });
  return tally.result({
    kind: 'churn',
    what: 'connect, subscribe CDS and EDS for every service, take both answers, close',
    from,
    pace: `${perSecond} connects/s, at most ${count(cap)}`,
    attempts: connects,
    unit: 'connects',
  });
}

// ---- (2) names ---------------------------------------------------------------------------------

/** Delta streams that subscribe 5,000 new names every 200 ms until Herald ends them. */
async function names(ctx: AttackContext): Promise<AttackResult> {
  const from = '127.0.0.3';
  const batch = 5_000;
  const maxBatches = 10;
  const cap = ctx.minutes * 30;
  const request = encoder(ctx, 'envoy.service.discovery.v3.DeltaDiscoveryRequest');
  const tally = new Tally();
  let streams = 0;
  let subscribed = 0;
  await paced(ctx, 2_000, cap, async (i) => {
    const s = session(ctx, from);
    const c = call(s, DELTA_PATH);
    streams += 1;
    let closed = false;
    void c.ended.then(() => void (closed = true));
    for (let b = 0; b < maxBatches && !closed && !ctx.signal.aborted; b++) {
      const resource_names_subscribe = Array.from({ length: batch }, (_, k) => `soak-names-${i}-${b}-${k}`);
      c.stream.write(request({ ...(b === 0 ? { node: { id: `soak-names-${i}` } } : {}), type_url: EDS_URL, resource_names_subscribe }));
      subscribed += batch;
      await sleep(200, ctx.signal);
    }
    const end = await within(c.ended, 10_000, ctx.signal);
    s.destroy();
    if (end) {
      tally.add(outcome(end, false));
      tally.took(end.ms);
    } else tally.add(ctx.signal.aborted ? OPEN_AT_END : `not ended after ${count(batch * maxBatches)} names`);
  });
  return tally.result({
    kind: 'names',
    what: `Delta streams subscribing ${count(batch)} new names every 200 ms until Herald ends them`,
    from,
    pace: `a stream every 2 s, at most ${count(cap)}`,
    attempts: streams,
    unit: 'streams',
    figures: { 'names subscribed': subscribed },
  });
}

// ---- (3) silent sockets ------------------------------------------------------------------------

/** TCP connections that never send the HTTP/2 preface: eight a second, each held until Herald closes it. */
async function silent(ctx: AttackContext): Promise<AttackResult> {
  const from = '127.0.0.4';
  const perSecond = 8;
  const cap = ctx.minutes * 60 * perSecond;
  const tally = new Tally();
  const open = new Set<net.Socket>();
  const lives: Promise<void>[] = [];
  let opened = 0;
  await paced(ctx, 1000 / perSecond, cap, async () => {
    const socket = net.connect({ host: '127.0.0.1', port: ctx.port, localAddress: from });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    let connectedAt = 0;
    socket.once('connect', () => {
      connectedAt = Date.now();
      opened += 1;
      open.add(socket);
    });
    lives.push(
      new Promise((resolve) =>
        socket.once('close', () => {
          open.delete(socket);
          if (connectedAt === 0) tally.add('connect failed');
          else if (ctx.signal.aborted) tally.add(OPEN_AT_END);
          else {
            const ms = Date.now() - connectedAt;
            // Refused at accept is at once; the handshake timeout is seconds.
            tally.add(ms < 1_000 ? 'closed by Herald within 1 s (refused)' : 'closed by Herald later (no preface in time)');
            if (ms >= 1_000) tally.took(ms);
          }
          resolve();
        }),
      ),
    );
  });
  for (const socket of open) socket.destroy();
  await Promise.all(lives);
  return tally.result({
    kind: 'silent',
    what: 'TCP connections that never send the HTTP/2 preface',
    from,
    pace: `${perSecond} connections/s, at most ${count(cap)}`,
    attempts: opened,
    unit: 'connections',
  });
}

// ---- (4) half-sent requests --------------------------------------------------------------------

/** A stream a second that sends one whole request, then 50 KB of a message that says it is 500 KB, and waits. */
async function halfSent(ctx: AttackContext): Promise<AttackResult> {
  const from = '127.0.0.5';
  const cap = ctx.minutes * 60;
  const request = encoder(ctx, 'envoy.service.discovery.v3.DiscoveryRequest');
  const tally = new Tally();
  const sessions = new Set<http2.ClientHttp2Session>();
  const lives: Promise<void>[] = [];
  let streams = 0;
  await paced(ctx, 1_000, cap, async (i) => {
    const s = session(ctx, from);
    sessions.add(s);
    const c = call(s, ADS_PATH);
    streams += 1;
    c.stream.write(request({ node: { id: `soak-half-${i}` }, type_url: CDS_URL }));
    c.stream.write(grpcFrame(Buffer.alloc(100_000), 500_000).subarray(0, 50_000));
    lives.push(
      c.ended.then((end) => {
        const aborted = ctx.signal.aborted;
        tally.add(outcome(end, aborted));
        if (!aborted) tally.took(end.ms);
        sessions.delete(s);
        s.destroy();
      }),
    );
  });
  for (const s of sessions) s.destroy();
  await Promise.all(lives);
  return tally.result({
    kind: 'half-sent',
    what: 'one whole request, then 50 KB of a message declared as 500 KB, never finished',
    from,
    pace: `a stream/s on its own connection, at most ${count(cap)}`,
    attempts: streams,
    unit: 'streams',
  });
}

// ---- (5) forged-nonce ACKs from a client that never reads ------------------------------------

/** Guessed nonces in the shapes a counter, a prefix or a random token would have. */
function forgedNonce(n: number): string {
  const shapes = [String(n % 50), `s${n % 50}`, `${n % 50}-${n % 7}`, randomBytes(12).toString('base64')];
  return shapes[n % shapes.length]!;
}

/**
 * One stream at a time with a zero HTTP/2 window (it never takes a byte of a response): it
 * subscribes to every service, then ACKs made-up nonces ten times a second until Herald ends it.
 */
async function blindAcks(ctx: AttackContext): Promise<AttackResult> {
  const from = '127.0.0.6';
  const perSecond = 10;
  const cap = ctx.minutes * 60 * perSecond;
  const request = encoder(ctx, 'envoy.service.discovery.v3.DiscoveryRequest');
  const tally = new Tally();
  let streams = 0;
  let acks = 0;
  await paced(ctx, 1_000, cap, async (i) => {
    const s = session(ctx, from, { initialWindowSize: 0 });
    const c = call(s, ADS_PATH);
    streams += 1;
    let closed = false;
    void c.ended.then(() => void (closed = true));
    const subscribe = { type_url: EDS_URL, resource_names: ctx.services };
    c.stream.write(request({ ...subscribe, node: { id: `soak-blind-${i}` } }));
    while (!closed && !ctx.signal.aborted && acks < cap) {
      await sleep(1000 / perSecond, ctx.signal);
      if (closed || ctx.signal.aborted) break;
      c.stream.write(request({ ...subscribe, version_info: '1', response_nonce: forgedNonce(acks) }));
      acks += 1;
    }
    const endedByHerald = closed && !ctx.signal.aborted;
    s.destroy();
    const end = await c.ended;
    if (endedByHerald) {
      tally.add(outcome(end, false));
      tally.took(end.ms);
    } else tally.add(ctx.signal.aborted ? OPEN_AT_END : 'closed by the client at its bound');
  });
  return tally.result({
    kind: 'forged-nonce',
    what: 'a stream that never reads (HTTP/2 window 0), subscribed to every service, ACKing made-up nonces',
    from,
    pace: `one stream at a time, ${perSecond} forged ACKs/s, at most ${count(cap)} ACKs`,
    attempts: streams,
    unit: 'streams',
    figures: { 'forged ACKs': acks },
  });
}

// ---- (6) CSDS with a catastrophic regex --------------------------------------------------------

/**
 * Two clients whose node ids make `(a+)+$` backtrack on an engine that would (27 a's, with and
 * without a trailing '!'), then every 2 s 48 FetchClientStatus calls at once with that pattern,
 * 16 (--max-streams-per-connection) on each of three connections. Only the first id matches:
 * an answer that says otherwise is wrong.
 */
async function csds(ctx: AttackContext): Promise<AttackResult> {
  const from = '127.0.0.7';
  const perConnection = 16;
  const connections = 3;
  const cap = ctx.minutes * 30;
  const matching = 'a'.repeat(27);
  const discovery = encoder(ctx, 'envoy.service.discovery.v3.DiscoveryRequest');
  const statusRequest = encoder(ctx, 'envoy.service.status.v3.ClientStatusRequest')({ node_matchers: [{ node_id: { safe_regex: { regex: '(a+)+$' } } }] });
  const StatusResponse = ctx.protos.lookupType('envoy.service.status.v3.ClientStatusResponse');
  const tally = new Tally();
  const decoys = session(ctx, from);
  for (const id of [matching, `${matching}!`]) {
    call(decoys, ADS_PATH).stream.write(discovery({ node: { id }, type_url: CDS_URL }));
  }
  const callers: http2.ClientHttp2Session[] = [];
  let calls = 0;
  let wrong = 0;
  await paced(ctx, 2_000, cap, async () => {
    const round: Promise<void>[] = [];
    for (let k = 0; k < connections; k++) {
      if (!callers[k] || callers[k]!.closed || callers[k]!.destroyed) callers[k] = session(ctx, from);
      for (let j = 0; j < perConnection; j++) {
        const c = call(callers[k]!, CSDS_FETCH_PATH);
        calls += 1;
        let answer: Buffer | undefined;
        c.onMessage((message) => void (answer = message));
        c.stream.end(statusRequest);
        round.push(
          within(c.ended, 30_000, ctx.signal).then((end) => {
            if (!end) {
              c.stream.close(http2.constants.NGHTTP2_CANCEL);
              tally.add(ctx.signal.aborted ? OPEN_AT_END : 'no answer within 30 s');
              return;
            }
            tally.took(end.ms);
            tally.add(outcome(end, false));
            if (end.status === grpc.status.OK) {
              const ids = ((StatusResponse.toObject(StatusResponse.decode(answer ?? Buffer.alloc(0))) as { config?: Array<{ node?: { id?: string } }> }).config ?? []).map(
                (cfg) => cfg.node?.id,
              );
              if (ids.length !== 1 || ids[0] !== matching) wrong += 1;
            }
          }),
        );
      }
    }
    await Promise.all(round);
  });
  for (const s of [decoys, ...callers]) s.destroy();
  return tally.result({
    kind: 'csds',
    what: `FetchClientStatus with node_id safe_regex \`(a+)+$\`, ${connections * perConnection} calls at once`,
    from,
    pace: `a round every 2 s, at most ${count(cap)} rounds`,
    attempts: calls,
    unit: 'calls',
    figures: { 'wrong answers': wrong },
  });
}

const ATTACKS: Record<string, (ctx: AttackContext) => Promise<AttackResult>> = { churn, names, silent, 'half-sent': halfSent, 'forged-nonce': blindAcks, csds };
export const ATTACK_KINDS = Object.keys(ATTACKS);

/** Runs the attacks of `kinds` (all by default) at once until ctx.signal aborts, or each reaches its bound. */
export function runAttacks(ctx: AttackContext, kinds: readonly string[] = ATTACK_KINDS): Promise<AttackResult[]> {
  // Every pending sleep listens for the end.
  setMaxListeners(1_000, ctx.signal);
  return Promise.all(kinds.map((kind) => ATTACKS[kind]!(ctx)));
}
