// The HTTP protocol a service's Envoy cluster speaks to its endpoints, decided per pod by a
// source and per service by the store. Only the types and their display names live here.

/** What an Envoy cluster speaks upstream. HTTP/1.1 is Envoy's default and needs no option. */
export type UpstreamProtocol = 'HTTP/1.1' | 'HTTP/2';

/**
 * Where a pod's protocol came from: the `herald.io/app-protocol` annotation, the name of the
 * container port its endpoint port is, or neither (HTTP/1.1).
 */
export type ProtocolSource = 'annotation' | 'port_name' | 'default';

export const PROTOCOL_SOURCES: readonly ProtocolSource[] = ['annotation', 'port_name', 'default'];

/** One pod's protocol as its source decided it. */
export interface PodProtocol {
  protocol: UpstreamProtocol;
  source: ProtocolSource;
  /** The annotation value or the port name that decided it, as written; absent for `default`. */
  detail?: string;
  /** Why a `herald.io/app-protocol` annotation present on the pod was not used. */
  ignored?: string;
}

/** Which pods decided a service's protocol: its ready ones, or all when none is ready. */
export type ProtocolBasis = 'ready_pods' | 'all_pods';

/** A service's protocol, aggregated from its pods by the store. */
export interface ServiceProtocol {
  protocol: UpstreamProtocol;
  basis: ProtocolBasis;
  /** Pods of the basis per protocol. */
  votes: Record<UpstreamProtocol, number>;
  /** Sources of the basis pods that chose `protocol`, in PROTOCOL_SOURCES order. */
  sources: ProtocolSource[];
  /** Pods of the service (any state) disagree on the protocol, as during a rollout that changes it. */
  mixed: boolean;
  /** Pods whose `herald.io/app-protocol` annotation was ignored, and why; sorted, at most a few. */
  ignored: Array<{ pod: string; reason: string }>;
}

/** What a service is when nothing says otherwise, and what a pod without a protocol counts as. */
export const DEFAULT_POD_PROTOCOL: PodProtocol = { protocol: 'HTTP/1.1', source: 'default' };
