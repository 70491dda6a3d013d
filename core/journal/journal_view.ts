/**
 * A view of a shared journal for one listener of a server with several (the
 * channels A and B of the watchdog-echo server): every event appended through
 * the view carries the view's fields (`{ channel: "A" }`), and reads through
 * the view see only events that carry them.
 *
 * Used by `MultiListenerServer`, one view per listener.
 *
 * @module
 */
import {
  type EventType,
  Journal,
  type JournalEvent,
  type JournalQuery,
  type WaitOptions,
} from "./journal.ts";

/**
 * A journal that writes into a shared one, stamping its fields on every
 * event, and reads back only the events that carry those fields. Its own
 * ring is never used: everything lives in the shared journal, in one order.
 *
 * `clear()` hides the events kept so far from this view only; `close()`
 * only flushes (the shared journal belongs to whoever made it).
 *
 * @example Usage
 * ```ts
 * import { Journal } from "./journal.ts";
 * import { JournalView } from "./journal_view.ts";
 * const shared = new Journal({ server: "watchdog-echo" });
 * const a = new JournalView(shared, { channel: "A" });
 * a.append("frame_in", { conn: 1 }); // shared gets { channel: "A", ... }
 * ```
 */
export class JournalView extends Journal {
  /** The journal this view writes into. */
  readonly #shared: Journal;
  /** The fields stamped on every event appended through this view. */
  readonly #fields: Readonly<Record<string, unknown>>;
  #counts = new Map<string, number>();
  #since = 0;

  /** Makes a view of `shared` that stamps and selects by `fields`. */
  constructor(shared: Journal, fields: Record<string, unknown>) {
    super({ server: shared.server, capacity: 1 });
    this.#shared = shared;
    this.#fields = { ...fields };
  }

  /** Whether an event belongs to this view (and was not cleared from it). */
  #owns(event: JournalEvent): boolean {
    if (event.seq <= this.#since) return false;
    for (const [key, value] of Object.entries(this.#fields)) {
      if (event[key] !== value) return false;
    }
    return true;
  }

  /** The `seq` of the shared journal's newest event. */
  override get lastSeq(): number {
    return this.#shared.lastSeq;
  }

  /** How many events of this view the shared ring holds. */
  override get size(): number {
    return this.events().length;
  }

  /** Appends to the shared journal, with this view's fields. */
  override append(
    type: EventType,
    fields: Record<string, unknown> = {},
  ): JournalEvent {
    this.#counts.set(type, (this.#counts.get(type) ?? 0) + 1);
    return this.#shared.append(type, { ...fields, ...this.#fields });
  }

  /**
   * Appends `fields` to the shared journal, with this view's fields, in the
   * order {@linkcode JournalView.append} gives them: the view's fields come
   * before the journal's own, so placeholders for those (see `Journal.add`)
   * are left out of the copy.
   */
  override add(
    type: EventType,
    fields: Record<string, unknown>,
  ): JournalEvent {
    this.#counts.set(type, (this.#counts.get(type) ?? 0) + 1);
    const { seq: _s, time: _t, wall: _w, server: _v, type: _y, ...rest } =
      fields;
    return this.#shared.add(type, Object.assign(rest, this.#fields));
  }

  /** The shared journal's clock. */
  override now(): number {
    return this.#shared.now();
  }

  /** Pins the shared journal's clock. */
  override pinTime(): void {
    this.#shared.pinTime();
  }

  /** Unpins the shared journal's clock. */
  override unpinTime(): void {
    this.#shared.unpinTime();
  }

  /** How many events of each type were appended through this view. */
  override counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** This view's events, oldest first. */
  override events(): JournalEvent[] {
    return this.#shared.events().filter((event) => this.#owns(event));
  }

  /** This view's events that pass a query, oldest first. */
  override query(query: JournalQuery = {}): JournalEvent[] {
    const { limit, ...filter } = query;
    const found = this.#shared.query(filter).filter((event) =>
      this.#owns(event)
    );
    return limit !== undefined ? found.slice(-limit) : found;
  }

  /** Hides the events kept so far from this view (the shared ring keeps them). */
  override clear(): void {
    this.#since = this.#shared.lastSeq;
  }

  /** Calls `listener` with every new event of this view. */
  override subscribe(listener: (event: JournalEvent) => void): () => void {
    return this.#shared.subscribe((event) => {
      if (this.#owns(event)) listener(event);
    });
  }

  /** Resolves with the first event of this view that passes `predicate`. */
  override waitFor(
    predicate: (event: JournalEvent) => boolean,
    options: WaitOptions = {},
  ): Promise<JournalEvent> {
    return this.#shared.waitFor(
      (event) => this.#owns(event) && predicate(event),
      options,
    );
  }

  /** Flushes the shared journal. */
  override flush(): Promise<void> {
    return this.#shared.flush();
  }

  /** Flushes the shared journal; it stays open for its other users. */
  override close(): Promise<void> {
    return this.#shared.flush();
  }
}
