/**
 * The journal: a bounded, ordered log of typed events with monotonic time.
 * Tests wait on it instead of sleeping, the admin API and the dashboard
 * stream it, and the conformance checkers judge from it.
 *
 * @module
 */
import { markWireBytes, wireBytes } from "../codecs/codec.ts";
import type { Frame } from "../codecs/frame.ts";

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
  /**
   * How many bytes of memory the ring may hold, as estimated (default 64 MiB):
   * the oldest events go first once it is over, whatever their number.
   */
  maxBytes?: number;
  /**
   * A frame larger than this on the wire (default 4096 bytes) is kept in the
   * ring as its `type` and `id` plus `elided: { bytes, preview }`; the file
   * sink still gets it whole.
   */
  maxPayloadBytes?: number;
  /**
   * A JSON-lines file every event is appended to. It is created with mode
   * 0600 and never opened through a symbolic link.
   */
  file?: string;
  /**
   * How many bytes of lines may wait for the file (default 32 MiB). Past
   * half of it the journal is `congested` (servers stop reading until the
   * file catches up); past all of it, events are left out of the file (never
   * out of the ring), counted, and reported by a `journal_file_dropped` event
   * once the file catches up.
   */
  fileBacklogBytes?: number;
}

/** The default estimate of a journal's memory the ring may hold: 64 MiB. */
export const DEFAULT_JOURNAL_MAX_BYTES = 64 * 1024 * 1024;
/** The default largest frame the ring keeps whole: 4096 bytes. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4096;
/** The default most bytes of lines waiting for the file sink: 32 MiB. */
export const DEFAULT_FILE_BACKLOG_BYTES = 32 * 1024 * 1024;

/** What an event costs the ring, payload aside (an estimate, in bytes). */
const EVENT_BYTES = 256;
/**
 * How much memory a parsed frame takes per byte on the wire, at worst (a
 * line of `[{},{},...]` takes about 25 times its size).
 */
