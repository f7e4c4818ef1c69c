import type { PolicyObject } from '../model/index.js';
import type { SimTiming, SimulatedClusterOptions } from '../sources/sim/index.js';

/** Fast enough that a newcomer sees drains within seconds, slow enough to read. */
export const DEMO_TIMING: SimTiming = { readyDelayMs: 1_000, gracePeriodMs: 4_000 };

/** Two redundant per-region clusters running the same services, as a real mesh would. */
export function demoClusters(): Omit<SimulatedClusterOptions, 'timing'>[] {
  // Two teams' namespaces, so the demo shows the names `herald serve` gives: `<label>.<namespace>`.
  const services = [
    { name: 'frontend', namespace: 'shop', replicas: 4 },
    { name: 'checkout', namespace: 'shop', replicas: 3 },
    // A canary of checkout: the checkout ServicePolicy splits checkout's calls between the two.
    { name: 'checkout-canary', namespace: 'shop', replicas: 1 },
    { name: 'payments', namespace: 'shop', replicas: 3 },
    // Its pods serve health checks on a port of their own, which its ServicePolicy names.
    { name: 'catalog', namespace: 'browse', replicas: 4, namedPorts: { http: 8080, health: 8081 } },
    { name: 'search', namespace: 'browse', replicas: 2 },
  ];
  return [
    { name: 'east', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'], services, ipBase: '10.1.0.0' },
    { name: 'west', region: 'us-west-2', zones: ['us-west-2a', 'us-west-2b'], services, ipBase: '10.2.0.0' },
  ];
}

/** The mesh-defaults object's namespace in the demo (`herald serve`'s default --policy-namespace). */
export const DEMO_POLICY_NAMESPACE = 'herald';

/**
 * ServicePolicies the demo's clusters hold, so /debug/policies and the /ui show policies at work:
 * mesh-wide outlier detection from the defaults object, one service with its own balancer and
 * circuit breakers, one that only tightens its connect timeout, one health-checked on its pods'
 * named `health` port, and a canary split of checkout's
 * calls (90/10 to checkout-canary, whose weight drops to 0 while its one pod is replaced). Each
 * entry is one object; every
 * simulated cluster holds the same copy, so they agree and no conflict is reported.
 */
export const DEMO_POLICIES: ReadonlyArray<{ namespace: string; name: string; spec: Record<string, unknown> }> = [
  {
    namespace: DEMO_POLICY_NAMESPACE,
    name: 'mesh-defaults',
    spec: { outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 } },
  },
  {
    namespace: 'shop',
    name: 'payments',
    spec: {
      loadBalancing: { policy: 'LeastRequest', panicThresholdPercent: 30 },
      circuitBreakers: { maxConnections: 512, maxPendingRequests: 128, maxRequests: 1024, maxRetries: 3 },
    },
  },
  { namespace: 'browse', name: 'search', spec: { connection: { connectTimeoutMs: 250 } } },
  { namespace: 'browse', name: 'catalog', spec: { healthCheck: { httpPath: '/healthz', portName: 'health', intervalMs: 5_000 } } },
  {
    namespace: 'shop',
    name: 'checkout',
    spec: {
      routes: {
        split: [
          { service: 'checkout', weight: 90 },
          { service: 'checkout-canary', weight: 10 },
        ],
      },
    },
  },
];

/** DEMO_POLICIES as the simulated cluster `cluster` serves them (generation 1 each). */
export function demoPolicies(cluster: string): PolicyObject[] {
  return DEMO_POLICIES.map((p) => ({ cluster, namespace: p.namespace, name: p.name, generation: 1, spec: structuredClone(p.spec) }));
}
