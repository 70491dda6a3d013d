/**
 * The client side of a server's `GET /events` (see `event_stream.ts`): the
 * journal events of a server in another process, as they come, handed one
 * by one to a callback. It asks for the kept events first (`since=0`, unless
 * told otherwise), so nothing written before it connected is missed.
 *
 * @module
 */
import type { JournalEvent } from "../journal/journal.ts";

/** The longest line of the stream a tap accepts: 1 MiB (events are small; big frames are elided). */
export const EVENT_TAP_MAX_LINE_CHARS = 1024 * 1024;

/** Options for {@linkcode EventTap}. */
export interface EventTapOptions {
  /** Only events of these types (default every type). */
  types?: readonly string[];
  /** Replay kept events after this `seq` first (default 0: every kept one). */
  since?: number;
  /** Extra query parameters (`front=ml1`, ...). */
  query?: Record<string, string>;
  /** The admin API's bearer token, if it has one. */
  token?: string;
  /** Gets every event, in the server's order. */
  onEvent(event: JournalEvent): void;
}

/**
 * A server's journal events over its admin API's `/events`.
 *
 * @example Usage
 * ```ts ignore
 * import { EventTap } from "./event_tap.ts";
 * const tap = new EventTap("http://127.0.0.1:7051", {
 *   types: ["store_down", "store_up"],
 *   onEvent: (event) => console.log(event.type),
 * });
 * await tap.ready;
 * // ...
 * await tap.close();
 * ```
 */
export class EventTap {
  /** Resolves once the server has subscribed the tap; rejects if the stream fails first. */
  readonly ready: Promise<void>;
  /** Resolves when the stream ends (closed, or the server went away). */
  readonly done: Promise<void>;
  #abort = new AbortController();
  #error?: unknown;

  /** Connects to `${admin}/events`. */
  constructor(admin: string, options: EventTapOptions) {
    const url = new URL("/events", admin);
    url.searchParams.set("since", String(options.since ?? 0));
    if (options.types?.length) {
      url.searchParams.set("type", options.types.join(","));
    }
    for (const [key, value] of Object.entries(options.query ?? {})) {
      url.searchParams.set(key, value);
    }
    let ready!: () => void;
    let failed!: (error: unknown) => void;
    this.ready = new Promise((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.ready.catch(() => {});
    this.done = (async () => {
      try {
        const response = await fetch(url, {
          signal: this.#abort.signal,
          headers: options.token
            ? { authorization: `Bearer ${options.token}` }
            : {},
        });
        if (!response.ok || !response.body) {
          await response.body?.cancel();
          throw new Error(
            `Cannot read the events of ${admin}: GET /events answered ${response.status}`,
          );
        }
        await this.#read(response.body, options.onEvent, ready);
        failed(new Error(`The events of ${admin} ended before they began`));
      } catch (error) {
        if (!this.#abort.signal.aborted) this.#error = error;
        failed(error);
      }
    })();
  }

  /** Why the stream ended other than by {@linkcode EventTap.close}, if it did. */
  get error(): unknown {
    return this.#error;
  }

  async #read(
    body: ReadableStream<Uint8Array>,
    onEvent: (event: JournalEvent) => void,
    ready: () => void,
  ): Promise<void> {
    let rest = "";
    let kind = "message";
    let data: string[] = [];
    let dataChars = 0;
    for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      // Only a chunk with a line end completes a line: one cut short stays
      // as it is (not split again for every chunk of a long line).
      const lines = chunk.includes("\n") ? rest.split("\n") : [];
      if (lines.length > 0) rest = lines.pop()!;
      if (rest.length > EVENT_TAP_MAX_LINE_CHARS) {
        throw new Error(
          `Cannot read an event of more than ${EVENT_TAP_MAX_LINE_CHARS} characters`,
        );
      }
      for (const raw of lines) {
        const line = raw.replace(/\r$/, "");
        if (line === "") {
          if (kind === "ready") ready();
          else if (data.length > 0) {
            const event = JSON.parse(data.join("\n")) as JournalEvent;
            if (typeof event.type === "string") onEvent(event);
          }
          kind = "message";
          data = [];
          dataChars = 0;
        } else if (line.startsWith("event:")) {
          kind = line.slice(6).trim();
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
          dataChars += line.length;
          if (dataChars > EVENT_TAP_MAX_LINE_CHARS) {
            throw new Error(
              `Cannot read an event of more than ${EVENT_TAP_MAX_LINE_CHARS} characters`,
            );
          }
        }
      }
    }
  }

  /** Ends the stream and waits for it. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.done;
  }
}
