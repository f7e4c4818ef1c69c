// Perspective variants over real streams: each stream reads the variant of the perspective its
// first Node declared, and a change of another perspective's variant sends it nothing, over
// SotW and Delta alike.
import { afterEach, describe, expect, it } from 'vitest';
import { perspectiveKey } from '../../src/model/index.js';
import type { HeldPerspective } from '../../src/xds/index.js';
import { DeltaTestStream } from './delta-helpers.js';
import { resourceAny, startHarness, until, type Harness } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function node(id: string, kubeCluster?: string, zone?: string): Record<string, unknown> {
  return {
    id,
    ...(zone ? { locality: { zone } } : {}),
    ...(kubeCluster ? { metadata: { fields: { 'herald.io/kube-cluster': { stringValue: kubeCluster } } } } : {}),
  };
}

const KEY_B = perspectiveKey({ kubeCluster: 'kube-b', zone: '' });

function put(h: Harness, plain: string, variantB?: string): void {
  h.cache.apply([
    { kind: 'endpoint', name: 'svc', any: resourceAny('endpoint', 'svc', plain), ...(variantB ? { variants: new Map([[KEY_B, resourceAny('endpoint', 'svc', variantB)]]) } : {}) },
  ]);
}

describe('perspective variants over SotW', () => {
  it('serves each stream its perspective’s variant and sends a variant’s change to its streams only', async () => {
    const h = (harness = await startHarness());
    const events: string[] = [];
    h.server.onPerspectives({ added: (p: HeldPerspective) => events.push(`+${p.key}`), removed: (p: HeldPerspective) => events.push(`-${p.key}`) });
    put(h, 'plain', 'b1');
    const plain = h.stream();
    plain.request('endpoint', { node: node('a'), resource_names: ['svc'] });
    const bs = [1, 2].map((i) => {
      const s = h.stream();
      s.request('endpoint', { node: node(`b-${i}`, 'kube-b'), resource_names: ['svc'] });
      return s;
    });
    const first = await plain.next();
    expect(first.resources.map((r) => r.tag)).toEqual(['plain']);
    plain.ack(first, ['svc']);
    for (const s of bs) {
      const r = await s.next();
      expect(r.resources.map((x) => x.tag)).toEqual(['b1']);
      s.ack(r, ['svc']);
    }
    // Two streams of one perspective hold it once; the default perspective is never reported.
    expect(events).toEqual([`+${KEY_B}`]);

    put(h, 'plain', 'b2');
    for (const s of bs) {
      const r = await s.next();
      expect(r.resources.map((x) => x.tag)).toEqual(['b2']);
      s.ack(r, ['svc']);
    }
    await plain.nothingFor(150);

    put(h, 'plain2', 'b2');
    const second = await plain.next();
    expect(second.resources.map((r) => r.tag)).toEqual(['plain2']);
    for (const s of bs) await s.nothingFor(150);

    for (const s of bs) s.cancel();
    await until(() => events.length === 2, 2_000, 'the perspective to be let go');
    expect(events).toEqual([`+${KEY_B}`, `-${KEY_B}`]);
  });

  it('a declared perspective without a variant of its own reads the plain resource', async () => {
    const h = (harness = await startHarness());
    put(h, 'plain');
    const s = h.stream();
    s.request('endpoint', { node: node('c', 'kube-c', 'z1'), resource_names: ['svc'] });
    expect((await s.next()).resources.map((r) => r.tag)).toEqual(['plain']);
  });
});

describe('clients that ignore overprovisioning', () => {
  it('a Node announcing envoy.lb.does_not_support_overprovisioning holds a perspective of its own, keyed apart from one that does not', async () => {
    const h = (harness = await startHarness());
    const events: string[] = [];
    h.server.onPerspectives({ added: (p: HeldPerspective) => events.push(p.key), removed: () => undefined });
    put(h, 'plain');
    const grpc = h.stream();
    grpc.request('endpoint', { node: { ...node('g', 'kube-b'), client_features: ['xds.config.resource-in-sotw', 'envoy.lb.does_not_support_overprovisioning'] }, resource_names: ['svc'] });
    await grpc.next();
    const envoy = h.stream();
    envoy.request('endpoint', { node: { ...node('e', 'kube-b'), client_features: ['envoy.lb.other'] }, resource_names: ['svc'] });
    await envoy.next();
    const bare = h.stream();
    bare.request('endpoint', { node: { id: 'x', client_features: ['envoy.lb.does_not_support_overprovisioning'] }, resource_names: ['svc'] });
    await bare.next();
    expect(events).toEqual([
      perspectiveKey({ kubeCluster: 'kube-b', zone: '', ignoresOverprovisioning: true }),
      KEY_B,
      perspectiveKey({ kubeCluster: undefined, zone: '', ignoresOverprovisioning: true }),
    ]);
    expect(new Set(events).size).toBe(3);
    expect(events).not.toContain('');
  });
});

