/**
 * Timed delivery with one timer per queue: items due at a monotonic time
 * leave in order of when they are due, every item due together in one call.
 * Delayed ACKs and the latency-like byte faults use it.
 *
 * @module
 */

/** How early, at most, an item may leave, in ms (see `#arm`). */
const EARLY_MS = 0.5;

/** Options for {@linkcode DelayQueue}. */
export interface DelayQueueOptions<T> {
  /** Called with every item that is due, oldest first. */
  deliver(items: T[]): void;
  /**
   * Keep the order items were pushed in: an item is never due before one
   * pushed earlier (bytes of a stream). Default false: by due time (stable).
   */
  ordered?: boolean;
}

/**
 * A queue of items, each due at a monotonic time (`performance.now()` ms).
 *
 * @example Usage
 * ```ts
 * import { DelayQueue } from "./delay_queue.ts";
 * const queue = new DelayQueue<string>({ deliver: (items) => console.log(items) });
 * queue.push(performance.now() + 10, "late");
 * queue.clear();
 * ```
 */
export class DelayQueue<T> {
  #items: { due: number; item: T }[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #deliver: (items: T[]) => void;
  #ordered: boolean;

  /** Makes an empty queue. */
  constructor(options: DelayQueueOptions<T>) {
    this.#deliver = options.deliver;
    this.#ordered = options.ordered ?? false;
  }

  /** How many items wait. */
  get size(): number {
    return this.#items.length;
  }

  /** The due time of the last item, or `-Infinity` when empty. */
  get lastDue(): number {
    const items = this.#items;
    return items.length === 0 ? -Infinity : items[items.length - 1].due;
  }

  /** Adds an item due at `due` (monotonic ms). */
  push(due: number, item: T): void {
    const items = this.#items;
    let at = items.length;
    if (this.#ordered) {
      if (at > 0 && items[at - 1].due > due) due = items[at - 1].due;
    } else {
      while (at > 0 && items[at - 1].due > due) at--;
    }
    if (at === items.length) items.push({ due, item });
    else items.splice(at, 0, { due, item });
    if (at === 0) this.#arm();
  }

  /**
   * Removes and returns the items `drop` picks, due or not (stopping the
   * timer when none is left): what a closed connection had waiting in a
   * queue it shares with others.
   */
  removeWhere(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: { due: number; item: T }[] = [];
    for (const entry of this.#items) {
      if (drop(entry.item)) removed.push(entry.item);
      else kept.push(entry);
    }
    if (removed.length === 0) return removed;
    const headChanged = kept[0] !== this.#items[0];
    this.#items = kept;
    if (headChanged) this.#arm();
    return removed;
  }

  /** Removes and returns every item, due or not, and stops the timer. */
  clear(): T[] {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#items.splice(0).map((entry) => entry.item);
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#items.length === 0) return;
    // Armed EARLY_MS early: timers fire up to a millisecond late (their
    // clock counts whole milliseconds), and items due within EARLY_MS of
    // the firing go then, so an item leaves at most EARLY_MS early, as
    // before, and most leave closer to their time.
    const wait = Math.max(0, this.#items[0].due - performance.now() - EARLY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now() + EARLY_MS;
      let n = 0;
      while (n < this.#items.length && this.#items[n].due <= now) n++;
      const ready = this.#items.splice(0, n);
      try {
        this.#deliver(ready.map((entry) => entry.item));
      } finally {
        this.#arm();
      }
    }, wait);
  }
}
