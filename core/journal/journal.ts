/**
 * The journal: a bounded, ordered log of typed events with monotonic time.
 * Tests wait on it instead of sleeping, the admin API and the dashboard
 * stream it, and the conformance checkers judge from it.
 *
 * @module
 */

/**
 * The kinds of event servers write. Every event also has the fields of
 * {@linkcode JournalEvent}; the fields each kind adds are listed in
 * `docs/journal.md`.
 */
export type EventType =
  | "listening"
  | "stopped_listening"
  | "connected"
  | "closed"
  | "frame_in"
  | "frame_out"
  | "ack_sent"
  | "ack_dropped"
  | "ack_delayed"
  | "fault"
  | "faults_changed"
  | "bad_input"
  | "error"
  | (string & Record<never, never>);

/** One journal entry. */
export interface JournalEvent {
  /** Position in the journal, from 1, never reused (clearing keeps counting). */
  seq: number;
  /** Monotonic time in milliseconds (`performance.now()`). */
  time: number;
  /** Wall-clock time in milliseconds since the epoch. */
  wall: number;
  /** The server that wrote it. */
  server: string;
  /** What happened. */
  type: EventType;
  /** The connection it concerns, when it concerns one. */
  conn?: number;
  /** Fields that depend on the type. */
  [field: string]: unknown;
}

/** A filter for {@linkcode Journal.query}. */
export interface JournalQuery {
  /** Only events of these types. */
  type?: EventType | EventType[];
  /** Only events of this connection. */
  conn?: number;
  /** Only events whose `id` (or frame's `id`) is this. */
  id?: string;
  /** Only events with `seq` greater than this. */
  since?: number;
  /** Only events with `time` at or after this. */
  from?: number;
  /** Only events with `time` at or before this. */
  until?: number;
  /** At most this many events (the newest ones). */
  limit?: number;
}

/** Options for {@linkcode Journal}. */
export interface JournalOptions {
  /** The server name written in every event. */
  server?: string;
  /**
   * How many events the ring keeps (default 10000). Every kept event is
   * garbage the collector must copy; use `file` to keep everything.
   */
  capacity?: number;
  /** A JSON-lines file every event is appended to, so none is lost. */
  file?: string;
}

/** Options for {@linkcode Journal.waitFor}. */
export interface WaitOptions {
  /** Gives up, rejecting with the signal's reason. */
  signal?: AbortSignal;
  /** Only events with `seq` greater than this (default: every event kept). */
  since?: number;
}

/** A subscriber to new journal events. */
export type JournalListener = (event: JournalEvent) => void;

/** Returns the id an event is about: its own `id`, or its frame's. */
export function eventId(event: JournalEvent): string | undefined {
  if (typeof event.id === "string") return event.id;
  const frame = event.frame as { id?: unknown } | undefined;
  return typeof frame?.id === "string" ? frame.id : undefined;
}

/** Returns true when an event passes a query's filters (not its limit). */
export function matchesQuery(
  event: JournalEvent,
  query: JournalQuery,
): boolean {
  if (query.type !== undefined) {
    const types = Array.isArray(query.type) ? query.type : [query.type];
    if (!types.includes(event.type)) return false;
  }
  if (query.conn !== undefined && event.conn !== query.conn) return false;
  if (query.id !== undefined && eventId(event) !== query.id) return false;
  if (query.since !== undefined && event.seq <= query.since) return false;
  if (query.from !== undefined && event.time < query.from) return false;
  if (query.until !== undefined && event.time > query.until) return false;
  return true;
}

const encoder = new TextEncoder();

/**
 * A bounded, ordered log of events.
 *
 * @example Wait for an event instead of sleeping
 * ```ts
 * import { Journal } from "./journal.ts";
 * const journal = new Journal({ server: "demo" });
 * setTimeout(() => journal.append("ack_sent", { id: "r1" }), 1);
 * await journal.waitFor((e) => e.type === "ack_sent", {
 *   signal: AbortSignal.timeout(1000),
 * });
 * ```
 */
