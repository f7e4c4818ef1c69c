import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';
import { callWho } from '../helpers/echo-backend.js';
import { startEchoMesh, type EchoMesh } from '../helpers/echo-mesh.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { TestStream } from '../xds/helpers.js';
import { runHerald } from '../helpers/run-herald.js';

// The built CLI, as a preStop hook runs it, against Heralds serving real xDS clients on loopback.
const protos = loadEnvoyProtos();

/** A loopback port nobody listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('herald wait-drained against real xDS clients', () => {
  let mesh: EchoMesh;
  let other: Daemon;
  let otherSource: ManualSource;
  let proxyless: grpc.Client;
  const closers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    grpcXds.register();
    mesh = await startEchoMesh(['127.0.40.1', '127.0.40.2', '127.0.40.3'], { admin: { host: '127.0.0.1', port: 0 }, drainTimeoutMs: 1_500, replicaName: 'herald-a' });
    // A second replica watching the same pods, with no client of its own.
    const pods = [makePod({ cluster: 'kube-a', name: 'a-0', ip: '127.0.40.1' }), makePod({ cluster: 'kube-a', name: 'a-1', ip: '127.0.40.2' })];
    otherSource = new ManualSource('kube-a', { pods });
    other = await startDaemon(
      { sources: [otherSource], initialSyncTimeoutMs: 5_000, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, replicaName: 'herald-b' },
      { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
    );
    await other.ready;
    proxyless = new grpc.Client('xds:///echo', grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(mesh.bootstrap('proxyless-1')),
    });
    closers.push(() => proxyless.close());
    // The proxyless client subscribes to echo's endpoints once it is used.
    await callWho(proxyless);
  }, 30_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await other?.stop(1_000);
    await mesh?.stop();
  });

  const admin = () => `127.0.0.1:${mesh.daemon.adminPort}`;

  it('returns 0 once every replica reports that every client ACKed the pod DRAINING', async () => {
    const envoy = new AdsClient({ target: `127.0.0.1:${mesh.daemon.xdsPort}`, nodeId: 'envoy-1', cluster: 'frontend', protos }).start();
    closers.push(() => envoy.close());
    await envoy.waitFor((c) => (c.assignment('echo')?.endpoints.length ?? 0) === 3, 10_000);

    mesh.clusterA.update('default/a-1', { terminating: true, gracePeriodSeconds: 30 });
    otherSource.update('default/a-1', { terminating: true, gracePeriodSeconds: 30 });
    const run = await runHerald([
      'wait-drained',
      '--replica',
      admin(),
      '--replica',
      `127.0.0.1:${other.adminPort}`,
      '--cluster',
      'kube-a',
      '--namespace',
      'default',
      '--pod',
      'a-1',
      '--timeout',
      '20s',
    ]);
    expect(run.stdout).toMatch(/^drained: pod default\/a-1 \(cluster kube-a\): all 2 Herald replicas report every xDS client ACKed DRAINING \(2 clients in all\)\n$/);
    expect(run.code).toBe(0);
    expect(envoy.assignment('echo')?.endpoints.find((e) => e.address === '127.0.40.2')?.health).toBe('DRAINING');

    // The pod's history on /debug/drains: sent to both clients, both ACKed.
    const history = await getJson(`http://${admin()}/debug/drains?pod=default/a-1`);
    expect(history.body).toMatchObject({ replica: 'herald-a', status: { state: 'drained', clients: 2, acked: 2 }, pending: [] });
    expect((history.body['history'] as unknown[])[0]).toMatchObject({ podKey: 'default/a-1', clients: 2, sent: 2, acked: 2, complete: true });
    // Asked by IP too.
    expect((await getJson(`http://${admin()}/debug/drains/wait?ip=127.0.40.2`)).status).toBe(200);
    await envoy.close();
  }, 40_000);

  it('exits 1 naming the clients that never ACK: one NACKs DRAINING, one never answers', async () => {
    let armed = false;
    const nacker = new AdsClient({
      target: `127.0.0.1:${mesh.daemon.xdsPort}`,
      nodeId: 'nacker-1',
      cluster: 'frontend',
      protos,
      nackIf: (typeUrl) => (armed && typeUrl.endsWith('ClusterLoadAssignment') ? 'refusing this assignment' : undefined),
    }).start();
    closers.push(() => nacker.close());
    await nacker.waitFor((c) => c.assignment('echo') !== undefined, 10_000);
    const channel = new grpc.Client(`127.0.0.1:${mesh.daemon.xdsPort}`, grpc.credentials.createInsecure());
    closers.push(() => channel.close());
    const silent = new TestStream(channel, 'eds');
    silent.request('endpoint', { node: { id: 'silent-1' }, resource_names: ['echo'] });
    const start = performance.now();
    while (silent.received.length === 0 && performance.now() - start < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(silent.received.length).toBe(1);

    armed = true;
    mesh.clusterB.update('default/b-0', { terminating: true, gracePeriodSeconds: 30 });
    // While the drain is in flight, the endpoint names who it waits on.
    const pending = await getJson(`http://${admin()}/debug/drains/wait?cluster=kube-b&namespace=default&name=b-0`);
    expect(pending.status).toBe(503);
    expect(pending.body).toMatchObject({ state: 'draining' });

    const run = await runHerald(['wait-drained', '--replica', admin(), '--namespace', 'default', '--pod', 'b-0', '--timeout', '20s'], 30_000);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^not drained after [\d.]+s: pod default\/b-0: 1\/1 replicas do not agree: 127\.0\.0\.1:\d+ \(herald-a\): incomplete, 1\/3 clients ACKed, never ACKed: nacker-1, silent-1\n$/,
    );
    const metrics = await (await fetch(`http://${admin()}/metrics`)).text();
    expect(metrics).toMatch(/herald_drains_total\{outcome="incomplete"\} 1/);
    expect(metrics).toMatch(/herald_drains_total\{outcome="complete"\} [1-9]/);
  }, 40_000);

  it('gives up at --timeout when a replica cannot be reached, and says so', async () => {
    const closed = await closedPort();
    const run = await runHerald(['wait-drained', '--replica', `127.0.0.1:${closed}`, '--namespace', 'default', '--pod', 'a-1', '--timeout', '1s']);
    expect(run.code).toBe(1);
    expect(run.stdout.replace(/after [\d.]+s/, 'after Ns')).toBe(`not drained after Ns: pod default/a-1: 1/1 replicas do not agree: 127.0.0.1:${closed}: unreachable (ECONNREFUSED)\n`);
  });

  it('rejects a pod it cannot name', async () => {
    const run = await runHerald(['wait-drained', '--replica', admin(), '--pod', 'a-1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--pod needs --namespace');
  });
});

describe('herald wait-drained --listen (a preStop httpGet gate)', () => {
  it('answers GET /wait-drained with the verdict, 404 elsewhere, and exits on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [path.resolve('dist/main.js'), 'wait-drained', '--listen', '0', '--replica', `127.0.0.1:${await closedPort()}`, '--namespace', 'shop', '--pod', 'cart-1', '--timeout', '1s'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const start = performance.now();
      while (!/port (\d+)/.test(out) && performance.now() - start < 10_000) await new Promise((r) => setTimeout(r, 50));
      const port = /port (\d+)/.exec(out)![1];
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
      const res = await fetch(`http://127.0.0.1:${port}/wait-drained`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/^not drained after [\d.]+s: pod shop\/cart-1: 1\/1 replicas do not agree: .*unreachable \(ECONNREFUSED\)\n$/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
