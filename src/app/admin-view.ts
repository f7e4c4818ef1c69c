import type { AdminView } from '../admin/index.js';
import { assessReadiness } from '../admin/index.js';
import type { DrainTracker } from '../drains/index.js';
import type { ClusterSource } from '../sources/types.js';
import type { EndpointStore } from '../store/index.js';
import type { HeraldMetrics } from '../telemetry/index.js';
import type { XdsServer } from '../xds/index.js';
import type { InitialSyncGate } from './sync-gate.js';
import type { DrainReceipts } from './drain-receipts.js';
import type { PolicyRegistry } from '../policy/index.js';

export interface AdminViewDeps {
  sources: ClusterSource[];
  store: EndpointStore;
  xds: XdsServer;
  drains: DrainTracker;
  gate: InitialSyncGate;
  metrics: HeraldMetrics;
  /** False once the xDS server has closed. */
  isServing: () => boolean;
  /** True from the moment shutdown begins, so load balancers stop sending new streams here. */
  isShuttingDown?: () => boolean;
  /** Finished drains, newest first. */
  recentDrains?: () => unknown[];
  /** Per-pod drain status and waiting (/debug/drains?pod=, /debug/drains/wait). */
  receipts?: DrainReceipts;
  policies?: PolicyRegistry;
  /** Services whose healthCheck.portName some pods lack (the pipeline's report), for /debug/policies. */
  healthCheckPorts?: () => ReadonlyMap<string, { portName: string; endpoints: number }>;
}

/** The admin server's read-only window onto the running stages. */
export function buildAdminView(deps: AdminViewDeps): AdminView {
  const clusters = () => deps.sources.map((source) => source.status());
  const policies = deps.policies;
  return {
    metrics: deps.metrics.registry,
    readiness: () =>
      assessReadiness({
        clusters: clusters(),
        initialSyncTimedOut: deps.gate.timedOut,
        xdsServing: deps.isServing() && deps.gate.state !== 'waiting',
        shuttingDown: deps.isShuttingDown?.() ?? false,
      }),
    clusters,
    services: () => {
      const names = deps.store.serviceNames();
      return names.flatMap((name) => deps.store.service(name) ?? []);
    },
    service: (name) => deps.store.service(name),
    clients: () => deps.xds.clients(),
    drains: () => deps.drains.pending(),
    ...(deps.recentDrains ? { recentDrains: deps.recentDrains } : {}),
    ...(deps.receipts
      ? {
          podDrains: (query) => deps.receipts!.podDrains(query),
          drainReceipt: (query, waitMs, signal) => deps.receipts!.wait(query, waitMs, signal),
        }
      : {}),
    ...(policies ? { policies: () => policiesView(policies, deps) } : {}),
  };
}

/**
 * /debug/policies: the registry's view, each service's entry with `healthCheckPortUnresolved`
 * (the port name and how many endpoints lack it) while its healthCheck.portName does not resolve
 * for every endpoint.
 */
function policiesView(policies: PolicyRegistry, deps: AdminViewDeps): unknown {
  const view = policies.debug(deps.store.serviceNames());
  const unresolved = deps.healthCheckPorts?.();
  if (unresolved === undefined || unresolved.size === 0) return view;
  return {
    ...view,
    services: view.services.map((entry) => {
      const missing = unresolved.get(entry.service);
      return missing === undefined ? entry : { ...entry, healthCheckPortUnresolved: { portName: missing.portName, endpoints: missing.endpoints } };
    }),
  };
}
