import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatedCluster, type SimulatedClusterOptions } from '../../../src/sources/sim/index.js';
import { RecordingSink } from './recording-sink.js';

const timing = { readyDelayMs: 100, gracePeriodMs: 1_000 };

function sim(overrides: Partial<SimulatedClusterOptions> = {}): SimulatedCluster {
  return new SimulatedCluster({
    name: 'east',
    region: 'us-east',
    zones: ['a', 'b', 'c'],
    services: [
      { name: 'web', replicas: 3 },
      { name: 'api', replicas: 2, port: 9000 },
    ],
    ipBase: '10.1.0.0',
    clock: () => Date.now(),
    random: () => 0,
    timing,
    ...overrides,
  });
}

let running: SimulatedCluster[] = [];
function started(cluster: SimulatedCluster, sink: RecordingSink): Promise<void> {
  running.push(cluster);
  return cluster.start(sink);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  for (const c of running) await c.stop();
  running = [];
  vi.useRealTimers();
});

describe('SimulatedCluster named ports', () => {
  it('gives every pod of a service its named ports, one frozen object shared by them all, and none to the others', async () => {
    const cluster = sim({
      services: [
        { name: 'web', replicas: 3, namedPorts: { http: 8080, health: 8081 } },
        { name: 'api', replicas: 1 },
      ],
    });
    const sink = new RecordingSink();
    await started(cluster, sink);
    const web = sink.podsOf('web.default');
    expect(web).toHaveLength(3);
    expect(web[0]!.namedPorts).toEqual({ http: 8080, health: 8081 });
    expect(Object.isFrozen(web[0]!.namedPorts)).toBe(true);
    expect(new Set(web.map((p) => p.namedPorts)).size).toBe(1);
    expect(sink.podsOf('api.default')[0]).not.toHaveProperty('namedPorts');
  });
});

describe('SimulatedCluster start', () => {
  it('lists one node per zone and Ready pods spread over the zones, then reports synced', async () => {
    const cluster = sim();
    const sink = new RecordingSink();
    await started(cluster, sink);

    expect([...sink.nodes.values()].map((n) => [n.name, n.region, n.zone])).toEqual([
      ['east-a', 'us-east', 'a'],
      ['east-b', 'us-east', 'b'],
      ['east-c', 'us-east', 'c'],
    ]);
    const web = sink.podsOf('web.default');
    expect(web).toHaveLength(3);
    expect(new Set(web.map((p) => p.nodeName))).toEqual(new Set(['east-a', 'east-b', 'east-c']));
    expect(sink.podsOf('api.default').every((p) => p.port === 9000)).toBe(true);
    expect(web.every((p) => p.port === 8080 && p.ready && p.phase === 'Running' && !p.terminating && p.cluster === 'east')).toBe(true);
    const ips = [...sink.pods.values()].map((p) => p.ip);
    expect(new Set(ips).size).toBe(5);
    expect(ips.every((ip) => ip?.startsWith('10.1.0.'))).toBe(true);
    expect(sink.events.map((e) => e.op)).toEqual(['status', 'replaceNodes', 'replacePods', 'status']);
    expect(cluster.status()).toMatchObject({ cluster: 'east', state: 'synced', everSynced: true });
    expect(cluster.pods()).toHaveLength(5);
  });
});

