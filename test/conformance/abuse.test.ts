import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ADS_PATH, CDS_URL, EDS_URL, encodeRequest, eventually } from './envoy-like.js';
import { expectServingWell, startHerald, type Herald } from './harness.js';

let herald: Herald | undefined;
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
});

/** Deterministic junk: a linear congruential generator, so a failure can be replayed. */
function junk(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Sends bytes on a fresh TCP connection and resolves once the server has closed it. */
function sendAndAwaitClose(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server kept a garbage connection open for ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** One HTTP/2 request to the xDS port with a hand-made body; resolves with the grpc-status it got. */
function rawGrpcCall(port: number, path: string, body: Buffer, extraHeaders: Record<string, string> = {}, timeoutMs = 10_000): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer to a raw gRPC call within ${timeoutMs} ms`));
    }, timeoutMs);
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extraHeaders });
    let status: string | undefined;
    stream.on('response', (headers) => (status ??= headers['grpc-status'] as string | undefined));
    stream.on('trailers', (trailers) => (status = (trailers['grpc-status'] as string | undefined) ?? status));
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      clearTimeout(timer);
      session.close();
      resolve(status);
    });
    stream.end(body);
  });
}

/** A gRPC length-prefixed message frame, optionally lying about its length. */
function frame(message: Buffer, declaredLength = message.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, message]);
}

describe('abusive clients', () => {
  it('undecodable DiscoveryRequests end that stream with INVALID_ARGUMENT and are counted', async () => {
    herald = await startHerald();
    const bad = [
      Buffer.from([0x7f, 0x01]), // field 15 with wire type 7, which does not exist
      Buffer.from([0xc6, 0x0c, 0x00]), // field 200 with wire type 6, which does not exist
      Buffer.concat([encodeRequest({ type_url: CDS_URL }), Buffer.from([0x7f])]), // a good request, then junk
    ];
    const envoys = bad.map((bytes, i) => {
      const envoy = herald!.envoy({ nodeId: `garbage-${i}`, manual: true });
      envoy.writeRaw(bytes);
      return envoy;
    });
    await eventually(() => envoys.every((e) => e.status !== undefined), 'every garbage stream ended');
    for (const envoy of envoys) expect(envoy.status!.code).toBe(grpc.status.INVALID_ARGUMENT);
    await expect.poll(() => herald!.metric('herald_xds_rejected_requests_total', { reason: 'undecodable' })).toBe(bad.length);
    await expectServingWell(herald);
  });

  it('bytes protobufjs decodes leniently become an ignored request, counted, on a stream that goes on', async () => {
    herald = await startHerald();
    const envoy = herald.envoy({ nodeId: 'lenient', manual: true });
    // A string field that claims 5 bytes and has 1: protobufjs reads it as "a", a type nobody serves.
    envoy.writeRaw(Buffer.from([0x22, 0x05, 0x61]));
    await expect.poll(() => herald!.metric('herald_xds_rejected_requests_total', { reason: 'unknown_type_url' })).toBe(1);
    envoy.send({ type_url: CDS_URL, resource_names: [] });
    await eventually(() => envoy.responses.length === 1, 'CDS on the same stream');
    expect(envoy.status).toBeUndefined();
    await expectServingWell(herald);
  });

  it('garbage on the TCP port and broken gRPC framing only cost their own connection', async () => {
    herald = await startHerald();
    const port = herald.daemon.xdsPort;
    await sendAndAwaitClose(port, junk(4096, 1));
    await sendAndAwaitClose(port, Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    // A valid HTTP/2 preface followed by a frame of junk.
    await sendAndAwaitClose(port, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), junk(512, 2)]));

    const request = encodeRequest({ type_url: CDS_URL, resource_names: [] });
    // A frame that promises more bytes than the stream carries before it ends: grpc-js drops the
    // partial message and reports a half-close, so the call simply finishes.
    expect(await rawGrpcCall(port, ADS_PATH, frame(request, request.length + 100))).toBeDefined();
    // A frame bigger than any message Herald accepts.
    expect(await rawGrpcCall(port, ADS_PATH, frame(Buffer.alloc(16), 0x7fffffff))).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
    // A gzip-flagged message that is not gzip.
    const notGzip = Buffer.concat([Buffer.from([1]), frame(junk(32, 3)).subarray(1)]);
    expect(await rawGrpcCall(port, ADS_PATH, notGzip, { 'grpc-encoding': 'gzip' })).toBe(String(grpc.status.INTERNAL));
    // A method that does not exist.
    expect(await rawGrpcCall(port, '/envoy.service.discovery.v3.AggregatedDiscoveryService/Nope', frame(request))).toBe(String(grpc.status.UNIMPLEMENTED));
    await expectServingWell(herald);
  });

  /**
   * Opens `count` ADS streams and cancels each; `settle` decides when to cancel. Ten streams per
   * connection, under the per-connection stream limit, since streams a grpc-js client cancels at
   * once may stay open on the server until their connection ends.
   */
  async function flap(address: string, count: number, settle: (call: grpc.ClientDuplexStream<Buffer, Buffer>, i: number) => Promise<void>): Promise<void> {
    const clients: grpc.Client[] = [];
    let client!: grpc.Client;
    try {
      for (let i = 0; i < count; i++) {
        if (i % 10 === 0) clients.push((client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })));
        const call = client.makeBidiStreamRequest(
          ADS_PATH,
          (b: Buffer) => b,
          (b: Buffer) => b,
        );
        call.on('error', () => undefined);
        call.write(encodeRequest({ node: { id: `flapper-${i}` }, type_url: i % 2 === 0 ? CDS_URL : EDS_URL, resource_names: i % 2 === 0 ? [] : ['echo'] }));
        await settle(call, i);
        call.cancel();
      }
    } finally {
      for (const c of clients) c.close();
    }
  }

  const firstResponse = (call: grpc.ClientDuplexStream<Buffer, Buffer>) => new Promise<void>((resolve) => call.once('data', () => resolve()));

  it('opening and cancelling 200 streams leaves no stream behind', async () => {
    herald = await startHerald();
    // Each stream is cancelled once Herald has answered it, i.e. once its handler surely runs.
    await flap(herald.address, 200, firstResponse);
    await expect.poll(() => herald!.metric('herald_xds_streams'), { timeout: 10_000 }).toBe(0);
    expect(herald.daemon.xds.clients()).toEqual([]);
    await expectServingWell(herald);
  });

  // Streams reset right after their first request are released: test/xds/cancel.test.ts proves
  // it with a raw HTTP/2 client. A grpc-js *client* cancelling that early was seen not to send
  // RST_STREAM at all (the connection stays up with the streams open, even after close()), so
  // the server cannot tell; such streams live until their connection ends, as HTTP/2 says.
  it('streams cancelled at once do not keep a well-behaved Envoy from being served', async () => {
    herald = await startHerald();
    await flap(herald.address, 200, async (call, i) => {
      if (i % 10 === 0) await firstResponse(call);
    });
    await expectServingWell(herald);
  });

  it('a request naming 50,000 resources, under a raised --max-names-per-stream, is served without disturbing anyone', async () => {
    herald = await startHerald({ limits: { maxNamesPerStream: 60_000 } });
    const greedy = herald.envoy({ nodeId: 'greedy', manual: true });
    const names = Array.from({ length: 50_000 }, (_, i) => `service-${i}`);
    names.splice(25_000, 0, 'echo');
    greedy.send({ type_url: EDS_URL, resource_names: names });
    await eventually(() => greedy.responses.length === 1, 'the one assignment that exists', 20_000);
    expect(greedy.responses[0]!.names).toEqual(['echo']);
    const info = herald.daemon.xds.clients().find((c) => c.node?.id === 'greedy')!;
    expect(info.types.endpoint!.subscription.nameCount).toBe(50_001);
    // The debug view stays bounded whatever a client asks for.
    expect(info.types.endpoint!.subscription.names.length).toBeLessThanOrEqual(100);
    await expectServingWell(herald);
    // The greedy stream is subscribed to echo, so it hears of the drain too (after its ACK).
    const first = greedy.responses[0]!;
    greedy.send({ type_url: EDS_URL, version_info: first.version, response_nonce: first.nonce, resource_names: names });
    await eventually(() => greedy.responses.length === 2, 'the drain at the greedy stream', 20_000);
    expect(greedy.responses[1]!.names).toEqual(['echo']);
  });
});
