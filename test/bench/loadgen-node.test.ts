import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeNode } from '../../bench/loadgen/wire.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';

// bench/peer/loadgen/wire_test.go pins the same digest: both load generators send these bytes.
const NODE_DIGEST = '92846a142a66ff314583f5d9f28fc35bf0d71fc632a88d148cd299b5305becc9';

describe('the Node load generator', () => {
  it('sends the Envoy-sized Node the Go generator sends', () => {
    const field = encodeNode('n-1', 'bench');
    expect(createHash('sha256').update(field).digest('hex')).toBe(NODE_DIGEST);
    const Request = loadEnvoyProtos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const node = (Request.toObject(Request.decode(field)) as { node: { id: string; cluster: string; user_agent_name: string; extensions: unknown[] } }).node;
    expect(node).toMatchObject({ id: 'n-1', cluster: 'bench', user_agent_name: 'envoy' });
    expect(node.extensions).toHaveLength(300);
  });
});
