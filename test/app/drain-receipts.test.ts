import { describe, expect, it } from 'vitest';
import { DrainReceipts } from '../../src/app/drain-receipts.js';
import { DrainHistory, type DrainRecord, type PendingDrain } from '../../src/drains/index.js';
import type { StoredPod } from '../../src/store/index.js';

const pod = (over: Partial<StoredPod> = {}): StoredPod => ({
  cluster: 'a',
  podKey: 'shop/cart-1',
  uid: 'u1',
  ip: '10.0.0.1',
  terminating: true,
  terminatingSinceMs: 1_000,
  inMesh: true,
  gracePeriodSeconds: 30,
  ...over,
});

const record = (over: Partial<DrainRecord> = {}): DrainRecord => ({
  service: 'cart.shop',
  cluster: 'a',
  podKey: 'shop/cart-1',
  ip: '10.0.0.1',
  port: 80,
  seq: 3,
  observedAtMs: 1_000,
  clients: 2,
  sent: 2,
  acked: 2,
  gone: 0,
  deliveredSeconds: 0,
  propagationSeconds: 0.01,
  complete: true,
  completedAtMs: 1_010,
  neverAckedNodes: [],
  ...over,
});

function setup(pods: StoredPod[], pending: PendingDrain[] = [], fallback: readonly string[] = []) {
  const history = new DrainHistory();
  const receipts = new DrainReceipts({
    store: {
      pod: (cluster, key) => pods.find((p) => p.cluster === cluster && p.podKey === key),
      podsWithIp: (ip) => pods.filter((p) => p.ip === ip),
    },
    tracker: { pending: () => pending, waitingOn: () => ['7'] },
    history,
    clusters: () => ['a', 'b'],
    nodeIdOf: (id) => (id === '7' ? 'envoy-7' : undefined),
    replica: 'herald-0',
    servedByFallback: (cluster, key) => fallback.includes(`${cluster}/${key}`),
    recheckMs: 10_000,
  });
  return { receipts, history, pending };
}

describe('DrainReceipts', () => {
  it('says a terminating pod the terminating fallback serves is not drained, and waiting does not end it', async () => {
    const { receipts } = setup([pod(), pod({ podKey: 'shop/cart-2', ip: '10.0.0.2' })], [], ['a/shop/cart-1']);
    expect(receipts.status({ namespace: 'shop', name: 'cart-1' })).toMatchObject({ state: 'fallback', drained: false, clients: 0 });
    expect(receipts.status({ namespace: 'shop', name: 'cart-2' })).toMatchObject({ state: 'draining' });
    const answer = await receipts.wait({ namespace: 'shop', name: 'cart-1' }, 0, new AbortController().signal);
    expect(answer).toMatchObject({ drained: false, final: false, body: { state: 'fallback' } });
  });

  it('names who a drain in flight waits on, by node id', () => {
    const { receipts } = setup([pod()], [{ ...record(), clients: 2, sent: 2, acked: 1, gone: 0, ageSeconds: 1 }]);
    expect(receipts.status({ namespace: 'shop', name: 'cart-1' })).toMatchObject({ state: 'draining', acked: 1, waitingFor: ['envoy-7'] });
  });

  it('asks for the cluster when two clusters have the pod, and refuses a cluster it does not watch', () => {
    const { receipts } = setup([pod(), pod({ cluster: 'b' })]);
    expect(receipts.status({ namespace: 'shop', name: 'cart-1' })).toEqual({ error: '2 pods match (in a, b): name the cluster' });
    expect(receipts.status({ cluster: 'b', namespace: 'shop', name: 'cart-1' })).toMatchObject({ state: 'draining', cluster: 'b' });
    expect(receipts.status({ cluster: 'z', ip: '10.0.0.1' })).toEqual({ error: "cluster: this replica does not watch 'z'" });
  });

  it('wakes a waiter when its pod finishes draining, not when another does', async () => {
    const { receipts, history } = setup([pod()]);
    const waiting = receipts.wait({ ip: '10.0.0.1' }, 30_000, new AbortController().signal);
    const other = record({ podKey: 'shop/other', ip: '10.0.0.9' });
    history.record(other);
    receipts.finished(other);
    const done = record();
    history.record(done);
    receipts.finished(done);
    expect(await waiting).toEqual({ drained: true, final: true, body: expect.objectContaining({ replica: 'herald-0', state: 'drained', acked: 2 }) });
  });

  it('answers at once when settled or not asked to wait, and when the caller goes away', async () => {
    const { receipts, history } = setup([pod({ inMesh: false })]);
    expect(await receipts.wait({ namespace: 'shop', name: 'cart-1' }, 30_000, new AbortController().signal)).toMatchObject({ drained: true, final: true });
    history.record(record({ podKey: 'shop/cart-2', ip: '10.0.0.2', complete: false, neverAckedNodes: ['x'] }));
    expect(await receipts.wait({ ip: '10.0.0.2' }, 30_000, new AbortController().signal)).toMatchObject({ drained: false, final: true, body: { state: 'incomplete', waitingFor: ['x'] } });
    const gone = new AbortController();
    const waiting = receipts.wait({ ip: '10.0.0.3' }, 30_000, gone.signal);
    gone.abort();
    expect(await waiting).toMatchObject({ drained: false, final: false, body: { state: 'unknown' } });
  });
});