const PARSED_PER_WIRE_BYTE = 32;
/** How many characters of an elided frame the ring keeps. */
const PREVIEW_CHARS = 200;
/** The most bytes one write to the file sink takes. */
const WRITE_BYTES = 1024 * 1024;

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
/** `performance.timeOrigin`, read once (a getter call per event otherwise). */
const TIME_ORIGIN = performance.timeOrigin;

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
  /** How many bytes (estimated) the ring may hold. */
  readonly maxBytes: number;
  /** The largest frame, in bytes on the wire, the ring keeps whole. */
  readonly maxPayloadBytes: number;
  /** How many bytes of lines may wait for the file sink. */
  readonly fileBacklogBytes: number;
  /** The ring: `#count` events from `#head`, wrapping at `capacity`. */
  #ring: (JournalEvent | undefined)[] = [];
  /** What each slot of the ring costs, kept beside it (see `costOf`). */
  #costs: number[] = [];
  #head = 0;
  #count = 0;
  #bytes = 0;
  #seq = 0;
  #listeners = new Set<JournalListener>();
  #counts = new Map<string, number>();
  #file?: Deno.FsFile;
  #lines: string[] = [];
  #backlog = 0;
  #dropped = 0;
  #droppedFrom = 0;
  #droppedTotal = 0;
  #writing?: Promise<void>;
  #writeFailed = false;
  #uncongested: (() => void)[] = [];
  #releasing?: ReturnType<typeof setTimeout>;
  #pinned = 0;
  #pinnedTime = 0;

  /** Makes a journal (and opens its file sink, if any). */
  constructor(options: JournalOptions = {}) {
    this.server = options.server ?? "server";
    this.capacity = options.capacity ?? 10_000;
    this.maxBytes = options.maxBytes ?? DEFAULT_JOURNAL_MAX_BYTES;
    this.maxPayloadBytes = options.maxPayloadBytes ??
      DEFAULT_MAX_PAYLOAD_BYTES;
    this.fileBacklogBytes = options.fileBacklogBytes ??
      DEFAULT_FILE_BACKLOG_BYTES;
    for (
      const [name, value] of [
        ["capacity", this.capacity],
        ["maxBytes", this.maxBytes],
        ["fileBacklogBytes", this.fileBacklogBytes],
      ] as const
    ) {
      if (!(value >= 1)) {
        throw new RangeError(
          `Cannot make journal of ${name} ${value}: expected at least 1`,
        );
      }
    }
    if (options.file) this.#file = openPrivate(options.file);
  }

  /** The `seq` of the newest event (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** How many events the ring holds now. */
  get size(): number {
    return this.#count;
  }

  /** How many bytes (estimated) the ring holds now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Whether more than a quarter of the file sink's backlog waits for the
   * disk: sources of events (connections) should pause until
   * {@linkcode Journal.whenUncongested}, so the file keeps up.
   */
  get congested(): boolean {
    return this.#backlog > this.fileBacklogBytes / 4;
  }

  /**
   * Resolves once the file sink's backlog is at most a quarter full again.
   * Waiters go on one at a time, a turn of the event loop apart, so sources
   * that all wake at once cannot overfill the backlog.
   */
  whenUncongested(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.#uncongested.push(resolve));
  }

  /** How many events were left out of the file sink so far (0 without one). */
  get fileDropped(): number {
    return this.#droppedTotal;
  }

  /** Appends an event and hands it to every subscriber. */
  append(type: EventType, fields: Record<string, unknown> = {}): JournalEvent {
    return this.add(type, { ...fields });
  }

  /**
   * Appends an event made of `fields` itself, without a copy (the hot path
   * of connections and faults): the journal adds `seq`, `time`, `wall`,
   * `server` and `type` to the object and keeps it, so the caller must hand
   * over a fresh object and not touch it afterwards. A hot caller can end
   * its object literal with those five as placeholders
   * (`{ conn, frame, seq: 0, time: 0, wall: 0, server: "", type: "" }`):
   * the event then keeps one shape, with no property added. Otherwise as
   * {@linkcode Journal.append}.
   */
  add(type: EventType, fields: Record<string, unknown>): JournalEvent {
    const time = this.#pinned > 0 ? this.#pinnedTime : performance.now();
    let event = fields as JournalEvent;
    event.seq = ++this.#seq;
    event.time = time;
    event.wall = Math.round(TIME_ORIGIN + time);
    event.server = this.server;
    event.type = type;
    this.#counts.set(type, (this.#counts.get(type) ?? 0) + 1);
    const payload = wireBytes(fields.frame);
    if (payload !== undefined && payload > this.maxPayloadBytes) {
      if (this.#file) this.#write(event);
      event = elide(event, payload);
    } else if (this.#file) this.#write(event);
    this.#keep(event, payload);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own; the journal goes on.
      }
    }
    return event;
  }

  /**
   * Monotonic time as events get it: `performance.now()`, or, while time is
   * pinned, the time it was pinned at.
   */
  now(): number {
    return this.#pinned > 0 ? this.#pinnedTime : performance.now();
  }

  /**
   * Pins the clock: until the matching {@linkcode Journal.unpinTime}, every
   * event gets the time of this call (one clock read for all the events of a
   * chunk read from a socket, not one each). Calls nest; always unpin in a
   * `finally`. Times stay monotonic: an event appended later never has an
   * earlier time.
   */
  pinTime(): void {
    if (this.#pinned++ === 0) this.#pinnedTime = performance.now();
  }

  /** Ends a {@linkcode Journal.pinTime}. */
  unpinTime(): void {
    if (this.#pinned > 0) this.#pinned--;
  }

  /** How many events of each type were ever appended (clearing keeps them). */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Every event the ring holds, oldest first. */
  events(): JournalEvent[] {
    const out: JournalEvent[] = new Array(this.#count);
    for (let i = 0; i < this.#count; i++) out[i] = this.#at(i);
    return out;
  }

  /** The events that pass a query, oldest first. */
  query(query: JournalQuery = {}): JournalEvent[] {
    const found = this.events().filter((event) => matchesQuery(event, query));
    return query.limit !== undefined ? found.slice(-query.limit) : found;
  }

  /** Empties the ring (numbering goes on; the file sink keeps everything). */
  clear(): void {
    this.#ring = [];
    this.#costs = [];
    this.#head = 0;
    this.#count = 0;
    this.#bytes = 0;
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
    for (let i = 0; i < this.#count; i++) {
      const event = this.#at(i);
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
    while (this.#writing) await this.#writing;
  }

  /** Flushes and closes the file sink, and drops every subscriber. */
  async close(): Promise<void> {
    await this.flush();
    this.#file?.close();
    this.#file = undefined;
    this.#lines = [];
    this.#backlog = 0;
    this.#release();
    this.#listeners.clear();
  }

  #release(): void {
    clearTimeout(this.#releasing);
    this.#releasing = undefined;
    if (this.#uncongested.length === 0) return;
    for (const resolve of this.#uncongested.splice(0)) resolve();
  }

  /** Lets one waiter go, and the next a turn later while not congested. */
  #releaseOne(): void {
    if (this.#releasing !== undefined || this.#uncongested.length === 0) {
      return;
    }
    this.#uncongested.shift()!();
    if (this.#uncongested.length === 0) return;
    this.#releasing = setTimeout(() => {
      this.#releasing = undefined;
      if (!this.congested) this.#releaseOne();
    }, 0);
  }

  /** The `i`th kept event, oldest first. */
  #at(i: number): JournalEvent {
    return this.#ring[(this.#head + i) % this.capacity]!;
  }

  /** Puts an event in the ring, letting the oldest go past either bound. */
  #keep(event: JournalEvent, payload: number | undefined): void {
    const cost = costOf(event, payload);
    if (this.#count === this.capacity) this.#evict();
    while (this.#count > 0 && this.#bytes + cost > this.maxBytes) {
      this.#evict();
    }
    const slot = (this.#head + this.#count) % this.capacity;
    this.#ring[slot] = event;
    this.#costs[slot] = cost;
    this.#count++;
    this.#bytes += cost;
  }

  #evict(): void {
    this.#ring[this.#head] = undefined;
    this.#bytes -= this.#costs[this.#head];
    this.#head = (this.#head + 1) % this.capacity;
    this.#count--;
  }

  /**
   * Queues an event's line for the file sink, or, with the backlog full,
   * counts it as dropped (reported once the file catches up).
   */
  #write(event: JournalEvent): void {
    if (this.#backlog >= this.fileBacklogBytes || this.#writeFailed) {
      if (this.#dropped === 0) this.#droppedFrom = event.seq;
      this.#dropped++;
      this.#droppedTotal++;
      return;
    }
    const line = toLine(event);
    this.#lines.push(line);
    this.#backlog += line.length;
    this.#writing ??= this.#pump();
  }

  /** Writes queued lines, a bounded piece at a time, until none is left. */
  async #pump(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.#file && this.#lines.length > 0) {
        let take = 0;
        let chars = 0;
        while (take < this.#lines.length && chars < WRITE_BYTES) {
          chars += this.#lines[take++].length;
        }
        const text = this.#lines.length === take
          ? this.#lines.join("")
          : this.#lines.slice(0, take).join("");
        this.#lines = take === this.#lines.length
          ? []
          : this.#lines.slice(take);
        const bytes = encoder.encode(text);
        try {
          let written = 0;
          while (written < bytes.length) {
            written += await this.#file.write(bytes.subarray(written));
          }
        } finally {
          this.#backlog -= chars;
        }
        if (!this.congested) this.#releaseOne();
        if (this.#dropped > 0 && this.#backlog < this.fileBacklogBytes / 2) {
          this.#reportDropped();
        }
      }
    } catch (error) {
      this.#writeFailed = true;
      this.#backlog = 0;
      this.#dropped += this.#lines.length;
      this.#droppedTotal += this.#lines.length;
      this.#lines = [];
      this.#writing = undefined;
      this.#release();
      this.append("error", {
        message: `Cannot write journal file: ${(error as Error).message}`,
      });
      return;
    }
    this.#writing = undefined;
    if (this.#dropped > 0 && this.#file) {
      this.#reportDropped();
      await this.flush();
    }
  }

  /** Journals (and so writes to the file) how many events the file missed. */
  #reportDropped(): void {
    const dropped = this.#dropped;
    const fromSeq = this.#droppedFrom;
    this.#dropped = 0;
    this.append("journal_file_dropped", {
      dropped,
      fromSeq,
      toSeq: this.#seq,
      total: this.#droppedTotal,
    });
  }
}

