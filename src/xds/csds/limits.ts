// What one CSDS client may cost Herald. CSDS answers come from anyone who can reach the xDS
// port, so every input that scales the work (matchers, patterns, the clients selected, callers
// at once) has a bound, and a request past one is refused with a status that names it.

/** The bounds of CSDS work; DEFAULT_CSDS_LIMITS holds the defaults. */
export interface CsdsLimits {
  /** Most node_matchers one request may carry (INVALID_ARGUMENT past it). */
  maxNodeMatchers: number;
  /** Longest node_id pattern (exact, prefix, suffix, contains or safe_regex), in UTF-8 bytes (INVALID_ARGUMENT past it). */
  maxPatternBytes: number;
  /** Largest ClientStatusResponse, in bytes: past it the build stops with RESOURCE_EXHAUSTED. */
  maxResponseBytes: number;
  /** Answers built at the same time. */
  maxConcurrent: number;
  /** Requests waiting for a build to finish; one more is refused with RESOURCE_EXHAUSTED. */
  maxQueued: number;
  /** How long a build runs before it lets the event loop turn, in milliseconds. */
  sliceMs: number;
}

export const DEFAULT_CSDS_LIMITS: Readonly<CsdsLimits> = Object.freeze({
  maxNodeMatchers: 16,
  maxPatternBytes: 1024,
  // Room for every client of a large mesh; a caller must raise its receive limit (gRPC's default is 4 MiB) to take that much.
  maxResponseBytes: 64 * 1024 * 1024,
  maxConcurrent: 2,
  maxQueued: 16,
  sliceMs: 2,
});

/** Lowest value each limit may take; a limit of 0 builds would refuse every request. */
const MINIMUM: Readonly<CsdsLimits> = { maxNodeMatchers: 0, maxPatternBytes: 0, maxResponseBytes: 0, maxConcurrent: 1, maxQueued: 0, sliceMs: 0 };

/** The defaults with `overrides` applied; throws RangeError for a value that is not a whole number in range. */
export function csdsLimits(overrides: Partial<CsdsLimits> = {}): CsdsLimits {
  const limits: CsdsLimits = { ...DEFAULT_CSDS_LIMITS };
  for (const key of Object.keys(DEFAULT_CSDS_LIMITS) as (keyof CsdsLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    // A response over 2 GiB could not be one Buffer, nor one gRPC message.
    const max = key === 'maxResponseBytes' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(value) || value < MINIMUM[key] || value > max) {
      throw new RangeError(`CSDS limit ${key} must be a whole number from ${MINIMUM[key]} to ${max}, not ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}
