/**
 * Client plumbing: an ordered queue of items with unique ids, kept in memory
 * and, optionally, in an append-only file so that a process restart keeps
 * it. Used by the reference clients only; never re-exported.
 *
 * The file holds one JSON object a line: `{"put":{...item}}` adds an item
 * (or replaces it in place), `{"delete":"<id>"}` removes one. Opening the
 * file replays it, then rewrites it compactly; so does a write once the file
 * holds more than twice as many lines as items plus 1024, so a long run's
 * puts and deletes do not grow it without bound. A torn last line (a process
 * killed mid-write) is skipped. Writes are not fsynced: the file survives a
 * process restart, not a power cut.
 *
 * @module
 */

/** Options for {@linkcode DurableQueue}. */
export interface DurableQueueOptions {
  /** A file that keeps the queue across process restarts. */
  file?: string;
}

const encoder = new TextEncoder();

/** Lines a queue's file may hold beyond twice its items before it is rewritten. */
const COMPACT_SLACK_LINES = 1024;

/**
 * An ordered queue of items with unique ids, optionally backed by a file.
 *
 * @example Usage
 * ```ts ignore
 * import { DurableQueue } from "./_durable_queue.ts";
 * using queue = new DurableQueue<{ id: string }>({ file: "memory.jsonl" });
 * queue.push({ id: "r1" });
 * queue.delete("r1");
 * ```
 */
export class DurableQueue<T extends { id: string }> implements Disposable {
  /** The file backing the queue, if any. */
  readonly file?: string;
  #items = new Map<string, T>();
  #handle?: Deno.FsFile;
  /** Lines in the file. */
  #lines = 0;

  constructor(options: DurableQueueOptions = {}) {
    this.file = options.file;
    if (!this.file) return;
    let text = "";
    try {
      text = Deno.readTextFileSync(this.file);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(
          `Cannot read memory file ${this.file}: ${(error as Error).message}`,
        );
      }
    }
    for (const line of text.split("\n")) this.#replay(line);
    this.#compact(this.file);
  }

  /** Rewrites the file with one `put` line per item, and appends from there. */
  #compact(file: string): void {
    this.#handle?.close();
    this.#handle = undefined;
    const temporary = `${file}.tmp`;
    Deno.writeTextFileSync(
      temporary,
      [...this.#items.values()].map((item) => JSON.stringify({ put: item }))
        .map((line) => line + "\n").join(""),
    );
    Deno.renameSync(temporary, file);
    this.#lines = this.#items.size;
    this.#handle = Deno.openSync(file, { append: true });
  }

  /** How many items the queue holds. */
  get size(): number {
    return this.#items.size;
  }

  /** Whether an item with this id is queued. */
  has(id: string): boolean {
    return this.#items.has(id);
  }

  /** The item with this id, if queued. */
  get(id: string): T | undefined {
    return this.#items.get(id);
  }

  /** The items, oldest first. */
  values(): T[] {
    return [...this.#items.values()];
  }

  /** The oldest item for which `predicate` is true. */
  find(predicate: (item: T) => boolean): T | undefined {
    for (const item of this.#items.values()) if (predicate(item)) return item;
    return undefined;
  }

  /** Appends an item; throws if one with the same id is queued. */
  push(item: T): void {
    if (this.#items.has(item.id)) {
      throw new Error(
        `Cannot queue "${item.id}": an item with this id is already queued`,
      );
    }
    this.#items.set(item.id, item);
    this.#log({ put: item });
  }

  /** Replaces a queued item, keeping its place; returns false if absent. */
  replace(item: T): boolean {
    if (!this.#items.has(item.id)) return false;
    this.#items.set(item.id, item);
    this.#log({ put: item });
    return true;
  }

  /** Removes an item; returns false if it was not queued. */
  delete(id: string): boolean {
    if (!this.#items.delete(id)) return false;
    this.#log({ delete: id });
    return true;
  }

  /** Closes the file (the items stay in it). */
  close(): void {
    this.#handle?.close();
    this.#handle = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #replay(line: string): void {
    if (line.trim() === "") return;
    let entry: { put?: T; delete?: string };
    try {
      entry = JSON.parse(line);
    } catch {
      return; // A torn last line.
    }
    if (typeof entry.delete === "string") this.#items.delete(entry.delete);
    else if (typeof entry.put?.id === "string") {
      this.#items.set(entry.put.id, entry.put);
    }
  }

  #log(entry: unknown): void {
    if (!this.#handle) return;
    const bytes = encoder.encode(JSON.stringify(entry) + "\n");
    let written = 0;
    while (written < bytes.length) {
      written += this.#handle.writeSync(bytes.subarray(written));
    }
    if (++this.#lines > 2 * this.#items.size + COMPACT_SLACK_LINES) {
      this.#compact(this.file!);
    }
  }
}
