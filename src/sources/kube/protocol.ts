// A pod's upstream protocol (HTTP/1.1 or HTTP/2), from what Kubernetes lets a pod say about it.
// Herald indexes pods, not Services, so a Service's `appProtocol` is out of reach: the pod
// carries the same value in an annotation, or names its port the way Istio reads port names.
import type { PodProtocol, UpstreamProtocol } from '../../model/index.js';

export const APP_PROTOCOL_ANNOTATION = 'herald.io/app-protocol';

/**
 * The annotation values Herald understands, compared lower-cased and trimmed: Kubernetes'
 * appProtocol spellings of HTTP/2 cleartext and gRPC, and of plain HTTP/1.1 (WebSocket is an
 * HTTP/1.1 upgrade). Anything else (TLS protocols, tcp, grpc-web, typos) is ignored rather than
 * guessed, because a wrong guess breaks every call to the service.
 */
const APP_PROTOCOLS: ReadonlyMap<string, UpstreamProtocol> = new Map([
  ['grpc', 'HTTP/2'],
  ['http2', 'HTTP/2'],
  ['h2c', 'HTTP/2'],
  ['kubernetes.io/h2c', 'HTTP/2'],
  ['http', 'HTTP/1.1'],
  ['http/1.1', 'HTTP/1.1'],
  ['http1', 'HTTP/1.1'],
  ['kubernetes.io/ws', 'HTTP/1.1'],
]);

export const APP_PROTOCOL_VALUES: readonly string[] = [...APP_PROTOCOLS.keys()];

/** Port names (or name prefixes before a dash, Istio's `grpc-api` style) that mean HTTP/2. */
const HTTP2_PORT_NAMES: readonly string[] = ['grpc', 'http2', 'h2c'];

/** The protocol an appProtocol value names, or undefined when Herald does not know it. */
export function protocolOfAppProtocol(value: string): UpstreamProtocol | undefined {
  return APP_PROTOCOLS.get(value.trim().toLowerCase());
}

/** True when a container port name says HTTP/2: `grpc`, `http2`, `h2c`, or one of them then `-…`. */
export function isHttp2PortName(name: string): boolean {
  const lower = name.toLowerCase();
  return HTTP2_PORT_NAMES.some((prefix) => lower === prefix || lower.startsWith(`${prefix}-`));
}

/**
 * A pod's protocol, first that applies: a known `herald.io/app-protocol` annotation; the name of
 * the container port its endpoint port is, when that name says HTTP/2; HTTP/1.1. An unknown
 * annotation value is reported in `ignored` and the rules below it apply: the pod stays in the
 * mesh, as with a malformed `herald.io/port`.
 */
export function podProtocol(annotation: string | undefined, portName: string | undefined): PodProtocol {
  let ignored: string | undefined;
  if (annotation !== undefined) {
    const protocol = protocolOfAppProtocol(annotation);
    if (protocol !== undefined) return { protocol, source: 'annotation', detail: annotation };
    ignored = `${APP_PROTOCOL_ANNOTATION} ${JSON.stringify(annotation)} is not one of ${APP_PROTOCOL_VALUES.join(', ')}`;
  }
  const decided: PodProtocol =
    portName !== undefined && isHttp2PortName(portName) ? { protocol: 'HTTP/2', source: 'port_name', detail: portName } : { protocol: 'HTTP/1.1', source: 'default' };
  return ignored === undefined ? decided : { ...decided, ignored };
}
