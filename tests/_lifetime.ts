/**
 * Test helpers for resources made in steps: dispose of one when the check
 * after making it fails, or hand several on as one.
 *
 * @module
 */

/**
 * Runs `check` on a resource just made and returns the resource; if `check`
 * throws, disposes of the resource first.
 */
export async function checked<T extends AsyncDisposable>(
  resource: T,
  check: (resource: T) => unknown,
): Promise<T> {
  try {
    await check(resource);
  } catch (error) {
    await resource[Symbol.asyncDispose]();
    throw error;
  }
  return resource;
}

/**
 * `value`, owning the resources of `stack` (moved out of it): disposing of the
 * result disposes of them, the last one used first.
 */
export function owning<T extends object>(
  stack: AsyncDisposableStack,
  value: T,
): T & AsyncDisposable {
  const all = stack.move();
  return { ...value, [Symbol.asyncDispose]: () => all.disposeAsync() };
}
