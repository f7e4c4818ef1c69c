import { describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ServiceScope } from '../../../src/model/index.js';
import { namedPortsOf, resolvePort, translateNode, translatePod } from '../../../src/sources/kube/translate.js';
import { MAX_NAMED_PORTS } from '../../../src/model/index.js';

const options = { cluster: 'east', serviceLabel: 'app', serviceScope: 'namespace' as const, portName: 'http' };

function pod(overrides: {
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: Array<Array<{ name?: string; containerPort: number; protocol?: string }>>;
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

describe('namedPortsOf (healthCheck.portName resolves against these)', () => {
  const many = Array.from({ length: MAX_NAMED_PORTS + 4 }, (_, i) => ({ name: `p${i}`, containerPort: 9000 + i }));
  const cases: Array<{ title: string; ports: Array<Array<{ name?: string; containerPort: number; protocol?: string }>>; want: Record<string, number> | undefined }> = [
    { title: 'no container port: nothing', ports: [[]], want: undefined },
    { title: 'only unnamed ports: nothing', ports: [[{ containerPort: 8080 }]], want: undefined },
    { title: 'one named port', ports: [[{ name: 'http', containerPort: 8080 }]], want: { http: 8080 } },
    {
      title: 'names across containers, in container order',
      ports: [[{ name: 'http', containerPort: 8080 }, { containerPort: 7000 }], [{ name: 'health', containerPort: 8081 }]],
      want: { http: 8080, health: 8081 },
    },
    {
      title: 'a name twice: the first wins, as for --port-name',
      ports: [[{ name: 'health', containerPort: 8081 }], [{ name: 'health', containerPort: 9091 }]],
      want: { health: 8081 },
    },
    { title: 'explicit TCP is kept', ports: [[{ name: 'health', containerPort: 8081, protocol: 'TCP' }]], want: { health: 8081 } },
    {
      title: 'UDP and SCTP ports are left out (Envoy checks over TCP)',
      ports: [
        [
          { name: 'dns', containerPort: 53, protocol: 'UDP' },
          { name: 'sig', containerPort: 3868, protocol: 'SCTP' },
          { name: 'http', containerPort: 8080 },
        ],
      ],
      want: { http: 8080 },
    },
    {
      title: 'names Kubernetes would not allow are left out, the rest kept',
      ports: [['Health', 'a--b', '-a', '1234', 'abcdefghijklmnop', '__proto__', '', 'abcdefghijklmno', '8-a'].map((name, i) => ({ name, containerPort: i + 1 }))],
      want: { abcdefghijklmno: 8, '8-a': 9 },
    },
    {
      title: 'ports outside 1..65535 are left out',
      ports: [Object.entries({ zero: 0, big: 70000, half: 80.5, ok: 65535 }).map(([name, containerPort]) => ({ name, containerPort }))],
      want: { ok: 65535 },
    },
    { title: 'a name Object.prototype has is an ordinary name', ports: [[{ name: 'constructor', containerPort: 8081 }]], want: { constructor: 8081 } },
    {
      title: `at most ${MAX_NAMED_PORTS} names, the first ones`,
      ports: [many],
      want: Object.fromEntries(many.slice(0, MAX_NAMED_PORTS).map((p) => [p.name, p.containerPort])),
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const got = namedPortsOf(pod({ ports: c.ports }));
      expect(got).toEqual(c.want);
      // The order is the pod's container order (the debug pages show it).
      if (c.want !== undefined) expect(Object.keys(got!)).toEqual(Object.keys(c.want));
    });
  }

  it('translatePod carries them, frozen, and leaves the field out when there are none', () => {
    const named = translatePod(
      pod({
        podIP: '10.0.0.1',
        ports: [
          [
            { name: 'http', containerPort: 8080 },
            { name: 'health', containerPort: 8081 },
          ],
        ],
      }),
      options,
    );
    expect(named.namedPorts).toEqual({ http: 8080, health: 8081 });
    expect(Object.isFrozen(named.namedPorts)).toBe(true);
    const none = translatePod(pod({ podIP: '10.0.0.1', annotations: { 'herald.io/port': '8080' }, ports: [[{ containerPort: 8080 }]] }), options);
    expect('namedPorts' in none).toBe(false);
  });

  it('a pod naming too many ports loses nothing else', () => {
    const odd = translatePod(pod({ podIP: '10.0.0.1', ready: 'True', ports: [many, [{ name: 'http', containerPort: 8080 }]] }), options);
    expect(odd).toMatchObject({ port: 8080, ip: '10.0.0.1', ready: true, service: 'cart.shop' });
    expect(Object.keys(odd.namedPorts!)).toHaveLength(MAX_NAMED_PORTS);
    expect(odd.namedPorts!.http).toBeUndefined();
  });
});
