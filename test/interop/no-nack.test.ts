// Property: whatever valid mesh Herald is fed, no proxyless client NACKs what it serves. Random
// meshes (random-mesh.ts) are fed to a running daemon, round after round, while every client
// holds a channel to every service; after each round all of them must have ACKed everything,
// and a NACK fails the test with the client's message and the resource it names. Meshes include
// HTTP/2 services, whose clusters carry upstream HttpProtocolOptions, and random valid
// ServicePolicies (random-policy.ts) in random kube clusters, some disagreeing, sometimes a
// mesh-defaults object: every balancer list (ring hash with its routes' hash policy among them),
// circuit breaker, outlier detection and health check they produce must be ACKed too, and so
// must every routes section (timeouts, retries, weighted clusters).
// HERALD_PROPERTY_SEED replays a run; HERALD_PROPERTY_ROUNDS sets its length.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import type { ResourceKind } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { ManualSource } from '../helpers/manual-source.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { randomMesh, Rng, type RandomMesh } from '../property/random-mesh.js';
import { DEFAULTS_NAMESPACE, randomPolicies } from '../property/random-policy.js';
import { PROXYLESS_CLIENTS, type ProxylessClient } from './probe-clients.js';
import type { ProbeLaunch } from './xds-probe.js';
import { XdsProbe } from './xds-probe.js';

