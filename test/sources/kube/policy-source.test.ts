// KubePolicySource's own behaviour: what it makes of a ServicePolicy object, and a cluster
// without the CRD (the fake API server answers 404 for every path it does not serve, as an
// apiserver does for a resource type nobody installed). Listing and watching real objects is
// covered by test/e2e/policy.test.ts against kube-apiservers.
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyObject } from '../../../src/model/index.js';
import { KubePolicySource, toPolicyObject } from '../../../src/sources/kube/index.js';
import type { PolicySink } from '../../../src/sources/types.js';
import { silentLogger } from '../../../src/telemetry/index.js';
import { FakeApiServer } from './fake-apiserver.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recordingSink() {
  const calls: Array<[string, ...unknown[]]> = [];
  const sink: PolicySink = {
    applyPolicy: (p: PolicyObject) => void calls.push(['apply', p]),
    removePolicy: (...args) => void calls.push(['remove', ...args]),
    replacePolicies: (...args) => void calls.push(['replace', ...args]),
    policiesUnavailable: (...args) => void calls.push(['unavailable', ...args]),
    policiesUnreachable: (...args) => void calls.push(['unreachable', ...args]),
  };
  return { sink, calls };
}

describe('KubePolicySource', () => {
  it.each([
    [
      'a full object',
      { metadata: { namespace: 'shop', name: 'cart', generation: 3 }, spec: { circuitBreakers: { maxRequests: 5 } } },
      { cluster: 'east', namespace: 'shop', name: 'cart', generation: 3, spec: { circuitBreakers: { maxRequests: 5 } } },
    ],
    ['no spec, no generation', { metadata: { namespace: 'shop', name: 'cart' } }, { cluster: 'east', namespace: 'shop', name: 'cart', generation: 0, spec: undefined }],
  ])('turns %s into a PolicyObject of its cluster', (_name, obj, want) => {
    expect(toPolicyObject('east', obj)).toEqual(want);
  });

  it('a cluster without the CRD contributes nothing and says why', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    const source = new KubePolicySource({ name: 'east', kubeConfig: api.kubeConfig(), logger: silentLogger(), backoff: { initialMs: 10, maxMs: 20 }, random: () => 0 });
    const { sink, calls } = recordingSink();
    source.start(sink);
    cleanups.push(() => source.stop());
    for (let i = 0; i < 200 && calls.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    // Asked again after the backoff (the CRD may be installed later), with the same answer each time.
    expect(calls.slice(0, 2)).toEqual([
      ['unavailable', 'east', 'no ServicePolicy CRD (servicepolicies.herald.io/v1alpha1) installed'],
      ['unavailable', 'east', 'no ServicePolicy CRD (servicepolicies.herald.io/v1alpha1) installed'],
    ]);
  });
});
