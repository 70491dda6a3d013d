/**
 * The journals of several server processes as one, for a scenario: each
 * process's events, as its `/events` stream brings them, put in one time
 * order on this process's clock, with connection ids made unique across the
 * processes. Bounded: past `capacity` the oldest events go, as in a
 * server's `Journal`.
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
  #events: JournalEvent[] = [];
  #listeners = new Set<JournalListener>();
  #seq = 0;
  #conns = 0;

  /** Makes an empty one. */
  constructor(options: { capacity?: number } = {}) {
    this.capacity = options.capacity ?? MERGED_JOURNAL_CAPACITY;
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

  #add(event: JournalEvent): void {
    // Mostly at the end: look back from there.
    let at = this.#events.length;
    while (at > 0 && this.#events[at - 1].time > event.time) at--;
    this.#events.splice(at, 0, event);
    if (this.#events.length > this.capacity) this.#events.shift();
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
    return this.#events.slice();
  }

  /** Calls `listener` with every new event; returns the unsubscribe function. */
  subscribe(listener: JournalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