const SEED = Number(process.env.HERALD_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = Number(process.env.HERALD_PROPERTY_ROUNDS ?? 5);
const CLUSTERS = ['kube-a', 'kube-b', 'kube-c'];
const SHAPE = { clusters: CLUSTERS, maxServices: 8, maxPodsPerService: 6 };
const SETTLE_TIMEOUT_MS = 60_000;

function inCi(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

const located = PROXYLESS_CLIENTS.map((client) => ({ client, located: client.locate() }));
const runnable = located.flatMap(({ client, located: l }) => (l.launch ? [{ client, launch: l.launch }] : []));
const missing = located.flatMap(({ client, located: l }) => (l.reason !== undefined ? [`${client.name}: ${l.reason}`] : []));
if (missing.length > 0 && !inCi()) console.warn(`[interop] the no-NACK property runs without ${missing.join('; ')}`);

interface Running {
  client: ProxylessClient;
  probe: XdsProbe;
  nodeId: string;
}

describe(`no proxyless client NACKs a random valid mesh (HERALD_PROPERTY_SEED=${SEED})`, () => {
  const sources = CLUSTERS.map((name) => new ManualSource(name));
  const policySources = CLUSTERS.map((name) => new ManualPolicySource(name));
  let generation = 0;
  const rng = new Rng(SEED);
  const encoder = new ResourceEncoder(loadEnvoyProtos());
  const watched = new Set<string>();
  const running: Running[] = [];
  let daemon: Daemon;
  let first: RandomMesh;

  beforeAll(async () => {
    daemon = await startDaemon(
      {
        sources,
        policies: { sources: policySources, clusters: CLUSTERS, namespace: DEFAULTS_NAMESPACE },
        localCluster: 'kube-a',
        initialSyncTimeoutMs: 5_000,
        // Every probe connects from 127.0.0.1 and opens an ADS stream per channel target, some a
        // connection each (docs/XDS-CLIENTS.md): the defaults would stall a long run.
        xds: { host: '127.0.0.1', port: 0, limits: { maxConnectionsPerPeer: 4_096, maxStreamsPerConnection: 4_096 } },
        admin: undefined,
      },
      { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
    );
    await daemon.ready;
    first = feed(randomMesh(rng, SHAPE));
    const target = `xds:///${first.services[0] ?? 'none.default'}`;
    watched.add(target.slice('xds:///'.length));
    for (const { client, launch } of runnable) running.push(await start(client, launch, target));
    // Four probes, a JVM among them, start one after another on a shared 2-core machine.
  }, 180_000);

  afterAll(async () => {
    await Promise.all(running.map((r) => r.probe.close()));
    await daemon?.stop(1_000);
  });

  async function start(client: ProxylessClient, launch: ProbeLaunch, target: string): Promise<Running> {
    const nodeId = `${client.name}-property`;
    const probe = await XdsProbe.start({
      launch,
      label: client.name,
      target,
      bootstrap: {
        xds_servers: [{ server_uri: `127.0.0.1:${daemon.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: nodeId, locality: { region: 'r1', zone: 'z1' } },
      },
    });
    return { client, probe, nodeId };
  }

  function feed(mesh: RandomMesh): RandomMesh {
    const policies = randomPolicies(rng, mesh, ++generation);
    for (const source of policySources) source.sync(policies);
    mesh.clusters.forEach((c, i) => sources[i]!.sync(c.pods, c.nodes));
    return mesh;
  }

  /** Every client's streams: not behind on any type, with every watched listener subscribed. */
  function behind(): string[] {
    const problems: string[] = [];
    for (const r of running) {
      const streams = daemon.xds.clients().filter((c) => c.node?.id === r.nodeId);
      if (streams.length === 0) problems.push(`${r.client.name}: no stream`);
      const listeners = streams.reduce((n, s) => n + (s.types.listener?.subscription.nameCount ?? 0), 0);
      if (listeners < watched.size) {
        const names = new Set(streams.flatMap((s) => s.types.listener?.subscription.names ?? []));
        const absent = [...watched].filter((w) => !names.has(w));
        const lds = streams.map((s) => s.types.listener).map((i) => i && `[${i.sync} sent ${i.lastSent?.version} acked ${i.ackedVersion} ${JSON.stringify(i.counts)}]`);
        problems.push(`${r.client.name}: ${listeners} of ${watched.size} listeners subscribed (not among the names listed: ${absent.slice(0, 5).join(', ')}) ${lds.join(' ')}`);
      }
      for (const s of streams) {
        for (const [kind, info] of Object.entries(s.types)) {
          if (info.pending || info.dirty || info.sync === 'behind') {
            problems.push(
              `${r.client.name}: ${kind} ${info.sync}${info.pending ? ' (unACKed)' : ''} [sent ${info.lastSent?.version} acked ${info.ackedVersion} ${JSON.stringify(info.counts)} subscribed ${info.subscription.nameCount}]`,
            );
          }
        }
      }
    }
    return problems;
  }

  async function settle(round: number): Promise<void> {
    const until = Date.now() + SETTLE_TIMEOUT_MS;
    let calm = 0;
    let last: string[] = [];
    // Three quiet looks in a row: a batch of changes may still be on its way after the first.
    while (calm < 3) {
      if (Date.now() > until) {
        const logs = running.filter((r) => last.some((p) => p.startsWith(`${r.client.name}:`))).map((r) => `--- ${r.client.name} stderr:\n${r.probe.stderr}`);
        throw new Error(`round ${round}: clients still behind after ${SETTLE_TIMEOUT_MS} ms: ${last.join('; ')}\n${logs.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      last = behind();
      calm = last.length === 0 ? calm + 1 : 0;
    }
  }

  /** Every NACK any client sent, with the resources of that type its message names. */
  function nacks(): string[] {
    const found: string[] = [];
    for (const r of running) {
      for (const s of daemon.xds.clients().filter((c) => c.node?.id === r.nodeId)) {
        for (const [kind, info] of Object.entries(s.types) as [ResourceKind, NonNullable<(typeof s.types)[ResourceKind]>][]) {
          if (info.counts.nacks === 0) continue;
          const message = info.lastNack?.message ?? '';
          const named = [...daemon.cache.list(kind)].filter((res) => res.name !== '' && message.includes(res.name));
          const shown = (named.length > 0 ? named : [...daemon.cache.list(kind)].slice(0, 3)).map((res) => JSON.stringify(encoder.decodeAny(res.any).message));
          found.push(`${r.client.name} NACKed ${info.counts.nacks} ${kind} response(s): "${message}"\n  resource(s): ${shown.join('\n  ')}`);
        }
      }
    }
    return found;
  }

  /** Served clusters with HTTP/2 upstream options. */
  function http2Clusters(): string[] {
    return [...daemon.cache.list('cluster')].filter((res) => 'typed_extension_protocol_options' in encoder.decodeAny(res.any).message).map((res) => res.name);
  }

  /** Served clusters with a balancer list from a ServicePolicy. */
  function balancerClusters(): string[] {
    return [...daemon.cache.list('cluster')].filter((res) => 'load_balancing_policy' in encoder.decodeAny(res.any).message).map((res) => res.name);
  }

  /** Served RouteConfigurations with weighted clusters (a ServicePolicy split), and with a timeout or retries. */
  function policyRoutes(): { split: string[]; other: string[] } {
    const actions = [...daemon.cache.list('route')].map((res) => [res.name, JSON.stringify(encoder.decodeAny(res.any).message)] as const);
    return {
      split: actions.filter(([, m]) => m.includes('weighted_clusters')).map(([n]) => n),
      other: actions.filter(([, m]) => m.includes('max_stream_duration') || m.includes('retry_policy')).map(([n]) => n),
    };
  }

  /** Per client, the types its streams have ACKed at least once. */
  function ackedKinds(): [string, string[]][] {
    return running.map((r) => {
      const kinds = new Set<string>();
      for (const s of daemon.xds.clients().filter((c) => c.node?.id === r.nodeId)) {
        for (const [kind, info] of Object.entries(s.types)) if (info.counts.acks > 0) kinds.add(kind);
      }
      return [r.client.name, [...kinds].sort()];
    });
  }

  it('has every client to run (CI builds them all)', () => {
    if (inCi()) expect(missing).toEqual([]);
    expect(running.length).toBeGreaterThan(0);
  });

  it(
    `ACKs ${ROUNDS} random meshes on every client, never NACKs`,
    async () => {
      let mesh = first;
      const http2Seen = new Set<string>();
      const balancersSeen = new Set<string>();
      const splitsSeen = new Set<string>();
      const routePoliciesSeen = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        if (round > 0) mesh = feed(randomMesh(rng, SHAPE));
        for (const service of mesh.services) {
          if (watched.has(service)) continue;
          watched.add(service);
          for (const r of running) await r.probe.watch(`xds:///${service}`);
        }
        await settle(round);
        const problems = nacks();
        expect(problems, `round ${round} of seed ${SEED} (${mesh.services.length} services: ${mesh.services.join(', ')})`).toEqual([]);
        for (const name of http2Clusters()) http2Seen.add(name);
        for (const name of balancerClusters()) balancersSeen.add(name);
        const routes = policyRoutes();
        for (const name of routes.split) splitsSeen.add(name);
        for (const name of routes.other) routePoliciesSeen.add(name);
      }
      // The first service of every mesh gets a routes section with a split: some round served weighted clusters, and every client ACKed them.
      expect(splitsSeen.size, `seed ${SEED}`).toBeGreaterThan(0);
      expect(routePoliciesSeen.size, `seed ${SEED}`).toBeGreaterThan(0);
      // The first service of every mesh gets a LeastRequest or Random policy: some round served its list, and every client ACKed it.
      expect(balancersSeen.size, `seed ${SEED}`).toBeGreaterThan(0);
      // The generator makes the first service of every mesh HTTP/2: some round served one, and every client ACKed it.
      expect(http2Seen.size, `seed ${SEED}`).toBeGreaterThan(0);
      // A round may leave a type with nothing to serve (every pod of every service pending); over
      // the run, every client must have taken and ACKed every type.
      expect(ackedKinds()).toEqual(running.map((r) => [r.client.name, ['cluster', 'endpoint', 'listener', 'route']]));
      // Each round settles within SETTLE_TIMEOUT_MS or fails on its own; this only bounds the whole.
    },
    ROUNDS * SETTLE_TIMEOUT_MS + 60_000,
  );
});
