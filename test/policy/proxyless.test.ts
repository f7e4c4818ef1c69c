import { describe, expect, it } from 'vitest';
import type { ServicePolicySpec } from '../../src/model/index.js';
import { ignoredByProxyless } from '../../src/policy/index.js';

const fields = (spec: ServicePolicySpec) => ignoredByProxyless(spec).map((i) => i.field);

describe('ignoredByProxyless: outlier detection', () => {
  it('consecutive-error ejection only: gRPC ejects nothing, so the timing fields are ignored too', () => {
    expect(fields({ outlierDetection: { consecutive5xx: 3, intervalMs: 1000, baseEjectionTimeMs: 1000, maxEjectionPercent: 50 } })).toEqual([
      'spec.outlierDetection.consecutive5xx',
      'spec.outlierDetection.intervalMs',
      'spec.outlierDetection.baseEjectionTimeMs',
      'spec.outlierDetection.maxEjectionPercent',
    ]);
  });

  it.each<[string, ServicePolicySpec['outlierDetection']]>([
    ['success rate', { successRateStdevFactor: 1900 }],
    ['failure percentage', { failurePercentageThreshold: 50 }],
  ])('%s: gRPC ejects (gRFC A50) and uses the timing fields; the consecutive counts stay Envoy-only', (_name, od) => {
    expect(fields({ outlierDetection: { consecutiveGatewayErrors: 2, ...od, intervalMs: 1000, baseEjectionTimeMs: 1000, maxEjectionPercent: 50 } })).toEqual([
      'spec.outlierDetection.consecutiveGatewayErrors',
    ]);
  });
});

describe('ignoredByProxyless: health checks', () => {
  it('lists every healthCheck field: only Envoy runs active health checks', () => {
    expect(fields({ healthCheck: { httpPath: '/healthz', port: 9090, intervalMs: 1000 } })).toEqual(['spec.healthCheck.httpPath', 'spec.healthCheck.port', 'spec.healthCheck.intervalMs']);
  });
});

describe('ignoredByProxyless: circuit breakers', () => {
  it('lists a retry budget: gRPC clients apply max_requests only', () => {
    expect(fields({ circuitBreakers: { maxRequests: 10, retryBudgetPercent: 20, retryBudgetMinConcurrency: 3 } })).toEqual([
      'spec.circuitBreakers.retryBudgetPercent',
      'spec.circuitBreakers.retryBudgetMinConcurrency',
    ]);
  });
});
