import { describe, expect, it } from 'vitest';
import { SubscriptionIndex } from '../../src/xds/subscriptions.js';

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
    const got = index.interested('endpoint', new Set(['a', 'b', 'c']));
    expect(Object.fromEntries([...got].map(([id, names]) => [id, [...names].sort()]))).toEqual({
      '1': ['a'],
      '2': ['a', 'c'],
      '3': ['a', 'b', 'c'],
    });
  });
});
