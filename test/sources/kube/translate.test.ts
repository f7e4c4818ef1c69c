import { describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ServiceScope } from '../../../src/model/index.js';
import { resolvePort, translateNode, translatePod } from '../../../src/sources/kube/translate.js';

const options = { cluster: 'east', serviceLabel: 'app', serviceScope: 'namespace' as const, portName: 'http' };

function pod(overrides: {
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: Array<Array<{ name?: string; containerPort: number }>>;
  podIP?: string;
  ready?: string;
  phase?: string;
  deletionTimestamp?: Date | string;
  deletionGracePeriodSeconds?: number;
  creationTimestamp?: Date | string;
  nodeName?: string;
}): V1Pod {
  return {
    metadata: {
      namespace: overrides.namespace ?? 'shop',
      name: 'cart-1',
      uid: 'u-1',
      labels: overrides.labels ?? { app: 'cart' },
      annotations: overrides.annotations,
      creationTimestamp: overrides.creationTimestamp as Date | undefined,
      deletionTimestamp: overrides.deletionTimestamp as Date | undefined,
      deletionGracePeriodSeconds: overrides.deletionGracePeriodSeconds,
    },
    spec: {
      nodeName: overrides.nodeName,
      containers: (overrides.ports ?? [[{ name: 'http', containerPort: 8080 }]]).map((ports, i) => ({ name: `c${i}`, ports })),
    },
    status: {
      podIP: overrides.podIP,
      phase: overrides.phase ?? 'Running',
      conditions: overrides.ready === undefined ? [] : [{ type: 'Ready', status: overrides.ready }],
    },
  };
}

describe('resolvePort', () => {
  const cases: Array<{ title: string; pod: V1Pod; defaultPort?: number; want: number | undefined }> = [
    { title: 'annotation wins over named port', pod: pod({ annotations: { 'herald.io/port': '9000' } }), want: 9000 },
    { title: 'named container port', pod: pod({}), want: 8080 },
    {
      title: 'named port in a second container',
      pod: pod({ ports: [[{ name: 'metrics', containerPort: 9100 }], [{ name: 'http', containerPort: 7070 }]] }),
      want: 7070,
    },
    { title: 'non-numeric annotation falls through', pod: pod({ annotations: { 'herald.io/port': 'http' } }), want: 8080 },
    { title: 'annotation 0 falls through', pod: pod({ annotations: { 'herald.io/port': '0' } }), want: 8080 },
    { title: 'annotation above 65535 falls through', pod: pod({ annotations: { 'herald.io/port': '70000' } }), want: 8080 },
    { title: 'fractional annotation falls through', pod: pod({ annotations: { 'herald.io/port': '80.5' } }), want: 8080 },
    { title: 'annotation 65535 is valid', pod: pod({ annotations: { 'herald.io/port': '65535' } }), want: 65535 },
    { title: 'default port when no named port', pod: pod({ ports: [[{ name: 'grpc', containerPort: 50051 }]] }), defaultPort: 80, want: 80 },
    { title: 'invalid annotation falls through to default', pod: pod({ ports: [[]], annotations: { 'herald.io/port': 'x' } }), defaultPort: 81, want: 81 },
    { title: 'nothing applies', pod: pod({ ports: [[{ containerPort: 8080 }]] }), want: undefined },
  ];
  for (const c of cases) {
    it(c.title, () => expect(resolvePort(c.pod, 'http', c.defaultPort)).toBe(c.want));
  }
});

describe('translatePod', () => {
  const cases: Array<{ title: string; pod: V1Pod; want: Partial<ReturnType<typeof translatePod>> }> = [
    {
      title: 'ready running pod',
      pod: pod({ podIP: '10.0.0.5', ready: 'True', nodeName: 'n1', creationTimestamp: new Date('2024-01-02T03:04:05Z') }),
      want: {
        service: 'cart.shop',
        serviceLabel: 'cart',
        ip: '10.0.0.5',
        port: 8080,
        ready: true,
        terminating: false,
        phase: 'Running',
        nodeName: 'n1',
        createdAtMs: Date.UTC(2024, 0, 2, 3, 4, 5),
        gracePeriodSeconds: undefined,
      },
    },
    { title: 'Ready=False is not ready', pod: pod({ podIP: '10.0.0.5', ready: 'False' }), want: { ready: false } },
    { title: 'no Ready condition is not ready', pod: pod({ podIP: '10.0.0.5' }), want: { ready: false } },
    {
      title: 'terminating keeps Ready as reported and takes the grace period',
      pod: pod({ podIP: '10.0.0.5', ready: 'True', deletionTimestamp: new Date(), deletionGracePeriodSeconds: 30 }),
      want: { ready: true, terminating: true, gracePeriodSeconds: 30 },
    },
    {
      title: 'timestamps as strings (watch events are not deserialized)',
      pod: pod({ creationTimestamp: '2024-01-02T03:04:05Z', deletionTimestamp: '2024-01-02T03:05:00Z' }),
      want: { createdAtMs: Date.UTC(2024, 0, 2, 3, 4, 5), terminating: true },
    },
    { title: 'no IP yet', pod: pod({ podIP: '' }), want: { ip: undefined } },
    { title: 'no service label', pod: pod({ labels: { other: 'x' } }), want: { service: undefined, serviceLabel: undefined } },
    { title: 'phase Succeeded is carried', pod: pod({ phase: 'Succeeded' }), want: { phase: 'Succeeded' } },
    { title: 'identity', pod: pod({}), want: { cluster: 'east', namespace: 'shop', name: 'cart-1', uid: 'u-1', createdAtMs: 0 } },
  ];
  for (const c of cases) {
    it(c.title, () => expect(translatePod(c.pod, options)).toMatchObject(c.want));
  }

  it('uses the configured service label', () => {
    const record = translatePod(pod({ labels: { 'example.com/svc': 'pay', app: 'cart' } }), { ...options, serviceLabel: 'example.com/svc' });
    expect(record.service).toBe('pay.shop');
    expect(record.serviceLabel).toBe('pay');
  });
});

