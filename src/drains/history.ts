import type { DrainResult } from './tracker.js';

/** A finished drain as the receipts and the admin pages keep it. */
export interface DrainRecord extends DrainResult {
  /** When the drain finished (propagated or timed out), epoch ms from the daemon's clock. */
  completedAtMs: number;
  /** Node ids of the clients that never ACKed (a few), empty when complete. */
  neverAckedNodes: string[];
}

/**
 * The last few drains of each recently drained pod, for "has the mesh stopped sending to this
 * pod?" and /debug/drains?pod=. Bounded by pods (least recently drained dropped first) and by
 * drains per pod, so a long-running replica's memory does not grow with the pods it has seen.
 * Big enough by default to hold every pod of a large rolling deploy: a preStop hook that asks
 * late must still find its pod's receipt.
 */
export class DrainHistory {
  /** `cluster\npodKey` → newest last; Map order is least recently drained first. */
  private readonly pods = new Map<string, DrainRecord[]>();

  constructor(
    private readonly maxPods = 4096,
    private readonly perPod = 5,
  ) {
    if (!Number.isInteger(maxPods) || maxPods < 1 || !Number.isInteger(perPod) || perPod < 1) throw new RangeError('DrainHistory bounds must be positive integers');
  }

  record(drain: DrainRecord): void {
    const key = `${drain.cluster}\n${drain.podKey}`;
    const list = this.pods.get(key) ?? [];
    this.pods.delete(key);
    list.push(drain);
    if (list.length > this.perPod) list.splice(0, list.length - this.perPod);
    this.pods.set(key, list);
    if (this.pods.size > this.maxPods) this.pods.delete(this.pods.keys().next().value as string);
  }

  /** The pod's drains, newest first. */
  ofPod(cluster: string, podKey: string): DrainRecord[] {
    return [...(this.pods.get(`${cluster}\n${podKey}`) ?? [])].reverse();
  }

  /** Drains of any pod that had this IP, newest first (a scan: admin requests only). */
  ofIp(ip: string): DrainRecord[] {
    const found: DrainRecord[] = [];
    for (const list of this.pods.values()) for (const drain of list) if (drain.ip === ip) found.push(drain);
    return found.sort((a, b) => b.completedAtMs - a.completedAtMs);
  }

  get size(): number {
    return this.pods.size;
  }
}