describe('perspective variants over Delta', () => {
  it('a Delta stream sees no update when another perspective’s variant changes', async () => {
    const h = (harness = await startHarness());
    put(h, 'plain', 'b1');
    const plain = new DeltaTestStream(h.client());
    plain.request('endpoint', { node: node('a'), subscribe: ['svc'] });
    const b = new DeltaTestStream(h.client());
    b.request('endpoint', { node: node('b', 'kube-b'), subscribe: ['svc'] });
    const p1 = await plain.next();
    expect(p1.resources.map((r) => r.tag)).toEqual(['plain']);
    plain.ack(p1);
    const b1 = await b.next();
    expect(b1.resources.map((r) => r.tag)).toEqual(['b1']);
    b.ack(b1);

    put(h, 'plain', 'b2');
    const b2 = await b.next();
    expect(b2.resources.map((r) => r.tag)).toEqual(['b2']);
    expect(b2.resources[0]!.version).not.toBe(b1.resources[0]!.version);
    b.ack(b2);
    await plain.nothingFor(150);

    // The variant going away (its view equals the plain one again) is a change for its streams only.
    put(h, 'plain');
    expect((await b.next()).resources.map((r) => r.tag)).toEqual(['plain']);
    await plain.nothingFor(150);
  });
});

describe('perspective bound', () => {
  it('past maxPerspectives a new perspective reads the plain view and is counted', async () => {
    const h = (harness = await startHarness({ maxPerspectives: 1 }));
    put(h, 'plain', 'b1');
    const b = h.stream();
    b.request('endpoint', { node: node('b', 'kube-b'), resource_names: ['svc'] });
    expect((await b.next()).resources.map((r) => r.tag)).toEqual(['b1']);
    const c = h.stream();
    c.request('endpoint', { node: node('c', 'kube-c'), resource_names: ['svc'] });
    expect((await c.next()).resources.map((r) => r.tag)).toEqual(['plain']);
    expect((await h.metrics.xdsPerspectivesRefused.get()).values[0]?.value).toBe(1);
    expect((await h.metrics.xdsPerspectives.get()).values[0]?.value).toBe(1);
  });
});

describe('perspectives in clients() (/debug/clients)', () => {
  it('shows each stream what it declared and which view it reads: its own, the replica’s when it declared nothing, the replica’s when refused', async () => {
    const h = (harness = await startHarness({ maxPerspectives: 2 }));
    put(h, 'plain', 'b1');
    const open = async (n: Record<string, unknown>) => {
      const s = h.stream();
      s.request('endpoint', { node: n, resource_names: ['svc'] });
      await s.next();
    };
    await open(node('none'));
    await open(node('b', 'kube-b', 'z1'));
    await open({ ...node('g', 'kube-b'), client_features: ['envoy.lb.does_not_support_overprovisioning'] });
    // Two perspectives held: a third distinct one is refused.
    await open(node('c', 'kube-c', 'z2'));
    const byNode = Object.fromEntries(h.server.clients().map((c) => [c.node?.id, c.perspective]));
    expect(byNode).toEqual({
      none: { kubeCluster: null, zone: '', ignoresOverprovisioning: false, replicaView: true, refused: false },
      b: { kubeCluster: 'kube-b', zone: 'z1', ignoresOverprovisioning: false, replicaView: false, refused: false },
      g: { kubeCluster: 'kube-b', zone: '', ignoresOverprovisioning: true, replicaView: false, refused: false },
      c: { kubeCluster: 'kube-c', zone: 'z2', ignoresOverprovisioning: false, replicaView: true, refused: true },
    });
  });
});
