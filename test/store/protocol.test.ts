import { describe, expect, it } from 'vitest';
import type { PodProtocol, ServiceProtocol } from '../../src/model/index.js';
import { aggregateProtocol, MAX_IGNORED_REPORTED, type ProtocolVote } from '../../src/store/protocol.js';
import { harnessPerTest } from './helpers.js';
import { pod } from './fixtures.js';

const H2: PodProtocol = { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc' };
const H2_ANNOTATED: PodProtocol = { protocol: 'HTTP/2', source: 'annotation', detail: 'grpc' };
const H1: PodProtocol = { protocol: 'HTTP/1.1', source: 'default' };

function votes(spec: string): ProtocolVote[] {
  // One letter per pod: upper case ready, lower case not; h = HTTP/2 by port name, a = HTTP/2 by
  // annotation, o = HTTP/1.1, u = no protocol recorded (HTTP/1.1).
  return [...spec].map((c, i) => {
    const protocol = { h: H2, a: H2_ANNOTATED, o: H1, u: undefined }[c.toLowerCase()];
    return { pod: `east/default/p${i}`, protocol, ready: c !== c.toLowerCase() };
  });
}

describe('aggregateProtocol', () => {
  const cases: Array<{ title: string; spec: string; want: Omit<ServiceProtocol, 'ignored'> }> = [
    { title: 'no pods: HTTP/1.1 by default', spec: '', want: { protocol: 'HTTP/1.1', basis: 'all_pods', votes: { 'HTTP/1.1': 0, 'HTTP/2': 0 }, sources: ['default'], mixed: false } },
    { title: 'all HTTP/2', spec: 'HH', want: { protocol: 'HTTP/2', basis: 'ready_pods', votes: { 'HTTP/1.1': 0, 'HTTP/2': 2 }, sources: ['port_name'], mixed: false } },
    { title: 'all HTTP/1.1', spec: 'OU', want: { protocol: 'HTTP/1.1', basis: 'ready_pods', votes: { 'HTTP/1.1': 2, 'HTTP/2': 0 }, sources: ['default'], mixed: false } },
    {
      title: 'majority of ready pods wins; not-ready pods do not vote but make it mixed',
      spec: 'HHOooo',
      want: { protocol: 'HTTP/2', basis: 'ready_pods', votes: { 'HTTP/1.1': 1, 'HTTP/2': 2 }, sources: ['port_name'], mixed: true },
    },
    { title: 'a tie goes to HTTP/1.1', spec: 'HO', want: { protocol: 'HTTP/1.1', basis: 'ready_pods', votes: { 'HTTP/1.1': 1, 'HTTP/2': 1 }, sources: ['default'], mixed: true } },
    { title: 'no ready pod: all pods vote', spec: 'hho', want: { protocol: 'HTTP/2', basis: 'all_pods', votes: { 'HTTP/1.1': 1, 'HTTP/2': 2 }, sources: ['port_name'], mixed: true } },
    {
      title: 'sources of the winning pods, in a fixed order',
      spec: 'HAO',
      want: { protocol: 'HTTP/2', basis: 'ready_pods', votes: { 'HTTP/1.1': 1, 'HTTP/2': 2 }, sources: ['annotation', 'port_name'], mixed: true },
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      expect(aggregateProtocol(votes(c.spec))).toStrictEqual({ ...c.want, ignored: [] });
      // The order of the pods does not matter.
      expect(aggregateProtocol(votes(c.spec).reverse())).toStrictEqual({ ...c.want, ignored: [] });
    });
  }

  it('names pods whose annotation was ignored, sorted and bounded', () => {
    const many: ProtocolVote[] = Array.from({ length: MAX_IGNORED_REPORTED + 3 }, (_, i) => ({
      pod: `east/default/p${9 - i}`,
      protocol: { ...H1, ignored: `bad ${9 - i}` },
      ready: true,
    }));
    const got = aggregateProtocol(many).ignored;
    expect(got).toHaveLength(MAX_IGNORED_REPORTED);
    expect(got[0]).toEqual({ pod: 'east/default/p2', reason: 'bad 2' });
    expect(got.map((x) => x.pod)).toEqual([...got.map((x) => x.pod)].sort());
  });
});

const make = harnessPerTest();

describe('EndpointStore: a service protocol', () => {
  it('carries each pod protocol on its endpoint and aggregates per service', () => {
    const h = make();
    const store = h.store;
    const flushed = (): string[][] => h.flushed();
    store.applyPod(pod({ name: 'p1', ip: '10.0.0.1', protocol: H2 }));
    store.applyPod(pod({ name: 'p2', ip: '10.0.0.2' }));
    flushed();
    const web = store.service('web');
    expect(web?.endpoints.map((e) => e.protocol)).toEqual(['HTTP/2', 'HTTP/1.1']);
    expect(web?.protocol).toMatchObject({ protocol: 'HTTP/1.1', mixed: true, votes: { 'HTTP/1.1': 1, 'HTTP/2': 1 } });
  });

  it('follows a rollout: flips once most ready pods speak HTTP/2', () => {
    const h = make();
    const store = h.store;
    const flushed = (): string[][] => h.flushed();
    store.applyPod(pod({ name: 'old-1', ip: '10.0.0.1' }));
    store.applyPod(pod({ name: 'old-2', ip: '10.0.0.2' }));
    flushed();
    store.applyPod(pod({ name: 'new-1', ip: '10.0.0.3', protocol: H2, ready: false }));
    store.applyPod(pod({ name: 'new-2', ip: '10.0.0.4', protocol: H2, ready: false }));
    expect(flushed()).toEqual([['web']]);
    expect(store.service('web')?.protocol).toMatchObject({ protocol: 'HTTP/1.1', mixed: true });
    store.applyPod(pod({ name: 'new-1', ip: '10.0.0.3', protocol: H2 }));
    store.applyPod(pod({ name: 'new-2', ip: '10.0.0.4', protocol: H2 }));
    store.applyPod(pod({ name: 'old-1', ip: '10.0.0.1', terminating: true }));
    flushed();
    expect(store.service('web')?.protocol).toMatchObject({ protocol: 'HTTP/2', basis: 'ready_pods', mixed: true, votes: { 'HTTP/1.1': 1, 'HTTP/2': 2 } });
    store.removePod('east', 'default/old-1');
    store.removePod('east', 'default/old-2');
    flushed();
    expect(store.service('web')?.protocol).toMatchObject({ protocol: 'HTTP/2', mixed: false, sources: ['port_name'] });
  });

  it('sees a protocol change of a pod that has no endpoint', () => {
    const h = make();
    const store = h.store;
    const flushed = (): string[][] => h.flushed();
    store.applyPod(pod({ name: 'p1', ready: false }));
    flushed();
    store.applyPod(pod({ name: 'p1', ready: false, protocol: H2 }));
    expect(flushed()).toEqual([['web']]);
    expect(store.service('web')?.protocol).toMatchObject({ protocol: 'HTTP/2', basis: 'all_pods' });
  });

  it('reports an ignored annotation without dropping the pod', () => {
    const h = make();
    const store = h.store;
    const flushed = (): string[][] => h.flushed();
    store.applyPod(pod({ name: 'p1', protocol: { ...H1, ignored: 'herald.io/app-protocol "quic" is not known' } }));
    flushed();
    const web = store.service('web');
    expect(web?.endpoints).toHaveLength(1);
    expect(web?.protocol?.ignored).toEqual([{ pod: 'east/default/p1', reason: 'herald.io/app-protocol "quic" is not known' }]);
  });
});