export class Journal {
  /** The server name written in every event. */
  readonly server: string;
  /** How many events the ring keeps. */
  readonly capacity: number;
  #ring: JournalEvent[] = [];
  #head = 0;
  #seq = 0;
  #listeners = new Set<JournalListener>();
  #counts = new Map<string, number>();
  #file?: Deno.FsFile;
  #lines: string[] = [];
  #flushing?: Promise<void>;

  /** Makes a journal (and opens its file sink, if any). */
  constructor(options: JournalOptions = {}) {
    this.server = options.server ?? "server";
    this.capacity = options.capacity ?? 10_000;
    if (this.capacity < 1) {
      throw new RangeError(
        `Cannot make journal of capacity ${this.capacity}: expected at least 1`,
      );
    }
    if (options.file) {
      this.#file = Deno.openSync(options.file, {
        append: true,
        create: true,
      });
    }
  }

  /** The `seq` of the newest event (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** How many events the ring holds now. */
  get size(): number {
    return this.#ring.length;
  }

  /** Appends an event and hands it to every subscriber. */
  append(type: EventType, fields: Record<string, unknown> = {}): JournalEvent {
    const time = performance.now();
    const event: JournalEvent = {
      ...fields,
      seq: ++this.#seq,
      time,
      wall: Math.round(performance.timeOrigin + time),
      server: this.server,
      type,
    };
    this.#counts.set(type, (this.#counts.get(type) ?? 0) + 1);
    if (this.#ring.length < this.capacity) {
      this.#ring.push(event);
    } else {
      this.#ring[this.#head] = event;
      this.#head = (this.#head + 1) % this.capacity;
    }
    if (this.#file) this.#write(event);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own; the journal goes on.
      }
    }
    return event;
  }

  /** How many events of each type were ever appended (clearing keeps them). */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Every event the ring holds, oldest first. */
  events(): JournalEvent[] {
    return this.#head === 0
      ? this.#ring.slice()
      : [...this.#ring.slice(this.#head), ...this.#ring.slice(0, this.#head)];
  }

  /** The events that pass a query, oldest first. */
  query(query: JournalQuery = {}): JournalEvent[] {
    const found = this.events().filter((event) => matchesQuery(event, query));
    return query.limit !== undefined ? found.slice(-query.limit) : found;
  }

  /** Empties the ring (numbering goes on; the file sink keeps everything). */
  clear(): void {
    this.#ring = [];
    this.#head = 0;
  }

  /** Calls `listener` with every new event; returns the unsubscribe function. */
  subscribe(listener: JournalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves with the first event, already kept or still to come, for which
   * `predicate` is true. Always pass a signal so a test cannot hang.
   */
  waitFor(
    predicate: (event: JournalEvent) => boolean,
    options: WaitOptions = {},
  ): Promise<JournalEvent> {
    const since = options.since ?? 0;
    // Walk the ring in place, oldest first: no copy per wait.
    const ring = this.#ring;
    for (let i = 0; i < ring.length; i++) {
      const event = ring[(this.#head + i) % ring.length];
      if (event.seq > since && predicate(event)) return Promise.resolve(event);
    }
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        unsubscribe();
        reject(signal!.reason);
      };
      const unsubscribe = this.subscribe((event) => {
        if (!predicate(event)) return;
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
        resolve(event);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Writes what is buffered to the file sink. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (!this.#file || this.#lines.length === 0) return;
    const file = this.#file;
    const text = this.#lines.join("");
    this.#lines = [];
    this.#flushing = (async () => {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) {
        written += await file.write(bytes.subarray(written));
      }
    })();
    try {
      await this.#flushing;
    } finally {
      this.#flushing = undefined;
    }
    if (this.#lines.length > 0) await this.flush();
  }

  /** Flushes and closes the file sink, and drops every subscriber. */
  async close(): Promise<void> {
    await this.flush();
    this.#file?.close();
    this.#file = undefined;
    this.#listeners.clear();
  }

  #write(event: JournalEvent): void {
    this.#lines.push(JSON.stringify(event) + "\n");
    if (this.#lines.length === 1) {
      queueMicrotask(() =>
        this.flush().catch((error) =>
          console.error(`Cannot write journal file: ${error.message}`)
        )
      );
    }
  }
}
