import { describe, expect, it } from 'vitest';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { KeptNodes, nodeBytes } from '../../src/xds/bookkeeping/kept-nodes.js';
import { fieldRun, singleMessageField, withoutNestedRun } from '../../src/xds/wire/wire-scan.js';
import { makeDeltaRequestDecoder, makeRequestDecoder } from '../../src/xds/wire/decode.js';

const Node = loadEnvoyProtos().lookupType('envoy.config.core.v3.Node');

const extensions = Array.from({ length: 300 }, (_, i) => ({
  name: `envoy.filters.network.ext_${i}`,
  category: 'envoy.filters.network',
  typeUrls: [`type.googleapis.com/envoy.extensions.ext_${i}.v3.Config`],
}));

function encodeNode(fields: Record<string, unknown>): Uint8Array {
  return Node.encode(Node.fromObject(fields)).finish();
}

const decoded = (bytes: Uint8Array): unknown => Node.toObject(Node.decode(bytes), { defaults: false });

describe('KeptNodes', () => {
  const envoy = (id: string, extra: Record<string, unknown> = {}) =>
    encodeNode({
      id,
      cluster: 'shop',
      metadata: { fields: { team: { stringValue: id } } },
      locality: { zone: 'z1' },
      userAgentName: 'envoy',
      extensions,
      clientFeatures: ['xds.config.resource-in-sotw'],
      ...extra,
    });

  it('gives back every field of each Node while streams share one copy of an extension list', () => {
    const nodes = new KeptNodes();
    const sent = ['a', 'b', 'c'].map((id) => envoy(id));
    const kept = sent.map((bytes) => nodes.keep(bytes));
    expect(nodes.sharedRuns).toBe(1);
    expect(new Set(kept.map((k) => k.extensions))).toHaveProperty('size', 1);
    for (const [i, k] of kept.entries()) {
      expect(k.rest.length).toBeLessThan(sent[i]!.length / 10);
      expect(decoded(nodeBytes(k))).toEqual(decoded(sent[i]!));
    }
    const other = nodes.keep(envoy('d', { extensions: extensions.slice(1) }));
    expect(nodes.sharedRuns).toBe(2);
    expect(decoded(nodeBytes(other))).toEqual(decoded(envoy('d', { extensions: extensions.slice(1) })));
  });

  it('tells apart extension lists of the same length', () => {
    const nodes = new KeptNodes();
    const renamed = extensions.map((e, i) => (i === 150 ? { ...e, name: e.name.replace('ext_', 'exy_') } : e));
    const first = nodes.keep(envoy('a'));
    const second = nodes.keep(envoy('b', { extensions: renamed }));
    expect(first.extensions!.bytes.length).toBe(second.extensions!.bytes.length);
    expect(nodes.sharedRuns).toBe(2);
    nodes.release(first);
    expect(nodes.sharedRuns).toBe(1);
    expect(decoded(nodeBytes(second))).toEqual(decoded(envoy('b', { extensions: renamed })));
    expect(nodes.keep(envoy('c', { extensions: renamed })).extensions).toBe(second.extensions);
  });

  it('lets a shared list go when its last stream does, and not before', () => {
    const nodes = new KeptNodes();
    const first = nodes.keep(envoy('a'));
    const second = nodes.keep(envoy('b'));
    nodes.release(first);
    expect(nodes.sharedRuns).toBe(1);
    nodes.release(second);
    expect(nodes.sharedRuns).toBe(0);
    // Released twice: nothing else is affected.
    const third = nodes.keep(envoy('c'));
    nodes.release(first);
    expect(nodes.sharedRuns).toBe(1);
    expect(decoded(nodeBytes(third))).toEqual(decoded(envoy('c')));
  });

  it('copies what it keeps, so the request bytes may be reused', () => {
    const nodes = new KeptNodes();
    const bytes = Buffer.from(envoy('a'));
    const kept = nodes.keep(bytes);
    const want = decoded(envoy('a'));
    bytes.fill(0);
    expect(decoded(nodeBytes(kept))).toEqual(want);
  });

  it('keeps each copy in memory of its own, not in a slice of a shared buffer pool that it would keep alive', () => {
    const nodes = new KeptNodes();
    for (const node of [envoy('pooled'), encodeNode({ id: 'no-extensions' })]) {
      const kept = nodes.keep(Buffer.from(node));
      expect(kept.rest.buffer.byteLength).toBe(kept.rest.length);
      if (kept.extensions) expect(kept.extensions.bytes.buffer.byteLength).toBe(kept.extensions.bytes.length);
    }
  });

  it('keeps a Node whole when it has no extensions, splits them, or does not parse', () => {
    const nodes = new KeptNodes();
    const plain = encodeNode({ id: 'proxyless', cluster: 'grpc' });
    expect(decoded(nodeBytes(nodes.keep(plain)))).toEqual(decoded(plain));
    // Extensions, then another field, then more extensions: protobuf allows it; not interned.
    const one = encodeNode({ extensions: extensions.slice(0, 2) });
    const split = Buffer.concat([one, encodeNode({ id: 'split' }), encodeNode({ extensions: extensions.slice(2, 3) })]);
    const keptSplit = nodes.keep(split);
    expect(keptSplit.extensions).toBeUndefined();
    expect(decoded(nodeBytes(keptSplit))).toEqual(decoded(split));
    const junk = Buffer.from([0x4a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(nodes.keep(junk).rest.equals(junk)).toBe(true);
    expect(nodes.sharedRuns).toBe(0);
  });
});

describe('wire scanning', () => {
  it('cuts a run out of a nested message, rewriting its length', () => {
    const Request = loadEnvoyProtos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const node = { id: 'x', cluster: 'c', extensions: extensions.slice(0, 40).map((e) => ({ name: e.name })), client_features: ['f'] };
    const bytes = Request.encode(Request.fromObject({ version_info: 'v', node, type_url: 't', response_nonce: 'n' })).finish();
    const field = singleMessageField(bytes, (2 << 3) | 2)!;
    const cut = withoutNestedRun(bytes, field, (2 << 3) | 2, (9 << 3) | 2)!;
    const extensionBytes = Node.encode(Node.fromObject({ extensions: node.extensions })).finish().length;
    expect(cut.removed).toBe(extensionBytes);
    expect(cut.stripped.length).toBeLessThan(bytes.length - extensionBytes + 2);
    const { extensions: _dropped, ...rest } = node;
    expect(Request.toObject(Request.decode(cut.stripped))).toEqual(
      Request.toObject(Request.decode(Request.encode(Request.fromObject({ version_info: 'v', node: rest, type_url: 't', response_nonce: 'n' })).finish())),
    );
    expect(withoutNestedRun(bytes, field, (2 << 3) | 2, (12 << 3) | 2)).toBeUndefined();
  });

  it('finds a contiguous run of a repeated field and the content of a field set once', () => {
    const bytes = encodeNode({ id: 'x', locality: { zone: 'z' }, extensions: extensions.slice(0, 3), clientFeatures: ['f'] });
    const run = fieldRun(bytes, (9 << 3) | 2)!;
    expect(decoded(bytes.subarray(run.start, run.end))).toEqual(decoded(encodeNode({ extensions: extensions.slice(0, 3) })));
    const locality = singleMessageField(bytes, (4 << 3) | 2)!;
    expect(Buffer.from(locality).toString('latin1')).toContain('z');
    expect(singleMessageField(bytes, (9 << 3) | 2)).toBeUndefined();
    expect(fieldRun(bytes, (12 << 3) | 2)).toBeUndefined();
    expect(fieldRun(Buffer.from([0x0a, 0x05, 0x01]), (1 << 3) | 2)).toBeUndefined();
  });
});

describe('request decoders: the node as the client encoded it', () => {
  const root = loadEnvoyProtos();
  const node = { id: 'sidecar-1', cluster: 'shop', user_agent_name: 'envoy', extensions: extensions.slice(0, 5).map((e) => ({ name: e.name, category: e.category })) };
  const cases = [
    {
      what: 'DiscoveryRequest (node is field 2)',
      type: 'envoy.service.discovery.v3.DiscoveryRequest',
      decode: makeRequestDecoder(root),
      fields: { version_info: 'v1', node, type_url: 't', resource_names: ['a', 'b'] },
    },
    {
      what: 'DiscoveryRequest with a long name run',
      type: 'envoy.service.discovery.v3.DiscoveryRequest',
      decode: makeRequestDecoder(root, { lazyNamesBytes: 1 }),
      fields: { version_info: '', node, resource_names: ['a', 'b'] },
    },
    {
      what: 'DeltaDiscoveryRequest (node is field 1)',
      type: 'envoy.service.discovery.v3.DeltaDiscoveryRequest',
      decode: makeDeltaRequestDecoder(root),
      fields: { node, type_url: 't', resource_names_subscribe: ['a'] },
    },
  ];
  for (const { what, type, decode, fields } of cases) {
    it(`carries every field of the node in a ${what}`, () => {
      const Type = root.lookupType(type);
      const bytes = Buffer.from(Type.encode(Type.fromObject(fields)).finish());
      const request = decode(bytes) as { nodeBytes?: Uint8Array };
      expect(request.nodeBytes).toBeDefined();
      expect(decoded(request.nodeBytes!)).toEqual(decoded(encodeNode(node)));
    });
  }

  it('reads the node of an Envoy listing 300 extensions without decoding them, and keeps them all', () => {
    const envoyNode = {
      id: 'sidecar-9',
      cluster: 'shop',
      user_agent_name: 'envoy',
      locality: { zone: 'z1' },
      extensions: extensions.map((e) => ({ name: e.name, category: e.category, type_urls: e.typeUrls })),
      client_features: ['f1'],
    };
    for (const { type, decode, fields } of cases) {
      const Type = root.lookupType(type);
      const bytes = Buffer.from(Type.encode(Type.fromObject({ ...fields, node: envoyNode })).finish());
      const request = decode(bytes) as { nodeBytes?: Uint8Array; node?: unknown; resourceNames?: readonly string[]; subscribe?: readonly string[] };
      expect(request.node).toEqual({ id: 'sidecar-9', cluster: 'shop', locality: { region: '', zone: 'z1', subZone: '' }, userAgent: 'envoy' });
      expect(decoded(request.nodeBytes!)).toEqual(decoded(encodeNode(envoyNode)));
      expect((decoded(request.nodeBytes!) as { extensions: unknown[] }).extensions).toHaveLength(300);
      // Every other field as a full decode has it.
      const full = Type.decode(bytes) as unknown as Record<string, unknown>;
      if ('resource_names' in fields) expect(request.resourceNames).toEqual(full.resource_names);
      if ('resource_names_subscribe' in fields) expect(request.subscribe).toEqual(full.resource_names_subscribe);
    }
  });

  it('re-encodes a node a client split into two fields, as the decoder read it', () => {
    const Type = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const bytes = Buffer.concat([
      Type.encode(Type.fromObject({ node: { id: 'first' } })).finish(),
      Type.encode(Type.fromObject({ type_url: 't' })).finish(),
      Type.encode(Type.fromObject({ node: { cluster: 'second' } })).finish(),
    ]);
    const request = makeRequestDecoder(root)(bytes) as { nodeBytes?: Uint8Array; node?: { id: string; cluster: string } };
    // protobufjs keeps the last occurrence of a message field (the spec would merge them); the
    // kept bytes say what the rest of Herald (NodeInfo) read, not something else.
    expect(decoded(request.nodeBytes!)).toEqual({ cluster: 'second' });
    expect(request.node).toMatchObject({ id: '', cluster: 'second' });
  });

  it('leaves nodeBytes out of a request without a node', () => {
    const Type = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const request = makeRequestDecoder(root)(Buffer.from(Type.encode(Type.fromObject({ type_url: 't' })).finish())) as { nodeBytes?: Uint8Array };
    expect(request.nodeBytes).toBeUndefined();
  });
});

describe('the decoded Node: userAgentVersion', () => {
  const root = loadEnvoyProtos();
  const Request = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  const Delta = root.lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  const sotw = makeRequestDecoder(root);
  const delta = makeDeltaRequestDecoder(root);

  it.each([
    ['Envoy build version', { user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 33, patch: 2 } } }, '1.33.2'],
    ['zero patch', { user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 28 } } }, '1.28.0'],
    ['build version with metadata only', { user_agent_name: 'envoy', user_agent_build_version: { metadata: { fields: {} } } }, undefined],
    ['gRPC version string', { user_agent_name: 'gRPC Go', user_agent_version: '1.70.0' }, '1.70.0'],
    ['an over-long string, clipped', { user_agent_name: 'x', user_agent_version: '9'.repeat(500) }, '9'.repeat(64)],
    ['neither', { user_agent_name: 'envoy' }, undefined],
    ['with the extension list cut out', { user_agent_name: 'envoy', extensions, user_agent_build_version: { version: { major_number: 1, minor_number: 27, patch: 1 } } }, '1.27.1'],
  ] as const)('%s', (_label, node, expected) => {
    const fields = { id: 'n', ...node };
    const viaSotw = sotw(Buffer.from(Request.encode(Request.fromObject({ node: fields, type_url: 't' })).finish()));
    const viaDelta = delta(Buffer.from(Delta.encode(Delta.fromObject({ node: fields, type_url: 't' })).finish()));
    for (const request of [viaSotw, viaDelta]) {
      const decodedNode = (request as { node?: { userAgentVersion?: string } }).node;
      expect(decodedNode).toBeDefined();
      expect(decodedNode!.userAgentVersion).toBe(expected);
      expect('userAgentVersion' in decodedNode!).toBe(expected !== undefined);
    }
  });
});
