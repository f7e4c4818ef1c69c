import { describe, expect, it } from 'vitest';
import { validatePolicySpec } from '../../src/policy/index.js';

describe('validatePolicySpec', () => {
  it.each([
    { name: 'no spec', spec: undefined, want: {} },
    { name: 'empty spec', spec: {}, want: {} },
    {
      name: 'every section',
      spec: {
        connection: { connectTimeoutMs: 250, idleTimeoutMs: 60_000, maxRequestsPerConnection: 100 },
        loadBalancing: { policy: 'LeastRequest', panicThresholdPercent: 0, slowStartWindowMs: 30_000 },
        circuitBreakers: { maxConnections: 10, maxPendingRequests: 20, maxRequests: 30, maxRetries: 0, perHostMaxConnections: 5 },
        outlierDetection: { consecutive5xx: 5, consecutiveGatewayErrors: 3, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100 },
      },
    },
    { name: 'slow start without a policy (round robin)', spec: { loadBalancing: { slowStartWindowMs: 1 } } },
    { name: 'RingHash on a header', spec: { loadBalancing: { policy: 'RingHash', hashHeader: 'x-session-id', panicThresholdPercent: 0 } } },
    { name: 'a TCP health check', spec: { healthCheck: { tcp: true, port: 8081 } } },
    { name: 'a health check on a named port', spec: { healthCheck: { httpPath: '/ready', portName: 'health' } } },
    { name: 'a port name of 15 characters with digits and inner hyphens', spec: { healthCheck: { tcp: true, portName: '8-admin-http2-x' } } },
    { name: 'an HTTP health check beside tcp: false', spec: { healthCheck: { httpPath: '/healthz', tcp: false, intervalMs: 5000 } } },
    { name: 'a gRPC health check of the whole server', spec: { healthCheck: { grpcServiceName: '' } } },
    { name: 'success-rate ejection alone', spec: { outlierDetection: { successRateStdevFactor: 1900, intervalMs: 1000 } } },
    { name: 'failure-percentage ejection alone', spec: { outlierDetection: { failurePercentageThreshold: 0 } } },
    { name: 'upper bounds', spec: { connection: { connectTimeoutMs: 300_000, maxRequestsPerConnection: 2_147_483_647 } } },
    {
      name: 'every routes field',
      spec: {
        routes: {
          timeoutMs: 1500,
          retries: { attempts: 3, retryOn: ['5xx', 'unavailable'], perTryTimeoutMs: 500, backoff: { baseIntervalMs: 25, maxIntervalMs: 25 } },
          split: [
            { service: 'cart', weight: 90 },
            { service: 'cart-canary.v2', weight: 10 },
            { service: 'parked', weight: 0 },
          ],
        },
      },
    },
    { name: 'retries with conditions only, back-off without a maximum', spec: { routes: { retries: { retryOn: ['reset'], backoff: { baseIntervalMs: 5 } } } } },
  ])('accepts $name', ({ spec, want }) => {
    expect(validatePolicySpec(spec)).toEqual({ ok: true, spec: want ?? spec });
  });

  it.each([
    { name: 'a spec that is not an object', spec: 'fast', errors: [['spec', 'must be an object']] },
    { name: 'an unknown section', spec: { retries: {} }, errors: [['spec.retries', 'unknown section']] },
    { name: 'a section that is not an object', spec: { connection: 5 }, errors: [['spec.connection', 'must be an object']] },
    { name: 'an unknown field', spec: { connection: { timeout: 5 } }, errors: [['spec.connection.timeout', 'unknown field']] },
    { name: 'zero connect timeout', spec: { connection: { connectTimeoutMs: 0 } }, errors: [['spec.connection.connectTimeoutMs', 'must be ≥ 1']] },
    { name: 'a fraction', spec: { connection: { idleTimeoutMs: 1.5 } }, errors: [['spec.connection.idleTimeoutMs', 'must be an integer']] },
    { name: 'a string number', spec: { circuitBreakers: { maxRequests: '10' } }, errors: [['spec.circuitBreakers.maxRequests', 'must be an integer']] },
    { name: 'a percent over 100', spec: { loadBalancing: { panicThresholdPercent: 101 } }, errors: [['spec.loadBalancing.panicThresholdPercent', 'must be ≤ 100']] },
    {
      name: 'a port and a port name (CEL rule)',
      spec: { healthCheck: { tcp: true, port: 8081, portName: 'health' } },
      errors: [['spec.healthCheck.portName', 'port and portName exclude each other']],
    },
    ...['Health', 'health_z', 'a--b', '-health', 'health-', '8081', '', 'health-checks-16'].map((portName) => ({
      name: `port name ${JSON.stringify(portName)}, which Kubernetes would not allow`,
      spec: { healthCheck: { tcp: true, portName } },
      errors: [['spec.healthCheck.portName', portName.length > 15 ? 'must be at most 15 characters' : 'must match ^([0-9]+-)*[0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$']],
    })),
    { name: 'an unknown balancer', spec: { loadBalancing: { policy: 'Maglev' } }, errors: [['spec.loadBalancing.policy', 'must be one of RoundRobin, LeastRequest, Random, RingHash']] },
    {
      name: 'RingHash without a header (CEL rule)',
      spec: { loadBalancing: { policy: 'RingHash' } },
      errors: [['spec.loadBalancing.hashHeader', 'policy RingHash needs hashHeader, and hashHeader needs policy RingHash']],
    },
    {
      name: 'a hash header without RingHash (CEL rule)',
      spec: { loadBalancing: { policy: 'LeastRequest', hashHeader: 'x-user' } },
      errors: [['spec.loadBalancing.hashHeader', 'policy RingHash needs hashHeader, and hashHeader needs policy RingHash']],
    },
    {
      name: 'a binary hash header (CEL rule)',
      spec: { loadBalancing: { policy: 'RingHash', hashHeader: 'x-trace-bin' } },
      errors: [['spec.loadBalancing.hashHeader', 'hashHeader must not be a binary (-bin) header: gRPC clients do not hash on those']],
    },
    {
      name: 'a hash header with capitals',
      spec: { loadBalancing: { policy: 'RingHash', hashHeader: 'X-User' } },
      errors: [['spec.loadBalancing.hashHeader', 'must match ^[a-z0-9][a-z0-9_.-]*$']],
    },
    { name: 'a pseudo-header', spec: { loadBalancing: { policy: 'RingHash', hashHeader: ':path' } }, errors: [['spec.loadBalancing.hashHeader', 'must match ^[a-z0-9][a-z0-9_.-]*$']] },
    { name: 'a hash header that is not a string', spec: { loadBalancing: { policy: 'RingHash', hashHeader: 5 } }, errors: [['spec.loadBalancing.hashHeader', 'must be a string']] },
    {
      name: 'slow start with Random (CEL rule)',
      spec: { loadBalancing: { policy: 'Random', slowStartWindowMs: 1000 } },
      errors: [['spec.loadBalancing.slowStartWindowMs', 'slowStartWindowMs needs policy RoundRobin or LeastRequest']],
    },
    {
      name: 'maxRetries beside a retry budget (CEL rule)',
      spec: { circuitBreakers: { maxRetries: 3, retryBudgetMinConcurrency: 1 } },
      errors: [
        ['spec.circuitBreakers.maxRetries', 'maxRetries and a retry budget (retryBudgetPercent, retryBudgetMinConcurrency) exclude each other: Envoy ignores maxRetries under a budget'],
      ],
    },
    { name: 'a retry budget over 100 percent', spec: { circuitBreakers: { retryBudgetPercent: 101 } }, errors: [['spec.circuitBreakers.retryBudgetPercent', 'must be ≤ 100']] },
    {
      name: 'outlier detection without a trigger (CEL rule)',
      spec: { outlierDetection: { intervalMs: 1000 } },
      errors: [['spec.outlierDetection.consecutive5xx', 'outlierDetection needs consecutive5xx, consecutiveGatewayErrors, a successRate* or a failurePercentage* field']],
    },
    {
      name: 'a failure-percentage threshold over 100 (gRPC clients NACK it)',
      spec: { outlierDetection: { failurePercentageThreshold: 101 } },
      errors: [['spec.outlierDetection.failurePercentageThreshold', 'must be ≤ 100']],
    },
    {
      name: 'a health check with two checkers (CEL rule)',
      spec: { healthCheck: { httpPath: '/healthz', grpcServiceName: 'x' } },
      errors: [['spec.healthCheck.httpPath', 'healthCheck needs exactly one of httpPath, grpcServiceName, tcp: true']],
    },
    {
      name: 'a health check without a checker (CEL rule)',
      spec: { healthCheck: { tcp: false, intervalMs: 1000 } },
      errors: [['spec.healthCheck.httpPath', 'healthCheck needs exactly one of httpPath, grpcServiceName, tcp: true']],
    },
    { name: 'a relative health check path', spec: { healthCheck: { httpPath: 'healthz' } }, errors: [['spec.healthCheck.httpPath', 'must match ^/[!-~]*$']] },
    { name: 'tcp as a string', spec: { healthCheck: { tcp: 'true' } }, errors: [['spec.healthCheck.tcp', 'must be true or false']] },
    { name: 'port 0', spec: { healthCheck: { tcp: true, port: 0 } }, errors: [['spec.healthCheck.port', 'must be ≥ 1']] },
    {
      name: 'errors in two sections, the valid one is not kept either',
      spec: { connection: { connectTimeoutMs: 100 }, circuitBreakers: { maxConnections: 0 }, outlierDetection: { consecutive5xx: -1 } },
      errors: [
        ['spec.circuitBreakers.maxConnections', 'must be ≥ 1'],
        ['spec.outlierDetection.consecutive5xx', 'must be ≥ 1'],
      ],
    },
    {
      name: 'a split naming a service twice and a retry condition twice',
      spec: {
        routes: {
          retries: { retryOn: ['reset', 'reset'] },
          split: [
            { service: 'a', weight: 1 },
            { service: 'a', weight: 1 },
          ],
        },
      },
      errors: [['spec.routes.retries.retryOn', 'must not list a value twice']],
    },
    {
      name: 'a split naming a service twice (CEL rule on the list)',
      spec: {
        routes: {
          split: [
            { service: 'a', weight: 1 },
            { service: 'a', weight: 1 },
          ],
        },
      },
      errors: [['spec.routes.split', 'split names each service once']],
    },
    { name: 'a split of zero weights (CEL rule)', spec: { routes: { split: [{ service: 'a', weight: 0 }] } }, errors: [['spec.routes.split', 'split needs a service with weight > 0']] },
    {
      name: 'a back-off that shrinks (CEL rule on a nested object)',
      spec: { routes: { retries: { retryOn: ['reset'], backoff: { baseIntervalMs: 100, maxIntervalMs: 50 } } } },
      errors: [['spec.routes.retries.backoff.maxIntervalMs', 'maxIntervalMs must be ≥ baseIntervalMs']],
    },
    {
      name: 'nested errors, each at its own path',
      spec: { routes: { timeoutMs: 0, retries: { attempts: 0, retryOn: 'reset' }, split: [{ service: 'ok', weight: -1 }, 'x'] } },
      errors: [
        ['spec.routes.timeoutMs', 'must be ≥ 1'],
        ['spec.routes.retries.attempts', 'must be ≥ 1'],
        ['spec.routes.retries.retryOn', 'must be a list'],
        ['spec.routes.split[0].weight', 'must be ≥ 0'],
        ['spec.routes.split[1]', 'must be an object'],
      ],
    },
  ])('rejects $name, naming the field', ({ spec, errors }) => {
    expect(validatePolicySpec(spec)).toEqual({ ok: false, errors: errors.map(([path, message]) => ({ path, message })) });
  });
});
