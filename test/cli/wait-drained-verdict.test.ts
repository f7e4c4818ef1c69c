import { describe, expect, it } from 'vitest';
import { podQuery, resolveReplicas, verdict, type ReplicaAnswer } from '../../src/cli/wait-drained.js';

const r = (host: string) => ({ host, port: 18001 });

describe('verdict', () => {
  const drained = (host: string, clients: number, name?: string): ReplicaAnswer => ({
    replica: r(host),
    kind: 'answer',
    drained: true,
    body: { state: 'drained', clients, acked: clients, ...(name ? { replica: name } : {}) },
  });
  const cases: [string, ReplicaAnswer[], number, string][] = [
    [
      'every replica drained',
      [drained('10.0.0.1', 3), drained('10.0.0.2', 4)],
      0,
      'drained: pod shop/cart-1: all 2 Herald replicas report every xDS client ACKed DRAINING (7 clients in all)',
    ],
    [
      'one still draining, one unreachable',
      [
        drained('10.0.0.1', 3),
        { replica: r('10.0.0.2'), kind: 'answer', drained: false, body: { replica: 'herald-b', state: 'draining', clients: 4, acked: 2, gone: 1, waitingFor: ['envoy-9'] } },
        { replica: r('fd00::3'), kind: 'error', message: 'unreachable (ECONNREFUSED)', final: false },
      ],
      1,
      'not drained after 2.5s: pod shop/cart-1: 2/3 replicas do not agree: 10.0.0.2:18001 (herald-b): draining, 2/4 clients ACKed, 1 gone, never ACKed: envoy-9; [fd00::3]:18001: unreachable (ECONNREFUSED)',
    ],
    ['no replica', [], 1, 'not drained: pod shop/cart-1: no Herald replica to ask'],
  ];
  for (const [name, answers, code, line] of cases) {
    it(name, () => expect(verdict('pod shop/cart-1', answers, 2_480)).toEqual({ code, line }));
  }
});

describe('podQuery', () => {
  it.each([
    [{ namespace: 'shop', pod: 'cart-1' }, 'namespace=shop&name=cart-1', 'pod shop/cart-1'],
    [{ cluster: 'dc1', ip: '10.1.2.3' }, 'cluster=dc1&ip=10.1.2.3', 'pod 10.1.2.3 (cluster dc1)'],
  ])('%o', (args, query, label) => {
    const got = podQuery(args);
    expect([got.query.toString(), got.label]).toEqual([query, label]);
  });
  it.each([
    [{ pod: 'cart-1' }, /--pod needs --namespace/],
    [{}, /name the pod/],
    [{ ip: '10.1.2' }, /not an IP/],
  ])('refuses %o', (args, message) => expect(() => podQuery(args)).toThrow(message));
});

describe('resolveReplicas', () => {
  it('takes an IP as is and resolves a name to all its addresses', async () => {
    expect(await resolveReplicas('10.0.0.5', 18001)).toEqual([r('10.0.0.5')]);
    const local = await resolveReplicas('localhost', 18001);
    expect(local.length).toBeGreaterThan(0);
    expect(local.every((x) => x.host === '127.0.0.1' || x.host === '::1')).toBe(true);
  });
});
