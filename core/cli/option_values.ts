/**
 * Schemas of option values that a server's command line and the lab's
 * topology file share: a TCP port, one of a list of names, and a period
 * given as milliseconds, a duration (`"5s"`) or a seeded range (`"2s..8s"`).
 *
 * @module
 */
import { z } from "zod";
import { type DurationRange, parseDurationRange } from "../units/units.ts";

/** A TCP port; 0 picks a free one. */
export const PortSchema: z.ZodNumber = z.number().int().min(0).max(65535);

/**
 * One of the names given (a mode), refused with `expected one of a, b, c`.
 *
 * @example Usage
 * ```ts
 * import { oneOfSchema } from "./option_values.ts";
 * oneOfSchema(["read", "no-read"] as const).parse("read");
 * ```
 */
export function oneOfSchema<T extends string>(
  names: readonly T[],
): z.ZodType<T> {
  return z.enum(names as [T, ...T[]], {
    error: `expected one of ${names.join(", ")}`,
  });
}

/** Milliseconds, a duration (`"5s"`) or a seeded range (`"2s..8s"`), at least 1 ms. */
export const DurationRangeSchema: z.ZodType<DurationRange, number | string> = z
  .union([z.number(), z.string()]).transform(
    (value, ctx) => {
      if (typeof value === "number") {
        if (value >= 1) return { min: value, max: value };
        ctx.addIssue({
          code: "custom",
          message: `Invalid period ${value}: expected at least 1 (ms)`,
        });
        return z.NEVER;
      }
      try {
        const range = parseDurationRange(value);
        if (range.min >= 1) return range;
        throw new RangeError(
          `Cannot use period "${value}": expected at least 1ms`,
        );
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    },
  ).describe('Milliseconds, a duration ("5s") or a seeded range ("2s..8s")');
