// What each proxyless client does with the balancers and ejection a ServicePolicy serves,
// observed rather than assumed, and checked against the "observed with a ServicePolicy" table in
// docs/XDS-CLIENTS.md. One Herald per client; service lb.default has four backends in one
// locality, all running, so where sequential calls land shows the balancer the client runs:
// round robin splits 60 calls 15/15/15/15 every time, a random or least-request pick (every
// host idle between sequential calls) almost never does, and a hash that is the same for every
// call puts them all on one host.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import type { ServicePolicySpec } from '../../src/model/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { docTable } from './doc-table.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { loopbackBootstrap, XdsProbe, type CallReport } from './xds-probe.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = path.join(repo, 'docs', 'XDS-CLIENTS.md');
const SERVICE = 'lb.default';
const ROUND = 60;

const ROWS = {
  none: 'no policy (`lb_policy: ROUND_ROBIN`)',
  leastRequest: '`LeastRequest`',
  random: '`Random`',
  ringHash: '`RingHash` on `content-type` (the same value on every gRPC call)',
  ejection: '`failurePercentageThreshold: 50`, 100 ms interval: a fifth host fails every call',
} as const;

const POLICIES: Record<Exclude<keyof typeof ROWS, 'none' | 'ejection'>, ServicePolicySpec> = {
  leastRequest: { loadBalancing: { policy: 'LeastRequest' } },
  random: { loadBalancing: { policy: 'Random' } },
  ringHash: { loadBalancing: { policy: 'RingHash', hashHeader: 'content-type' } },
};

const observed = new Map<string, Record<string, string>>();

/** How a round of calls split over the four hosts. */
function split(report: CallReport): 'even' | 'one' | 'uneven' {
  const counts = Object.values(report.backends);
  if (counts.length === 1) return 'one';
  return counts.length === 4 && counts.every((c) => c === ROUND / 4) ? 'even' : 'uneven';
}

