/**
 * Client plumbing: checks of the reference clients' numeric options. Used by
 * the reference clients only; never re-exported.
 *
 * @module
 */

/** Returns `value` if it is a number of milliseconds from `min`; throws naming the option otherwise. */
export function checkMs(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(
      `Cannot use ${name} ${value}: expected a number of milliseconds from ${min}`,
    );
  }
  return value;
}

/** Returns `value` if it is a whole number from 0; throws naming the option otherwise. */
export function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot use ${name} ${value}: expected a whole number from 0`,
    );
  }
  return value;
}

/** Option `name` of `options` (`fallback` when unset), checked by {@linkcode checkMs}. */
export function msOption<K extends string>(
  options: Partial<Record<K, number>>,
  name: K,
  fallback: number,
  min: number,
): number {
  return checkMs(name, options[name] ?? fallback, min);
}

/** Option `name` of `options` (`fallback` when unset), checked by {@linkcode checkCount}. */
export function countOption<K extends string>(
  options: Partial<Record<K, number>>,
  name: K,
  fallback: number,
): number {
  return checkCount(name, options[name] ?? fallback);
}
