// Every input an unauthenticated client controls has a bound: each attack below runs against
// the real daemon, from its own loopback address (127.0.0.x, so per-peer limits do not touch the
// well-behaved clients on 127.0.0.1), while a long-lived well-behaved Envoy watches drains. Each
// test asserts the attacker gets the status naming the limit, the limit's metric counts it, the
// watcher hears every drain on a stream that never broke, and the daemon answers its probes.
import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { XdsLimits } from '../../src/xds/index.js';
import { ADS_PATH, CDS_URL, EDS_URL, encodeRequest, eventually, type EnvoyLike } from './envoy-like.js';
import { DELTA_ADS_PATH, encodeDeltaRequest } from './delta-like.js';
import { expectServingWell, startHerald, synced, type Herald } from './harness.js';

let herald: Herald | undefined;
let watcher: EnvoyLike | undefined;
const sessions: http2.ClientHttp2Session[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  for (const socket of sockets.splice(0)) socket.destroy();
  await herald?.stop();
  herald = undefined;
  watcher = undefined;
});

/** The watched service has pods of its own, so every test can drain a few while it attacks. */
const WATCHED = 'watched';
let drainsSeen = 0;

async function start(limits: Partial<XdsLimits>): Promise<Herald> {
  herald = await startHerald({ services: ['echo', WATCHED], limits });
  watcher = herald.envoy({ nodeId: 'watcher' });
  await synced(watcher, WATCHED);
  drainsSeen = 0;
  return herald;
}

/** Terminates the next pod of the watched service and waits until the watcher runs it DRAINING. */
async function drainOne(): Promise<void> {
  const index = drainsSeen;
  const ip = `10.3.0.${index + 1}`;
  herald!.source.update(`default/${WATCHED}-${index}`, { terminating: true });
  await eventually(() => watcher!.healthOf(WATCHED, ip) === 'DRAINING', `DRAINING for ${ip} at the watcher`);
  drainsSeen += 1;
}

/** The watcher heard every drain on its one stream, and fresh clients are served: nothing else was hurt. */
async function expectUnharmed(): Promise<void> {
  await drainOne();
  expect(watcher!.status).toBeUndefined();
  expect(watcher!.responses.filter((r) => r.answer === 'nack')).toEqual([]);
  await expectServingWell(herald!);
}

const port = (): number => herald!.daemon.xdsPort;

