/**
 * Runs work items concurrently, at most `jobs` at once, never two that share
 * a resource at the same time, and returns their results in the items'
 * order, whatever order they finish in.
 *
 * @module
 */

/** Options for {@linkcode schedule}. */
export interface ScheduleOptions<T> {
  /** How many items run at once, at most (at least 1). */
  jobs: number;
  /**
   * The resources an item holds while it runs (server names, fixed ports):
   * two items naming the same one never overlap. Default: none.
   */
  shares?: (item: T) => readonly string[] | undefined;
}

/**
 * How many scenarios to run at once by default. A scenario mostly waits (for
 * timeouts, reconnect delays, the client): the whole suite in process uses
 * about a tenth of a core, so two per core (more would gain little, and
 * scenarios in one process share its event loop: on a busy machine a timer
 * that fires late can turn a margin of 200 ms into a wrong verdict). A client run as a process is
 * started per scenario, and its start-up time counts against the scenario's
 * waits (a Deno client takes 0.3 s of CPU to start, a Python one behind a
 * version shim seconds on a busy machine): concurrent starts on a loaded
 * machine push it past them, so process clients run one at a time unless
 * `--jobs` says otherwise.
 */
export function defaultJobs(options: { processes?: boolean } = {}): number {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  return options.processes ? 1 : cores * 2;
}

/**
 * Runs `work` over every item, at most `options.jobs` at once; an item waits
 * while another that shares a resource with it runs, and items start in
 * order otherwise. Rejects with the first error once the items already
 * started have ended.
 *
 * @example Usage
 * ```ts
 * import { schedule } from "./schedule.ts";
 * const doubled = await schedule([1, 2, 3], { jobs: 2 }, (n) =>
 *   Promise.resolve(n * 2));
 * if (doubled.join() !== "2,4,6") throw new Error("Cannot keep the order");
 * ```
 */
export async function schedule<T, R>(
  items: readonly T[],
  options: ScheduleOptions<T>,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(options.jobs) || options.jobs < 1) {
    throw new RangeError(
      `Cannot run with ${options.jobs} jobs: expected a whole number of at least 1`,
    );
  }
  const results = new Array<R>(items.length);
  const waiting = items.map((_, index) => index);
  const held = new Set<string>();
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const sharesOf = (index: number) => options.shares?.(items[index]) ?? [];
  const next = () =>
    waiting.findIndex((index) => !sharesOf(index).some((r) => held.has(r)));
  while (waiting.length > 0 || running.size > 0) {
    let found = failure ? -1 : next();
    while (found !== -1 && running.size < options.jobs) {
      const [index] = waiting.splice(found, 1);
      const shares = sharesOf(index);
      for (const resource of shares) held.add(resource);
      const run: Promise<void> = work(items[index], index).then(
        (result) => {
          results[index] = result;
        },
        (error) => {
          failure ??= { error };
        },
      ).finally(() => {
        for (const resource of shares) held.delete(resource);
        running.delete(run);
      });
      running.add(run);
      found = failure ? -1 : next();
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  if (failure) throw failure.error;
  return results;
}
