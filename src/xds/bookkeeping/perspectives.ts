// The perspectives (kube cluster, zone) that connected clients declared, each held by the
// streams that declared it: the cache keeps variants for these and no others, so the table is
// bounded — a client chooses its metadata, and each distinct perspective costs a variant of
// every perspective-dependent resource.
import { DEFAULT_PERSPECTIVE, perspectiveKey, type Perspective } from '../../model/index.js';

export interface HeldPerspective {
  readonly perspective: Perspective;
  /** perspectiveKey(perspective): the key a stream reads the cache's variants under. */
  readonly key: string;
}

interface Entry extends HeldPerspective {
  holders: number;
}

/** Told when a perspective gets its first stream and when its last one goes; never of the default one. */
export interface PerspectiveEvents {
  added(held: HeldPerspective): void;
  removed(held: HeldPerspective): void;
}

/** Longest kube cluster name or zone kept from a client's Node; longer ones are cut. */
export const MAX_PERSPECTIVE_FIELD_CHARS = 128;
/** Distinct perspectives held at once by default. */
export const DEFAULT_MAX_PERSPECTIVES = 64;

/** The perspective a client's Node declares (its `herald.io/kube-cluster`, locality zone, and whether it ignores overprovisioning), fields cut to a bound. */
export function perspectiveOf(kubeCluster: string | undefined, zone: string | undefined, ignoresOverprovisioning = false): Perspective {
  const cluster = kubeCluster === undefined || kubeCluster === '' ? undefined : kubeCluster.slice(0, MAX_PERSPECTIVE_FIELD_CHARS);
  const perspective: Perspective = { kubeCluster: cluster, zone: (zone ?? '').slice(0, MAX_PERSPECTIVE_FIELD_CHARS) };
  return ignoresOverprovisioning ? { ...perspective, ignoresOverprovisioning: true } : perspective;
}

export class PerspectiveTable {
  private readonly entries = new Map<string, Entry>();
  /** Shared by every stream that declared nothing (or could not get its own): never counted, never reported. */
  private readonly fallback: Entry = { perspective: DEFAULT_PERSPECTIVE, key: '', holders: 0 };

  constructor(
    private readonly events?: PerspectiveEvents,
    private readonly max = DEFAULT_MAX_PERSPECTIVES,
    /** Called when a new perspective is turned away because the table is full. */
    private readonly refused?: (perspective: Perspective) => void,
  ) {}

  acquire(perspective: Perspective): HeldPerspective {
    const key = perspectiveKey(perspective);
    if (key === '') return this.fallback;
    const found = this.entries.get(key);
    if (found) {
      found.holders += 1;
      return found;
    }
    if (this.entries.size >= this.max) {
      // Past the bound a client gets the replica's own view: still correct endpoints, just not ordered for it.
      this.refused?.(perspective);
      return this.fallback;
    }
    const entry: Entry = { perspective, key, holders: 1 };
    this.entries.set(key, entry);
    this.events?.added(entry);
    return entry;
  }

  release(held: HeldPerspective): void {
    if (held === this.fallback) return;
    const entry = held as Entry;
    entry.holders -= 1;
    if (entry.holders !== 0 || this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.events?.removed(entry);
  }

  /** The perspectives held now (the default one is not listed). */
  held(): HeldPerspective[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }
}

/** What /debug/clients says of a stream's perspective: what it declared and which view it reads. */
export interface PerspectiveInfo {
  /** `herald.io/kube-cluster` as declared (cut to the bound); null when it declared none. */
  kubeCluster: string | null;
  /** node.locality.zone as declared; '' when it sent none. */
  zone: string;
  /** It announced that it ignores overprovisioning (proxyless gRPC): its assignments carry Herald's spill. */
  ignoresOverprovisioning: boolean;
  /** It reads the replica's own view (priorities from --local-cluster): it declared nothing, or was refused. */
  replicaView: boolean;
  /** It declared a perspective past the bound on distinct perspectives, so it reads the replica's view. */
  refused: boolean;
}

/** The perspective a stream declared and the one it holds, as /debug/clients shows them. */
export function perspectiveInfo(declared: Perspective, held: HeldPerspective): PerspectiveInfo {
  const declaredKey = perspectiveKey(declared);
  return {
    kubeCluster: declared.kubeCluster ?? null,
    zone: declared.zone,
    ignoresOverprovisioning: declared.ignoresOverprovisioning === true,
    replicaView: held.key === '',
    refused: declaredKey !== '' && held.key === '',
  };
}
