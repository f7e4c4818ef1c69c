// Where a client stands, as far as the endpoints it should prefer go: the kube cluster it runs
// in and its zone. A ClusterLoadAssignment can differ by perspective (priorities follow the
// client's own cluster), so the cache keeps one variant per perspective whose content differs
// and every stream reads the variant of the perspective it declared on its first request.

/** What a client declared of its whereabouts; fields it did not declare are absent or ''. */
export interface Perspective {
  /** Node metadata `herald.io/kube-cluster`; undefined: the replica's `--local-cluster` stands in. */
  readonly kubeCluster: string | undefined;
  /** node.locality.zone; '' when it sent none. */
  readonly zone: string;
  /**
   * The client announced `envoy.lb.does_not_support_overprovisioning` in Node.client_features
   * (every proxyless gRPC does): it moves to the next priority only once a priority has no
   * READY host, so Herald spills traffic for it through locality weights (resources/failover.ts).
   */
  readonly ignoresOverprovisioning?: boolean;
}

/** The perspective of a client that declared nothing: it gets the replica's own view, as every client did before perspectives. */
export const DEFAULT_PERSPECTIVE: Perspective = { kubeCluster: undefined, zone: '' };

/** The key variants are stored under: '' for the default perspective, so a client that declares nothing reads the plain resource. */
export function perspectiveKey(perspective: Perspective): string {
  const ignores = perspective.ignoresOverprovisioning === true;
  if (perspective.kubeCluster === undefined && perspective.zone === '' && !ignores) return '';
  // JSON of the pair (a third element only for clients that ignore overprovisioning): unambiguous whatever characters a client put in either.
  return JSON.stringify(ignores ? [perspective.kubeCluster ?? null, perspective.zone, 'ignores-overprovisioning'] : [perspective.kubeCluster ?? null, perspective.zone]);
}
