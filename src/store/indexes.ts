import { sameNamedPorts, type PodRecord } from '../model/index.js';
import { isTerminalPhase } from './health.js';
import { samePodProtocol } from './protocol.js';

/** Multimap helpers: a key disappears with its last value, so map sizes stay meaningful. */
export function addToIndex<K>(index: Map<K, Set<string>>, key: K, value: string): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(value);
}

export function removeFromIndex<K>(index: Map<K, Set<string>>, key: K, value: string): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/**
 * The IP a pod holds on the pod network. A finished pod may still report its old IP after the
 * network handed it to someone else, so it claims nothing.
 */
export function claimedIpOf(pod: PodRecord): string | undefined {
  if (pod.ip === undefined || pod.ip === '' || isTerminalPhase(pod.phase)) return undefined;
  return pod.ip;
}

export function samePod(a: PodRecord, b: PodRecord): boolean {
  return (
    a.cluster === b.cluster &&
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.uid === b.uid &&
    a.service === b.service &&
    a.ip === b.ip &&
    a.port === b.port &&
    samePodProtocol(a.protocol, b.protocol) &&
    sameNamedPorts(a.namedPorts, b.namedPorts) &&
    a.ready === b.ready &&
    a.terminating === b.terminating &&
    a.phase === b.phase &&
    a.nodeName === b.nodeName &&
    a.createdAtMs === b.createdAtMs &&
    a.gracePeriodSeconds === b.gracePeriodSeconds
  );
}
