// ServicePolicy specs that exercise every field Herald maps, for the builder, encoder and
// envoy-validate tests.
import type { ServicePolicySpec } from '../../src/model/index.js';

export const POLICY_SAMPLES: Array<[string, ServicePolicySpec]> = [
  ['connect timeout only', { connection: { connectTimeoutMs: 250 } }],
  ['idle timeout and requests per connection', { connection: { idleTimeoutMs: 90_000, maxRequestsPerConnection: 1000 } }],
  ['least request with slow start and panic threshold', { loadBalancing: { policy: 'LeastRequest', slowStartWindowMs: 30_000, panicThresholdPercent: 0 } }],
  ['round robin with slow start', { loadBalancing: { policy: 'RoundRobin', slowStartWindowMs: 1 } }],
  ['random', { loadBalancing: { policy: 'Random', panicThresholdPercent: 100 } }],
  ['ring hash on a header', { loadBalancing: { policy: 'RingHash', hashHeader: 'x-session-id', panicThresholdPercent: 10 } }],
  ['circuit breakers, every threshold', { circuitBreakers: { maxConnections: 1, maxPendingRequests: 2, maxRequests: 3, maxRetries: 0, perHostMaxConnections: 2_147_483_647 } }],
  ['per-host connections only', { circuitBreakers: { perHostMaxConnections: 5 } }],
  ['retry budget at its upper bounds', { circuitBreakers: { maxRequests: 9, retryBudgetPercent: 100, retryBudgetMinConcurrency: 2_147_483_647 } }],
  ['retry budget at its lower bounds', { circuitBreakers: { retryBudgetPercent: 0, retryBudgetMinConcurrency: 0 } }],
  ['retry budget percent only', { circuitBreakers: { retryBudgetPercent: 20 } }],
  ['outlier detection on gateway errors', { outlierDetection: { consecutiveGatewayErrors: 3, intervalMs: 1500, baseEjectionTimeMs: 86_400_000, maxEjectionPercent: 0 } }],
  ['outlier detection on 5xx', { outlierDetection: { consecutive5xx: 7 } }],
  ['outlier detection on success rate', { outlierDetection: { successRateMinimumHosts: 3, successRateRequestVolume: 20, successRateStdevFactor: 1900, intervalMs: 1000 } }],
  ['outlier detection on failure percentage', { outlierDetection: { failurePercentageThreshold: 100, failurePercentageMinimumHosts: 1, failurePercentageRequestVolume: 2_147_483_647 } }],
  [
    'HTTP health check on another port, every field',
    { healthCheck: { httpPath: '/healthz', port: 9090, intervalMs: 5000, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2_147_483_647 } },
  ],
  ['gRPC health check of the whole server', { healthCheck: { grpcServiceName: '' } }],
  ['gRPC health check of one service', { healthCheck: { grpcServiceName: 'cart.v1.Cart', intervalMs: 86_400_000, timeoutMs: 300_000 } }],
  ['TCP health check', { healthCheck: { tcp: true, intervalMs: 1, timeoutMs: 1 } }],
  [
    'everything',
    {
      connection: { connectTimeoutMs: 300_000, idleTimeoutMs: 1, maxRequestsPerConnection: 2_147_483_647 },
      loadBalancing: { policy: 'LeastRequest', panicThresholdPercent: 50, slowStartWindowMs: 3_600_000 },
      circuitBreakers: { maxConnections: 100, maxPendingRequests: 100, maxRequests: 100, maxRetries: 3, perHostMaxConnections: 10 },
      outlierDetection: {
        consecutive5xx: 5,
        consecutiveGatewayErrors: 5,
        intervalMs: 10_000,
        baseEjectionTimeMs: 30_000,
        maxEjectionPercent: 10,
        successRateMinimumHosts: 5,
        successRateRequestVolume: 100,
        successRateStdevFactor: 100_000,
        failurePercentageThreshold: 0,
        failurePercentageMinimumHosts: 5,
        failurePercentageRequestVolume: 50,
      },
      healthCheck: { httpPath: '/ready', port: 65535, intervalMs: 10_000, timeoutMs: 1_000, healthyThreshold: 2, unhealthyThreshold: 3 },
    },
  ],
];

/** Routes sections, each with the split backends that have a HEALTHY endpoint, for route tests. */
export const ROUTE_SAMPLES: Array<[string, ServicePolicySpec, string[]]> = [
  ['timeout only', { routes: { timeoutMs: 1500 } }, []],
  ['sub-second and day-long bounds', { routes: { timeoutMs: 1, retries: { retryOn: ['unavailable'], perTryTimeoutMs: 86_400_000 } } }, []],
  [
    'retries, every field',
    {
      routes: {
        retries: {
          attempts: 10,
          retryOn: ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'],
          perTryTimeoutMs: 250,
          backoff: { baseIntervalMs: 5, maxIntervalMs: 3_600_000 },
        },
      },
    },
    [],
  ],
  ['retries, back-off without a maximum', { routes: { retries: { attempts: 1, retryOn: ['reset'], backoff: { baseIntervalMs: 25 } } } }, []],
  [
    'a canary split, both healthy',
    {
      routes: {
        split: [
          { service: 'cart', weight: 80 },
          { service: 'cart-canary', weight: 20 },
        ],
      },
    },
    ['cart.shop', 'cart-canary.shop'],
  ],
  [
    'a split whose canary has no HEALTHY endpoint',
    {
      routes: {
        timeoutMs: 2000,
        split: [
          { service: 'cart', weight: 80 },
          { service: 'cart-canary', weight: 20 },
        ],
      },
    },
    ['cart.shop'],
  ],
  [
    'a split with no backend healthy keeps its weights',
    {
      routes: {
        split: [
          { service: 'cart', weight: 10_000 },
          { service: 'parked', weight: 0 },
          { service: 'cart-canary', weight: 1 },
        ],
      },
    },
    [],
  ],
  [
    'everything',
    {
      routes: {
        timeoutMs: 86_400_000,
        retries: { attempts: 4, retryOn: ['unavailable', '5xx'], perTryTimeoutMs: 100, backoff: { baseIntervalMs: 10, maxIntervalMs: 10 } },
        split: Array.from({ length: 10 }, (_, i) => ({ service: `v${i}`, weight: 10_000 })),
      },
    },
    ['v0.shop', 'v3.shop', 'v9.shop'],
  ],
];
