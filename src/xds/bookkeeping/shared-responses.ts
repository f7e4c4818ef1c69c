import type { ResourceKind } from '../../model/index.js';
import type { CachedResource } from '../../cache/index.js';

interface Entry {
  readonly key: string;
  bytes: Buffer | undefined;
}

/**
 * Responses remembered; the stalest is dropped first. A drain adds one; a connect storm one per
 * version and, for scoped clients, one per distinct dependency set and type. The storm's streams
 * arrive with their sets interleaved, so a bound below the sets it meets makes every stream
 * encode its own first responses (at 500 sets of 20 services, ~35 KB of copying per stream).
 */
const DEFAULT_MAX_ENTRIES = 4096;
/** Encoded bytes remembered: a few large first-EDS responses of unscoped clients, or many sets' small ones. */
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Encode once for every stream: state-of-the-world responses with the same content (type,
 * version and the same resource revisions) get the same key and so the same encoded bytes, so
 * a drain fanned out to every stream is encoded once, and a replica restart encodes the large
 * first EDS response once instead of once per stream. The bytes leave the nonce out: each
 * stream appends its own (see encodeSharedResponseHead). Delta responses differ per stream and
 * are not shared.
 */
export class SharedResponses {
  private readonly entries = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();
  private lastKey = 0;
  private bytesHeld = 0;
  /**
   * The last content asked for and its entry: a fan-out asks for the same one once per stream.
   * Its entry is always the newest in `entries` (every other request replaces it), and eviction
   * keeps the newest, so it is never evicted while it is here.
   */
  private last: { kind: ResourceKind; version: string; resources: readonly CachedResource[]; entry: Entry } | undefined;

  constructor(
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** The key of the response with this content. Resource seqs are unique per revision across the cache. */
  keyFor(kind: ResourceKind, version: string, resources: readonly CachedResource[]): string {
    const last = this.last;
    if (last && last.kind === kind && last.version === version && sameRevisions(last.resources, resources)) {
      return last.entry.key;
    }
    let key = `${kind} ${version}`;
    for (const resource of resources) key += ` ${resource.seq}`;
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last, so eviction takes the stalest.
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      entry = { key: `s${++this.lastKey}`, bytes: undefined };
      this.entries.set(key, entry);
      this.byKey.set(entry.key, entry);
      this.evict();
    }
    this.last = { kind, version, resources: [...resources], entry };
    return entry.key;
  }

  /** Drops the stalest entries past either bound, keeping the newest. */
  private evict(): void {
    while (this.entries.size > 1 && (this.entries.size > this.maxEntries || this.bytesHeld > this.maxBytes)) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      this.byKey.delete(oldest.key);
      this.bytesHeld -= oldest.bytes?.length ?? 0;
    }
  }

  /** The encoded response for a key from keyFor; `encode` runs once per content while remembered. */
  bytes(key: string, encode: () => Buffer): Buffer {
    const entry = this.byKey.get(key);
    if (!entry) return encode();
    if (!entry.bytes) {
      entry.bytes = encode();
      this.bytesHeld += entry.bytes.length;
      this.evict();
    }
    return entry.bytes;
  }

  /** Encoded bytes held. */
  get bytesRemembered(): number {
    return this.bytesHeld;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The same revisions in the same order: seqs are unique per revision across the cache. */
function sameRevisions(a: readonly CachedResource[], b: readonly CachedResource[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.seq !== b[i]!.seq) return false;
  return true;
}
