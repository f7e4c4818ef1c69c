import { describe, expect, it } from 'vitest';
import { ResourceCache, type ChangeSet } from '../../src/cache/index.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function flat(changes: ChangeSet): Record<string, string[]> {
  return Object.fromEntries([...changes].map(([kind, names]) => [kind, [...names].sort()]));
}

describe('ResourceCache', () => {
  it('stores upserts with a content version and a global increasing seq', () => {
    const cache = new ResourceCache();
    const changes = cache.apply([
      { kind: 'cluster', name: 'a', any: bytes('A1') },
      { kind: 'route', name: 'r', any: bytes('R1') },
    ]);
    expect(flat(changes)).toEqual({ cluster: ['a'], route: ['r'] });
    const a = cache.get('cluster', 'a');
    const r = cache.get('route', 'r');
    expect(a?.any.toString()).toBe('A1');
    expect(r!.seq).toBeGreaterThan(a!.seq);
    expect(a!.version).not.toBe(r!.version);
    expect(cache.counts()).toEqual({ cluster: 1, endpoint: 0, listener: 0, route: 1 });
  });

  it('treats byte-identical upserts as no-ops: no change, no listener call, same version', () => {
    const cache = new ResourceCache();
    cache.apply([{ kind: 'endpoint', name: 'a', any: bytes('E1') }]);
    const before = cache.get('endpoint', 'a');
    const kindVersion = cache.version('endpoint');
    let calls = 0;
    cache.onChange(() => calls++);
    const changes = cache.apply([{ kind: 'endpoint', name: 'a', any: bytes('E1') }]);
    expect(changes.size).toBe(0);
    expect(calls).toBe(0);
    expect(cache.get('endpoint', 'a')).toEqual(before);
    expect(cache.version('endpoint')).toBe(kindVersion);
  });

  it('changes the per-kind version only for kinds that changed', () => {
    const cache = new ResourceCache();
    cache.apply([{ kind: 'cluster', name: 'a', any: bytes('A1') }]);
    const clusterVersion = cache.version('cluster');
    const listenerVersion = cache.version('listener');
    cache.apply([{ kind: 'cluster', name: 'a', any: bytes('A2') }]);
    expect(cache.version('cluster')).not.toBe(clusterVersion);
    expect(cache.version('listener')).toBe(listenerVersion);
    const afterUpdate = cache.version('cluster');
    cache.apply([{ kind: 'cluster', name: 'a', any: null }]);
    expect(cache.version('cluster')).not.toBe(afterUpdate);
    expect(cache.get('cluster', 'a')).toBeUndefined();
  });

  it('removes with null and ignores removal of unknown names', () => {
    const cache = new ResourceCache();
    cache.apply([{ kind: 'listener', name: 'l', any: bytes('L') }]);
    expect(flat(cache.apply([{ kind: 'listener', name: 'l', any: null }]))).toEqual({ listener: ['l'] });
    expect(cache.apply([{ kind: 'listener', name: 'nope', any: null }]).size).toBe(0);
    expect(cache.list('listener')).toEqual([]);
  });

  it('re-marks the same-named assignment when a cluster changes (new seq, same bytes)', () => {
    const cache = new ResourceCache();
    cache.apply([
      { kind: 'cluster', name: 'svc', any: bytes('C1') },
      { kind: 'endpoint', name: 'svc', any: bytes('E1') },
      { kind: 'endpoint', name: 'other', any: bytes('E2') },
    ]);
    const before = cache.get('endpoint', 'svc')!;
    const other = cache.get('endpoint', 'other')!;
    const changes = cache.apply([{ kind: 'cluster', name: 'svc', any: bytes('C2') }]);
    expect(flat(changes)).toEqual({ cluster: ['svc'], endpoint: ['svc'] });
    const after = cache.get('endpoint', 'svc')!;
    expect(after.seq).toBeGreaterThan(cache.get('cluster', 'svc')!.seq);
    expect(after.seq).toBeGreaterThan(before.seq);
    expect(after.version).toBe(before.version);
    expect(after.any.equals(before.any)).toBe(true);
    expect(cache.get('endpoint', 'other')).toEqual(other);
  });

  it('does not double-bump an assignment that changed in the same batch as its cluster', () => {
    const cache = new ResourceCache();
    cache.apply([{ kind: 'endpoint', name: 'svc', any: bytes('E1') }]);
    cache.apply([
      { kind: 'cluster', name: 'svc', any: bytes('C1') },
      { kind: 'endpoint', name: 'svc', any: bytes('E2') },
    ]);
    const cluster = cache.get('cluster', 'svc')!;
    const assignment = cache.get('endpoint', 'svc')!;
    expect(assignment.any.toString()).toBe('E2');
    expect(assignment.seq).toBe(cluster.seq + 1);
  });

  it('notifies listeners once per batch, synchronously, until unsubscribed', () => {
    const cache = new ResourceCache();
    const seen: Record<string, string[]>[] = [];
    const off = cache.onChange((changes) => seen.push(flat(changes)));
    cache.apply([
      { kind: 'cluster', name: 'a', any: bytes('A') },
      { kind: 'cluster', name: 'b', any: bytes('B') },
    ]);
    expect(seen).toEqual([{ cluster: ['a', 'b'] }]);
    off();
    cache.apply([{ kind: 'cluster', name: 'c', any: bytes('C') }]);
    expect(seen).toHaveLength(1);
  });

  it('runs onApplied once the batch is stored and before any listener, only when something changed', () => {
    const cache = new ResourceCache();
    const order: string[] = [];
    cache.onChange(() => order.push('listener'));
    const hook = (changes: ChangeSet): void => {
      order.push(`hook a@${cache.get('endpoint', 'a')?.seq} ${JSON.stringify(flat(changes))}`);
    };
    cache.apply([{ kind: 'endpoint', name: 'a', any: bytes('A') }], hook);
    expect(order).toEqual(['hook a@1 {"endpoint":["a"]}', 'listener']);
    cache.apply([{ kind: 'endpoint', name: 'a', any: bytes('A') }], hook);
    expect(order).toHaveLength(2);
  });

  it('lists by name order and reflects later changes', () => {
    const cache = new ResourceCache();
    cache.apply(['b', 'c', 'a'].map((name) => ({ kind: 'cluster' as const, name, any: bytes(name) })));
    expect(cache.list('cluster').map((r) => r.name)).toEqual(['a', 'b', 'c']);
    cache.apply([
      { kind: 'cluster', name: 'b', any: null },
      { kind: 'cluster', name: 'aa', any: bytes('aa') },
    ]);
    expect(cache.list('cluster').map((r) => r.name)).toEqual(['a', 'aa', 'c']);
  });
});

describe('ResourceCache listener failures', () => {
  it('still notifies later listeners and then reports the failure', () => {
    const cache = new ResourceCache();
    let second = 0;
    cache.onChange(() => {
      throw new Error('boom');
    });
    cache.onChange(() => second++);
    expect(() => cache.apply([{ kind: 'cluster', name: 'a', any: Buffer.from('A') }])).toThrow('boom');
    expect(second).toBe(1);
    expect(cache.get('cluster', 'a')).toBeDefined();
  });

  it('still notifies the listeners when onApplied fails, then reports its failure', () => {
    const cache = new ResourceCache();
    let heard = 0;
    cache.onChange(() => heard++);
    const failing = (): never => {
      throw new Error('hook failed');
    };
    expect(() => cache.apply([{ kind: 'cluster', name: 'a', any: Buffer.from('A') }], failing)).toThrow('hook failed');
    expect(heard).toBe(1);
  });
});
