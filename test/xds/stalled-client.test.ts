// A client that stops reading: its responses pile up on the server until a bound ends its
// stream, and drains stop waiting for it (counted as gone, not as an incomplete drain).
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TYPE_URLS } from '../../src/model/index.js';
import { encodeRequest } from '../conformance/envoy-like.js';
import { startHarness, until, type Harness } from './helpers.js';

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
let harness: Harness | undefined;
let session: http2.ClientHttp2Session | undefined;

afterEach(async () => {
  session?.destroy();
  await harness?.close();
  harness = undefined;
});

/** An ADS call from 127.0.0.2 on a connection whose flow-control window is zero: nothing sent to it can leave. */
function stalledCall(port: number, requests: object[]): Promise<number> {
  session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 0 }, createConnection: () => net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }) });
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': ADS, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  for (const request of requests) {
    const message = encodeRequest(request);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    stream.write(Buffer.concat([prefix, message]));
  }
  // It cannot read a status, which would wait behind the data it does not take: the stream is reset.
  return new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)));
}

const big = (c: string): string => c.repeat(4_000);

describe('a client that stops reading', () => {
  it('is ended once its unsent responses pass --max-unsent-bytes-per-stream; a reading client is served on', async () => {
    harness = await startHarness({ limits: { maxUnsentBytesPerStream: 6_000 } });
    const h = harness;
    h.put('cluster', 'big', big('c'));
    h.put('endpoint', 'big', big('e'));
    const reader = h.stream();
    reader.request('endpoint', { resource_names: ['big'] });
    reader.ack(await reader.next(), ['big']);
    // A CDS and an EDS response of ~4 KB each, neither of which can leave.
    const ended = stalledCall(h.port, [
      { node: { id: 'stalled' }, type_url: TYPE_URLS.cluster, resource_names: ['big'] },
      { node: { id: 'stalled' }, type_url: TYPE_URLS.endpoint, resource_names: ['big'] },
    ]);
    // ENHANCE_YOUR_CALM: gRPC clients read it as RESOURCE_EXHAUSTED.
    expect(await ended).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect((await h.metrics.xdsLimitExceeded.get()).values).toEqual([{ labels: { limit: 'max-unsent-bytes-per-stream' }, value: 1 }]);
    h.put('endpoint', 'big', big('f'));
    expect((await reader.next()).kind).toBe('endpoint');
  });

  it('is ended after --write-stall-timeout, and a drain waiting on it completes with it counted as gone', async () => {
    harness = await startHarness({ limits: { writeStallTimeoutMs: 500 } });
    const h = harness;
    h.put('endpoint', 'svc', 'v1');
    const reader = h.stream();
    reader.request('endpoint', { resource_names: ['svc'] });
    reader.ack(await reader.next(), ['svc']);
    const ended = stalledCall(h.port, [{ node: { id: 'stalled' }, type_url: TYPE_URLS.endpoint, resource_names: ['svc'] }]);
    await until(() => h.server.clients().length === 2, 5_000, 'the stalled stream served');
    // A drain of svc waits for both streams; the stalled one never takes it.
    h.put('endpoint', 'svc', 'v2', () =>
      h.drains.track({ service: 'svc', cluster: 'k', podKey: 'ns/p', ip: '10.0.0.1', port: 80, observedAtMs: Date.now(), seq: h.cache.get('endpoint', 'svc')!.seq }),
    );
    reader.ack(await reader.next(), ['svc']);
    expect(await ended).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect((await h.metrics.xdsLimitExceeded.get()).values).toEqual([{ labels: { limit: 'write-stall-timeout' }, value: 1 }]);
    await until(() => h.drainResults.length === 1, 5_000, 'the drain done');
    expect(h.drainResults[0]).toMatchObject({ clients: 2, acked: 1, gone: 1, complete: true });
  });
});

describe('limit log lines', () => {
  it('come once per peer address and limit, whatever node ids a client makes up', async () => {
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    harness = await startHarness({ limits: { maxNodeBytes: 1024 }, logger });
    for (let i = 0; i < 5; i++) {
      const s = harness.stream();
      s.request('cluster', { node: { id: `made-up-${i}`, cluster: 'x'.repeat(2_000) } });
      await until(() => s.status !== undefined, 5_000, 'the stream ended');
      expect(s.status!.details).toContain('--max-node-bytes');
    }
    expect(lines.filter((line) => line.includes('--max-node-bytes'))).toHaveLength(1);
  });
});
