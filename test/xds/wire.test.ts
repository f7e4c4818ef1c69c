import { beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { encodeDiscoveryResponse, encodeSharedResponseHead, NONCE_CHARS, nonceField } from '../../src/xds/wire/sotw-wire.js';
import { TYPE_URLS } from '../../src/model/index.js';

let root: protobuf.Root;
let Response: protobuf.Type;
let Any: protobuf.Type;
let Assignment: protobuf.Type;

beforeAll(() => {
  root = loadEnvoyProtos();
  Response = root.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  Any = root.lookupType('google.protobuf.Any');
  Assignment = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
});

function assignmentAny(name: string, endpoints: number): Buffer {
  const lbEndpoints = Array.from({ length: endpoints }, (_, i) => ({
    endpoint: { address: { socket_address: { address: `10.0.${i >> 8}.${i & 255}`, port_value: 8080 } } },
    health_status: 3,
  }));
  const value = Assignment.encode(Assignment.fromObject({ cluster_name: name, endpoints: [{ lb_endpoints: lbEndpoints }] })).finish();
  return Buffer.from(Any.encode(Any.fromObject({ type_url: TYPE_URLS.endpoint, value })).finish());
}

describe('encodeDiscoveryResponse', () => {
  const cases = [
    { label: 'empty resource list', resources: [] as Array<() => Buffer>, version: '7', nonce: '1', cp: undefined as string | undefined },
    { label: 'one small resource', resources: [assignmentAnyLazy('a', 1)], version: '12', nonce: 'n-3', cp: 'herald-1' },
    { label: 'several resources', resources: [assignmentAnyLazy('a', 2), assignmentAnyLazy('b', 3)], version: 'v', nonce: '99', cp: undefined },
    // > 16 KiB resource: multi-byte length varints.
    { label: 'large resource', resources: [assignmentAnyLazy('big', 2000)], version: 'x'.repeat(200), nonce: '5', cp: '' },
    { label: 'empty version (proto3 default)', resources: [assignmentAnyLazy('a', 1)], version: '', nonce: '1', cp: undefined },
  ];

  it.each(cases)('decodes with protobufjs: $label', ({ resources, version, nonce, cp }) => {
    const any = resources.map((make) => make());
    const bytes = encodeDiscoveryResponse({ versionInfo: version, resources: any, typeUrl: TYPE_URLS.endpoint, nonce, controlPlaneId: cp });
    const decoded = Response.toObject(Response.decode(bytes), { defaults: true }) as Record<string, any>;
    expect(decoded.version_info).toBe(version);
    expect(decoded.type_url).toBe(TYPE_URLS.endpoint);
    expect(decoded.nonce).toBe(nonce);
    expect(decoded.resources).toHaveLength(any.length);
    decoded.resources.forEach((resource: { type_url: string; value: Uint8Array }, i: number) => {
      expect(resource.type_url).toBe(TYPE_URLS.endpoint);
      const expected = Any.decode(any[i]!) as unknown as { value: Uint8Array };
      expect(Buffer.from(resource.value).equals(Buffer.from(expected.value))).toBe(true);
    });
    if (cp === undefined) expect(decoded.control_plane).toBeNull();
    else expect(decoded.control_plane).toEqual({ identifier: cp });
  });

  it('produces the same bytes protobufjs would', () => {
    const any = [assignmentAny('a', 3), assignmentAny('b', 1)];
    const mine = encodeDiscoveryResponse({ versionInfo: '3', resources: any, typeUrl: TYPE_URLS.endpoint, nonce: '8', controlPlaneId: 'cp' });
    const theirs = Response.encode(
      Response.fromObject({
        version_info: '3',
        resources: any.map((b) => Any.toObject(Any.decode(b))),
        type_url: TYPE_URLS.endpoint,
        nonce: '8',
        control_plane: { identifier: 'cp' },
      }),
    ).finish();
    expect(mine.equals(Buffer.from(theirs))).toBe(true);
  });

  it.each([undefined, 'cp'])('a shared head and a nonce field make one framed message that decodes like the whole one (control plane %s)', (cp) => {
    const any = [assignmentAny('a', 3), assignmentAny('b', 1)];
    const nonce = 'Abc-_0123456789x';
    expect(nonce).toHaveLength(NONCE_CHARS);
    const head = encodeSharedResponseHead({ versionInfo: '3', resources: any, typeUrl: TYPE_URLS.endpoint, controlPlaneId: cp });
    const framed = Buffer.concat([head, nonceField(nonce)]);
    // The prefix counts the nonce field that follows the head.
    expect(framed[0]).toBe(0);
    expect(framed.readUInt32BE(1)).toBe(framed.length - 5);
    const whole = encodeDiscoveryResponse({ versionInfo: '3', resources: any, typeUrl: TYPE_URLS.endpoint, nonce, controlPlaneId: cp });
    expect(Response.toObject(Response.decode(framed.subarray(5)))).toEqual(Response.toObject(Response.decode(whole)));
  });

  it('refuses a nonce of another length (the shared prefix counts a fixed one)', () => {
    expect(() => nonceField('short')).toThrow(/16 ASCII characters/);
  });

  it.each(cases)('with the gRPC prefix: flag 0, big-endian length, then the same message: $label', ({ resources, version, nonce, cp }) => {
    const parts = { versionInfo: version, resources: resources.map((make) => make()), typeUrl: TYPE_URLS.endpoint, nonce, controlPlaneId: cp };
    const plain = encodeDiscoveryResponse(parts);
    const framed = encodeDiscoveryResponse(parts, true);
    expect(framed.length).toBe(plain.length + 5);
    expect(framed[0]).toBe(0);
    expect(framed.readUInt32BE(1)).toBe(plain.length);
    expect(framed.subarray(5).equals(plain)).toBe(true);
  });
});

function assignmentAnyLazy(name: string, endpoints: number): () => Buffer {
  return () => assignmentAny(name, endpoints);
}

describe('countFields', () => {
  it.each([0, 1, 2, 600, 3000])('counts %i length-delimited fields, long names included', async (n) => {
    const { MessageWriter, tag } = await import('../../src/xds/wire/proto-writer.js');
    const { countFields } = await import('../../src/xds/wire/wire-scan.js');
    const writer = new MessageWriter();
    for (let i = 0; i < n; i++) writer.string(tag(3), i % 7 === 0 ? `service-${'x'.repeat(200)}-${i}` : `s${i}`);
    expect(countFields(writer.finish())).toBe(n);
  });
});
