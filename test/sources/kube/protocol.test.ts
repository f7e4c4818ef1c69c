import { describe, expect, it } from 'vitest';
import type { V1ContainerPort, V1Pod } from '@kubernetes/client-node';
import type { PodProtocol } from '../../../src/model/index.js';
import { isHttp2PortName, podProtocol, protocolOfAppProtocol } from '../../../src/sources/kube/protocol.js';
import { resolveEndpointPort, translatePod } from '../../../src/sources/kube/translate.js';

describe('protocolOfAppProtocol', () => {
  const cases: Array<[string, string | undefined]> = [
    ['grpc', 'HTTP/2'],
    ['GRPC', 'HTTP/2'],
    [' grpc ', 'HTTP/2'],
    ['http2', 'HTTP/2'],
    ['HTTP2', 'HTTP/2'],
    ['h2c', 'HTTP/2'],
    ['kubernetes.io/h2c', 'HTTP/2'],
    ['Kubernetes.io/H2C', 'HTTP/2'],
    ['http', 'HTTP/1.1'],
    ['HTTP/1.1', 'HTTP/1.1'],
    ['http1', 'HTTP/1.1'],
    ['kubernetes.io/ws', 'HTTP/1.1'],
    // Not understood: ignored, never guessed.
    ['kubernetes.io/wss', undefined],
    ['https', undefined],
    ['tcp', undefined],
    ['grpc-web', undefined],
    ['h2', undefined],
    ['', undefined],
    ['grcp', undefined],
  ];
  for (const [value, want] of cases) it(`${JSON.stringify(value)} → ${want ?? 'unknown'}`, () => expect(protocolOfAppProtocol(value)).toBe(want));
});

describe('isHttp2PortName', () => {
  const cases: Array<[string, boolean]> = [
    ['grpc', true],
    ['http2', true],
    ['h2c', true],
    ['GRPC', true],
    ['grpc-api', true],
    ['http2-internal', true],
    ['h2c-x', true],
    ['grpc-web', true],
    ['http', false],
    ['https', false],
    ['grpcx', false],
    ['my-grpc', false],
    ['http2x', false],
    ['grpc_', false],
    ['', false],
  ];
  for (const [name, want] of cases) it(`${JSON.stringify(name)} → ${want}`, () => expect(isHttp2PortName(name)).toBe(want));
});

