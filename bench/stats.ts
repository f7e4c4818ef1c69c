/** Nearest-rank percentile of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  // maxOf, not Math.max(...values): a scoped point pools ~200,000 samples, past the argument limit.
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? maxOf(values) : Number.NaN };
}

export function maxOf(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  return max;
}

/**
 * What `percentile(values, 99)` of `count` values is, for a header or an axis: a p99 from 100
 * values up; below that nearest rank makes it the largest value, so it is called that.
 *   tailLabel(5, 'drain') → 'max of 5 drains'; tailLabel(100, 'drain') → 'p99'
 */
export function tailLabel(count: number, noun: string): string {
  return count >= 100 ? 'p99' : `max of ${count} ${count === 1 ? noun : `${noun}s`}`;
}