/** An HTTP/2 session to the xDS port from a loopback address of the test's choosing. */
function session(localAddress: string, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${port()}`, { settings, createConnection: () => net.connect({ host: '127.0.0.1', port: port(), localAddress }) });
  s.on('error', () => undefined);
  sessions.push(s);
  return s;
}

function grpcFrame(message: Buffer, declaredLength = message.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, message]);
}

interface RawCall {
  stream: http2.ClientHttp2Stream;
  /** grpc-status and grpc-message once the call ends. */
  ended: Promise<{ status: number | undefined; message: string }>;
}

function call(s: http2.ClientHttp2Session, path: string): RawCall {
  const stream = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('data', () => undefined);
  stream.on('error', () => undefined);
  // The status may come in the response headers (trailers-only) or in trailers; the call is over either way.
  const ended = new Promise<{ status: number | undefined; message: string }>((resolve) => {
    const take = (headers: http2.IncomingHttpHeaders): void => {
      if (headers['grpc-status'] === undefined) return;
      const message = typeof headers['grpc-message'] === 'string' ? decodeURIComponent(headers['grpc-message']) : '';
      resolve({ status: Number(headers['grpc-status']), message });
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('close', () => resolve({ status: undefined, message: 'closed without a status' }));
  });
  return { stream, ended };
}

const limitMetric = (flag: string): Promise<number> => herald!.metric('herald_xds_limit_exceeded_total', { limit: flag });
const names = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

function socketClosed(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function rawSocket(localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: port(), localAddress }, () => resolve(socket));
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.on('data', () => undefined);
    sockets.push(socket);
  });
}

describe('limits on what one xDS client can make Herald hold', () => {
  it('a Delta stream that keeps subscribing is ended at --max-names-per-stream; its names are let go', async () => {
    await start({ maxNamesPerStream: 2_000 });
    const greedy = call(session('127.0.0.2'), DELTA_ADS_PATH);
    for (let i = 0; i < 5 && !greedy.stream.closed; i++) {
      greedy.stream.write(grpcFrame(encodeDeltaRequest({ node: { id: 'greedy-delta' }, type_url: EDS_URL, resource_names_subscribe: names(800, `batch${i}`) })));
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (i === 1) await drainOne();
    }
    const { status, message } = await greedy.ended;
    expect(status).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(message).toContain('--max-names-per-stream');
    expect(await limitMetric('max-names-per-stream')).toBe(1);
    // Gone with its stream: no client holds more than the limit.
    await eventually(() => herald!.daemon.xds.clients().every((c) => (c.types.endpoint?.subscription.nameCount ?? 0) <= 2_000), 'the greedy names released');
    await expectUnharmed();
  });

  it('a SotW request listing more names than --max-names-per-stream is refused before it is worked on', async () => {
    await start({ maxNamesPerStream: 2_000 });
    const greedy = call(session('127.0.0.2'), ADS_PATH);
    greedy.stream.write(grpcFrame(encodeRequest({ node: { id: 'greedy-sotw' }, type_url: EDS_URL, resource_names: names(5_000, 'made-up') })));
    const { status, message } = await greedy.ended;
    expect(status).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(message).toMatch(/lists 5000 resource names.*--max-names-per-stream/);
    expect(herald!.daemon.xds.clients().find((c) => c.node?.id === 'greedy-sotw')).toBeUndefined();
    await expectUnharmed();
  });

  it('many streams from one address cannot multiply the per-stream bound: --max-names-per-peer', async () => {
    await start({ maxNamesPerStream: 2_000, maxNamesPerPeer: 5_000 });
    const ended: RawCall['ended'][] = [];
    for (let i = 0; i < 4; i++) {
      const c = call(session('127.0.0.3'), ADS_PATH);
      c.stream.write(grpcFrame(encodeRequest({ node: { id: `spread-${i}` }, type_url: EDS_URL, resource_names: names(1_900, `spread${i}`) })));
      ended.push(c.ended);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // 1,900 × 3 crosses 5,000 at the third stream; the fourth crosses it again on its own.
    const first = await Promise.race([...ended, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000))]);
    expect(first?.status).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(first?.message).toContain('--max-names-per-peer');
    expect(await limitMetric('max-names-per-peer')).toBeGreaterThanOrEqual(1);
    await expectUnharmed();
  });

  it('a Node over --max-node-bytes ends the stream with INVALID_ARGUMENT and is not kept', async () => {
    await start({ maxNodeBytes: 8 * 1024 });
    const big = call(session('127.0.0.2'), ADS_PATH);
    big.stream.write(grpcFrame(encodeRequest({ node: { id: 'fat-node', cluster: 'x'.repeat(20_000) }, type_url: CDS_URL })));
    const { status, message } = await big.ended;
    expect(status).toBe(grpc.status.INVALID_ARGUMENT);
    expect(message).toContain('--max-node-bytes');
    await expectUnharmed();
  });

  it('a request over --max-request-bytes is refused by the transport', async () => {
    await start({ maxRequestBytes: 64 * 1024 });
    const big = call(session('127.0.0.2'), ADS_PATH);
    big.stream.write(grpcFrame(encodeRequest({ node: { id: 'huge-request' }, type_url: EDS_URL, resource_names: names(10_000, 'padding') })));
    const { status } = await big.ended;
    expect(status).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(await limitMetric('max-request-bytes')).toBe(1);
    await expectUnharmed();
  });

  it('advertises --max-streams-per-connection in SETTINGS and serves no more at once', async () => {
    await start({ maxStreamsPerConnection: 4 });
    const s = session('127.0.0.2');
    await new Promise<void>((resolve) => s.once('remoteSettings', () => resolve()));
    expect(s.remoteSettings.maxConcurrentStreams).toBe(4);
    for (let i = 0; i < 10; i++) {
      call(s, ADS_PATH).stream.write(grpcFrame(encodeRequest({ node: { id: `many-${i}` }, type_url: CDS_URL })));
    }
    const many = (): number => herald!.daemon.xds.clients().filter((c) => c.node?.id.startsWith('many-')).length;
    await eventually(() => many() === 4, 'four of the ten streams served');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(many()).toBe(4);
    await expectUnharmed();
  });

  it('refuses connections over --max-connections-per-peer at accept', async () => {
    await start({ maxConnectionsPerPeer: 6 });
    const opened = await Promise.all(Array.from({ length: 10 }, () => rawSocket('127.0.0.4')));
    const closed = await Promise.all(opened.map((socket) => socketClosed(socket, 2_000)));
    expect(closed.filter(Boolean)).toHaveLength(4);
    expect(await herald!.metric('herald_xds_connections_refused_total', { reason: 'max_connections_per_peer' })).toBe(4);
    await expectUnharmed();
  });

  it('closes connections that open no stream within --handshake-timeout, and idle ones after --idle-connection-timeout', async () => {
    await start({ handshakeTimeoutMs: 400, idleConnectionTimeoutMs: 400 });
    // Never a byte; and the HTTP/2 preface with SETTINGS but no stream.
    const silent = await Promise.all([rawSocket('127.0.0.5'), rawSocket('127.0.0.5')]);
    const prefaceOnly = session('127.0.0.5');
    const prefaceClosed = new Promise<boolean>((resolve) => prefaceOnly.once('close', () => resolve(true)));
    expect(await Promise.all(silent.map((socket) => socketClosed(socket, 5_000)))).toEqual([true, true]);
    expect(await prefaceClosed).toBe(true);
    expect(await herald!.metric('herald_xds_connections_closed_total', { reason: 'handshake_timeout' })).toBe(3);
    // A connection whose only stream ended is closed once it has been idle long enough.
    const used = session('127.0.0.6');
    const usedClosed = new Promise<boolean>((resolve) => used.once('close', () => resolve(true)));
    const once = call(used, ADS_PATH);
    once.stream.end(grpcFrame(encodeRequest({ node: { id: 'one-shot' }, type_url: CDS_URL })));
    await once.ended;
    expect(await usedClosed).toBe(true);
    expect(await herald!.metric('herald_xds_connections_closed_total', { reason: 'idle_timeout' })).toBe(1);
    await expectUnharmed();
  });

  it('a request message begun and never finished ends its stream after --request-read-timeout', async () => {
    await start({ requestReadTimeoutMs: 400 });
    const half = call(session('127.0.0.2'), ADS_PATH);
    const request = grpcFrame(encodeRequest({ node: { id: 'half-sent' }, type_url: CDS_URL }));
    // The first request whole, so the stream is Herald's; then half of another.
    half.stream.write(request);
    half.stream.write(grpcFrame(Buffer.alloc(100_000), 500_000).subarray(0, 50_000));
    const { status, message } = await half.ended;
    expect(status).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(message).toContain('--request-read-timeout');
    await expectUnharmed();
  });

  it('nonces are random: ACKs of responses a client never read are ignored and counted, and nothing more is queued', async () => {
    await start({});
    const blind = call(session('127.0.0.2', { initialWindowSize: 0 }), ADS_PATH);
    const subscribe = { node: { id: 'blind' }, type_url: EDS_URL, resource_names: ['echo', WATCHED] };
    blind.stream.write(grpcFrame(encodeRequest(subscribe)));
    await eventually(() => herald!.daemon.xds.clients().some((c) => c.node?.id === 'blind' && c.types.endpoint?.pending), 'the blind stream answered once');
    // Guesses in the shapes a counter would give, and a stolen one is impossible: /debug/clients shows none.
    const guesses = ['1', '2', '3', 's1', 's2', 'AAAAAAAAAAAAAAAA', ...names(20, 'n')];
    for (const nonce of guesses) blind.stream.write(grpcFrame(encodeRequest({ ...subscribe, response_nonce: nonce, version_info: '1' })));
    await drainOne();
    await expect.poll(() => herald!.metric('herald_xds_rejected_requests_total', { reason: 'unknown_nonce' }), { timeout: 5_000 }).toBe(guesses.length);
    const info = herald!.daemon.xds.clients().find((c) => c.node?.id === 'blind')!;
    expect(info.types.endpoint).toMatchObject({ pending: true, counts: { responses: 1, acks: 0, unknownNonces: guesses.length } });
    expect(JSON.stringify(info)).not.toContain('nonce"');
    await expectUnharmed();
  });
});