describe('SimulatedCluster rolling deploy', () => {
  it('replaces every pod: not Ready, Ready, old pod DRAINING, old pod gone, never below the replica count', async () => {
    let minServing = Infinity;
    const sink = new RecordingSink((s) => {
      if (s.events.at(-1)?.op !== 'apply' && s.events.at(-1)?.op !== 'remove') return;
      minServing = Math.min(minServing, s.podsOf('web.default').filter((p) => p.ready && !p.terminating).length);
    });
    const cluster = sim();
    await started(cluster, sink);
    const before = new Set(sink.podsOf('web.default').map((p) => p.name));
    const apiBefore = sink.podsOf('api.default').map((p) => p.name);

    const done = cluster.rollingDeploy('web');
    let finished = false;
    void done.then(() => (finished = true));

    const fresh = sink.podsOf('web.default').filter((p) => !before.has(p.name));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]?.ready).toBe(false);
    expect(sink.podsOf('web.default').some((p) => p.terminating)).toBe(false);

    await vi.advanceTimersByTimeAsync(timing.readyDelayMs);
    expect(sink.pods.get(`default/${fresh[0]?.name}`)?.ready).toBe(true);
    const draining = sink.podsOf('web.default').filter((p) => p.terminating);
    expect(draining).toHaveLength(1);
    expect(before.has(draining[0]?.name ?? '')).toBe(true);
    expect(draining[0]?.gracePeriodSeconds).toBe(1);

    await vi.advanceTimersByTimeAsync(timing.readyDelayMs * 2);
    await vi.advanceTimersByTimeAsync(timing.gracePeriodMs);
    expect(finished).toBe(true);
    const after = sink.podsOf('web.default');
    expect(after).toHaveLength(3);
    expect(after.every((p) => !before.has(p.name) && p.ready && !p.terminating)).toBe(true);
    expect(sink.podsOf('api.default').map((p) => p.name)).toEqual(apiBefore);
    expect(minServing).toBeGreaterThanOrEqual(3);
    expect(cluster.deploying()).toEqual([]);
  });

  it('maxSurge replaces several pods per step', async () => {
    const sink = new RecordingSink();
    const cluster = sim();
    await started(cluster, sink);
    const done = cluster.rollingDeploy('web', { maxSurge: 3 });
    expect(sink.podsOf('web.default').filter((p) => !p.ready)).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(timing.readyDelayMs);
    expect(sink.podsOf('web.default').filter((p) => p.terminating)).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(timing.gracePeriodMs);
    await done;
    expect(sink.podsOf('web.default')).toHaveLength(3);
  });

  it('a second deploy of the same service joins the running one', async () => {
    const sink = new RecordingSink();
    const cluster = sim();
    await started(cluster, sink);
    const first = cluster.rollingDeploy('web');
    expect(cluster.rollingDeploy('web')).toBe(first);
    expect(sink.podsOf('web.default').filter((p) => !p.ready)).toHaveLength(1);
    await expect(cluster.rollingDeploy('nope')).rejects.toThrow(/unknown/);
  });

  it('stop ends a deploy midway and clears every timer', async () => {
    const sink = new RecordingSink();
    const cluster = sim();
    await started(cluster, sink);
    cluster.startAutopilot({ intervalMs: 50 });
    const done = cluster.rollingDeploy('web');
    await vi.advanceTimersByTimeAsync(timing.readyDelayMs);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await cluster.stop();
    await done;
    expect(vi.getTimerCount()).toBe(0);
    const events = sink.events.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sink.events.length).toBe(events);
  });
});

