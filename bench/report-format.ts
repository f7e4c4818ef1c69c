// How the report files write numbers: shared by report.ts and its scoped and zones sections.
import { percentile } from './stats.js';

/** A figure with `digits` decimals, or '—' when there is none. */
export const fmt = (value: number | null | undefined, digits = 0): string => (value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits));

/** A whole number with thousands separators. */
export const count = (n: number): string => n.toLocaleString('en-US');

export const median = (values: readonly number[]): number => percentile(values, 50);

/** Load averages (1, 5, 15 minutes) as the reports print them. */
export const loadAverages = (l: readonly number[]): string => l.map((v) => v.toFixed(1)).join(' ');
