/**
 * Small statistics for the benchmark: percentiles and ranges over runs.
 *
 * @module
 */

/** The `q` quantile (0 to 1) of sorted numbers, nearest rank. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** The smallest and largest of some numbers (NaN left out). */
export function range(values: readonly number[]): { min: number; max: number } {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0
    ? { min: NaN, max: NaN }
    : { min: Math.min(...finite), max: Math.max(...finite) };
}

/** A range as text with `digits` decimals: `0.91` or `0.88-0.93`. */
export function rangeText(
  values: readonly number[],
  digits: number,
): string {
  const { min, max } = range(values);
  if (!Number.isFinite(min)) return "-";
  const a = min.toFixed(digits);
  const b = max.toFixed(digits);
  return a === b ? a : `${a}-${b}`;
}
