/**
 * Test helper: waits on a journal for an event of a type whose fields match.
 * Every wait is bounded by a signal.
 *
 * @module
 */
import type { Journal, JournalEvent } from "../core/journal/journal.ts";

/**
 * Resolves with the first event (after `since`) in `source`'s journal of
 * `type` whose fields equal every one of `fields`.
 */
export function journalled(
  source: { journal: Journal },
  type: string,
  fields: Record<string, unknown>,
  signal: AbortSignal,
  since = 0,
): Promise<JournalEvent> {
  const entries = Object.entries(fields);
  return source.journal.waitFor(
    (e) => e.type === type && entries.every(([key, value]) => e[key] === value),
    { signal, since },
  );
}
