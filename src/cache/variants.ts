// Perspective variants of cached resources: for a name, the resource some perspectives get
// instead of the plain one (a ClusterLoadAssignment whose priorities follow the client's kube
// cluster). Variants with equal bytes are one object, so they share one seq and, downstream,
// one encoded response: a drain costs one encoding per distinct content, not per perspective.
import { contentVersion, type CachedResource } from './resource.js';

/** perspective key → the resource that perspective reads; a perspective absent reads the plain resource. */
export type VariantMap = Map<string, CachedResource>;

export interface VariantOutcome {
  /** The name's new variants; undefined when none differs from the plain resource. */
  variants: VariantMap | undefined;
  /** Whether some perspective reads other bytes or another revision than before. */
  changed: boolean;
}

/**
 * The variants a batch entry asks for, reusing every revision whose bytes did not move so that
 * a stream that holds it is not sent it again. `fresh` makes a new revision (a new seq) of
 * bytes whose content version is given.
 */
export function resolveVariants(
  wanted: ReadonlyMap<string, Buffer> | undefined,
  before: VariantMap | undefined,
  plainBefore: CachedResource | undefined,
  plain: CachedResource,
  fresh: (any: Buffer, version: string) => CachedResource,
): VariantOutcome {
  const variants: VariantMap = new Map();
  // Content version → revision, first from this batch's, then from the previous variants.
  const byVersion = new Map<string, CachedResource>();
  const reusable = new Map<string, CachedResource>();
  for (const resource of before?.values() ?? []) reusable.set(resource.version, resource);
  for (const [perspective, any] of wanted ?? []) {
    const previous = before?.get(perspective);
    let resource: CachedResource;
    if (any.equals(plain.any)) continue;
    if (previous && previous.any.equals(any)) resource = previous;
    else {
      const version = contentVersion(any);
      const known = byVersion.get(version) ?? reusable.get(version);
      resource = known && known.any.equals(any) ? known : fresh(any, version);
    }
    byVersion.set(resource.version, resource);
    variants.set(perspective, resource);
  }
  let changed = false;
  const keys = new Set([...(before?.keys() ?? []), ...variants.keys()]);
  for (const key of keys) {
    if ((before?.get(key) ?? plainBefore) !== (variants.get(key) ?? plain)) {
      changed = true;
      break;
    }
  }
  return { variants: variants.size === 0 ? undefined : variants, changed };
}
