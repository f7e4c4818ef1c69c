// Priorities follow the client's own kube cluster (node metadata `herald.io/kube-cluster`), not
// the replica's: one Herald (--local-cluster kube-a) serves two clients of each real proxyless
// client, one declaring kube-a and one kube-b, and each sends its calls to its own cluster's
// backends while they are healthy, then fails over to the other cluster; and with no HEALTHY
// endpoint left anywhere, the terminating pods that are still Ready keep taking calls (the
// terminating fallback, on by default). Every
// client reads its Node (id, locality, metadata) from its xDS bootstrap, so the same bootstrap
// declares the same perspective whichever client library reads it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import type { ManualSource } from '../helpers/manual-source.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { startTwoClusterMesh, ZONE, type TwoClusterMesh } from './two-cluster-mesh.js';
import type { XdsProbe } from './xds-probe.js';
import { settledLanding } from './landing.js';
import { expectNoNacks } from './nacks.js';
import { LocalityRow } from './doc-table.js';

PROXYLESS_CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${96 + index}.${host}`;

  probeSuite(`${client.name}: priorities from the client's kube cluster`, client, (launch) => {
    let mesh: TwoClusterMesh | undefined;
    let kubeA: ManualSource;
    let kubeB: ManualSource;
    let daemon: Daemon;
    let probes: Map<string, XdsProbe>;
    const nodeRow = new LocalityRow('`locality.zone` and metadata `herald.io/kube-cluster` from the bootstrap reach Herald', 1);
    const perspectiveRow = new LocalityRow("priority 0 is the client's own kube cluster (`herald.io/kube-cluster`), not the replica's; drained, it fails over", 2);
    const fallbackRow = new LocalityRow('no HEALTHY endpoint anywhere: the Ready terminating pods take the calls (the terminating fallback, on by default)', 1);

    beforeAll(async () => {
      mesh = await startTwoClusterMesh(launch, client.name, ip);
      ({ kubeA, kubeB, daemon, probes } = mesh);
    });

    afterAll(async () => {
      await mesh?.stop();
    });

    it('the same replica serves each client its own cluster as priority 0, and calls land there', async () => {
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
      // Two variants in the cache: the plain one (the replica's kube-a) and kube-b's.
      expect(daemon.cache.variantCounts().endpoint).toEqual({ names: 1, revisions: 1 });
      perspectiveRow.pass();
    });

    it("Herald read each client's kube cluster and zone from the Node of its bootstrap", () => {
      for (const cluster of ['kube-a', 'kube-b']) {
        const streams = daemon.xds.clients().filter((c) => c.node?.id === `${client.name}-${cluster}`);
        expect(streams.length).toBeGreaterThan(0);
        for (const s of streams) {
          expect({ kubeCluster: s.node?.heraldMetadata?.['herald.io/kube-cluster'], zone: s.node?.locality?.zone }).toEqual({ kubeCluster: cluster, zone: ZONE });
        }
      }
      nodeRow.pass();
    });

    it("a cluster's endpoints all DRAINING: its client fails over to the other cluster, the other client stays put", async () => {
      for (const name of ['b-0', 'b-1']) kubeB.update(`default/${name}`, { terminating: true, gracePeriodSeconds: 60 });
      // Another cluster still has HEALTHY endpoints, so the terminating fallback stays off.
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      perspectiveRow.pass();
    });

    it('by default (no ServicePolicy), every pod terminating but still Ready: no HEALTHY endpoint anywhere, so the Ready terminating ones are served and calls go on', async () => {
      for (const name of ['a-0', 'a-1']) kubeA.update(`default/${name}`, { terminating: true, gracePeriodSeconds: 60 });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
      // One pod no longer Ready: it is left to drain, the others go on serving.
      kubeB.update('default/b-1', { ready: false });
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0');
      fallbackRow.pass();
    });

    it('NACKed nothing', () => {
      expectNoNacks(daemon.xds.clients());
    });

    it('docs/XDS-CLIENTS.md says what it did', () => {
      for (const row of [nodeRow, perspectiveRow, fallbackRow]) expect({ row: row.title, says: row.documented(client.name) }).toEqual({ row: row.title, says: row.seen });
    });
  });
});
