import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { TYPE_URLS } from '../../src/model/index.js';
import { protos, startHarness, type Harness } from './helpers.js';

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

let harness: Harness | undefined;
const sessions: http2.ClientHttp2Session[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  await harness?.close();
  harness = undefined;
});

/** An ADS client that asks for assignments and never opens its flow-control window to read them. */
function neverReads(port: number): http2.ClientHttp2Stream {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 0 } });
  session.on('error', () => undefined);
  sessions.push(session);
  const Request = protos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  const body = Buffer.from(Request.encode(Request.fromObject({ type_url: TYPE_URLS.endpoint, resource_names: ['a', 'b'] })).finish());
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  const stream = session.request({ ':method': 'POST', ':path': ADS, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  stream.write(frame);
  return stream;
}

describe('write pacing with a client that never reads', () => {
  it('serves the next client once the stuck write is past slowAfterMs', async () => {
    // Every write paced, one at a time: the stuck client's response holds the whole budget.
    harness = await startHarness({ writePacing: { maxInFlightBytes: 1, pacedFromBytes: 1, slowAfterMs: 200 } });
    harness.put('endpoint', 'a', 'a1');
    harness.put('endpoint', 'b', 'b1');
    neverReads(harness.port);
    // Let the stuck client's response be handed to the transport first.
    await new Promise((r) => setTimeout(r, 100));
    const good = harness.stream();
    good.request('endpoint', { resource_names: ['a', 'b'] });
    const response = await good.next(5_000);
    expect(response.resources.map((r) => r.name).sort()).toEqual(['a', 'b']);
    good.cancel();
  });
});
