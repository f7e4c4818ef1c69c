import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import type { DrainResult } from '../../src/drains/index.js';
import { callWho, startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startEchoMesh, type EchoMesh } from '../helpers/echo-mesh.js';
import { makePod, type ManualSource } from '../helpers/manual-source.js';

/**
 * A real proxyless gRPC client (@grpc/grpc-js-xds) resolves xds:///echo through Herald,
 * balances over real gRPC servers on loopback, and stops picking a backend once its pod
 * starts terminating — while that backend is still up and would answer.
 */
describe('proxyless gRPC through Herald', () => {
  const backends: EchoBackend[] = [];
  const drains: DrainResult[] = [];
  let mesh: EchoMesh;
  let daemon: Daemon;
  let clusterA: ManualSource;
  let clusterB: ManualSource;
  let client: grpc.Client;

  beforeAll(async () => {
    grpcXds.register();
    // Distinct loopback IPs: within one Kubernetes cluster an IP has one owner.
    mesh = await startEchoMesh(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    ({ daemon, clusterA, clusterB } = mesh);
    backends.push(...mesh.backends);
    daemon.onDrain((result) => drains.push(result));
    client = new grpc.Client('xds:///echo', grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(mesh.bootstrap('integration-client')),
    });
  });

  afterAll(async () => {
    client?.close();
    await mesh?.stop();
  });

  /** Makes calls until `done` holds for the names seen in the last `window` calls, within a bound. */
  async function callUntil(done: (recent: string[]) => boolean, window: number, maxCalls = 400): Promise<string[]> {
    const recent: string[] = [];
    for (let i = 0; i < maxCalls; i++) {
      recent.push(await callWho(client));
      if (recent.length > window) recent.shift();
      if (recent.length === window && done(recent)) return recent;
    }
    throw new Error(`condition not met within ${maxCalls} calls; last: ${recent.join(',')}`);
  }

  it('balances across the endpoints of both Kubernetes clusters', async () => {
    const seen = await callUntil((recent) => new Set(recent).size === 3, 30);
    expect(new Set(seen)).toEqual(new Set(['a-0', 'a-1', 'b-0']));
  });

  it('stops sending to a backend whose pod is terminating, while the backend still runs', async () => {
    clusterA.update('default/a-1', { terminating: true, gracePeriodSeconds: 30 });
    const recent = await callUntil((window) => !window.includes('a-1'), 40);
    expect(recent).not.toContain('a-1');
    const callsBefore = backends[1]!.calls;
    const more = await callUntil(() => true, 30);
    expect(more).not.toContain('a-1');
    expect(backends[1]!.calls).toBe(callsBefore);
    // The backend itself is still healthy: a direct call is answered.
    const direct = new grpc.Client(`${backends[1]!.host}:${backends[1]!.port}`, grpc.credentials.createInsecure());
    expect(await callWho(direct)).toBe('a-1');
    direct.close();
  });

  it('measures the drain as ACKed by the connected client', async () => {
    await expect.poll(() => drains.find((d) => d.podKey === 'default/a-1'), { timeout: 10_000 }).toBeDefined();
    const drain = drains.find((d) => d.podKey === 'default/a-1')!;
    expect(drain.complete).toBe(true);
    expect(drain.clients).toBeGreaterThanOrEqual(1);
    expect(drain.acked).toBe(drain.clients);
    // The pipeline tracks the drain before the fan-out, so the tracker saw every send of it.
    expect(drain.sent).toBe(drain.clients);
    expect(drain.deliveredSeconds).toBeLessThanOrEqual(drain.propagationSeconds);
  });

  it('keeps serving the rest after the terminating pod is deleted', async () => {
    clusterA.remove('default/a-1');
    const seen = await callUntil((recent) => new Set(recent).size === 2, 30);
    expect(new Set(seen)).toEqual(new Set(['a-0', 'b-0']));
  });

  it('adds a new pod once it becomes ready', async () => {
    const fresh = await startEchoBackend('b-1', '127.0.0.5');
    backends.push(fresh);
    clusterB.apply(makePod({ cluster: 'kube-b', name: 'b-1', ip: fresh.host, port: fresh.port, ready: false, nodeName: 'kube-b-node' }));
    await expect.poll(() => daemon.store.service('echo')?.podCount, { timeout: 5_000 }).toBe(3);
    // Known to Herald but not ready: never picked.
    const notYet = await callUntil(() => true, 30);
    expect(notYet).not.toContain('b-1');
    clusterB.update('default/b-1', { ready: true });
    await callUntil((recent) => recent.includes('b-1'), 30);
  });
});
