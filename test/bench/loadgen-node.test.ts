import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeDependencies, encodeKubeCluster, encodeNode, priorityZeroZones } from '../../bench/loadgen/wire.js';
import { placeOf } from '../../bench/loadgen/worker.js';
import { loadEnvoyProtos } from '../../src/resources/index.js';

// bench/peer/loadgen/wire_test.go pins the same digest: both load generators send these bytes.
const NODE_DIGEST = '92846a142a66ff314583f5d9f28fc35bf0d71fc632a88d148cd299b5305becc9';
// And bench/peer/loadgen/stream_test.go this one, of a node declaring svc-a and svc-b.
const SCOPED_NODE_DIGEST = 'ecce57f94154c5a58fdcfb67362f27060dc94a8f536cd75f337df6dd6b983d78';
// And bench/peer/loadgen/place_test.go this one, of a node in kube cluster c0, zone region-0b.
const PLACED_NODE_DIGEST = 'aff3491a09f2582f61ae0c6e13690a5dc642e777014660548097bed4c71f494f';

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

  it('declares a kube cluster and a zone as the Go generator does', () => {
    const field = encodeNode('n-1', 'bench', encodeKubeCluster('c0'), 'region-0b');
    expect(createHash('sha256').update(field).digest('hex')).toBe(PLACED_NODE_DIGEST);
    const Request = loadEnvoyProtos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const node = (Request.toObject(Request.decode(field)) as { node: { locality: { zone: string }; metadata: { fields: Record<string, { stringValue: string }> } } }).node;
    expect(node.locality.zone).toBe('region-0b');
    expect(node.metadata.fields['herald.io/kube-cluster']!.stringValue).toBe('c0');
  });

  it('deals kube clusters and zones out by turns over the whole run', () => {
    const places = { kubeClusters: ['c0'], zones: ['a', 'b', 'c'], firstIndex: 4 };
    expect([0, 1, 2].map((i) => placeOf(places, places.firstIndex + i))).toEqual([
      { kubeCluster: 'c0', zone: 'b' },
      { kubeCluster: 'c0', zone: 'c' },
      { kubeCluster: 'c0', zone: 'a' },
    ]);
    expect(placeOf({ kubeClusters: ['c0', 'c1'], zones: [], firstIndex: 0 }, 3)).toEqual({ kubeCluster: 'c1' });
    expect(placeOf(undefined, 3)).toEqual({});
  });

  it('reads the zones of the priority-0 localities of an assignment', () => {
    const Cla = loadEnvoyProtos().lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
    const endpoint = (ip: string) => ({ endpoint: { address: { socket_address: { address: ip, port_value: 8080 } } }, health_status: 1 });
    const bytes = Buffer.from(
      Cla.encode(
        Cla.fromObject({
          cluster_name: 'svc',
          endpoints: [
            { locality: { region: 'r', zone: 'a' }, lb_endpoints: [endpoint('10.0.0.1')], load_balancing_weight: { value: 1 } },
            { locality: { region: 'r', zone: 'b' }, lb_endpoints: [endpoint('10.0.0.2')], load_balancing_weight: { value: 1 }, priority: 1 },
            { locality: { region: 'r', zone: 'c' }, lb_endpoints: [endpoint('10.0.0.3')], load_balancing_weight: { value: 1 }, priority: 0 },
          ],
        }),
      ).finish(),
    );
    expect(priorityZeroZones(bytes, 0, bytes.length)).toEqual(['a', 'c']);
  });
});
