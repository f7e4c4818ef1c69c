import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { adoptMessageSplitter, callWriter, type CallWriter } from '../../src/xds/transport/grpcjs-call.js';
import { MessageSplitter } from '../../src/xds/wire/message-splitter.js';
import { MessageWriter } from '../../src/xds/wire/proto-writer.js';
import type { ServerCall } from '../../src/xds/transport/grpcjs-call.js';
import { startHarness, until, type Harness } from './helpers.js';

const PATH = '/test.Echo/Chat';
const identity = (b: Buffer): Buffer => b;

/** A message framed the way Herald's encoders frame responses. */
const framed = (text: string): Buffer => new MessageWriter().string(0x0a, text).finish(true);
const unframed = (text: string): Buffer => new MessageWriter().string(0x0a, text).finish();

interface Bench {
  server: grpc.Server;
  client: grpc.Client;
  calls: ServerCall[];
}

let bench: Bench | undefined;
let harness: Harness | undefined;
afterEach(async () => {
  bench?.client.close();
  bench?.server.forceShutdown();
  bench = undefined;
  await harness?.close();
  harness = undefined;
});

async function startBench(): Promise<Bench> {
  const server = new grpc.Server();
  const calls: ServerCall[] = [];
  const definition: grpc.ServiceDefinition = {
    Chat: { path: PATH, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  };
  server.addService(definition, { Chat: (call: ServerCall) => calls.push(call) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  bench = { server, client, calls };
  return bench;
}

interface Received {
  messages: Buffer[];
  status: grpc.StatusObject | undefined;
  call: grpc.ClientDuplexStream<Buffer, Buffer>;
}

function openCall(b: Bench): Received {
  const call = b.client.makeBidiStreamRequest(PATH, identity, identity);
  const received: Received = { messages: [], status: undefined, call };
  call.on('data', (m: Buffer) => received.messages.push(m));
  call.on('status', (s) => (received.status = s));
  call.on('error', () => undefined);
  // A first message makes the server see the call.
  call.write(Buffer.from('hello'));
  return received;
}

const write = (writer: CallWriter, bytes: Buffer): Promise<void> => new Promise((resolve) => writer.write(bytes, resolve));

describe('callWriter', () => {
  it('takes the direct path on the installed grpc-js (the storm and drain figures depend on it)', async () => {
    const b = await startBench();
    openCall(b);
    await until(() => b.calls.length === 1, 5_000, 'the server call');
    expect(callWriter(b.calls[0]!).direct).toBe(true);
    expect(callWriter(b.calls[0]!, { direct: false }).direct).toBe(false);
  });

  it('falls back to grpc-js for a call without the expected internals', () => {
    const written: Buffer[] = [];
    const fake = { call: { stream: {} }, write: (bytes: Buffer, done: () => void) => (written.push(bytes), done()) };
    const writer = callWriter(fake as unknown as ServerCall);
    expect(writer.direct).toBe(false);
    let done = false;
    writer.write(framed('x'), () => (done = true));
    expect(done).toBe(true);
    // grpc-js frames the message itself, so it is handed the bytes without the prefix.
    expect(written).toEqual([unframed('x')]);
  });

  for (const direct of [true, false]) {
    it(`${direct ? 'direct' : 'grpc-js'} path: messages arrive whole and in order, the same buffer on many calls, then OK status`, async () => {
      const b = await startBench();
      const clients = [openCall(b), openCall(b), openCall(b)];
      await until(() => b.calls.length === 3, 5_000, 'three server calls');
      const shared = framed('drain'.repeat(4000));
      const before = Buffer.from(shared);
      for (const call of b.calls) {
        const writer = callWriter(call, { direct });
        expect(writer.direct).toBe(direct);
        await write(writer, framed('first'));
        await write(writer, shared);
        await write(writer, framed(''));
        call.end();
      }
      await until(() => clients.every((c) => c.status !== undefined), 5_000, 'every status');
      for (const c of clients) {
        expect(c.status!.code).toBe(grpc.status.OK);
        expect(c.messages).toEqual([unframed('first'), unframed('drain'.repeat(4000)), unframed('')]);
      }
      // Writing to many calls must not change the shared bytes.
      expect(shared.equals(before)).toBe(true);
    });
  }

  it('direct path: a write after the client cancelled completes without raising', async () => {
    const b = await startBench();
    const client = openCall(b);
    await until(() => b.calls.length === 1, 5_000, 'the server call');
    const call = b.calls[0]!;
    let cancelled = false;
    call.on('cancelled', () => (cancelled = true));
    call.on('error', () => undefined);
    client.call.cancel();
    await until(() => cancelled, 5_000, 'the server to see the cancel');
    const writer = callWriter(call);
    await expect(write(writer, framed('late'))).resolves.toBeUndefined();
  });

  it('direct path: a write after the call ended completes without raising', async () => {
    const b = await startBench();
    const client = openCall(b);
    await until(() => b.calls.length === 1, 5_000, 'the server call');
    const call = b.calls[0]!;
    const writer = callWriter(call);
    await write(writer, framed('one'));
    call.end();
    await until(() => client.status !== undefined, 5_000, 'the status');
    await expect(write(writer, framed('after end'))).resolves.toBeUndefined();
    expect(client.messages).toEqual([unframed('one')]);
  });
});

describe('adoptMessageSplitter', () => {
  const decoderOf = (call: ServerCall): unknown => Reflect.get(Reflect.get(call, 'call') as object, 'decoder');

  it('takes over the decoder on the installed grpc-js; requests arrive whole and nothing is kept after them', async () => {
    const b = await startBench();
    const client = openCall(b);
    await until(() => b.calls.length === 1, 5_000, 'the server call');
    const call = b.calls[0]!;
    // The first message is already in; the bench adopts on the next call, as Herald does in its handler.
    const requests: Buffer[] = [];
    call.on('data', (request: Buffer) => requests.push(request));
    await until(() => requests.length === 1, 5_000, 'the first request');
    const second = openCall(b);
    await until(() => b.calls.length === 2, 5_000, 'the second call');
    const adopted = b.calls[1]!;
    expect(adoptMessageSplitter(adopted)).toBeInstanceOf(MessageSplitter);
    expect(decoderOf(adopted)).toBeInstanceOf(MessageSplitter);
    const got: Buffer[] = [];
    adopted.on('data', (request: Buffer) => got.push(request));
    const sent = [Buffer.alloc(20_000, 'n'), Buffer.from('after'), Buffer.alloc(70_000, 'm'), Buffer.alloc(0)];
    for (const message of sent) second.call.write(message);
    await until(() => got.length === 5, 5_000, 'every request');
    expect(got.map((m) => m.toString('hex'))).toEqual([Buffer.from('hello'), ...sent].map((m) => m.toString('hex')));
    expect(Reflect.get(decoderOf(adopted) as object, 'pending')).toEqual([]);
    // grpc-js's own decoder, on the call left alone, still holds slices of its last request.
    client.call.write(Buffer.alloc(20_000, 'k'));
    await until(() => requests.length === 2, 5_000, 'the big request');
    const held = decoderOf(call) as { readCompressFlag: Buffer };
    expect(held.readCompressFlag.buffer.byteLength).toBeGreaterThanOrEqual(4_096);
  });

  it("refuses a message over grpc-js's receive limit with RESOURCE_EXHAUSTED, as grpc-js does", async () => {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 1_000 });
    const calls: ServerCall[] = [];
    const definition: grpc.ServiceDefinition = {
      Chat: { path: PATH, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
    };
    server.addService(definition, {
      Chat: (call: ServerCall) => {
        expect(adoptMessageSplitter(call)).toBeInstanceOf(MessageSplitter);
        calls.push(call);
        call.on('error', () => undefined);
        call.on('data', () => undefined);
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    bench = { server, client, calls };
    const c = client.makeBidiStreamRequest(PATH, identity, identity);
    let status: grpc.StatusObject | undefined;
    c.on('status', (s) => (status = s));
    c.on('error', () => undefined);
    c.on('data', () => undefined);
    c.write(Buffer.alloc(2_000));
    await until(() => status !== undefined, 5_000, 'the status');
    expect(status!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(calls).toHaveLength(1);
  });

  it('leaves a decoder alone in the middle of a message, or one of another shape', () => {
    const inner = { stream: { write() {}, respond() {} }, maybeSendMetadata() {}, checkCancelled: () => false };
    const busy = { write: () => [], readState: 2, readCompressFlag: Buffer.from([0]), readPartialMessage: [Buffer.from('part')], maxReadMessageLength: -1 };
    const busyCall = { call: { ...inner, decoder: busy } };
    expect(adoptMessageSplitter(busyCall as unknown as ServerCall)).toBeUndefined();
    expect(busyCall.call.decoder).toBe(busy);
    const odd = { call: { ...inner, decoder: { write() {} } } };
    expect(adoptMessageSplitter(odd as unknown as ServerCall)).toBeUndefined();
    const idle = { call: { ...inner, decoder: { ...busy, readState: 0, readPartialMessage: [] } } };
    expect(adoptMessageSplitter(idle as unknown as ServerCall)).toBeInstanceOf(MessageSplitter);
    expect(idle.call.decoder).toBeInstanceOf(MessageSplitter);
  });
});

describe('Herald streams with and without direct writes', () => {
  for (const grpcFastPath of [true, false]) {
    it(`grpcFastPath=${grpcFastPath}: full state, an update and an UNAVAILABLE end reach the client`, async () => {
      harness = await startHarness({ grpcFastPath });
      const h = harness;
      h.put('cluster', 'a', 'v1');
      h.put('endpoint', 'a', 'v1');
      const s = h.stream();
      s.request('cluster', { node: { id: 'n1' } });
      const cds = await s.next();
      expect(cds.resources.map((r) => `${r.name}=${r.tag}`)).toEqual(['a=v1']);
      s.ack(cds);
      s.request('endpoint', { resource_names: ['a'] });
      const eds = await s.next();
      expect(eds.resources.map((r) => `${r.name}=${r.tag}`)).toEqual(['a=v1']);
      s.ack(eds, ['a']);
      // The stream's paths are counted: the fast path on the installed grpc-js, grpc-js's own API without it.
      const paths = (await h.metrics.xdsStreamPaths.get()).values.map((v) => ({ ...v.labels, streams: v.value }));
      expect(paths).toEqual([grpcFastPath ? { write: 'direct', read: 'splitter', streams: 1 } : { write: 'grpc-js', read: 'grpc-js', streams: 1 }]);
      h.put('endpoint', 'a', 'v2');
      const update = await s.next();
      expect(update.kind).toBe('endpoint');
      expect(update.resources.map((r) => `${r.name}=${r.tag}`)).toEqual(['a=v2']);
      await h.server.close(1_000);
      await until(() => s.status !== undefined, 5_000, 'the stream status');
      expect(s.status!.code).toBe(grpc.status.UNAVAILABLE);
    });
  }
});
