/**
 * Parsing of the values people type on a command line: rates such as `30%`
 * or `0.3`, and durations such as `200ms`, `1.5s` or `2m`.
 *
 * @module
 */

/**
 * Parses a rate written as a percentage (`30%`) or a fraction (`0.3`) into a
 * number from 0 to 1.
 *
 * @example Usage
 * ```ts
 * import { parseRate } from "./units.ts";
 * parseRate("30%"); // 0.3
 * ```
 */
export function parseRate(text: string): number {
  const trimmed = text.trim();
  const percent = trimmed.endsWith("%");
  const body = percent ? trimmed.slice(0, -1) : trimmed;
  const value = /^\d+(\.\d+)?$|^\.\d+$/.test(body) ? Number(body) : NaN;
  const rate = percent ? value / 100 : value;
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(
      `Cannot parse rate "${text}": expected 0%..100% or 0..1`,
    );
  }
  return rate;
}

/**
 * Makes a parser of whole numbers from `min` to `max`.
 *
 * @example Usage
 * ```ts
 * import { parseInteger } from "./units.ts";
 * parseInteger(1, 10)("7"); // 7
 * ```
 */
export function parseInteger(
  min: number,
  max: number,
): (text: string) => number {
  return (text) => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new RangeError(`expected a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a duration such as `200ms`, `1.5s`, `2m` or `1h` into milliseconds.
 * A bare number is taken as milliseconds.
 *
 * @example Usage
 * ```ts
 * import { parseDuration } from "./units.ts";
 * parseDuration("1.5s"); // 1500
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    throw new RangeError(
      `Cannot parse duration "${text}": expected a number with ms, s, m or h, such as 200ms or 1.5s`,
    );
  }
  return Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"];
}

/** A closed range of milliseconds, as parsed by {@linkcode parseDurationRange}. */
export interface DurationRange {
  /** The least value, in milliseconds. */
  min: number;
  /** The greatest value, in milliseconds. */
  max: number;
}

/**
 * Parses a duration or a range of durations (`2s..8s`) into a
 * {@linkcode DurationRange}; a single duration gives a range of one value.
 *
 * @example Usage
 * ```ts
 * import { parseDurationRange } from "./units.ts";
 * parseDurationRange("2s..8s"); // { min: 2000, max: 8000 }
 * ```
 */
export function parseDurationRange(text: string): DurationRange {
  const parts = text.split("..");
  if (parts.length > 2) {
    throw new RangeError(
      `Cannot parse duration range "${text}": expected a duration or min..max, such as 2s..8s`,
    );
  }
  const min = parseDuration(parts[0]);
  const max = parts.length === 2 ? parseDuration(parts[1]) : min;
  if (max < min) {
    throw new RangeError(
      `Cannot parse duration range "${text}": the maximum is less than the minimum`,
    );
  }
  return { min, max };
}

// Kept for importers of this file; the address parsers live in `net/`.
export { parseHostPort } from "../net/host_port.ts";
export {
  type NamedAddress,
  parseNamedAddress,
  parseNamedAddressList,
} from "../net/named_address.ts";
