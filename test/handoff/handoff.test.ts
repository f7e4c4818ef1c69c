import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import type { PodRecord } from '../../src/model/index.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';
import { makePod, ManualSource } from '../helpers/manual-source.js';

// Two replicas watch the same (manual) Kubernetes cluster, as every Herald replica watches every
// cluster. Clients list both, like Envoy's STRICT_DNS cluster over the headless Service.

const protos = loadEnvoyProtos();
const CLIENTS = 4;
// Long enough that the test's /readyz poll surely lands before A ends its streams.
const HANDOFF_DELAY_MS = 800;

interface Replica {
  name: string;
  source: ManualSource;
  daemon: Daemon;
  target: string;
}

function initialPods(): PodRecord[] {
  return [1, 2, 3, 4].map((i) => makePod({ cluster: 'east', name: `echo-${i}`, ip: `10.0.0.${i}` }));
}

const running: (() => Promise<void>)[] = [];

async function replica(name: string, xds: { maxConnectionAgeMs?: number; maxConnectionAgeGraceMs?: number } = {}): Promise<Replica> {
  const source = new ManualSource('east', { pods: initialPods() });
  const daemon = await startDaemon(
    {
      sources: [source],
      initialSyncTimeoutMs: 5_000,
      batchWindowMs: 2,
      xds: { host: '127.0.0.1', port: 0, ...xds },
      admin: { host: '127.0.0.1', port: 0 },
      handoffDelayMs: HANDOFF_DELAY_MS,
    },
    { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
  );
  running.push(() => daemon.stop(2_000));
  await daemon.ready;
  return { name, source, daemon, target: `127.0.0.1:${daemon.xdsPort}` };
}

function client(i: number, targets: string[]): AdsClient {
  const c = new AdsClient({ target: targets, nodeId: `sidecar-${i}`, cluster: 'web', protos, backoff: { baseMs: 50, capMs: 300 } });
  running.push(() => c.close());
  return c.start();
}

/** What a client holds for `echo`, as sorted "ip:port HEALTH" lines. */
function held(c: AdsClient): string[] {
  return (c.assignment('echo')?.endpoints ?? []).map((e) => `${e.address}:${e.port} ${e.health}`).sort();
}

async function readyzStatus(r: Replica): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${r.daemon.adminPort}/readyz`);
  await res.arrayBuffer();
  return res.status;
}

/** Polls until `check` returns a value, at most `timeoutMs`. */
async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

describe('graceful hand-off between replicas', () => {
  it('moves every client of a stopping replica to the other without losing an update', async () => {
    const a = await replica('A');
    const b = await replica('B');
    let aStopped = false;
    // Each replica sees every event while it runs; once A has stopped its sources, only B does.
    const both = (action: (s: ManualSource) => void) => {
      action(b.source);
      if (!aStopped) {
        try {
          action(a.source);
        } catch (err) {
          if (!/not started/.test(String(err))) throw err;
          aStopped = true;
        }
      }
    };

    // The first stream of each client goes to the first target: A.
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i, [a.target, b.target]));
    const initial = ['10.0.0.1:8080 HEALTHY', '10.0.0.2:8080 HEALTHY', '10.0.0.3:8080 HEALTHY', '10.0.0.4:8080 HEALTHY'];
    await Promise.all(clients.map((c) => c.waitFor((x) => x.currentTarget === a.target && held(x).join() === initial.join(), 10_000)));
    expect(a.daemon.xds.clients()).toHaveLength(CLIENTS);
    expect(await readyzStatus(a)).toBe(200);

    const endsFromA: { client: number; code: grpc.status; atMs: number }[] = [];
    clients.forEach((c, i) =>
      c.on('streamEnd', (target, code) => {
        if (target === a.target) endsFromA.push({ client: i, code, atMs: performance.now() });
      }),
    );

    const stopping = a.daemon.stop(5_000);
    const unreadyAtMs = await eventually(async () => ((await readyzStatus(a)) === 503 ? performance.now() : undefined), 2_000, 'A /readyz 503');
    const readyz = (await (await fetch(`http://127.0.0.1:${a.daemon.adminPort}/readyz`)).json()) as { reasons: string[] };
    expect(readyz.reasons.join()).toMatch(/shutting down/);

    // During the hand-off, while the clients are still on A: a pod starts terminating.
    both((s) => s.update('default/echo-1', { terminating: true }));
    // While the streams are being ended: another drain and a new pod.
    await eventually(() => (endsFromA.length > 0 ? true : undefined), 5_000, 'a stream ended by A');
    both((s) => s.update('default/echo-2', { terminating: true }));
    both((s) => s.apply(makePod({ cluster: 'east', name: 'echo-5', ip: '10.0.0.5' })));
    await stopping;
    aStopped = true;

    await Promise.all(clients.map((c) => c.waitFor((x) => x.currentTarget === b.target, 10_000)));
    // After the hand-off, on B: one more drain, and the first terminating pod is gone.
    both((s) => s.update('default/echo-3', { terminating: true }));
    both((s) => s.remove('default/echo-1'));

    const expected = ['10.0.0.2:8080 DRAINING', '10.0.0.3:8080 DRAINING', '10.0.0.4:8080 HEALTHY', '10.0.0.5:8080 HEALTHY'];
    await Promise.all(clients.map((c) => c.waitFor((x) => held(x).join() === expected.join(), 10_000)));
    for (const c of clients) expect(held(c)).toEqual(expected);

    // Every client was moved by A (not by chance), and only after A stopped looking ready.
    expect(new Set(endsFromA.map((e) => e.client)).size).toBe(CLIENTS);
    // UNAVAILABLE tells Envoy to reconnect, elsewhere, at once.
    expect(endsFromA.every((e) => e.code === grpc.status.UNAVAILABLE)).toBe(true);
    expect(Math.min(...endsFromA.map((e) => e.atMs))).toBeGreaterThan(unreadyAtMs);
    expect(b.daemon.xds.clients()).toHaveLength(CLIENTS);
    expect(a.daemon.xds.clients()).toHaveLength(0);
  });

  it('refuses new xDS streams once stopped, so late clients go to another replica', async () => {
    const a = await replica('A');
    const b = await replica('B');
    await a.daemon.stop(2_000);
    // A second stop is the same shutdown, not a new one.
    await a.daemon.stop(2_000);
    const late = client(9, [a.target, b.target]);
    await late.waitFor((x) => x.currentTarget === b.target && held(x).length === 4, 10_000);
    expect(late.stats().streams).toBeGreaterThanOrEqual(1);
  });

  it('with a max connection age, moves long-lived streams onto a replica added later', async () => {
    // A has the clients; B comes up next to it. The clients already list B (as Envoy does after
    // its next DNS refresh), but their open streams stay on A until A's connections age out.
    const a = await replica('A', { maxConnectionAgeMs: 1_000, maxConnectionAgeGraceMs: 200 });
    const b = await replica('B');
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i, [a.target, b.target]));
    await Promise.all(clients.map((c) => c.waitFor((x) => x.currentTarget === a.target && held(x).length === 4, 10_000)));
    await eventually(() => (b.daemon.xds.clients().length === CLIENTS ? true : undefined), 10_000, 'every client on B');
    for (const c of clients) expect(c.currentTarget).toBe(b.target);
    // Updates reach the moved clients from B.
    b.source.update('default/echo-4', { terminating: true });
    await Promise.all(clients.map((c) => c.waitFor((x) => held(x).includes('10.0.0.4:8080 DRAINING'), 10_000)));
  });
});
