import { afterEach, describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import { TYPE_URLS } from '../../src/model/index.js';
import { protos, startHarness, type Harness } from './helpers.js';
import { DELTA_PATHS } from './delta-helpers.js';

let h: Harness | undefined;
let session: http2.ClientHttp2Session | undefined;
afterEach(async () => {
  session?.destroy();
  session = undefined;
  await h?.close();
  h = undefined;
});

const SOTW_ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** A gRPC length-prefixed message frame. */
function grpcFrame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, Buffer.from(message)]);
}

function requestFrame(delta: boolean, i: number): Buffer {
  if (delta) {
    const Request = protos().lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    return grpcFrame(Request.encode(Request.fromObject({ node: { id: `flap-${i}` }, type_url: TYPE_URLS.endpoint, resource_names_subscribe: ['a'] })).finish());
  }
  const Request = protos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  return grpcFrame(Request.encode(Request.fromObject({ node: { id: `flap-${i}` }, type_url: TYPE_URLS.endpoint, resource_names: ['a'] })).finish());
}

const openStreams = async (harness: Harness): Promise<number> => (await harness.metrics.xdsStreams.get()).values.reduce((sum, v) => sum + v.value, 0);

describe('streams reset right after their first request', () => {
  // A raw HTTP/2 client controls exactly when RST_STREAM goes out: here in the same tick as the
  // request, so most resets reach the server before or while grpc-js starts the handler.
  it('are all released, SotW and Delta', async () => {
    // 200 streams on one connection: Node 24's HTTP/2 client counts streams it reset as open for a
    // while and, under the default per-connection limit (16), stops opening new ones. The limit
    // itself is tested in test/conformance/limits.test.ts; here it is out of the way.
    h = await startHarness({ limits: { maxStreamsPerConnection: 1_000 } });
    h.put('endpoint', 'a', 'v1');
    const s = (session = http2.connect(`http://127.0.0.1:${h.port}`));
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    let answered = 0;
    for (let i = 0; i < 200; i++) {
      const delta = i % 2 === 1;
      const stream = s.request({ ':method': 'POST', ':path': delta ? DELTA_PATHS.ads : SOTW_ADS, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => undefined);
      stream.write(requestFrame(delta, i));
      // Now and then let one be answered first, so the server is surely handling streams.
      if (i % 20 === 0) {
        await new Promise<void>((resolve) => stream.once('data', () => resolve()));
        answered += 1;
      }
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    expect(answered).toBe(10);
    await expect.poll(() => openStreams(h!), { timeout: 10_000 }).toBe(0);
    expect(h.server.clients()).toEqual([]);
    expect([...h.server.subscribersOf('endpoint', 'a')]).toEqual([]);
  });
});
