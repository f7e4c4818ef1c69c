import { beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import type { RoutesPolicy } from '../../src/model/index.js';
import {
  buildEgressRouteConfiguration,
  buildRouteConfiguration,
  liveWeights,
  loadEnvoyProtos,
  ResourceEncoder,
  routeAction,
  routeBackends,
  splitBackendName,
} from '../../src/resources/index.js';
import { ROUTE_SAMPLES } from './policy-samples.js';
import { validateMessage } from './pgv.js';

let root: protobuf.Root;
let encoder: ResourceEncoder;
beforeAll(() => {
  root = loadEnvoyProtos();
  encoder = new ResourceEncoder(root);
});

const canary = (weights: [number, number]): RoutesPolicy => ({
  split: [
    { service: 'cart', weight: weights[0] },
    { service: 'cart-canary', weight: weights[1] },
  ],
});

describe('route bytes without a routes section', () => {
  // Encoded by the builders before ServicePolicy routes existed (commit 29a1386): a service
  // without a routes section keeps exactly these bytes, so upgrading Herald re-sends no RDS.
  it('the proxyless RouteConfiguration', () => {
    const hex =
      '0a3c747970652e676f6f676c65617069732e636f6d2f656e766f792e636f6e6669672e726f7574652e76332e526f757465436f6e66696775726174696f6e123a0a0d7061796d656e74732e73686f7012290a0d7061796d656e74732e73686f7012012a1a150a020a00120f0a0d7061796d656e74732e73686f70';
    expect(encoder.encodeAny('route', buildRouteConfiguration('payments.shop')).toString('hex')).toBe(hex);
    expect(encoder.encodeAny('route', buildRouteConfiguration('payments.shop', { connection: { connectTimeoutMs: 5 } }, new Set(['x']))).toString('hex')).toBe(hex);
  });

  it('a sidecar egress RouteConfiguration', () => {
    const hex =
      '0a3c747970652e676f6f676c65617069732e636f6d2f656e766f792e636f6e6669672e726f7574652e76332e526f757465436f6e66696775726174696f6e12d9010a1e686572616c647e6567726573737e303132333435363738396162636465661292010a09636172742e73686f701209636172742e73686f70120b636172742e73686f703a2a120d636172742e73686f702e737663120f636172742e73686f702e7376633a2a121b636172742e73686f702e7376632e636c75737465722e6c6f63616c121d636172742e73686f702e7376632e636c75737465722e6c6f63616c3a2a1a110a020a00120b0a09636172742e73686f7012220a04666c61741204666c61741206666c61743a2a1a0c0a020a0012060a04666c6174';
    const route = buildEgressRouteConfiguration('herald~egress~0123456789abcdef', ['cart.shop', 'flat']);
    expect(encoder.encodeAny('route', route).toString('hex')).toBe(hex);
    const same = buildEgressRouteConfiguration('herald~egress~0123456789abcdef', ['cart.shop', 'flat'], undefined, (service) => routeAction(service, undefined));
    expect(encoder.encodeAny('route', same).toString('hex')).toBe(hex);
  });
});

describe('split backends', () => {
  it.each([
    ['cart.shop', 'cart-canary', 'cart-canary.shop'],
    ['cart.shop', 'cart', 'cart.shop'],
    ['cart.v2.shop', 'cart.v3', 'cart.v3.shop'],
    ['flat', 'other', 'other'],
  ])('%s: split entry %s is service %s (the same namespace)', (service, label, want) => {
    expect(splitBackendName(service, label)).toBe(want);
  });

  it('routeBackends lists every backend a split names, healthy or not, weight 0 included', () => {
    expect(routeBackends('cart.shop', { routes: { split: [...canary([1, 0]).split!, { service: 'x', weight: 5 }] } })).toEqual(['cart.shop', 'cart-canary.shop', 'x.shop']);
    expect(routeBackends('cart.shop', { routes: { timeoutMs: 5 } })).toEqual([]);
    expect(routeBackends('cart.shop', {})).toEqual([]);
  });

  it.each<[string, RoutesPolicy, string[], [string, number][]]>([
    [
      'both healthy',
      canary([80, 20]),
      ['cart.shop', 'cart-canary.shop'],
      [
        ['cart.shop', 80],
        ['cart-canary.shop', 20],
      ],
    ],
    ['the canary without a HEALTHY endpoint drops to 0 (left out)', canary([80, 20]), ['cart.shop'], [['cart.shop', 80]]],
    ['the stable one without, the canary takes it all', canary([80, 20]), ['cart-canary.shop'], [['cart-canary.shop', 20]]],
    [
      'nothing healthy: the configured weights stand',
      canary([80, 20]),
      [],
      [
        ['cart.shop', 80],
        ['cart-canary.shop', 20],
      ],
    ],
    ['a weight configured at 0 is never served', canary([80, 0]), ['cart.shop', 'cart-canary.shop'], [['cart.shop', 80]]],
    ['configured 0 and nothing healthy: still never served', canary([0, 5]), [], [['cart-canary.shop', 5]]],
    [
      'health of a service the split does not name changes nothing',
      canary([1, 1]),
      ['cart.shop', 'cart-canary.shop', 'other.shop'],
      [
        ['cart.shop', 1],
        ['cart-canary.shop', 1],
      ],
    ],
  ])('%s', (_name, routes, healthy, want) => {
    expect(liveWeights('cart.shop', routes, new Set(healthy)).map((w) => [w.service, w.weight])).toEqual(want);
  });
});

describe('routeAction', () => {
  it('without a routes section: the service cluster alone', () => {
    expect(routeAction('cart.shop', undefined)).toEqual({ cluster: 'cart.shop' });
    expect(routeAction('cart.shop', {})).toEqual({ cluster: 'cart.shop' });
  });

  it('a timeout sets RouteAction.timeout (Envoy) and max_stream_duration (gRPC clients) alike', () => {
    const ms1500 = { seconds: 1, nanos: 500_000_000 };
    expect(routeAction('cart.shop', { timeoutMs: 1500 })).toEqual({ cluster: 'cart.shop', timeout: ms1500, max_stream_duration: { max_stream_duration: ms1500 } });
  });

  it('retries map field by field; unset ones stay unset for the clients to default', () => {
    expect(routeAction('cart.shop', { retries: { retryOn: ['5xx', 'unavailable'] } }).retry_policy).toEqual({ retry_on: '5xx,unavailable' });
    expect(routeAction('cart.shop', { retries: { attempts: 3, retryOn: ['reset'], perTryTimeoutMs: 250, backoff: { baseIntervalMs: 25, maxIntervalMs: 1000 } } }).retry_policy).toEqual({
      retry_on: 'reset',
      num_retries: { value: 3 },
      per_try_timeout: { seconds: 0, nanos: 250_000_000 },
      retry_back_off: { base_interval: { seconds: 0, nanos: 25_000_000 }, max_interval: { seconds: 1, nanos: 0 } },
    });
  });

  it('a split becomes weighted clusters of the live weights, with the timeout and retries beside them', () => {
    expect(routeAction('cart.shop', { ...canary([80, 20]), retries: { retryOn: ['unavailable'] } }, new Set(['cart.shop', 'cart-canary.shop']))).toEqual({
      weighted_clusters: {
        clusters: [
          { name: 'cart.shop', weight: { value: 80 } },
          { name: 'cart-canary.shop', weight: { value: 20 } },
        ],
      },
      retry_policy: { retry_on: 'unavailable' },
    });
  });

  it.each(ROUTE_SAMPLES)('%s: encodes, decodes back and passes the protoc-gen-validate rules, with a positive total weight', (_name, policy, healthy) => {
    const built = buildRouteConfiguration('cart.shop', policy, new Set(healthy));
    const any = encoder.encodeAny('route', built);
    const type = root.lookupType('envoy.config.route.v3.RouteConfiguration');
    const anyType = root.lookupType('google.protobuf.Any');
    const inner = type.decode((anyType.decode(any) as unknown as { value: Uint8Array }).value);
    expect(validateMessage(type, inner as unknown as Record<string, unknown>, type.name)).toEqual([]);
    const action = (encoder.decodeAny(any).message as { virtual_hosts: { routes: { route: { cluster?: string; weighted_clusters?: { clusters: { weight: { value: number } }[] } } }[] }[] })
      .virtual_hosts[0]!.routes[0]!.route;
    if (policy.routes?.split !== undefined) {
      const total = action.weighted_clusters!.clusters.reduce((sum, c) => sum + c.weight.value, 0);
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(0xffffffff);
    } else expect(action.cluster).toBe('cart.shop');
  });
});
