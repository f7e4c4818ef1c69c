import type { SimTiming, SimulatedClusterOptions } from '../sources/sim/index.js';

/** Fast enough that a newcomer sees drains within seconds, slow enough to read. */
export const DEMO_TIMING: SimTiming = { readyDelayMs: 1_000, gracePeriodMs: 4_000 };

/** Two redundant per-region clusters running the same services, as a real mesh would. */
export function demoClusters(): Omit<SimulatedClusterOptions, 'timing'>[] {
  // Two teams' namespaces, so the demo shows the names `herald serve` gives: `<label>.<namespace>`.
  const services = [
    { name: 'frontend', namespace: 'shop', replicas: 4 },
    { name: 'checkout', namespace: 'shop', replicas: 3 },
    { name: 'payments', namespace: 'shop', replicas: 3 },
    { name: 'catalog', namespace: 'browse', replicas: 4 },
    { name: 'search', namespace: 'browse', replicas: 2 },
  ];
  return [
    { name: 'east', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'], services, ipBase: '10.1.0.0' },
    { name: 'west', region: 'us-west-2', zones: ['us-west-2a', 'us-west-2b'], services, ipBase: '10.2.0.0' },
  ];
}
