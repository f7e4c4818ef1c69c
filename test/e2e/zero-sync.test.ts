// Never "no clusters": a replica whose kube clusters are all unreachable at start answers no
// xDS and is not ready, long after --initial-sync-timeout; the first cluster to sync opens it,
// and /readyz names the one still missing until it syncs too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdsClient } from '../../src/xdsclient/index.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HeraldProcess } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { endpointMap, envoy, until } from './harness/xds.js';

/** Whether any Envoy cluster the client holds has this endpoint: the test is about which clusters synced, not names. */
const holds = (client: AdsClient, endpoint: string): boolean => client.clusters().some((name) => endpointMap(client, name).has(endpoint));

const bins = e2eBins();

describe.skipIf(bins === '')('e2e: no cluster synced', () => {
  let env: E2eEnv;
  let east: TestCluster;
  let west: TestCluster;
  let client: AdsClient | undefined;

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [east, west] = await env.startClusters([
      { name: 'east', nodes: [{ name: 'east-n1', zone: 'east-a', region: 'r1' }] },
      { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'r2' }] },
    ]);
    await east.kubelet.runPod({ name: 'ledger-1', service: 'ledger', node: 'east-n1', ip: '10.30.0.1', port: 8080 });
    await west.kubelet.runPod({ name: 'ledger-2', service: 'ledger', node: 'west-n1', ip: '10.40.0.1', port: 8080 });
    await east.kube.stopApiserver('kill');
    await west.kube.stopApiserver('kill');
  });

  afterAll(async () => {
    await client?.close();
    await env?.close();
  });

  it('answers nothing and stays unready past the timeout, opens on the first sync, reports the missing cluster', async () => {
    const h = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [east, west].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      initialSyncTimeout: '2s',
    });
    const c = envoy(h.xdsTarget, 'zero-sync-envoy');
    client = c;

    // Past the timeout: /readyz says why, and the client still holds no response at all.
    const withheld = await eventually(
      'readyz reports the timeout with no cluster synced',
      async () => {
        const r = await h.readyz();
        return r.body.reasons.some((x) => x.includes('no cluster synced')) ? r : undefined;
      },
      60_000,
    );
    expect(withheld.status).toBe(503);
    expect(withheld.body.ready).toBe(false);
    expect(withheld.body.missingClusters).toEqual(['east', 'west']);
    // Keep watching for several timeouts' worth: nothing may be answered meanwhile.
    const watchUntil = Date.now() + 6_000;
    while (Date.now() < watchUntil) {
      expect(c.stats().responses).toBe(0);
      expect((await h.readyz()).status).toBe(503);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(c.stats().responses).toBe(0);
    expect(h.logTail()).toMatch(/initial sync timed out with no cluster synced/);

    // East comes back: xDS opens with east's endpoints, and /readyz names west as missing.
    await east.kube.startApiserver();
    await until(c, 'a ledger endpoint from east', (cl) => holds(cl, '10.30.0.1:8080'), 90_000);
    const partial = await h.readyz();
    expect(partial.status).toBe(200);
    expect(partial.body.missingClusters).toEqual(['west']);
    expect(partial.body.reasons.join('\n')).toMatch(/initial sync timed out; never synced: west/);
    expect(c.stats().nacks).toBe(0);

    // West syncs late and joins.
    await west.kube.startApiserver();
    await until(c, 'ledger endpoints from both clusters', (cl) => holds(cl, '10.40.0.1:8080'), 90_000);
    await eventually('nothing missing', async () => ((await h.readyz()).body.missingClusters.length === 0 ? true : undefined), 60_000);
  });
});
