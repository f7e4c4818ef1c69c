import { describe, expect, it } from 'vitest';
import { TYPE_URLS } from '../../src/model/index.js';
import { encodeDeltaDiscoveryResponse, encodeResourceWrapper, ResourceWrappers } from '../../src/xds/wire/delta-wire.js';
import { protos, resourceAny } from './helpers.js';

const Response = () => protos().lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
const Resource = () => protos().lookupType('envoy.service.discovery.v3.Resource');

interface Decoded {
  system_version_info: string;
  type_url: string;
  nonce: string;
  removed_resources: string[];
  control_plane?: { identifier: string };
  resources: Array<{ name: string; version: string; resource: { type_url: string; value: Uint8Array } }>;
}

describe('encodeResourceWrapper', () => {
  it.each([
    { name: 'a', version: '0123456789abcdef' },
    { name: '', version: 'v' },
    { name: 'x'.repeat(300), version: '' },
  ])('decodes as discovery.v3.Resource: name length $name.length, version "$version"', ({ name, version }) => {
    const any = resourceAny('cluster', name || 'n', 't');
    const bytes = encodeResourceWrapper(name, version, any);
    const decoded = Resource().toObject(Resource().decode(bytes), { defaults: true }) as { name: string; version: string; resource: { type_url: string; value: Uint8Array } };
    expect(decoded.name).toBe(name);
    expect(decoded.version).toBe(version);
    expect(decoded.resource.type_url).toBe(TYPE_URLS.cluster);
    const Any = protos().lookupType('google.protobuf.Any');
    expect(Buffer.from(Any.encode(Any.fromObject(decoded.resource)).finish()).equals(any)).toBe(true);
  });
});

describe('encodeDeltaDiscoveryResponse', () => {
  const wrappers = [encodeResourceWrapper('a', 'v1', resourceAny('endpoint', 'a', 'z1')), encodeResourceWrapper('b', 'v2', resourceAny('endpoint', 'b', 'z2'))];
  it.each([
    { label: 'resources and removals', resources: wrappers, removed: ['c', 'd'], version: '17', nonce: '3', cp: 'herald-1' },
    { label: 'removals only', resources: [], removed: ['gone'], version: '18', nonce: '4', cp: undefined },
    { label: 'empty (first wildcard answer)', resources: [], removed: [], version: '', nonce: '1', cp: '' },
    {
      label: 'large resource',
      resources: [encodeResourceWrapper('big', 'v', resourceAny('endpoint', 'big', 'z'.repeat(70_000)))],
      removed: [],
      version: 'x'.repeat(200),
      nonce: '9',
      cp: undefined,
    },
  ])('decodes with protobufjs: $label', ({ resources, removed, version, nonce, cp }) => {
    const bytes = encodeDeltaDiscoveryResponse({
      systemVersionInfo: version,
      resources,
      typeUrl: TYPE_URLS.endpoint,
      removedResources: removed,
      nonce,
      controlPlaneId: cp,
    });
    const decoded = Response().toObject(Response().decode(bytes), { defaults: true }) as Decoded;
    expect(decoded.system_version_info).toBe(version);
    expect(decoded.type_url).toBe(TYPE_URLS.endpoint);
    expect(decoded.nonce).toBe(nonce);
    expect(decoded.removed_resources).toEqual(removed);
    expect(decoded.resources.length).toBe(resources.length);
    decoded.resources.forEach((r, i) => {
      expect(Buffer.from(Resource().encode(Resource().fromObject(r)).finish()).equals(resources[i]!)).toBe(true);
    });
    if (cp === undefined) expect(decoded.control_plane).toBeNull();
    else expect(decoded.control_plane?.identifier).toBe(cp);
  });

  it('with the gRPC prefix: flag 0, big-endian length, then the same message', () => {
    const parts = { systemVersionInfo: '17', resources: wrappers, typeUrl: TYPE_URLS.endpoint, removedResources: ['c'], nonce: '3', controlPlaneId: 'herald-1' };
    const plain = encodeDeltaDiscoveryResponse(parts);
    const framed = encodeDeltaDiscoveryResponse(parts, true);
    expect(framed[0]).toBe(0);
    expect(framed.readUInt32BE(1)).toBe(plain.length);
    expect(framed.subarray(5).equals(plain)).toBe(true);
  });
});

describe('ResourceWrappers', () => {
  it('encodes a wrapper once per resource version and tells versions apart', () => {
    const wrappers = new ResourceWrappers();
    const any = resourceAny('cluster', 'a', 'v1');
    const first = wrappers.get({ kind: 'cluster', name: 'a', version: 'h1', seq: 1, any });
    // A seq bump with the same bytes (assignment re-sent after its cluster) reuses the wrapper.
    expect(wrappers.get({ kind: 'cluster', name: 'a', version: 'h1', seq: 2, any })).toBe(first);
    const next = wrappers.get({ kind: 'cluster', name: 'a', version: 'h2', seq: 3, any: resourceAny('cluster', 'a', 'v2') });
    expect(next).not.toBe(first);
    const decoded = Resource().decode(next) as unknown as { name: string; version: string };
    expect([decoded.name, decoded.version]).toEqual(['a', 'h2']);
  });
});