/** What an event costs the ring, estimated in bytes. */
function costOf(event: JournalEvent, payload: number | undefined): number {
  if (payload === undefined) return EVENT_BYTES;
  const elided = event.elided as { preview: string } | undefined;
  return elided
    ? EVENT_BYTES + 2 * elided.preview.length
    : EVENT_BYTES + PARSED_PER_WIRE_BYTE * payload;
}

/**
 * The ring's copy of an event whose frame is too large to keep: the frame's
 * `type` and `id`, its size, and the start of its JSON.
 */
function elide(event: JournalEvent, bytes: number): JournalEvent {
  const frame = event.frame as Record<string, unknown>;
  const kept: Record<string, unknown> = { type: frame.type };
  if (typeof frame.id === "string") kept.id = frame.id.slice(0, PREVIEW_CHARS);
  markWireBytes(kept as Frame, bytes);
  let preview: string;
  try {
    preview = JSON.stringify(frame).slice(0, PREVIEW_CHARS);
  } catch (error) {
    preview = `(cannot serialize: ${(error as Error).message})`;
  }
  return { ...event, frame: kept, elided: { bytes, preview } };
}

/** Events nested deeper than this are sent as stubs by the fallbacks. */
const SERIALIZABLE_DEPTH = 1000;

/** Whether a value nests arrays and objects deeper than `max` (no recursion). */
function nestsDeeper(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * The event itself when JSON can hold it, else a stub with its `seq`,
 * `time`, `wall`, `server`, `type`, `conn` and `unserializable` (why). For
 * the error paths of whatever serializes events: it walks the whole event.
 */
export function serializableEvent(event: JournalEvent): JournalEvent {
  let why: string | undefined;
  if (nestsDeeper(event, SERIALIZABLE_DEPTH)) {
    why = `it nests deeper than ${SERIALIZABLE_DEPTH} levels`;
  } else {
    try {
      JSON.stringify(event);
    } catch (error) {
      why = (error as Error).message;
    }
  }
  if (why === undefined) return event;
  return {
    seq: event.seq,
    time: event.time,
    wall: event.wall,
    server: event.server,
    type: event.type,
    ...(event.conn !== undefined ? { conn: event.conn } : {}),
    unserializable: why,
  };
}

/** An event as one JSON line; one that cannot be serialized says why. */
function toLine(event: JournalEvent): string {
  try {
    return JSON.stringify(event) + "\n";
  } catch {
    return JSON.stringify(serializableEvent(event)) + "\n";
  }
}

/**
 * Opens (creating with mode 0600) a file to append to, refusing a symbolic
 * link: the path is checked before, and the opened file compared after.
 */
function openPrivate(path: string): Deno.FsFile {
  const isLink = () => {
    try {
      return Deno.lstatSync(path).isSymlink;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  };
  const refuse = () =>
    new Deno.errors.PermissionDenied(
      `Cannot open journal file "${path}": it is a symbolic link`,
    );
  if (isLink()) throw refuse();
  const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
  try {
    const opened = file.statSync();
    const named = Deno.lstatSync(path);
    if (
      named.isSymlink || opened.ino !== named.ino || opened.dev !== named.dev
    ) {
      throw refuse();
    }
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}
