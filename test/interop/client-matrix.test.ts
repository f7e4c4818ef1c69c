// What each proxyless client does with what Herald serves, observed rather than assumed, and
// checked against the table in docs/XDS-CLIENTS.md so the table cannot drift from the clients.
// One Herald per client, local cluster kube-a: a-0 (zone z1) and a-1..a-3 (zone z2) in kube-a
// (priority 0), b-0 in kube-b (priority 1), every backend running, so where calls land shows what
// the client chose.
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import type { PodProtocol } from '../../src/model/index.js';
import { callWho, startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { docTable } from './doc-table.js';
import { startMeshDaemon } from './mesh-daemon.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { loopbackBootstrap, XdsProbe } from './xds-probe.js';
import { settledLanding as settledOn } from './landing.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = path.join(repo, 'docs', 'XDS-CLIENTS.md');

/** Row title in the doc → observed value, per client. */
type Observations = Record<string, string>;
const observed = new Map<string, Observations>();

const ROWS = {
  protocol: 'xDS transport',
  userAgent: 'user_agent_name',
  streams: 'ADS connections for two channel targets',
  priority: 'EDS priorities: only priority 0 takes traffic while it has healthy hosts',
  localities: 'hosts of a priority share its traffic evenly across localities (locality weight = healthy hosts)',
  unhealthy: 'EDS `UNHEALTHY` hosts',
  draining: 'EDS `DRAINING` hosts',
  failover: 'priority 0 without healthy hosts: traffic moves to priority 1',
  http2: 'Cluster with HTTP/2 upstream options (`typed_extension_protocol_options`)',
} as const;

/** What a pod whose endpoint port is named `grpc` carries. */
const GRPC_POD: PodProtocol = { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc' };

PROXYLESS_CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${32 + index}.${host}`;
  const nodeId = `${client.name}-matrix`;

  probeSuite(`${client.name}: what it honours`, client, (launch) => {
    const seen: Observations = {};
    const backends: EchoBackend[] = [];
    let kubeA: ManualSource;
    let kubeB: ManualSource;
    let daemon: Daemon;
    let probe: XdsProbe;

    beforeAll(async () => {
      for (const [i, name] of ['a-0', 'a-1', 'a-2', 'a-3', 'b-0'].entries()) backends.push(await startEchoBackend(name, ip(i + 1)));
      const pod = (cluster: string, b: EchoBackend, zone: string) => makePod({ cluster, name: b.name, ip: b.host, port: b.port, nodeName: `${cluster}-${zone}` });
      const node = (cluster: string, zone: string) => ({ cluster, name: `${cluster}-${zone}`, region: 'r1', zone });
      kubeA = new ManualSource('kube-a', {
        pods: [pod('kube-a', backends[0]!, 'z1'), ...backends.slice(1, 4).map((b) => pod('kube-a', b, 'z2'))],
        nodes: [node('kube-a', 'z1'), node('kube-a', 'z2')],
      });
      kubeB = new ManualSource('kube-b', { pods: [pod('kube-b', backends[4]!, 'z3')], nodes: [node('kube-b', 'z3')] });
      daemon = await startMeshDaemon([kubeA, kubeB]);
      probe = await XdsProbe.start({
        launch,
        label: client.name,
        target: 'xds:///echo',
        bootstrap: loopbackBootstrap(daemon.xdsPort, nodeId),
      });
    });

    afterAll(async () => {
      observed.set(client.name, seen);
      await probe?.close();
      await daemon?.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    });

    const settledLanding = () => settledOn(probe);

    it('connects, and which transport and user agent it uses', async () => {
      await settledLanding();
      const streams = daemon.xds.clients().filter((c) => c.node?.id === nodeId);
      expect(streams.length).toBeGreaterThan(0);
      seen[ROWS.protocol] = [...new Set(streams.map((s) => `${s.protocol === 'delta' ? 'Delta' : 'SotW'} ${s.api.replace('delta-', '').toUpperCase()}`))].join(', ');
      seen[ROWS.userAgent] = [...new Set(streams.map((s) => s.node?.userAgent ?? ''))].join(', ');
    });

    it('how many ADS connections it opens for a second channel target', async () => {
      await probe.watch('xds:///second-target');
      const subscribed = () => daemon.xds.clients().some((c) => c.node?.id === nodeId && c.types.listener?.subscription.names.includes('second-target'));
      await expect.poll(subscribed, { timeout: 20_000 }).toBe(true);
      const peers = new Set(daemon.xds.clients().flatMap((c) => (c.node?.id === nodeId ? [c.peer] : [])));
      seen[ROWS.streams] = peers.size === 1 ? '1, shared' : `${peers.size}, one per target`;
    });

    it('HTTP/2 upstream options: the echo pods name their port grpc, so the echo cluster gets them', async () => {
      for (const name of ['a-0', 'a-1', 'a-2', 'a-3']) kubeA.update(`default/${name}`, { protocol: GRPC_POD });
      kubeB.update('default/b-0', { protocol: GRPC_POD });
      const options = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
      await expect.poll(() => daemon.cache.get('cluster', 'echo')?.any.includes(options), { timeout: 10_000 }).toBe(true);
      // The streams that watch the echo cluster have answered the response carrying it.
      const answered = () => {
        const infos = daemon.xds.clients().flatMap((c) => (c.node?.id === nodeId && c.types.cluster?.subscription.names.includes('echo') ? [c.types.cluster] : []));
        const nacked = infos.find((i) => i.counts.nacks > 0);
        if (nacked) return `NACKed: ${nacked.lastNack?.message ?? ''}`;
        return infos.length > 0 && infos.every((i) => !i.pending && !i.dirty && i.ackedVersion === daemon.cache.version('cluster')) ? 'ACKed' : undefined;
      };
      await expect.poll(answered, { timeout: 20_000 }).toBeDefined();
      const verdict = answered()!;
      const report = await probe.call(30);
      seen[ROWS.http2] = verdict === 'ACKed' && report.errors === 0 ? 'ACKed; calls go on' : `${verdict}; ${report.errors} of 30 calls failed`;
    });

    it('priorities: with a-0..a-3 healthy in priority 0, does b-0 (priority 1) get calls?', async () => {
      const landing = await settledLanding();
      seen[ROWS.priority] = landing === 'a-0+a-1+a-2+a-3' ? 'honoured' : `ignored (calls landed on ${landing})`;
      expect(landing).toMatch(/a-0/);
    });

    it("localities: z1 (a-0, weight 1) beside z2 (a-1..a-3, weight 3): does a-0 get a host's share or a locality's?", async () => {
      const report = await probe.call(200);
      expect(report.errors).toBe(0);
      // Even per host: a-0 takes about 1/4 (50 of 200); even per locality, about 1/2 (100).
      // The cut at 3/8 is more than four standard deviations from either.
      const share = report.backends['a-0'] ?? 0;
      seen[ROWS.localities] = share < 75 ? 'yes' : `no (a-0, alone in z1, took ${share} of 200 calls)`;
    });

    it('UNHEALTHY: a-1 not Ready (sent as UNHEALTHY)', async () => {
      kubeA.update('default/a-1', { ready: false });
      const landing = await settledLanding();
      seen[ROWS.unhealthy] = landing.includes('a-1') ? `picked (calls landed on ${landing})` : 'not picked';
    });

    it('DRAINING and failover: a-0, a-2 and a-3 terminating leave priority 0 with no healthy host', async () => {
      for (const name of ['a-0', 'a-2', 'a-3']) kubeA.update(`default/${name}`, { terminating: true, gracePeriodSeconds: 60 });
      const landing = await settledLanding();
      seen[ROWS.draining] = /a-[023]/.test(landing) ? `picked (calls landed on ${landing})` : 'not picked';
      seen[ROWS.failover] = landing === 'b-0' ? 'yes' : `no (calls landed on ${landing})`;
      // a-0 still answers a direct call: where calls land was the client's choice.
      const direct = new grpc.Client(`${backends[0]!.host}:${backends[0]!.port}`, grpc.credentials.createInsecure());
      try {
        expect(await callWho(direct)).toBe('a-0');
      } finally {
        direct.close();
      }
    });

    it(`ACKed everything, NACKed nothing`, () => {
      for (const s of daemon.xds.clients().filter((c) => c.node?.id === nodeId)) {
        for (const [kind, info] of Object.entries(s.types)) expect({ kind, nacks: info.counts.nacks, lastNack: info.lastNack?.message }).toEqual({ kind, nacks: 0, lastNack: undefined });
      }
    });
  });
});

describe('docs/XDS-CLIENTS.md', () => {
  it('says what the clients were seen doing', () => {
    const table = docTable(DOC, 'observed');
    const results = Object.fromEntries(observed);
    const dir = path.join(repo, '.cache', 'test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'xds-clients.json'), `${JSON.stringify(results, null, 2)}\n`);
    expect(observed.size, 'no client ran').toBeGreaterThan(0);
    for (const [clientName, rows] of observed) {
      for (const title of Object.values(ROWS)) {
        expect(table.get(title)?.get(clientName), `${clientName}, row "${title}"`).toBe(rows[title]);
      }
    }
  });
});
