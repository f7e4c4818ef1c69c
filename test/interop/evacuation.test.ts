// Cluster evacuation with real proxyless clients: one Herald (--local-cluster kube-a), a client
// in kube-a and one in kube-b. Listing kube-a in the mesh defaults' locality.evacuate moves
// kube-a's client to kube-b's backends (its own cluster is now its last priority), Drain mode
// keeps it there, a Drain that would leave the service with nothing keeps kube-a serving, and
// removing the entry brings it home.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/index.js';
import type { LocalityPolicy } from '../../src/model/index.js';
import { DEFAULTS_POLICY_NAME } from '../../src/policy/index.js';
import type { ManualPolicySource } from '../helpers/manual-policy-source.js';
import type { ManualSource } from '../helpers/manual-source.js';
import { LocalityRow } from './doc-table.js';
import { settledLanding } from './landing.js';
import { expectNoNacks } from './nacks.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { startTwoClusterMesh, type TwoClusterMesh } from './two-cluster-mesh.js';
import type { XdsProbe } from './xds-probe.js';

PROXYLESS_CLIENTS.forEach((client, index) => {
  const ip = (host: number) => `127.0.${88 + index}.${host}`;

  probeSuite(`${client.name}: cluster evacuation`, client, (launch) => {
    let mesh: TwoClusterMesh | undefined;
    let kubeB: ManualSource;
    let policies: ManualPolicySource;
    let probes: Map<string, XdsProbe>;
    let daemon: Daemon;
    let generation = 0;
    const row = new LocalityRow("`locality.evacuate`: the evacuated cluster's client moves to the other cluster, stays under `Drain`, comes home when the entry goes", 3);
    const setDefaults = (locality: LocalityPolicy | undefined) =>
      policies.sync([{ cluster: 'kube-a', namespace: 'herald', name: DEFAULTS_POLICY_NAME, generation: ++generation, spec: locality === undefined ? {} : { locality } }]);

    beforeAll(async () => {
      mesh = await startTwoClusterMesh(launch, `${client.name}-evac`, ip);
      ({ kubeB, policies, daemon, probes } = mesh);
    });

    afterAll(async () => {
      await mesh?.stop();
    });

    it('before: each client calls its own cluster', async () => {
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
    });

    it('kube-a evacuated (LastPriority): the kube-a client moves to kube-b, the kube-b client stays', async () => {
      setDefaults({ evacuate: ['kube-a'] });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('b-0+b-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
      row.pass();
    });

    it('evacuateMode Drain: still kube-b; with no Ready pod left in kube-b, kube-a keeps serving rather than nothing', async () => {
      setDefaults({ evacuate: ['kube-a'], evacuateMode: 'Drain' });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('b-0+b-1');
      for (const name of ['b-0', 'b-1']) kubeB.update(`default/${name}`, { ready: false });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('a-0+a-1');
      for (const name of ['b-0', 'b-1']) kubeB.update(`default/${name}`, { ready: true });
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('b-0+b-1');
      row.pass();
    });

    it('the entry removed: the kube-a client comes home', async () => {
      setDefaults(undefined);
      expect(await settledLanding(probes.get('kube-a')!, 20)).toBe('a-0+a-1');
      expect(await settledLanding(probes.get('kube-b')!, 20)).toBe('b-0+b-1');
      row.pass();
    });

    it('NACKed nothing', () => {
      expectNoNacks(daemon.xds.clients());
    });

    it('docs/XDS-CLIENTS.md says what it did', () => {
      expect(row.documented(client.name)).toBe(row.seen);
    });
  });
});
