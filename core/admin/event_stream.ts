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
import { matchesQuery, serializableEvent } from "../journal/journal.ts";

/** Options for {@linkcode journalEventStream}. */
export interface EventStreamOptions {
  /** Which events to send. `since` replays kept events after that seq first. */
  query?: JournalQuery;
  /** Ends the stream when aborted. */
  signal?: AbortSignal;
  /** Sends a comment line this often, in ms, to keep proxies open (default 15000). */
  keepAliveMs?: number;
  /**
   * How many live events may wait for a client that reads slower than they
   * come (default 10000); past it the client is dropped: its stream ends and
   * `subscriber_dropped` is journalled.
   */
  maxQueued?: number;
}

/** The default most live events waiting for one event-stream client: 10000. */
export const DEFAULT_MAX_QUEUED_EVENTS = 10_000;

function eventJson(event: JournalEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    return JSON.stringify(serializableEvent(event));
  }
}

/**
 * Answers a request with a server-sent event stream of journal events: one
 * SSE event per journal event, `event:` its type, `data:` the event as JSON.
 * A client that stops reading is dropped once `maxQueued` events wait for
 * it, and closing (the signal) ends every stream at once, even one whose
 * client reads nothing.
 */
export function journalEventStream(
  c: Context,
  journals: Journal[],
  options: EventStreamOptions = {},
): Response {
  const query = options.query ?? {};
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_EVENTS;
  return streamSSE(c, async (stream) => {
    const queue: JournalEvent[] = [];
    let limit = maxQueued;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const done = new AbortController();
    const stop = () => {
      if (done.signal.aborted) return;
      done.abort();
      notify();
      // Unblocks a write that waits on a client that reads nothing.
      stream.abort();
    };
    const filter = { ...query, since: undefined };
    const unsubscribes = journals.map((journal) =>
      journal.subscribe((event) => {
        if (done.signal.aborted || !matchesQuery(event, filter)) return;
        if (queue.length >= limit) {
          const queued = queue.length;
          queue.length = 0;
          stop();
          queueMicrotask(() =>
            journals[0].append("subscriber_dropped", {
              stream: "events",
              queued,
              reason: `more than ${maxQueued} events waited for the client`,
            })
          );
          return;
        }
        queue.push(event);
        notify();
      })
    );
    if (query.since !== undefined) {
      const replay = journals.flatMap((journal) => journal.query(query));
      replay.sort((a, b) => a.time - b.time);
      queue.unshift(...replay);
      limit += replay.length;
    }
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
        if (queue.length < limit - maxQueued) limit = maxQueued + queue.length;
        await stream.writeSSE({
          id: `${event.server}:${event.seq}`,
          event: event.type,
          data: eventJson(event),
        });
      }
    } finally {
      clearInterval(keepAlive);
      for (const unsubscribe of unsubscribes) unsubscribe();
      options.signal?.removeEventListener("abort", stop);
    }
  });
}
