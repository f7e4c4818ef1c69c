// A service's upstream protocol from its pods' protocols. Pods of one service disagree for a
// while when a rollout changes the protocol; the rule below picks one deterministically and the
// result says that they disagree, so the operator can see why a cluster speaks what it speaks.
import { DEFAULT_POD_PROTOCOL, PROTOCOL_SOURCES, type PodProtocol, type ServiceProtocol, type UpstreamProtocol } from '../model/index.js';

export interface ProtocolVote {
  /** Kube cluster and pod key, for the report of ignored annotations. */
  pod: string;
  protocol: PodProtocol | undefined;
  /** The pod's endpoint is HEALTHY (Ready, not terminating). */
  ready: boolean;
}

/** How many pods with an ignored annotation a service's summary names. */
export const MAX_IGNORED_REPORTED = 5;

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The majority protocol of the service's ready pods (of all its pods when none is ready, so a
 * service whose pods are all starting or draining keeps its protocol); a tie, or no pods,
 * gives HTTP/1.1, which every HTTP server speaks first. Pure; the order of `votes` does not
 * matter.
 */
export function aggregateProtocol(votes: readonly ProtocolVote[]): ServiceProtocol {
  const readyVotes = votes.filter((v) => v.ready);
  const basisVotes = readyVotes.length > 0 ? readyVotes : votes;
  const count: Record<UpstreamProtocol, number> = { 'HTTP/1.1': 0, 'HTTP/2': 0 };
  for (const v of basisVotes) count[(v.protocol ?? DEFAULT_POD_PROTOCOL).protocol]++;
  const protocol: UpstreamProtocol = count['HTTP/2'] > count['HTTP/1.1'] ? 'HTTP/2' : 'HTTP/1.1';
  const sourcesSeen = new Set(
    basisVotes
      .map((v) => v.protocol ?? DEFAULT_POD_PROTOCOL)
      .filter((p) => p.protocol === protocol)
      .map((p) => p.source),
  );
  const seen = new Set(votes.map((v) => (v.protocol ?? DEFAULT_POD_PROTOCOL).protocol));
  const ignored = votes
    .flatMap((v) => (v.protocol?.ignored === undefined ? [] : [{ pod: v.pod, reason: v.protocol.ignored }]))
    .sort((a, b) => cmp(a.pod, b.pod))
    .slice(0, MAX_IGNORED_REPORTED);
  return {
    protocol,
    basis: readyVotes.length > 0 ? 'ready_pods' : 'all_pods',
    votes: count,
    // No pod at all: nothing said otherwise, so the default decided.
    sources: basisVotes.length === 0 ? ['default'] : PROTOCOL_SOURCES.filter((s) => sourcesSeen.has(s)),
    mixed: seen.size > 1,
    ignored,
  };
}

export function samePodProtocol(a: PodProtocol | undefined, b: PodProtocol | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.protocol === b.protocol && a.source === b.source && a.detail === b.detail && a.ignored === b.ignored;
}

export function sameServiceProtocol(a: ServiceProtocol | undefined, b: ServiceProtocol | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return (
    a.protocol === b.protocol &&
    a.basis === b.basis &&
    a.votes['HTTP/1.1'] === b.votes['HTTP/1.1'] &&
    a.votes['HTTP/2'] === b.votes['HTTP/2'] &&
    a.mixed === b.mixed &&
    a.sources.length === b.sources.length &&
    a.sources.every((s, i) => s === b.sources[i]) &&
    a.ignored.length === b.ignored.length &&
    a.ignored.every((x, i) => x.pod === b.ignored[i]?.pod && x.reason === b.ignored[i]?.reason)
  );
}
