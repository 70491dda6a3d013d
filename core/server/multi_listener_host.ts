/**
 * The part every server of several listeners has in common: it composes a
 * {@linkcode MultiListenerServer}, and its journal, signal, `finished`,
 * connections, settling and closing are that server's.
 *
 * @module
 */
import type { ConnectionInfo } from "./connection.ts";
import type { Journal } from "../journal/journal.ts";
import type { MultiListenerServer } from "./multi_listener_server.ts";
import type { TcpServer } from "./tcp_server.ts";

/**
 * A server built on a {@linkcode MultiListenerServer}: a subclass makes its
 * `listeners` in its constructor and adds what its kind does (the
 * watchdog-echo server's channels, the message store's fronts).
 *
 * @example Usage
 * ```ts ignore
 * class EchoPair extends MultiListenerHost<TcpServer> {
 *   readonly listeners = new MultiListenerServer({ ... });
 * }
 * ```
 */
export abstract class MultiListenerHost<L extends TcpServer>
  implements AsyncDisposable {
  /** Every listener, as one multi-listener server. */
  abstract readonly listeners: MultiListenerServer<L>;

  /** The journal every listener writes into; their events carry the scope. */
  get journal(): Journal {
    return this.listeners.journal;
  }

  /** Resolves once every listener is closed. */
  get finished(): Promise<void> {
    return this.listeners.finished;
  }

  /** Aborted once the server closes: event streams end on it. */
  get signal(): AbortSignal {
    return this.listeners.signal;
  }

  /** The open connections of every listener. */
  connectionInfos(): ConnectionInfo[] {
    return this.listeners.connectionInfos();
  }

  /** Waits until every listener matches its faults after a change. */
  settled(): Promise<void> {
    return this.listeners.settled();
  }

  /** Closes every listener; resolves once everything is gone. */
  close(): Promise<void> {
    return this.listeners.close();
  }

  /** Closes the server at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
