/**
 * Server-sent events from one or more journals, for the admin API and the
 * lab's dashboard. Streams end when the client goes away or when the given
 * signal aborts (an open stream would keep `Deno.serve` from shutting down).
 *
 * @module
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type {
  Journal,
  JournalEvent,
  JournalQuery,
} from "../journal/journal.ts";
import { matchesQuery } from "../journal/journal.ts";

/** Options for {@linkcode journalEventStream}. */
export interface EventStreamOptions {
  /** Which events to send. `since` replays kept events after that seq first. */
  query?: JournalQuery;
  /** Ends the stream when aborted. */
  signal?: AbortSignal;
  /** Sends a comment line this often, in ms, to keep proxies open (default 15000). */
  keepAliveMs?: number;
}

/**
 * Answers a request with a server-sent event stream of journal events: one
 * SSE event per journal event, `event:` its type, `data:` the event as JSON.
 */
export function journalEventStream(
  c: Context,
  journals: Journal[],
  options: EventStreamOptions = {},
): Response {
  const query = options.query ?? {};
  return streamSSE(c, async (stream) => {
    const queue: JournalEvent[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const filter = { ...query, since: undefined };
    const unsubscribes = journals.map((journal) =>
      journal.subscribe((event) => {
        if (matchesQuery(event, filter)) {
          queue.push(event);
          notify();
        }
      })
    );
    if (query.since !== undefined) {
      const replay = journals.flatMap((journal) => journal.query(query));
      replay.sort((a, b) => a.time - b.time);
      queue.unshift(...replay);
    }
    const done = new AbortController();
    const stop = () => {
      done.abort();
      notify();
    };
    options.signal?.addEventListener("abort", stop, { once: true });
    stream.onAbort(stop);
    const keepAlive = setInterval(() => {
      stream.write(": keep-alive\n\n").catch(stop);
    }, options.keepAliveMs ?? 15_000);
    try {
      if (options.signal?.aborted) return;
      await stream.writeSSE({ event: "ready", data: "{}" });
      while (!done.signal.aborted) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => wake = resolve);
          continue;
        }
        const event = queue.shift()!;
        await stream.writeSSE({
          id: `${event.server}:${event.seq}`,
          event: event.type,
          data: JSON.stringify(event),
        });
      }
    } finally {
      clearInterval(keepAlive);
      for (const unsubscribe of unsubscribes) unsubscribe();
      options.signal?.removeEventListener("abort", stop);
    }
  });
}