describe('SimulatedCluster pod drivers', () => {
  it('terminatePod drains for the grace period, then removes the pod', async () => {
    const sink = new RecordingSink();
    const cluster = sim();
    await started(cluster, sink);
    const key = `default/${sink.podsOf('web.default')[0]?.name}`;
    const gone = cluster.terminatePod(key);
    expect(sink.pods.get(key)?.terminating).toBe(true);
    await vi.advanceTimersByTimeAsync(timing.gracePeriodMs - 1);
    expect(sink.pods.has(key)).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await gone;
    expect(sink.pods.has(key)).toBe(false);
  });

  it('forceDelete removes at once; the pending grace timer does not act again', async () => {
    const sink = new RecordingSink();
    const cluster = sim();
    await started(cluster, sink);
    const key = `default/${sink.podsOf('web.default')[0]?.name}`;
    const gone = cluster.terminatePod(key);
    cluster.forceDelete(key);
    expect(sink.pods.has(key)).toBe(false);
    const removals = () => sink.events.filter((e) => e.op === 'remove').length;
    expect(removals()).toBe(1);
    await vi.advanceTimersByTimeAsync(timing.gracePeriodMs);
    await gone;
    expect(removals()).toBe(1);
  });

  it('scale adds not-Ready pods that turn Ready, and terminates the newest when scaling down', async () => {
    const sink = new RecordingSink();
    const cluster = sim();
    await started(cluster, sink);
    const up = cluster.scale('web', 5);
    expect(sink.podsOf('web.default').filter((p) => !p.ready)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(timing.readyDelayMs);
    await up;
    expect(sink.podsOf('web.default').filter((p) => p.ready)).toHaveLength(5);

    const oldest = sink
      .podsOf('web.default')
      .sort((a, b) => a.createdAtMs - b.createdAtMs)
      .slice(0, 3)
      .map((p) => p.name)
      .sort();
    const down = cluster.scale('web', 3);
    expect(sink.podsOf('web.default').filter((p) => p.terminating)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(timing.gracePeriodMs);
    await down;
    expect(
      sink
        .podsOf('web.default')
        .map((p) => p.name)
        .sort(),
    ).toEqual(oldest);

    const created = cluster.scale('cache', 1, 6379);
    await vi.advanceTimersByTimeAsync(timing.readyDelayMs);
    await created;
    expect(sink.podsOf('cache.default').map((p) => [p.port, p.ready])).toEqual([[6379, true]]);
  });

  it('allocates new IPs for new pods rather than reusing freed ones', async () => {
    const sink = new RecordingSink();
    const cluster = sim({ services: [{ name: 'web', replicas: 2 }] });
    await started(cluster, sink);
    const first = new Set([...sink.pods.values()].map((p) => p.ip));
    const done = cluster.rollingDeploy('web', { maxSurge: 2 });
    await vi.advanceTimersByTimeAsync(timing.readyDelayMs + timing.gracePeriodMs);
    await done;
    const second = [...sink.pods.values()].map((p) => p.ip);
    expect(second).toEqual(['10.1.0.3', '10.1.0.4']);
    expect(second.some((ip) => first.has(ip))).toBe(false);
  });

  it('setReachable reports an outage and the recovery', async () => {
    const sink = new RecordingSink();
    const cluster = sim();
    await started(cluster, sink);
    cluster.setReachable(false);
    expect(sink.statuses.at(-1)).toMatchObject({ state: 'unreachable', everSynced: true, lastError: 'simulated outage' });
    cluster.setReachable(true);
    expect(sink.statuses.at(-1)).toMatchObject({ state: 'synced', lastError: undefined });
    expect(sink.pods.size).toBe(5);
  });
});

describe('SimulatedCluster autopilot', () => {
  it('starts deploys on its interval, never two at once for one service', async () => {
    let maxNew = 0;
    const sink = new RecordingSink((s) => {
      maxNew = Math.max(maxNew, s.podsOf('web.default').filter((p) => !p.ready && !p.terminating).length);
    });
    const cluster = sim({ services: [{ name: 'web', replicas: 1 }] });
    await started(cluster, sink);
    const initial = sink.podsOf('web.default')[0]?.name;
    cluster.startAutopilot({ intervalMs: 40 });
    expect(cluster.deploying()).toEqual([]);
    await vi.advanceTimersByTimeAsync(40);
    expect(cluster.deploying()).toEqual(['web']);
    // Ticks at 80, 120, ... 1120 fall inside the running deploy (100 ms ready + 1 s grace, ends at 1140).
    await vi.advanceTimersByTimeAsync(timing.readyDelayMs + timing.gracePeriodMs);
    expect(maxNew).toBe(1);
    expect(cluster.deploying()).toEqual([]);
    expect(sink.podsOf('web.default').map((p) => [p.name === initial, p.ready, p.terminating])).toEqual([[false, true, false]]);
    // The next tick (1160) finds the service idle again.
    await vi.advanceTimersByTimeAsync(20);
    expect(cluster.deploying()).toEqual(['web']);
    cluster.stopAutopilot();
  });

  it('picks among idle services with the injected random source', async () => {
    const sink = new RecordingSink();
    const cluster = sim({ random: () => 0.99 });
    await started(cluster, sink);
    cluster.startAutopilot({ intervalMs: 10 });
    await vi.advanceTimersByTimeAsync(10);
    expect(cluster.deploying()).toEqual(['api']);
    await vi.advanceTimersByTimeAsync(10);
    expect(cluster.deploying()).toEqual(['api', 'web']);
  });
});
