// Requests as the decoders hand them to the protocol machines: only the fields Herald reads.

/** The parts of a DiscoveryRequest the protocol needs, decoded. */
export interface XdsRequest {
  versionInfo: string;
  node: NodeInfo | undefined;
  resourceNames: readonly string[];
  /**
   * The encoded resource_names fields (one contiguous run of the request's bytes), when the
   * decoder kept them: equal runs mean an equal list, so the subscription is unchanged. Unequal
   * runs say nothing (order may differ).
   */
  resourceNamesRun?: Buffer | undefined;
  typeUrl: string;
  responseNonce: string;
  errorDetail: { code: number; message: string } | undefined;
}

/** The xDS node (the client as it describes itself), not a kube node. */
export interface NodeInfo {
  id: string;
  /** node.cluster as the client sent it (an Envoy sidecar puts the service it fronts here); not a kube cluster. */
  cluster: string;
  locality: { region: string; zone: string; subZone: string } | undefined;
  userAgent: string;
  /**
   * The client's version: user_agent_build_version as "major.minor.patch" (Envoy), else the
   * user_agent_version string (gRPC); undefined when it sent neither.
   */
  userAgentVersion?: string;
  /** The node metadata Herald reads (`herald.io/namespace`, `herald.io/kube-cluster`), string values only; absent when there are none. */
  heraldMetadata?: Readonly<Record<string, string>>;
  /**
   * The services the client calls (node metadata `herald.io/dependencies`), sorted and each
   * once; absent when it declared none (it then receives the whole mesh). An empty list is a
   * declaration too: it calls nothing.
   */
  dependencies?: readonly string[];
  /** Node.client_features lists `envoy.lb.does_not_support_overprovisioning` (proxyless gRPC); absent otherwise. */
  ignoresOverprovisioning?: boolean;
}

/** The parts of a DeltaDiscoveryRequest the protocol needs, decoded. */
export interface DeltaRequest {
  node: NodeInfo | undefined;
  typeUrl: string;
  subscribe: readonly string[];
  unsubscribe: readonly string[];
  /** name → version the client already holds; honoured on the first request per type only. */
  initialVersions: Readonly<Record<string, string>>;
  responseNonce: string;
  errorDetail: { code: number; message: string } | undefined;
}
