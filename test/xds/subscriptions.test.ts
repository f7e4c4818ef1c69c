import { describe, expect, it } from 'vitest';
import { SubscriptionIndex } from '../../src/xds/protocol/subscription-index.js';

const sub = (wildcard: boolean, ...names: string[]) => ({ wildcard, names: new Set(names) });

describe('SubscriptionIndex', () => {
  it('finds streams by name and by wildcard, and follows subscription changes', () => {
    const index = new SubscriptionIndex();
    index.update('1', 'endpoint', sub(false, 'a', 'b'));
    index.update('2', 'endpoint', sub(false, 'b'));
    index.update('3', 'endpoint', sub(true));
    index.update('4', 'cluster', sub(false, 'a'));
    expect([...index.subscribers('endpoint', 'a')].sort()).toEqual(['1', '3']);
    expect([...index.subscribers('endpoint', 'b')].sort()).toEqual(['1', '2', '3']);
    expect([...index.subscribers('cluster', 'b')]).toEqual([]);

    index.update('1', 'endpoint', sub(false, 'b'));
    expect([...index.subscribers('endpoint', 'a')]).toEqual(['3']);
    index.remove('3');
    expect([...index.subscribers('endpoint', 'a')]).toEqual([]);
    expect([...index.subscribers('endpoint', 'b')].sort()).toEqual(['1', '2']);
  });

  it('groups a batch of changed names by interested stream', () => {
    const index = new SubscriptionIndex();
    index.update('1', 'endpoint', sub(false, 'a'));
    index.update('2', 'endpoint', sub(false, 'a', 'c'));
    index.update('3', 'endpoint', sub(true, 'a'));
    const got = new Map<string, readonly string[]>();
    index.forEachInterested('endpoint', new Set(['a', 'b', 'c']), (id, names) => got.set(id, names));
    expect(Object.fromEntries([...got].map(([id, names]) => [id, [...names].sort()]))).toEqual({
      '1': ['a'],
      '2': ['a', 'c'],
      '3': ['a', 'b', 'c'],
    });
  });
});

describe('SubscriptionIndex: streams grouped by their shared Set', () => {
  it('holds one group for streams sharing a Set, and forgets it with the last stream', () => {
    const index = new SubscriptionIndex();
    const shared = new Set(['a', 'b', 'c']);
    for (let id = 1; id <= 50; id++) index.update(String(id), 'endpoint', { wildcard: false, names: shared });
    index.update('other', 'endpoint', sub(false, 'c'));
    expect(index.groupCount('endpoint')).toBe(2);
    expect(index.subscribers('endpoint', 'a').size).toBe(50);
    expect(index.subscribers('endpoint', 'c').size).toBe(51);

    const visits: Array<[string, readonly string[]]> = [];
    index.forEachInterested('endpoint', new Set(['b', 'c', 'x']), (id, relevant) => visits.push([id, relevant]));
    expect(visits).toHaveLength(51);
    expect(visits.find(([id]) => id === 'other')?.[1]).toEqual(['c']);
    expect(visits.find(([id]) => id === '7')?.[1]).toEqual(['b', 'c']);

    for (let id = 1; id <= 49; id++) index.remove(String(id));
    expect(index.groupCount('endpoint')).toBe(2);
    index.update('50', 'endpoint', sub(false, 'x'));
    expect(index.groupCount('endpoint')).toBe(2);
    expect([...index.subscribers('endpoint', 'a')]).toEqual([]);
    expect([...index.subscribers('endpoint', 'x')]).toEqual(['50']);
  });
});
