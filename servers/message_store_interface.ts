/**
 * What the message-store server asks of its shared store: the
 * {@linkcode MessageStore} interface, the {@linkcode StoredMessage} it keeps
 * and the {@linkcode StoreUnavailableError} it throws while it is down. The
 * implementations (in memory, on PostgreSQL) and the server import this file;
 * it imports none of them.
 *
 * @module
 */

/** One message in the shared store. */
export interface StoredMessage {
  /** The message id, given by the sender; unique per recipient. */
  id: string;
  /** The agent it is for. */
  to: string;
  /** The agent (or `admin`) that sent it. */
  from: string;
  /** Whatever the sender sent. */
  body?: unknown;
  /** Wall-clock time it was stored, ms since the epoch. */
  storedAt: number;
}

/** Options for {@linkcode MessageStore.deliverable}. */
export interface DeliverableOptions {
  /**
   * Make `holder` the agent's current connection first (on `hello`). Without
   * it (on `sync`), nothing is returned unless `holder` already is.
   */
  attach: boolean;
}

/** What a store tells its watchers (see {@linkcode MessageStore.watch}). */
export interface MessageStoreWatcher {
  /**
   * A message for `agent` was stored through another store instance (another
   * process, on a shared database): push to the agent if it is on its
   * primary here.
   */
  stored?(agent: string): void;
  /**
   * The store itself became unavailable (`available` false: the database went
   * away) or came back (`available` true), and why.
   */
  availability?(available: boolean, reason: string): void;
  /**
   * Notices of new messages may have been missed (the connection that
   * listens for them was cut and is back): push to every agent with
   * messages waiting, as after an outage.
   */
  missed?(): void;
}

/**
 * The shared server-side message store, behind which any implementation can
 * sit (in memory: `MemoryMessageStore`; on PostgreSQL:
 * `PostgresMessageStore`). Every method is async; a method that throws is
 * taken as the store being unavailable.
 *
 * Delivery goes to one connection of an agent at a time: its newest `hello`
 * makes a connection the agent's holder ({@linkcode MessageStore.deliverable}
 * with `attach`), and a `sync` on any other connection gets nothing. So two
 * fronts delivering to the same agent at once never both send it a message.
 */
export interface MessageStore {
  /** Whether the store can be used now (a durable store may lose its disk or link). */
  readonly available: boolean;
  /**
   * True when writes take a while (a database) and answer in the order
   * they were made: the server then keeps several of one connection's
   * sends and ACKs in flight instead of waiting for each before reading the
   * next frame.
   */
  readonly pipelined?: boolean;
  /**
   * Stores a message. Resolves false, storing nothing, when a message with
   * that id already waits for (or was acknowledged by) that recipient.
   */
  put(message: StoredMessage): Promise<boolean>;
  /** The messages waiting for an agent, in the order they were stored. */
  pending(agent: string): Promise<StoredMessage[]>;
  /**
   * The messages to deliver to one connection (`holder`, unique across every
   * process sharing the store) of an agent, in the order they were stored:
   * everything waiting if `holder` is (or, with `attach`, becomes) the
   * agent's current connection, else nothing.
   */
  deliverable(
    agent: string,
    holder: string,
    options: DeliverableOptions,
  ): Promise<StoredMessage[]>;
  /** Removes a message the agent acknowledged; resolves false if none waited. */
  ack(agent: string, id: string): Promise<boolean>;
  /** Every waiting message, in the order they were stored. */
  list(): Promise<StoredMessage[]>;
  /**
   * Tells `watcher` of messages stored elsewhere and of the store's own
   * outages; returns the function that stops it. A store shared by one
   * process only need not implement it.
   */
  watch?(watcher: MessageStoreWatcher): () => void;
  /** Lets go of the store's resources (connections, timers). */
  close?(): Promise<void>;
}

/** The error of a store operation while the store is down (HTTP 503 in the admin API). */
export class StoreUnavailableError extends Error {
  /** Makes the error; the message says why the store cannot be used. */
  constructor(message = "Cannot use the message store: it is unavailable") {
    super(message);
    this.name = "StoreUnavailableError";
  }
}
