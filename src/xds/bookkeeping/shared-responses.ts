import type { ResourceKind } from '../../model/index.js';
import type { CachedResource } from '../../cache/index.js';

interface Entry {
  readonly nonce: string;
  bytes: Buffer | undefined;
}

/** Responses remembered; the oldest is dropped first. A drain adds one, a connect storm one per version. */
const DEFAULT_MAX_ENTRIES = 64;
/** Encoded bytes remembered: a few large first-EDS responses and many small ones. */
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Encode once for every stream: state-of-the-world responses with the same content (type,
 * version and the same resource revisions) get the same nonce and the same encoded bytes, so a
 * drain fanned out to every stream is encoded once, and a replica restart encodes the large
 * first EDS response once instead of once per stream.
 *
 * A nonce only has to tell one stream's responses apart. Every distinct content gets a fresh
 * number, so two different responses on a stream never share one; a stream sent the very same
 * content twice may see its nonce again, which is harmless because the two responses are
 * identical. Delta responses differ per stream and keep their own nonces.
 */
export class SharedResponses {
  private readonly entries = new Map<string, Entry>();
  private readonly byNonce = new Map<string, Entry>();
  private lastNonce = 0;
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

  /** The nonce of the response with this content. Resource seqs are unique per revision across the cache. */
  nonceFor(kind: ResourceKind, version: string, resources: readonly CachedResource[]): string {
    const last = this.last;
    if (last && last.kind === kind && last.version === version && sameRevisions(last.resources, resources)) {
      return last.entry.nonce;
    }
    let key = `${kind} ${version}`;
    for (const resource of resources) key += ` ${resource.seq}`;
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last, so eviction takes the stalest.
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      entry = { nonce: `s${++this.lastNonce}`, bytes: undefined };
      this.entries.set(key, entry);
      this.byNonce.set(entry.nonce, entry);
      this.evict();
    }
    this.last = { kind, version, resources: [...resources], entry };
    return entry.nonce;
  }

  /** Drops the stalest entries past either bound, keeping the newest. */
  private evict(): void {
    while (this.entries.size > 1 && (this.entries.size > this.maxEntries || this.bytesHeld > this.maxBytes)) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      this.byNonce.delete(oldest.nonce);
      this.bytesHeld -= oldest.bytes?.length ?? 0;
    }
  }

  /** The encoded response for a nonce from nonceFor; `encode` runs once per content while remembered. */
  bytes(nonce: string, encode: () => Buffer): Buffer {
    const entry = this.byNonce.get(nonce);
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
