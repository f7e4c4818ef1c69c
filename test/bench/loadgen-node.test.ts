import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeDependencies, encodeNode } from '../../bench/loadgen/wire.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';

// bench/peer/loadgen/wire_test.go pins the same digest: both load generators send these bytes.
const NODE_DIGEST = '92846a142a66ff314583f5d9f28fc35bf0d71fc632a88d148cd299b5305becc9';
// And bench/peer/loadgen/stream_test.go this one, of a node declaring svc-a and svc-b.
const SCOPED_NODE_DIGEST = 'ecce57f94154c5a58fdcfb67362f27060dc94a8f536cd75f337df6dd6b983d78';

describe('the Node load generator', () => {
  it('sends the Envoy-sized Node the Go generator sends', () => {
    const field = encodeNode('n-1', 'bench');
    expect(createHash('sha256').update(field).digest('hex')).toBe(NODE_DIGEST);
    const Request = loadEnvoyProtos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const node = (Request.toObject(Request.decode(field)) as { node: { id: string; cluster: string; user_agent_name: string; extensions: unknown[] } }).node;
    expect(node).toMatchObject({ id: 'n-1', cluster: 'bench', user_agent_name: 'envoy' });
    expect(node.extensions).toHaveLength(300);
  });

  it('declares a dependency set in the Node metadata as the Go generator does', () => {
    const field = encodeNode('n-1', 'bench', encodeDependencies(['svc-a', 'svc-b']));
    expect(createHash('sha256').update(field).digest('hex')).toBe(SCOPED_NODE_DIGEST);
    const Request = loadEnvoyProtos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const node = (Request.toObject(Request.decode(field)) as { node: { metadata: { fields: Record<string, { listValue: { values: Array<{ stringValue: string }> } }> } } }).node;
    expect(node.metadata.fields['herald.io/dependencies']!.listValue.values.map((v) => v.stringValue)).toEqual(['svc-a', 'svc-b']);
  });
});