PROXYLESS_CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${48 + index}.${host}`;
  const nodeId = `${client.name}-balancers`;

  probeSuite(`${client.name}: the balancers and ejection a ServicePolicy serves`, client, (launch) => {
    const seen: Record<string, string> = {};
    const backends: EchoBackend[] = [];
    let kube: ManualSource;
    const policies = new ManualPolicySource('kube-a');
    let generation = 0;
    let daemon: Daemon;
    let probe: XdsProbe;

    beforeAll(async () => {
      for (let i = 0; i < 4; i++) backends.push(await startEchoBackend(`e-${i}`, ip(i + 1)));
      kube = new ManualSource('kube-a', {
        pods: backends.map((b) => makePod({ cluster: 'kube-a', name: b.name, service: SERVICE, ip: b.host, port: b.port, nodeName: 'node-z1' })),
        nodes: [{ cluster: 'kube-a', name: 'node-z1', region: 'r1', zone: 'z1' }],
      });
      daemon = await startDaemon(
        {
          sources: [kube],
          policies: { sources: [policies], clusters: ['kube-a'], namespace: 'herald' },
          initialSyncTimeoutMs: 5_000,
          xds: { host: '127.0.0.1', port: 0 },
          admin: undefined,
        },
        { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
      );
      await daemon.ready;
      probe = await XdsProbe.start({ launch, label: client.name, target: `xds:///${SERVICE}`, bootstrap: loopbackBootstrap(daemon.xdsPort, nodeId) });
    });

    afterAll(async () => {
      observed.set(client.name, seen);
      await probe?.close();
      await daemon?.stop(1_000);
      await Promise.all(backends.map((b) => b.stop()));
    });

    /** Serves `spec` for the service and waits until the client has answered the Cluster it makes: 'ACKed' or the NACK. */
    async function serve(spec: ServicePolicySpec): Promise<string> {
      const before = daemon.cache.version('cluster');
      policies.sync([{ cluster: 'kube-a', namespace: 'default', name: 'lb', generation: ++generation, spec }]);
      await expect.poll(() => daemon.cache.version('cluster'), { timeout: 10_000 }).not.toBe(before);
      const answered = () => {
        const infos = daemon.xds.clients().flatMap((c) => (c.node?.id === nodeId && c.types.cluster?.subscription.names.includes(SERVICE) ? [c.types.cluster] : []));
        const nacked = infos.find((i) => i.counts.nacks > 0);
        if (nacked) return `NACKed: ${nacked.lastNack?.message ?? ''}`;
        return infos.length > 0 && infos.every((i) => !i.pending && !i.dirty && i.ackedVersion === daemon.cache.version('cluster')) ? 'ACKed' : undefined;
      };
      await expect.poll(answered, { timeout: 20_000 }).toBeDefined();
      return answered()!;
    }

    /** After a warm-up round, two rounds of ROUND calls: how they split, if both agree. */
    async function landing(): Promise<string> {
      await probe.call(ROUND);
      const rounds = [await probe.call(ROUND), await probe.call(ROUND)];
      const errors = rounds.reduce((n, r) => n + r.errors, 0);
      if (errors > 0) return `${errors} of ${2 * ROUND} calls failed (${rounds.find((r) => r.lastError)?.lastError ?? ''})`;
      const kinds = rounds.map(split);
      if (kinds.every((k) => k === 'even')) return 'even split (round robin)';
      if (kinds.every((k) => k === 'one') && Object.keys(rounds[0]!.backends)[0] === Object.keys(rounds[1]!.backends)[0]) return 'every call on one host (hashed)';
      return 'uneven split (not round robin)';
    }

    it('without a policy: the even split of round robin, the baseline the other rows are read against', async () => {
      await expect.poll(async () => (await probe.call(8)).errors, { timeout: 20_000 }).toBe(0);
      seen[ROWS.none] = `calls go on; ${await landing()}`;
      expect(seen[ROWS.none]).toBe('calls go on; even split (round robin)');
    });

    it.each(Object.keys(POLICIES) as (keyof typeof POLICIES)[])('%s: ACKed, calls go on, and how they split', async (row) => {
      const verdict = await serve(POLICIES[row]);
      seen[ROWS[row]] = verdict === 'ACKed' ? `ACKed; ${await landing()}` : verdict;
      expect(seen[ROWS[row]]).toMatch(/^ACKed; (even|uneven|every)/);
    });

    it('failure-percentage ejection: the failing fifth host stops getting calls', async () => {
      // Round robin again (the last row left a ring hash), so the broken host gets its share.
      expect(await serve({})).toBe('ACKed');
      const broken = await startEchoBackend('broken', ip(5), () => ({ fail: status.INTERNAL }));
      backends.push(broken);
      kube.apply(makePod({ cluster: 'kube-a', name: broken.name, service: SERVICE, ip: broken.host, port: broken.port, nodeName: 'node-z1' }));
      // Without ejection the broken host takes its share of calls, and they fail.
      await expect.poll(async () => (await probe.call(20)).errors, { timeout: 20_000 }).toBeGreaterThan(0);
      const verdict = await serve({
        outlierDetection: { failurePercentageThreshold: 50, failurePercentageMinimumHosts: 1, failurePercentageRequestVolume: 1, intervalMs: 100, maxEjectionPercent: 50 },
      });
      if (verdict !== 'ACKed') {
        seen[ROWS.ejection] = verdict;
        return;
      }
      // Calls until a whole round goes by without an error (the host is ejected), for a bounded time.
      let clean = false;
      for (let attempt = 0; attempt < 20 && !clean; attempt++) clean = (await probe.call(20)).errors === 0;
      const after = clean ? await probe.call(ROUND) : undefined;
      seen[ROWS.ejection] = `ACKed; ${after?.errors === 0 ? 'the failing host is ejected' : 'the failing host keeps getting calls'}`;
      expect(seen[ROWS.ejection]).toMatch(/^ACKed; /);
    });

    it('NACKed nothing, and the probe is still running', async () => {
      for (const s of daemon.xds.clients().filter((c) => c.node?.id === nodeId)) {
        for (const [kind, info] of Object.entries(s.types)) expect({ kind, nacks: info.counts.nacks, lastNack: info.lastNack?.message }).toEqual({ kind, nacks: 0, lastNack: undefined });
      }
      expect((await probe.call(4)).backends).toBeDefined();
    });
  });
});

describe('docs/XDS-CLIENTS.md, observed with a ServicePolicy', () => {
  it('says what the clients were seen doing', () => {
    const dir = path.join(repo, '.cache', 'test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'xds-clients-policy.json'), `${JSON.stringify(Object.fromEntries(observed), null, 2)}\n`);
    const table = docTable(DOC, 'observed with a ServicePolicy');
    expect(observed.size, 'no client ran').toBeGreaterThan(0);
    for (const [clientName, rows] of observed) {
      for (const title of Object.values(ROWS)) expect(table.get(title)?.get(clientName), `${clientName}, row "${title}"`).toBe(rows[title]);
    }
  });
});
