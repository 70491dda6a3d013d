/**
 * Timed delivery with one timer per queue: items due at a monotonic time
 * leave in order of when they are due, every item due together in one call,
 * never before they are due. Delayed ACKs and the latency-like byte faults
 * use it.
 *
 * Deno's timers count whole milliseconds: `setTimeout(f, 99.6)` waits 99 ms
 * (the fraction is cut off), then fires a little after (0.2 to 1.3 ms, as
 * measured on Linux with Deno 2.9.6). So the timer is asked for the wait
 * rounded up, and fires once the head is due: a wait cut down fired before
 * it, and the head then waited for a second timer, 1 to 2 ms more.
 *
 * @module
 */

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
  /** Waiting items from `#head` on (the ones before it have left). */
  #items: { due: number; item: T }[] = [];
  #head = 0;
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
    return this.#items.length - this.#head;
  }

  /** The due time of the last item, or `-Infinity` when empty. */
  get lastDue(): number {
    const items = this.#items;
    return items.length === this.#head
      ? -Infinity
      : items[items.length - 1].due;
  }

  /** Adds an item due at `due` (monotonic ms). */
  push(due: number, item: T): void {
    const items = this.#items;
    const head = this.#head;
    let at = items.length;
    if (this.#ordered) {
      if (at > head && items[at - 1].due > due) due = items[at - 1].due;
    } else {
      while (at > head && items[at - 1].due > due) at--;
    }
    if (at === items.length) items.push({ due, item });
    else items.splice(at, 0, { due, item });
    if (at === head) this.#arm();
  }

  /**
   * Removes and returns the items `drop` picks, due or not (stopping the
   * timer when none is left): what a closed connection had waiting in a
   * queue it shares with others.
   */
  removeWhere(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: { due: number; item: T }[] = [];
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) {
      if (drop(items[i].item)) removed.push(items[i].item);
      else kept.push(items[i]);
    }
    if (removed.length === 0) return removed;
    const headChanged = kept[0] !== items[this.#head];
    this.#items = kept;
    this.#head = 0;
    if (headChanged) this.#arm();
    return removed;
  }

  /** Removes and returns every item, due or not, and stops the timer. */
  clear(): T[] {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const items = this.#items;
    const head = this.#head;
    this.#items = [];
    this.#head = 0;
    return items.slice(head).map((entry) => entry.item);
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#items.length === this.#head) return;
    const wait = this.#items[this.#head].due - performance.now();
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.ceil(wait)));
  }

  /** The timer: the items due leave, and it is armed for the next. */
  #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const items = this.#items;
    const start = this.#head;
    let end = start;
    while (end < items.length && items[end].due <= now) end++;
    if (end === start) {
      // Not due yet (a clock a hair apart from the timer's): wait on.
      this.#arm();
      return;
    }
    const ready: T[] = new Array(end - start);
    for (let i = start; i < end; i++) ready[i - start] = items[i].item;
    // Items leave from the head, not by shifting the rest down (a queue
    // of thousands, on a busy server); the array is cut down once the
    // gone part is most of it.
    if (end === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (end > 1024 && end * 2 > items.length) {
      this.#items = items.slice(end);
      this.#head = 0;
    } else {
      for (let i = start; i < end; i++) items[i] = undefined!;
      this.#head = end;
    }
    try {
      this.#deliver(ready);
    } finally {
      this.#arm();
    }
  };
}
