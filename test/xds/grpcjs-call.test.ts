import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { callWriter, requestBytesReleaser, type CallWriter } from '../../src/xds/grpcjs-call.js';
import { MessageWriter } from '../../src/xds/proto-writer.js';
import type { ServerCall } from '../../src/xds/stream-base.js';
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
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
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

describe('requestBytesReleaser', () => {
  /** The buffers grpc-js's decoder of `call` still references, by their backing store size. */
  const heldByDecoder = (call: ServerCall): number[] => {
    const decoder = Reflect.get(Reflect.get(call, 'call') as object, 'decoder') as { readCompressFlag: Buffer; readPartialMessage: Buffer[] };
    return [decoder.readCompressFlag, ...decoder.readPartialMessage].map((b) => b.buffer.byteLength);
  };

  it('exists on the installed grpc-js, and after a request the decoder holds none of its bytes', async () => {
    const b = await startBench();
    const client = openCall(b);
    await until(() => b.calls.length === 1, 5_000, 'the server call');
    const call = b.calls[0]!;
    const release = requestBytesReleaser(call);
    expect(release).toBeDefined();
    const requests: Buffer[] = [];
    let heldBefore = 0;
    call.on('data', (request: Buffer) => {
      requests.push(request);
      if (requests.length === 2) heldBefore = Math.max(...heldByDecoder(call));
      release!();
    });
    const big = Buffer.alloc(20_000, 'n');
    client.call.write(big);
    await until(() => requests.length === 2, 5_000, 'the big request');
    expect(requests[1]!.equals(big)).toBe(true);
    // Before the release the decoder referenced the chunks the request came in; after, one byte of its own.
    expect(heldBefore).toBeGreaterThanOrEqual(4_096);
    expect(Math.max(...heldByDecoder(call))).toBeLessThan(64);
    // The decoder still works: the next requests arrive whole.
    client.call.write(Buffer.from('after'));
    client.call.write(Buffer.alloc(70_000, 'm'));
    await until(() => requests.length === 4, 5_000, 'two more requests');
    expect(requests[2]!.toString()).toBe('after');
    expect(requests[3]!.equals(Buffer.alloc(70_000, 'm'))).toBe(true);
  });

  it('leaves a decoder alone in the middle of a message', () => {
    const decoder = { write: () => [], readState: 2, readCompressFlag: Buffer.from([0]), readPartialMessage: [Buffer.from('part')] };
    const fake = { call: { stream: { write() {}, respond() {} }, maybeSendMetadata() {}, checkCancelled: () => false, decoder } };
    const release = requestBytesReleaser(fake as unknown as ServerCall);
    expect(release).toBeDefined();
    const before = { flag: decoder.readCompressFlag, parts: decoder.readPartialMessage };
    release!();
    expect(decoder.readCompressFlag).toBe(before.flag);
    expect(decoder.readPartialMessage).toBe(before.parts);
    decoder.readState = 0;
    release!();
    expect(decoder.readCompressFlag).not.toBe(before.flag);
    expect(decoder.readPartialMessage).toEqual([]);
  });

  it('is undefined for a call whose decoder does not have the expected shape', () => {
    const fake = { call: { stream: { write() {}, respond() {} }, maybeSendMetadata() {}, checkCancelled: () => false, decoder: { write() {} } } };
    expect(requestBytesReleaser(fake as unknown as ServerCall)).toBeUndefined();
  });
});

describe('Herald streams with and without direct writes', () => {
  for (const grpcJsInternals of [true, false]) {
    it(`grpcJsInternals=${grpcJsInternals}: full state, an update and an UNAVAILABLE end reach the client`, async () => {
      harness = await startHarness({ grpcJsInternals });
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
