import { describe, expect, it } from 'vitest';
import { envoySupport, MIN_ENVOY_VERSION, parseVersion } from '../../src/model/index.js';

describe('parseVersion', () => {
  it.each([
    ['1.33.2', [1, 33, 2]],
    ['1.29', [1, 29, 0]],
    ['2', [2, 0, 0]],
    ['v1.28.7', [1, 28, 7]],
    [' 1.30.0 ', [1, 30, 0]],
    ['1.31.0-dev', [1, 31, 0]],
    ['1.68.1+build.5', [1, 68, 1]],
    ['', undefined],
    ['envoy', undefined],
    ['1.x.0', undefined],
    ['1.2.3.4', undefined],
    ['-1.2.3', undefined],
  ] as const)('%j → %j', (text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
  });
});

describe('envoySupport', () => {
  it('names the release that first excluded EDS-DRAINING hosts by default', () => {
    expect(MIN_ENVOY_VERSION).toBe('1.30.0');
  });

  it.each([
    // Envoy below, at and above the minimum, compared by number not by text.
    ['envoy', '1.28.7', 'old'],
    ['envoy', '1.29.0', 'old'],
    ['envoy', '1.9.0', 'old'],
    ['envoy', '0.99.99', 'old'],
    ['envoy', '1.29.12', 'old'],
    ['envoy', '1.30.0', 'ok'],
    ['envoy', '1.30.1', 'ok'],
    ['envoy', '1.100.0', 'ok'],
    ['envoy', '2.0.0', 'ok'],
    ['Envoy', '1.20.0', 'old'],
    // An Envoy that says nothing usable about its version.
    ['envoy', undefined, 'unknown'],
    ['envoy', 'dev', 'unknown'],
    // Not Envoy: gRPC clients never pick DRAINING endpoints, whatever their version.
    ['gRPC Go', '1.20.0', undefined],
    ['grpc-java-netty', '1.70.0', undefined],
    ['C-core', undefined, undefined],
    ['', '1.2.3', undefined],
    ['envoy-like', '1.0.0', undefined],
  ] as const)('%j %j → %j', (userAgent, userAgentVersion, expected) => {
    expect(envoySupport({ userAgent, userAgentVersion })).toBe(expected);
  });

  it('has nothing to say without a Node', () => {
    expect(envoySupport(undefined)).toBeUndefined();
  });
});
