import { describe, expect, it } from 'vitest';
import { PolicyStatusWriter, type PolicyStatusWrite } from '../../src/app/index.js';
import type { PolicyObject } from '../../src/model/index.js';
import { PolicyRegistry } from '../../src/policy/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';

const obj = (cluster: string, generation: number, spec: unknown, accepted?: PolicyStatusWrite['condition']): PolicyObject => ({
  cluster,
  namespace: 'shop',
  name: 'cart',
  generation,
  spec,
  accepted,
});

function setup(replica = 'herald-a', capacity = 100) {
  const metrics = new HeraldMetrics({ defaultMetrics: false });
  const registry = new PolicyRegistry({ defaultsNamespace: 'herald', clusters: ['east', 'west'], logger: silentLogger(), metrics, clock: () => 0 });
  const sent: PolicyStatusWrite[] = [];
  const writer = new PolicyStatusWriter(
    {
      send: async (write) => {
        sent.push(write);
      },
      perSecond: 1,
      burst: 2,
      capacity,
    },
    { registry, clock: () => 1_000, metrics, logger: silentLogger(), replica, localCluster: 'east' },
  );
  const writes = async () => Object.fromEntries((await metrics.policyStatusWrites.get()).values.map((v) => [v.labels.result, v.value]));
  return { registry, writer, sent, writes };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('PolicyStatusWriter', () => {
  it('writes Accepted=False with the field path for a rejected generation, then True once fixed, to the cluster it came from', async () => {
    const { writer, registry, sent, writes } = setup();
    writer.replacePolicies('west', [obj('west', 1, { connection: { connectTimeoutMs: 0 } })]);
    await flush();
    expect(sent.map((w) => [w.cluster, w.condition.status, w.condition.reason, w.condition.observedGeneration, w.condition.writer])).toEqual([
      ['west', 'False', 'Invalid', 1, { replica: 'herald-a', cluster: 'east' }],
    ]);
    expect(sent[0]!.condition.message).toContain('spec.connection.connectTimeoutMs: must be ≥ 1');
    // The registry saw the object as it would without the writer.
    expect(registry.verdict('west', 'shop', 'cart')?.errors).toHaveLength(1);

    // The watch brings back what was written: nothing more to write.
    writer.applyPolicy(obj('west', 1, { connection: { connectTimeoutMs: 0 } }, sent[0]!.condition));
    await flush();
    expect(sent).toHaveLength(1);

    writer.applyPolicy(obj('west', 2, { connection: { connectTimeoutMs: 5 } }, sent[0]!.condition));
    await flush();
    expect(sent.map((w) => [w.condition.status, w.condition.observedGeneration])).toEqual([
      ['False', 1],
      ['True', 2],
    ]);
    expect(await writes()).toEqual({ written: 2 });
  });

  it("leaves another replica's verdict on the same generation alone and writes nothing for clusters it does not read", async () => {
    const { writer, sent } = setup('herald-a');
    const other = { status: 'True' as const, reason: 'Valid', message: 'generation 1 is valid', observedGeneration: 1, lastTransitionTime: 't', writer: { replica: 'herald-b' } };
    writer.replacePolicies('east', [obj('east', 1, {}, other)]);
    writer.replacePolicies('south', [obj('south', 1, {})]);
    await flush();
    expect(sent).toEqual([]);
  });

  it('keeps one pending write per object however often it changes, and drops past its capacity', async () => {
    const { writer, sent, writes } = setup('herald-a', 1);
    // Burst 2: two writes go at once, the rest wait for tokens.
    writer.replacePolicies('east', [obj('east', 1, {})]);
    writer.replacePolicies('west', [obj('west', 1, {})]);
    await flush();
    expect(sent).toHaveLength(2);
    writer.applyPolicy(obj('east', 2, { connection: { connectTimeoutMs: 7 } }));
    writer.applyPolicy(obj('east', 3, { connection: { connectTimeoutMs: 8 } }));
    writer.applyPolicy(obj('west', 2, { connection: { connectTimeoutMs: 9 } }));
    await flush();
    expect(sent).toHaveLength(2);
    expect(await writes()).toEqual({ written: 2, dropped: 1 });
    // Closing drops (and counts) what still waits: the merged east write.
    writer.close();
    expect(await writes()).toEqual({ written: 2, dropped: 2 });
  });
});
