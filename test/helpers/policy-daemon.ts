// A whole daemon over one kube cluster `east` whose pods and ServicePolicies the test drives by hand.
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/app/index.js';
import type { PodRecord } from '../../src/model/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import type { ManualPolicySource } from './manual-policy-source.js';
import { ManualSource } from './manual-source.js';

export function startPolicyDaemon(pods: PodRecord[], policies: ManualPolicySource, options: Partial<DaemonOptions> = {}): Promise<Daemon> {
  return startDaemon(
    {
      sources: [new ManualSource('east', { pods })],
      policies: { sources: [policies], clusters: ['east'], namespace: 'herald' },
      initialSyncTimeoutMs: 5_000,
      batchWindowMs: 1,
      xds: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      ...options,
    },
    { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
  );
}
