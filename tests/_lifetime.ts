/**
 * Test helpers for resources made in steps: dispose of one when the check
 * after making it fails, or hand several on as one; a temporary directory
 * removed on dispose.
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

/** A temporary directory: disposing of it removes it and all it holds. */
export interface TempDir extends AsyncDisposable {
  /** Its path. */
  readonly path: string;
}

/**
 * Makes a temporary directory (as `Deno.makeTempDir`), for
 * `await using dir = await tempDir();`.
 */
export async function tempDir(
  options?: Deno.MakeTempOptions,
): Promise<TempDir> {
  const path = await Deno.makeTempDir(options);
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}
