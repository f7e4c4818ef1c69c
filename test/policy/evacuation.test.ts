import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { PolicyObject } from '../../src/model/index.js';
import { PolicyRegistry, type PolicyChange } from '../../src/policy/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';

function setup() {
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  const registry = new PolicyRegistry({ defaultsNamespace: 'herald', clusters: ['east', 'west'], logger: silentLogger(), metrics, clock: () => 42 });
  const changes: PolicyChange[] = [];
  registry.onChange((change) => changes.push(change));
  metrics.setPolicyReader({
    sections: () => [],
    rejected: () => registry.rejectedCopies(),
    evacuated: () => registry.evacuation()?.clusters.map((cluster) => ({ cluster, mode: registry.evacuation()!.mode })) ?? [],
  });
  const gauge = async () => (await metrics.evacuatedClusters.get()).values.map((v) => [v.labels.kube_cluster, v.labels.mode, v.value]);
  return { registry, changes, gauge };
}

const obj = (name: string, spec: unknown, generation = 1, namespace = 'shop'): PolicyObject => ({ cluster: 'east', namespace, name, generation, spec });
const defaults = (spec: unknown, generation = 1) => obj('mesh-defaults', spec, generation, 'herald');

describe('evacuation (locality.evacuate in the mesh defaults)', () => {
  it('reaches every service, also one whose own object replaces the locality section, and is undone by removing it', async () => {
    const { registry, changes, gauge } = setup();
    registry.replacePolicies('east', [defaults({ locality: { evacuate: ['west'], evacuateMode: 'Drain' } }), obj('cart', { locality: { zone: 'PreferSameZone' } })]);
    expect(registry.effective('other.shop').spec).toEqual({ locality: { evacuate: ['west'], evacuateMode: 'Drain' } });
    expect(registry.effective('cart.shop').spec).toEqual({ locality: { zone: 'PreferSameZone', evacuate: ['west'], evacuateMode: 'Drain' } });
    expect(registry.evacuation()).toEqual({ clusters: ['west'], mode: 'Drain', from: { cluster: 'east', namespace: 'herald', name: 'mesh-defaults', generation: 1 } });
    expect(registry.debug([]).evacuation?.clusters).toEqual(['west']);
    expect(await gauge()).toEqual([['west', 'Drain', 1]]);

    registry.applyPolicy(defaults({ locality: { zone: 'PreferSameZone' } }, 2));
    expect(changes.at(-1)).toBe('all');
    expect(registry.effective('cart.shop').spec).toEqual({ locality: { zone: 'PreferSameZone' } });
    expect(registry.effective('other.shop').spec).toEqual({ locality: { zone: 'PreferSameZone' } });
    expect(registry.evacuation()).toBeUndefined();
    expect(registry.debug([])).not.toHaveProperty('evacuation');
    expect(await gauge()).toEqual([]);
  });

  it('LastPriority when no mode is given', () => {
    const { registry } = setup();
    registry.applyPolicy(defaults({ locality: { evacuate: ['east', 'west'] } }));
    expect(registry.evacuation()?.mode).toBe('LastPriority');
    expect(registry.evacuation()?.clusters).toEqual(['east', 'west']);
  });

  it("rejects a service's own object that evacuates, keeping its last valid generation", () => {
    const { registry } = setup();
    registry.applyPolicy(obj('cart', { locality: { zone: 'PreferSameZone' } }));
    registry.applyPolicy(obj('cart', { locality: { zone: 'PreferSameZone', evacuate: ['west'], evacuateMode: 'Drain' } }, 2));
    expect(registry.effective('cart.shop').spec).toEqual({ locality: { zone: 'PreferSameZone' } });
    expect(registry.evacuation()).toBeUndefined();
    expect(registry.rejectedCopies().map((r) => r.errors.map((e) => e.path))).toEqual([['spec.locality.evacuate', 'spec.locality.evacuateMode']]);
  });

  it('refuses a mode without clusters and a cluster name Herald cannot have', () => {
    const { registry } = setup();
    registry.applyPolicy(defaults({ locality: { evacuateMode: 'Drain' } }));
    registry.applyPolicy(obj('mesh-defaults', { locality: { evacuate: ['West_1'] } }, 1, 'other'));
    expect(registry.rejectedCopies().map((r) => r.errors.map((e) => e.path))).toEqual([['spec.locality.evacuateMode'], ['spec.locality.evacuate[0]']]);
    expect(registry.evacuation()).toBeUndefined();
  });
});
