/**
 * Reading the fields of a frame a device codec encodes: a number field with
 * its default, and whether a value is a plain object.
 *
 * Private to `core/`: never re-exported.
 *
 * @module
 */

/** A number field of a frame, or a default when it is absent. */
export function field(
  object: Record<string, unknown>,
  name: string,
  fallback = 0,
): number {
  const value = object[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number") {
    throw new RangeError(`${name} ${JSON.stringify(value)} is not a number`);
  }
  return value;
}

/** Whether a value is a plain object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