describe('translatePod service names', () => {
  const label63 = `a${'b'.repeat(61)}c`;
  const namespace63 = `n${'s'.repeat(61)}x`;
  const cases: Array<{ title: string; label: string | undefined; namespace: string; scope: ServiceScope; want: string | undefined }> = [
    { title: 'label and namespace', label: 'payments', namespace: 'shop', scope: 'namespace', want: 'payments.shop' },
    { title: 'same label, other namespace: another service', label: 'payments', namespace: 'attacker', scope: 'namespace', want: 'payments.attacker' },
    { title: 'dots in the label value stay; the last dot splits', label: 'v1.payments', namespace: 'shop', scope: 'namespace', want: 'v1.payments.shop' },
    { title: 'underscores are kept', label: 'pay_ments', namespace: 'shop', scope: 'namespace', want: 'pay_ments.shop' },
    { title: 'upper case is kept, not folded into another service', label: 'Payments', namespace: 'shop', scope: 'namespace', want: 'Payments.shop' },
    { title: '63-character label value', label: label63, namespace: 'shop', scope: 'namespace', want: `${label63}.shop` },
    { title: '63-character namespace', label: 'payments', namespace: namespace63, scope: 'namespace', want: `payments.${namespace63}` },
    { title: 'both at their longest', label: label63, namespace: namespace63, scope: 'namespace', want: `${label63}.${namespace63}` },
    { title: 'no label: no service', label: undefined, namespace: 'shop', scope: 'namespace', want: undefined },
    { title: 'empty label stays empty (counted as no service)', label: '', namespace: 'shop', scope: 'namespace', want: '' },
    { title: 'no namespace: no service rather than a flat name', label: 'payments', namespace: '', scope: 'namespace', want: undefined },
    { title: 'mesh scope: the label value alone', label: 'payments', namespace: 'shop', scope: 'mesh', want: 'payments' },
    { title: 'mesh scope, other namespace: the same service', label: 'payments', namespace: 'attacker', scope: 'mesh', want: 'payments' },
    { title: 'mesh scope keeps dots', label: 'v1.payments', namespace: 'shop', scope: 'mesh', want: 'v1.payments' },
    { title: 'mesh scope, no label', label: undefined, namespace: 'shop', scope: 'mesh', want: undefined },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const labels: Record<string, string> = c.label === undefined ? {} : { app: c.label };
      const record = translatePod(pod({ labels, namespace: c.namespace }), { ...options, serviceScope: c.scope });
      expect(record.service).toBe(c.want);
      expect(record.serviceLabel).toBe(c.label);
      expect(record.namespace).toBe(c.namespace);
    });
  }

  it('a namespaced name splits back at its last dot', () => {
    for (const c of cases.filter((x) => x.scope === 'namespace' && x.want)) {
      const name = c.want!;
      const dot = name.lastIndexOf('.');
      expect([name.slice(0, dot), name.slice(dot + 1)]).toEqual([c.label, c.namespace]);
    }
  });
});

describe('translateNode', () => {
  const node = (labels: Record<string, string>): V1Node => ({ metadata: { name: 'n1', labels } });
  const cases: Array<{ title: string; node: V1Node; want: ReturnType<typeof translateNode> }> = [
    {
      title: 'region and zone',
      node: node({ 'topology.kubernetes.io/region': 'eu-west-1', 'topology.kubernetes.io/zone': 'eu-west-1a' }),
      want: { cluster: 'east', name: 'n1', region: 'eu-west-1', zone: 'eu-west-1a' },
    },
    { title: 'no topology labels', node: node({}), want: { cluster: 'east', name: 'n1', region: undefined, zone: undefined } },
    {
      title: 'legacy labels are not read',
      node: node({ 'failure-domain.beta.kubernetes.io/zone': 'z' }),
      want: { cluster: 'east', name: 'n1', region: undefined, zone: undefined },
    },
  ];
  for (const c of cases) {
    it(c.title, () => expect(translateNode(c.node, 'east')).toEqual(c.want));
  }
});
