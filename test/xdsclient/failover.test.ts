import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { TYPE_URLS } from '../../src/model/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';
import { FakeAds } from './fake-ads.js';

let root: protobuf.Root;
beforeAll(() => {
  root = loadEnvoyProtos();
});

describe('AdsClient with several targets (a STRICT_DNS cluster of replicas)', () => {
  const cleanup: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function server(): Promise<FakeAds> {
    const ads = new FakeAds(root);
    await ads.start();
    cleanup.push(() => ads.stop());
    return ads;
  }

  function client(targets: string[]): AdsClient {
    const c = new AdsClient({ target: targets, nodeId: 'sidecar-1', protos: root, backoff: { baseMs: 10, capMs: 50 } });
    cleanup.push(() => c.close());
    return c;
  }

  it('takes the targets in turn, one per stream, and resends what it holds on the next one', async () => {
    const a = await server();
    const b = await server();
    const ends: { target: string; code: grpc.status }[] = [];
    const c = client([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]).start();
    c.on('streamEnd', (target, code) => ends.push({ target, code }));

    const first = await a.nextStream();
    await first.next();
    first.send(TYPE_URLS.cluster, 'v1', 'n1', [a.cluster('echo')]);
    await c.waitFor((x) => x.clusters().join() === 'echo', 5_000);
    expect(c.currentTarget).toBe(`127.0.0.1:${a.port}`);

    // A ends the stream as a stopping replica does: the client moves to B with its last version.
    first.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'shutting down' });
    const second = await b.nextStream();
    const resumed = await second.next();
    expect(resumed).toMatchObject({ type_url: TYPE_URLS.cluster, version_info: 'v1', response_nonce: '' });
    expect(resumed.node?.id).toBe('sidecar-1');
    await c.waitFor((x) => x.currentTarget === `127.0.0.1:${b.port}`, 5_000);
    expect(ends).toEqual([{ target: `127.0.0.1:${a.port}`, code: grpc.status.UNAVAILABLE }]);
    // Held config survives the move, as Envoy keeps its config while it reconnects.
    expect(c.clusters()).toEqual(['echo']);
  });

  it('skips a target that refuses connections', async () => {
    const live = await server();
    // A port nothing listens on: bind one, then close it.
    const dead = await server();
    const deadTarget = `127.0.0.1:${dead.port}`;
    dead.stop();
    const c = client([deadTarget, `127.0.0.1:${live.port}`]).start();
    const ends: string[] = [];
    c.on('streamEnd', (target) => ends.push(target));
    const stream = await live.nextStream(10_000);
    await stream.next();
    await c.waitFor((x) => x.currentTarget === `127.0.0.1:${live.port}`, 5_000);
    expect(ends[0]).toBe(deadTarget);
  });

  it('refuses an empty target list', () => {
    expect(() => new AdsClient({ target: [], nodeId: 'x', protos: root })).toThrow(/at least one target/);
  });
});
