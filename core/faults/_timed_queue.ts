/**
 * A queue of chunks each released at its due time, in order, on one timer:
 * the delaying toxics (latency, bandwidth, slicer) hold their bytes here.
 *
 * @module
 */
import type { StageOutput } from "../proxy_link.ts";

interface Item {
  due: number;
  chunk?: Uint8Array;
}

/** Chunks (and a FIN) held until they are due, released in order. */
export class TimedQueue {
  #items: Item[] = [];
  #head = 0;
  #held = 0;
  #last = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #output: StageOutput;
  #disposed = false;

  /** Makes a queue writing to `output`. */
  constructor(output: StageOutput) {
    this.#output = output;
  }

  /** Bytes held. */
  get held(): number {
    return this.#held;
  }

  /** The due time of the last item queued (monotonic ms), or 0. */
  get lastDue(): number {
    return this.#last;
  }

  /** Whether nothing is held. */
  get empty(): boolean {
    return this.#head >= this.#items.length;
  }

  /** Queues a chunk due at `due` (never before the item queued before it). */
  push(due: number, chunk: Uint8Array): void {
    this.#add({ due, chunk });
    this.#held += chunk.length;
  }

  /** Queues the FIN, due at `due` (never before the item queued before it). */
  pushEnd(due: number): void {
    this.#add({ due });
  }

  /** Releases everything now, in order. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#release(Infinity);
  }

  /** Stops the timer; nothing more is released. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items = [];
    this.#head = 0;
    this.#held = 0;
  }

  #add(item: Item): void {
    if (this.#disposed) return;
    item.due = Math.max(item.due, this.#last);
    this.#last = item.due;
    this.#items.push(item);
    if (this.#items.length - this.#head === 1) this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.empty || this.#disposed) return;
    const wait = this.#items[this.#head].due - performance.now();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#release(performance.now() + 0.25);
      this.#arm();
    }, Math.max(0, wait));
  }

  #release(until: number): void {
    while (!this.empty && !this.#disposed) {
      const item = this.#items[this.#head];
      if (item.due > until) break;
      this.#head++;
      if (item.chunk) {
        this.#held -= item.chunk.length;
        this.#output.write(item.chunk);
      } else this.#output.end();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
