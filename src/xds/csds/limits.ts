// What one CSDS client may cost Herald. CSDS answers come from anyone who can reach the xDS
// port, so every input that scales the work has a bound, and a request past one is refused
// with a status that names it.

/** The bounds of CSDS work; DEFAULT_CSDS_LIMITS holds the defaults. */
export interface CsdsLimits {
  /** Most node_matchers one request may carry (INVALID_ARGUMENT past it). */
  maxNodeMatchers: number;
  /** Longest node_id pattern (exact, prefix, suffix, contains or safe_regex), in UTF-8 bytes (INVALID_ARGUMENT past it). */
  maxPatternBytes: number;
}

export const DEFAULT_CSDS_LIMITS: Readonly<CsdsLimits> = Object.freeze({
  maxNodeMatchers: 16,
  maxPatternBytes: 1024,
});

/** Lowest value each limit may take. */
const MINIMUM: Readonly<CsdsLimits> = { maxNodeMatchers: 0, maxPatternBytes: 0 };

/** The defaults with `overrides` applied; throws RangeError for a value that is not a whole number in range. */
export function csdsLimits(overrides: Partial<CsdsLimits> = {}): CsdsLimits {
  const limits: CsdsLimits = { ...DEFAULT_CSDS_LIMITS };
  for (const key of Object.keys(DEFAULT_CSDS_LIMITS) as (keyof CsdsLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    const max = Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(value) || value < MINIMUM[key] || value > max) {
      throw new RangeError(`CSDS limit ${key} must be a whole number from ${MINIMUM[key]} to ${max}, not ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}
