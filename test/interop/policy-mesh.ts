// The setup the ServicePolicy interop tests share: an in-process Herald over manual kube
// sources with one manual ServicePolicy source, a proxyless probe dialling it, and a wait until
// the probe has taken everything Herald has for it.
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import type { ManualPolicySource } from '../helpers/manual-policy-source.js';
import type { ManualSource } from '../helpers/manual-source.js';
import { XdsProbe, type ProbeLaunch } from './xds-probe.js';

/** Herald over `sources`, reading ServicePolicies from `policies` alone (its cluster decides). */
export async function startPolicyDaemon(sources: ManualSource[], policies: ManualPolicySource): Promise<Daemon> {
  const daemon = await startDaemon(
    {
      sources,
      policies: { sources: [policies], clusters: [policies.name], namespace: 'herald' },
      initialSyncTimeoutMs: 5_000,
      xds: { host: '127.0.0.1', port: 0 },
      admin: undefined,
    },
    { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
  );
  await daemon.ready;
  return daemon;
}

/** A probe calling `target` through `daemon`, as node `nodeId` in region r1, zone z1. */
export function startPolicyProbe(daemon: Daemon, launch: ProbeLaunch, label: string, target: string, nodeId: string): Promise<XdsProbe> {
  return XdsProbe.start({
    launch,
    label,
    target,
    bootstrap: {
      xds_servers: [{ server_uri: `127.0.0.1:${daemon.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, locality: { region: 'r1', zone: 'z1' } },
    },
  });
}

/** Waits until `nodeId`'s streams have ACKed everything Herald has for them: what the client does next follows the served config. */
export async function clientSettled(daemon: Daemon, nodeId: string, describe: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let calm = 0;
  // Three quiet looks in a row: a change may still be on its way after the first.
  while (calm < 3) {
    if (Date.now() > deadline) throw new Error(`${nodeId} did not settle within ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const streams = daemon.xds.clients().filter((c) => c.node?.id === nodeId);
    const busy = streams.length === 0 || streams.some((s) => Object.values(s.types).some((t) => t.pending || t.dirty || t.sync === 'behind'));
    calm = busy ? 0 : calm + 1;
  }
}