describe('podProtocol', () => {
  const cases: Array<{ title: string; annotation?: string; portName?: string; want: PodProtocol }> = [
    { title: 'nothing: HTTP/1.1 by default', want: { protocol: 'HTTP/1.1', source: 'default' } },
    { title: 'port named http: default', portName: 'http', want: { protocol: 'HTTP/1.1', source: 'default' } },
    { title: 'port named grpc', portName: 'grpc', want: { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc' } },
    { title: 'Istio-style prefix', portName: 'grpc-payments', want: { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc-payments' } },
    { title: 'annotation wins over the port name', annotation: 'http', portName: 'grpc', want: { protocol: 'HTTP/1.1', source: 'annotation', detail: 'http' } },
    { title: 'annotation h2c', annotation: 'kubernetes.io/h2c', portName: 'http', want: { protocol: 'HTTP/2', source: 'annotation', detail: 'kubernetes.io/h2c' } },
    { title: 'annotation kept as written', annotation: 'GRPC', want: { protocol: 'HTTP/2', source: 'annotation', detail: 'GRPC' } },
    {
      title: 'unknown annotation: ignored with the reason, the port name decides',
      annotation: 'grpc-web',
      portName: 'grpc',
      want: { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc', ignored: expect.stringContaining('herald.io/app-protocol "grpc-web" is not one of grpc, http2') as string },
    },
    {
      title: 'unknown annotation, no port name',
      annotation: 'tcp',
      want: { protocol: 'HTTP/1.1', source: 'default', ignored: expect.stringContaining('"tcp"') as string },
    },
    { title: 'empty annotation is unknown', annotation: '', want: { protocol: 'HTTP/1.1', source: 'default', ignored: expect.stringContaining('""') as string } },
  ];
  for (const c of cases) it(c.title, () => expect(podProtocol(c.annotation, c.portName)).toStrictEqual(c.want));
});

function pod(annotations: Record<string, string>, ports: V1ContainerPort[][]): V1Pod {
  return {
    metadata: { namespace: 'shop', name: 'cart-1', uid: 'u-1', labels: { app: 'cart' }, annotations },
    spec: { containers: ports.map((p, i) => ({ name: `c${i}`, ports: p })) },
    status: { podIP: '10.0.0.5', phase: 'Running' },
  };
}

describe('the endpoint port and its name', () => {
  const cases: Array<{ title: string; annotations?: Record<string, string>; ports: V1ContainerPort[][]; defaultPort?: number; want: ReturnType<typeof resolveEndpointPort> }> = [
    { title: 'named by --port-name', ports: [[{ name: 'http', containerPort: 8080 }]], want: { port: 8080, name: 'http' } },
    {
      title: 'annotated port takes the name of the container port with that number',
      annotations: { 'herald.io/port': '50051' },
      ports: [[{ name: 'http', containerPort: 8080 }], [{ name: 'grpc', containerPort: 50051 }]],
      want: { port: 50051, name: 'grpc' },
    },
    { title: 'annotated port without a container port', annotations: { 'herald.io/port': '9000' }, ports: [[{ name: 'http', containerPort: 8080 }]], want: { port: 9000, name: undefined } },
    { title: 'annotated port whose container port has no name', annotations: { 'herald.io/port': '9000' }, ports: [[{ containerPort: 9000 }]], want: { port: 9000, name: undefined } },
    { title: 'default port named by its number', ports: [[{ name: 'h2c', containerPort: 80 }]], defaultPort: 80, want: { port: 80, name: 'h2c' } },
    { title: 'nothing', ports: [[{ containerPort: 80 }]], want: undefined },
  ];
  for (const c of cases) it(c.title, () => expect(resolveEndpointPort(pod(c.annotations ?? {}, c.ports), 'http', c.defaultPort)).toStrictEqual(c.want));
});

describe('translatePod protocol', () => {
  const options = { cluster: 'east', serviceLabel: 'app', serviceScope: 'namespace' as const, portName: 'http' };
  const cases: Array<{ title: string; annotations?: Record<string, string>; ports: V1ContainerPort[][]; portName?: string; want: PodProtocol }> = [
    { title: 'plain http port', ports: [[{ name: 'http', containerPort: 8080 }]], want: { protocol: 'HTTP/1.1', source: 'default' } },
    { title: '--port-name grpc', ports: [[{ name: 'grpc', containerPort: 50051 }]], portName: 'grpc', want: { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc' } },
    {
      title: 'herald.io/port pointing at a grpc-named port',
      annotations: { 'herald.io/port': '50051' },
      ports: [
        [
          { name: 'http', containerPort: 8080 },
          { name: 'grpc-api', containerPort: 50051 },
        ],
      ],
      want: { protocol: 'HTTP/2', source: 'port_name', detail: 'grpc-api' },
    },
    {
      title: 'a grpc port that is not the endpoint port does not count',
      ports: [
        [
          { name: 'http', containerPort: 8080 },
          { name: 'grpc', containerPort: 50051 },
        ],
      ],
      want: { protocol: 'HTTP/1.1', source: 'default' },
    },
    {
      title: 'annotation',
      annotations: { 'herald.io/app-protocol': 'grpc' },
      ports: [[{ name: 'http', containerPort: 8080 }]],
      want: { protocol: 'HTTP/2', source: 'annotation', detail: 'grpc' },
    },
    {
      title: 'unknown annotation keeps the pod, with the reason',
      annotations: { 'herald.io/app-protocol': 'quic' },
      ports: [[{ name: 'http', containerPort: 8080 }]],
      want: { protocol: 'HTTP/1.1', source: 'default', ignored: expect.stringContaining('"quic"') as string },
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const record = translatePod(pod(c.annotations ?? {}, c.ports), { ...options, portName: c.portName ?? 'http' });
      expect(record.protocol).toStrictEqual(c.want);
      expect(record.port).toBeDefined();
    });
  }
});
