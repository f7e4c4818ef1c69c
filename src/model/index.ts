// Types shared by every pipeline stage. Nothing here has behaviour beyond tiny helpers.
import type { PodProtocol, ServiceProtocol, UpstreamProtocol } from './protocol.js';
import type { NamedPorts } from './named-ports.js';

/** Envoy's HealthStatus values that Herald emits. */
export type EndpointHealth = 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';

/**
 * A pod as a source saw it, reduced to what Herald needs. Sources produce these from
 * Kubernetes objects (or simulations); the store decides what they mean for the mesh.
 */
export interface PodRecord {
  /** Herald's name for the Kubernetes cluster the pod lives in. */
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  /**
   * Name of the pod's service as Herald serves it (see serviceName: `<label value>.<namespace>`
   * by default); undefined when the pod has no service label.
   */
  service: string | undefined;
  /** Value of the service label as written on the pod, when it differs from `service`. */
  serviceLabel?: string | undefined;
  /** Primary pod IP; undefined until the kubelet reports one. */
  ip: string | undefined;
  /** Endpoint port resolved from annotation, named container port or default. */
  port: number | undefined;
  /** The HTTP protocol the pod's endpoint speaks (annotation or port name); absent = HTTP/1.1 by default. */
  protocol?: PodProtocol | undefined;
  /** The pod's named TCP container ports (bounded, see NamedPorts); absent when it names none. */
  namedPorts?: NamedPorts | undefined;
  ready: boolean;
  /** deletionTimestamp is set: the pod is on its way out. */
  terminating: boolean;
  /** Pending, Running, Succeeded, Failed or Unknown. */
  phase: string;
  nodeName: string | undefined;
  /** creationTimestamp in epoch milliseconds (0 when unknown). */
  createdAtMs: number;
  /** deletionGracePeriodSeconds, when terminating. */
  gracePeriodSeconds: number | undefined;
}

/** A kube node (for the zone of its pods), not an xDS node. */
export interface NodeRecord {
  /** The kube cluster it belongs to. */
  cluster: string;
  name: string;
  region: string | undefined;
  zone: string | undefined;
}

/** Key of a pod within one Kubernetes cluster. */
export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** One endpoint of a service, as the store decided it should appear in the mesh. */
export interface EndpointRecord {
  /** The kube cluster of the pod (not an Envoy cluster: that is the service). */
  cluster: string;
  podKey: string;
  ip: string;
  port: number;
  health: EndpointHealth;
  region: string | undefined;
  zone: string | undefined;
  /** When the store first saw this pod terminating (ms, from the injected clock). */
  drainingSinceMs: number | undefined;
  /** The pod's upstream protocol; absent = HTTP/1.1. */
  protocol?: UpstreamProtocol | undefined;
  /** Set on a DRAINING endpoint whose pod still reports Ready: it may serve while nothing else can. */
  servingWhileTerminating?: true;
  /** The pod's named container ports (its PodRecord's object, shared); absent when it names none. */
  namedPorts?: NamedPorts | undefined;
}

/** Everything the mesh should know of one service, in a stable order. */
export interface ServiceEndpoints {
  service: string;
  /** The service label value its pods carry. */
  label: string;
  /** Namespaces of its pods, sorted: one in namespace scope, possibly several in mesh scope. */
  namespaces: string[];
  /** Sorted by cluster, zone, ip, port so identical state encodes to identical bytes. */
  endpoints: EndpointRecord[];
  /** Pods of the service known to the store, including those left out of `endpoints`. */
  podCount: number;
  /** The protocol its Envoy cluster speaks upstream, from its pods; absent = HTTP/1.1. */
  protocol?: ServiceProtocol | undefined;
}

export type ClusterSyncState = 'syncing' | 'synced' | 'unreachable';

export interface ClusterStatus {
  /** A kube cluster Herald watches. */
  cluster: string;
  state: ClusterSyncState;
  /** Has the cluster ever completed an initial list? */
  everSynced: boolean;
  lastError: string | undefined;
  lastChangeMs: number;
  /** The namespaces whose pods are watched, when limited (--namespace); absent = every namespace. */
  namespaces?: string[];
}

export { MAX_NAMED_PORTS, PORT_NAME_MAX_LENGTH, PORT_NAME_PATTERN, namedPort, sameNamedPorts, type NamedPorts } from './named-ports.js';
export { DEFAULT_POD_PROTOCOL, PROTOCOL_SOURCES, type PodProtocol, type ProtocolBasis, type ProtocolSource, type ServiceProtocol, type UpstreamProtocol } from './protocol.js';
export { serviceName, SERVICE_SCOPES, type ServiceScope } from './service-name.js';
export { KINDS, kindOfTypeUrl, messageName, perKind, PUSH_ORDER, RESOURCE_KINDS, TYPE_URLS, type ResourceKind, type ResourceKindSpec } from './kinds.js';

/** Monotonic-enough wall clock in ms, injectable for tests. */
export type Clock = () => number;
export const systemClock: Clock = () => performance.timeOrigin + performance.now();
export { ENVOY_SUPPORT_VALUES, envoySupport, MIN_ENVOY_VERSION, parseVersion, type EnvoySupport } from './client-version.js';
export { declaredDependencies, DEPENDENCIES_METADATA, egressRouteName, KUBE_CLUSTER_METADATA, NAMESPACE_METADATA } from './node-metadata.js';
export {
  LB_POLICIES,
  type AcceptedCondition,
  POLICY_SECTIONS,
  statisticalEjections,
  type CircuitBreakersPolicy,
  type ConnectionPolicy,
  type HealthCheckPolicy,
  type LbPolicyName,
  type LoadBalancingPolicy,
  type OutlierDetectionPolicy,
  type PolicyObject,
  type PolicySection,
  type ServicePolicySpec,
  GRPC_RETRY_CONDITIONS,
  HTTP_RETRY_CONDITIONS,
  RETRY_CONDITIONS,
  type RetriesPolicy,
  type RetryBackoffPolicy,
  type RetryCondition,
  type RoutesPolicy,
  type SplitBackend,
  TERMINATING_FALLBACKS,
  DEFAULT_TERMINATING_FALLBACK,
  EVACUATE_MODES,
  type EvacuateMode,
  ZONE_PREFERENCES,
  type LocalityPolicy,
  type TerminatingFallback,
  type ZonePreference,
} from './policy.js';
export { DEFAULT_PERSPECTIVE, perspectiveKey, type Perspective } from './perspective.js';
