/**
 * The journals of several server processes as one, for a scenario: each
 * process's events, as its `/events` stream brings them, put in one time
 * order on this process's clock, with connection ids made unique across the
 * processes. Bounded: past `capacity` the oldest events go, as in a
 * server's `Journal`; kept in a ring, so an event costs the same however
 * many are kept (plus a step for each kept event it arrived after, later
 * in time).
 *
 * A process's `time` is its own `performance.now()`; its `wall` says when
 * that was on the shared clock (to the millisecond). Each process's offset is
 * taken from its first event, so the events of one process keep their exact
 * spacing, and those of two processes compare to within a millisecond.
 *
 * @module
 */
import type { JournalEvent, JournalListener } from "../core/journal/journal.ts";
import type { ObservedJournal } from "./scenario.ts";

/** The most events a {@linkcode MergedJournal} keeps by default. */
const MERGED_JOURNAL_CAPACITY = 20_000;

/** One process's journal, as it enters a {@linkcode MergedJournal}. */
export interface MergedSource {
  /** Adds one of the process's events, in the process's order. */
  add(event: JournalEvent): void;
}

/** Several processes' journal events in one time order. */
export class MergedJournal implements ObservedJournal {
  /** How many events it keeps. */
  readonly capacity: number;
  /** The ring: `#count` events in time order from `#head`, wrapping at `capacity`. */
  #ring: (JournalEvent | undefined)[] = [];
  #head = 0;
  #count = 0;
  #listeners = new Set<JournalListener>();
  #seq = 0;
  #conns = 0;

  /** Makes an empty one. */
  constructor(options: { capacity?: number } = {}) {
    this.capacity = options.capacity ?? MERGED_JOURNAL_CAPACITY;
    if (!Number.isInteger(this.capacity) || this.capacity < 0) {
      throw new RangeError(
        `Cannot make merged journal of capacity ${this.capacity}: expected an integer of at least 0`,
      );
    }
  }

  /** A source for one process's events. */
  source(): MergedSource {
    let offset: number | undefined;
    const conns = new Map<number, number>();
    return {
      add: (event) => {
        offset ??= event.wall - event.time - performance.timeOrigin;
        const fields: Partial<JournalEvent> = { time: event.time + offset };
        if (typeof event.conn === "number") {
          let conn = conns.get(event.conn);
          if (conn === undefined) {
            conn = ++this.#conns;
            conns.set(event.conn, conn);
          }
          fields.conn = conn;
        }
        this.#add({ ...event, ...fields, seq: ++this.#seq });
      },
    };
  }

  /** The ring's slot of the `i`th kept event, oldest first. */
  #slot(i: number): number {
    return (this.#head + i) % this.capacity;
  }

  /**
   * Keeps `event` in time order (after those of the same time), the oldest
   * going once past capacity, and hands it to every subscriber.
   */
  #add(event: JournalEvent): void {
    // Mostly at the end: look back from there.
    let at = this.#count;
    while (at > 0 && this.#ring[this.#slot(at - 1)]!.time > event.time) at--;
    if (this.#count === this.capacity && at > 0) {
      // Full: the oldest goes, and the place moves down with the rest.
      this.#ring[this.#head] = undefined;
      this.#head = this.#slot(1);
      this.#count--;
      at--;
    }
    // Full with `at` 0, the event is older than all kept: it goes at once.
    if (this.#count < this.capacity) {
      for (let i = this.#count; i > at; i--) {
        this.#ring[this.#slot(i)] = this.#ring[this.#slot(i - 1)];
      }
      this.#ring[this.#slot(at)] = event;
      this.#count++;
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own.
      }
    }
  }

  /** Every event kept, oldest first. */
  events(): JournalEvent[] {
    const out: JournalEvent[] = new Array(this.#count);
    for (let i = 0; i < this.#count; i++) out[i] = this.#ring[this.#slot(i)]!;
    return out;
  }

  /** Calls `listener` with every new event; returns the unsubscribe function. */
  subscribe(listener: JournalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
