/**
 * A server of several listeners that share one journal: the watchdog-echo
 * server's channels A and B, the message store's fronts. Each listener is a
 * {@linkcode TcpServer} writing through its own {@linkcode JournalView}
 * (every event stamped with its scope, `{ channel: "A" }`), connection ids
 * are unique across listeners, and the listeners start, settle and close
 * together.
 *
 * @module
 */
import type { ConnectionInfo } from "./connection.ts";
import type { Journal } from "../journal/journal.ts";
import { ServerEnd } from "./server_end.ts";
import { JournalView } from "../journal/journal_view.ts";
import type { TcpServer } from "./tcp_server.ts";

/** What a listener is made with. */
export interface ListenerContext {
  /** The listener's name (`A`, `ml1`). */
  name: string;
  /** Its view of the shared journal. */
  journal: Journal;
  /** Connection ids, unique across every listener of the server. */
  nextConnectionId: () => number;
}

/** Options for {@linkcode MultiListenerServer}. */
export interface MultiListenerServerOptions<L extends TcpServer> {
  /** The server's name. */
  name: string;
  /** Its kind (`watchdog-echo`, `message-store`). */
  kind: string;
  /** The run seed. */
  seed: number;
  /** What a listener is called, in events and errors (`channel`, `front`). */
  scope: string;
  /** The listeners' names, in order; unique. */
  names: readonly string[];
  /** Makes one listener. */
  listener(context: ListenerContext): L;
  /** A journal to write to (default: a new one, closed with the server). */
  journal?: Journal;
  /** With a new journal: append every event to this JSON-lines file too. */
  journalFile?: string;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /**
   * Called once every listener is closed, before the journal is: release
   * what the server holds besides its listeners (a store, a watch).
   */
  closed?: () => void | Promise<void>;
}

/**
 * Several listeners, one journal, one lifecycle. Servers with several
 * listeners compose it and add what their kind does.
 *
 * @example Usage
 * ```ts ignore
 * const server = new MultiListenerServer({
 *   name: "echo", kind: "watchdog-echo", seed: 7, scope: "channel",
 *   names: ["A", "B"],
 *   listener: ({ name, journal, nextConnectionId }) =>
 *     new TcpServer({ name, journal, nextConnectionId, port: 0 }),
 * });
 * await server.start();
 * ```
 */
export class MultiListenerServer<L extends TcpServer>
  implements AsyncDisposable {
  /** The server's name. */
  readonly name: string;
  /** Its kind. */
  readonly kind: string;
  /** The run seed. */
  readonly seed: number;
  /** What a listener is called (`channel`, `front`). */
  readonly scope: string;
  /** The journal every listener writes into; their events carry the scope. */
  readonly journal: Journal;
  /** Resolves once every listener is closed and the journal flushed. */
  readonly finished: Promise<void>;
  #listeners = new Map<string, L>();
  #end: ServerEnd;
  #closing?: Promise<void>;
  #abort = new AbortController();
  #closed?: () => void | Promise<void>;

  /** Makes every listener; nothing listens until `start()`. */
  constructor(options: MultiListenerServerOptions<L>) {
    this.name = options.name;
    this.kind = options.kind;
    this.seed = options.seed;
    this.scope = options.scope;
    if (options.names.length === 0) {
      throw new RangeError(
        `Cannot start ${options.kind}: it needs a ${options.scope}`,
      );
    }
    this.#closed = options.closed;
    this.#end = new ServerEnd(this.name, options);
    this.journal = this.#end.journal;
    this.finished = this.#end.finished;
    let lastId = 0;
    const nextConnectionId = () => ++lastId;
    for (const name of options.names) {
      if (this.#listeners.has(name)) {
        throw new RangeError(
          `Cannot use ${options.scope} name "${name}": it is given twice`,
        );
      }
      this.#listeners.set(
        name,
        options.listener({
          name,
          journal: new JournalView(this.journal, { [options.scope]: name }),
          nextConnectionId,
        }),
      );
    }
    // Every listener closed one by one: the server is closed too.
    Promise.all(this.listeners.map((listener) => listener.finished)).then(
      () => this.close(),
    );
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** Every listener, in order. */
  get listeners(): L[] {
    return [...this.#listeners.values()];
  }

  /** The listeners' names, in order. */
  get names(): string[] {
    return [...this.#listeners.keys()];
  }

  /** Whether a listener of this name exists. */
  has(name: string): boolean {
    return this.#listeners.has(name);
  }

  /** One listener, by name; throws a RangeError for an unknown name. */
  listener(name: string): L {
    const found = this.#listeners.get(name);
    if (!found) {
      throw new RangeError(
        `Cannot find ${this.scope} "${name}": expected one of ${
          this.names.join(", ")
        }`,
      );
    }
    return found;
  }

  /** Aborted once the server closes: event streams end on it. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Binds every listener in order. If one cannot bind, closes all and throws. */
  async start(): Promise<this> {
    try {
      for (const listener of this.listeners) await listener.start();
    } catch (error) {
      await this.close();
      throw error;
    }
    return this;
  }

  /** The open connections of every listener. */
  connectionInfos(): ConnectionInfo[] {
    return this.listeners.flatMap((listener) => listener.connectionInfos());
  }

  /** Waits until every listener matches its faults after a change. */
  async settled(): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener.settled()));
  }

  /** Closes every listener; resolves once everything is gone. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      await Promise.all(this.listeners.map((listener) => listener.close()));
      await this.#closed?.();
      this.#abort.abort();
      await this.#end.end();
    })();
  }

  /** Closes the server at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
