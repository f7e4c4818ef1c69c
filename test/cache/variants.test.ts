import { describe, expect, it } from 'vitest';
import { ResourceCache, type ChangeSet } from '../../src/cache/index.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const variants = (entries: Record<string, string>): Map<string, Buffer> => new Map(Object.entries(entries).map(([key, text]) => [key, bytes(text)]));

function names(changes: ChangeSet): Record<string, string[]> {
  return Object.fromEntries([...changes].map(([kind, set]) => [kind, [...set].sort()]));
}

describe('ResourceCache perspective variants', () => {
  it('serves each perspective its variant, the plain resource otherwise, and shares equal variants', () => {
    const cache = new ResourceCache();
    cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'B', pc: 'B', pd: 'D', pe: 'plain' }) }]);
    const plain = cache.get('endpoint', 's')!;
    const b = cache.viewFor('pb').get('endpoint', 's')!;
    expect(b.any.toString()).toBe('B');
    // Equal bytes: one revision, so one seq and one encoded response for both perspectives.
    expect(cache.viewFor('pc').get('endpoint', 's')).toBe(b);
    expect(cache.viewFor('pd').get('endpoint', 's')!.any.toString()).toBe('D');
    // A variant equal to the plain resource is none, as is a perspective never named.
    expect(cache.viewFor('pe').get('endpoint', 's')).toBe(plain);
    expect(cache.viewFor('zz').get('endpoint', 's')).toBe(plain);
    expect(cache.viewFor('')).toBe(cache);
    // The plain resource took its seq first: a drain notice holding it is older than every variant.
    expect(b.seq).toBeGreaterThan(plain.seq);
    expect(cache.variantCounts().endpoint).toEqual({ names: 1, revisions: 2 });
    expect([...cache.viewFor('pb').list('endpoint')].map((r) => r.any.toString())).toEqual(['B']);
    expect(cache.viewFor('pb').list('cluster')).toEqual([]);
  });

  it('reports a name when only a variant moved, keeps revisions that did not, and stays quiet when nothing did', () => {
    const cache = new ResourceCache();
    cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'B1', pc: 'C1' }) }]);
    const c1 = cache.viewFor('pc').get('endpoint', 's')!;
    const plain = cache.get('endpoint', 's')!;
    const changed = cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'B2', pc: 'C1' }) }]);
    expect(names(changed)).toEqual({ endpoint: ['s'] });
    expect(cache.get('endpoint', 's')).toBe(plain);
    expect(cache.viewFor('pc').get('endpoint', 's')).toBe(c1);
    expect(cache.viewFor('pb').get('endpoint', 's')!.any.toString()).toBe('B2');
    expect(cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'B2', pc: 'C1' }) }]).size).toBe(0);
    // A perspective moving to bytes another one holds reuses that revision.
    cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'C1', pc: 'C1' }) }]);
    expect(cache.viewFor('pb').get('endpoint', 's')).toBe(c1);
    // No variants any more: every perspective reads the plain resource, a change for theirs.
    expect(names(cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain') }]))).toEqual({ endpoint: ['s'] });
    expect(cache.viewFor('pb').get('endpoint', 's')).toBe(plain);
    expect(cache.variantCounts().endpoint).toEqual({ names: 0, revisions: 0 });
  });

  it('re-sends every variant after its cluster changed, variants that shared a revision sharing the new one', () => {
    const cache = new ResourceCache();
    cache.apply([
      { kind: 'cluster', name: 's', any: bytes('c1') },
      { kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'B', pc: 'B' }) },
    ]);
    const before = cache.viewFor('pb').get('endpoint', 's')!;
    cache.apply([{ kind: 'cluster', name: 's', any: bytes('c2') }]);
    const after = cache.viewFor('pb').get('endpoint', 's')!;
    expect(after.seq).toBeGreaterThan(before.seq);
    expect(after.version).toBe(before.version);
    expect(cache.viewFor('pc').get('endpoint', 's')).toBe(after);
  });

  it('forgets a perspective without reporting anything, and removal drops variants', () => {
    const cache = new ResourceCache();
    let calls = 0;
    cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'B' }) }]);
    cache.onChange(() => calls++);
    cache.forgetPerspective('pb');
    expect(calls).toBe(0);
    expect(cache.viewFor('pb').get('endpoint', 's')!.any.toString()).toBe('plain');
    cache.apply([{ kind: 'endpoint', name: 's', any: bytes('plain'), variants: variants({ pb: 'B' }) }]);
    cache.apply([{ kind: 'endpoint', name: 's', any: null }]);
    expect(cache.viewFor('pb').get('endpoint', 's')).toBeUndefined();
    expect(cache.variantCounts().endpoint.names).toBe(0);
  });
});
