/**
 * The bytes of one toxic held until they are due, in order, over the
 * engine's {@linkcode DelayQueue}: the delaying toxics (latency, bandwidth,
 * slicer) hold their chunks and the FIN here, and count what they hold for
 * the link's backpressure.
 *
 * @module
 */
import type { ByteSink } from "./fault.ts";
import { DelayQueue } from "./delay_queue.ts";

/** Chunks (and a FIN) held until they are due, released in order. */
export class TimedQueue {
  #queue: DelayQueue<Uint8Array | null>;
  #held = 0;
  #last = 0;
  #output: ByteSink;
  #disposed = false;

  /** Makes a queue writing to `output`. */
  constructor(output: ByteSink) {
    this.#output = output;
    this.#queue = new DelayQueue({
      ordered: true,
      deliver: (items) => this.#release(items),
    });
  }

  /** Bytes held. */
  get held(): number {
    return this.#held;
  }

  /** The due time of the last item queued (monotonic ms), or 0. */
  get lastDue(): number {
    return this.#last;
  }

  /** Queues a chunk due at `due` (never before the item queued before it). */
  push(due: number, chunk: Uint8Array): void {
    if (this.#disposed) return;
    this.#held += chunk.length;
    this.#add(due, chunk);
  }

  /** Queues the FIN, due at `due` (never before the item queued before it). */
  pushEnd(due: number): void {
    if (!this.#disposed) this.#add(due, null);
  }

  /**
   * A byte step over this queue: `write` decides when each chunk is due; the
   * FIN follows what is held, `held` counts it, `stop` releases it at once
   * and `dispose` drops it.
   */
  step(write: (chunk: Uint8Array) => void): ByteSink {
    const held = () => this.#held;
    return {
      write,
      end: () => this.pushEnd(performance.now()),
      get held(): number {
        return held();
      },
      stop: () => {
        this.flush();
        this.dispose();
      },
      dispose: () => this.dispose(),
    };
  }

  /** Releases everything now, in order. */
  flush(): void {
    this.#release(this.#queue.clear());
  }

  /** Stops the timer; nothing more is released. */
  dispose(): void {
    this.#disposed = true;
    this.#queue.clear();
    this.#held = 0;
  }

  #add(due: number, item: Uint8Array | null): void {
    this.#last = Math.max(due, this.#last);
    this.#queue.push(this.#last, item);
  }

  #release(items: (Uint8Array | null)[]): void {
    for (const item of items) {
      if (this.#disposed) return;
      if (item === null) {
        this.#output.end();
        continue;
      }
      this.#held -= item.length;
      this.#output.write(item);
    }
  }
}
