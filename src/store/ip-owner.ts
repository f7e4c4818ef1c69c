/** What the ownership rule needs to know about one pod claiming an IP. */
export interface IpClaim {
  podKey: string;
  terminating: boolean;
  createdAtMs: number;
  /** Store-local sequence number of when this pod started claiming the IP. */
  claimSeq: number;
}

/**
 * The one pod that owns an IP inside a Kubernetes cluster. A pod that is not terminating
 * beats one that is (a terminating pod whose IP was reused is already gone from the network's
 * point of view); then the newest creation; then whoever claimed the IP last in this store.
 * The result depends only on the claims, never on the order they arrived in.
 */
export function pickIpOwner(claims: Iterable<IpClaim>): string | undefined {
  let best: IpClaim | undefined;
  for (const claim of claims) {
    if (best === undefined || beats(claim, best)) best = claim;
  }
  return best?.podKey;
}

function beats(a: IpClaim, b: IpClaim): boolean {
  if (a.terminating !== b.terminating) return !a.terminating;
  if (a.createdAtMs !== b.createdAtMs) return a.createdAtMs > b.createdAtMs;
  if (a.claimSeq !== b.claimSeq) return a.claimSeq > b.claimSeq;
  return a.podKey > b.podKey;
}
