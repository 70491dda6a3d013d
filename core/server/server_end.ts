/**
 * The journal a server writes to, and the last step of its life, as every
 * server class has them: a server makes its own journal unless it is given
 * one; once it is closed, it closes the journal it made (a given one is only
 * flushed: its owner closes it), then resolves `finished`.
 *
 * @module
 */
import { Journal } from "../journal/journal.ts";

/** Where a server's journal comes from. */
export interface ServerEndOptions {
  /** A journal to write to (shared; flushed, not closed, at the end). */
  journal?: Journal;
  /** Without `journal`: also write the server's own journal to this JSONL file. */
  journalFile?: string;
}

/**
 * A server's journal and `finished`; {@linkcode ServerEnd.end} is the last
 * step of its `close`.
 *
 * @example Usage
 * ```ts
 * import { ServerEnd } from "./server_end.ts";
 * const end = new ServerEnd("demo", {});
 * end.journal.append("started", {});
 * await end.end(); // the journal is closed, `end.finished` resolved
 * ```
 */
export class ServerEnd {
  /** The journal: the one given, else the server's own. */
  readonly journal: Journal;
  /** Resolves once {@linkcode ServerEnd.end} is done. */
  readonly finished: Promise<void>;
  #own: boolean;
  #resolve: () => void;

  /** Takes the journal given, or makes one named after the server. */
  constructor(name: string, options: ServerEndOptions) {
    this.#own = !options.journal;
    this.journal = options.journal ??
      new Journal({ server: name, file: options.journalFile });
    const finished = Promise.withResolvers<void>();
    this.finished = finished.promise;
    this.#resolve = finished.resolve;
  }

  /** Closes the server's own journal (flushes a given one), then resolves `finished`. */
  async end(): Promise<void> {
    if (this.#own) await this.journal.close();
    else await this.journal.flush();
    this.#resolve();
  }
}
