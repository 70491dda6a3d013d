/**
 * What every server of the toolkit is, whatever its kind and however many
 * listeners it has: the one interface the command-line runner, the admin
 * API and the lab know a server by, and the part of it one listener's
 * admin routes act on.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { FaultEngine } from "../faults/engine.ts";
import type { Journal } from "../journal/journal.ts";
import type { ConnectionInfo } from "./connection.ts";
import type { ServerState } from "./tcp_server.ts";

/** A running server of the toolkit. */
export interface ToolkitServer {
  /** Its name, in the journal and the admin API. */
  readonly name: string;
  /** Its kind (`primary`, `watchdog-echo`, `message-store`, `proxy`, ...). */
  readonly kind: string;
  /** The run seed its decisions are drawn from. */
  readonly seed: number;
  /** The journal its events go to (shared by all its listeners). */
  readonly journal: Journal;
  /** Aborted once it closes: event streams end on it. */
  readonly signal: AbortSignal;
  /** Resolves once it is closed. */
  readonly finished: Promise<void>;
  /** Its state, for `GET /state`. */
  state(): unknown;
  /**
   * Its admin app (a Hono `OpenAPIHono`).
   *
   * @ignore
   */
  adminApp(): OpenAPIHono;
  /** Closes it; resolves once everything is gone. */
  close(): Promise<void>;
}

/**
 * A {@linkcode ToolkitServer} as the shared admin routes act on one of its
 * listeners: a server of one listener is its own; a server of several
 * (watchdog-echo's channels, the message store's fronts, the proxy's named
 * proxies) has one per listener. Its name, kind, journal and signal are the
 * server's; its faults and connections are the listener's.
 */
export interface ServerListener
  extends Pick<ToolkitServer, "name" | "kind" | "journal" | "signal"> {
  /** Its faults. */
  readonly faults: FaultEngine;
  /** Its state, for `GET /state`. */
  state(): ServerState | Record<string, unknown>;
  /** Its open connections. */
  connectionInfos(): ConnectionInfo[];
  /** A connection by id, to close it. */
  connection(
    id: number,
  ):
    | { close(how?: "fin" | "rst" | "half-close", reason?: string): void }
    | undefined;
  /** Goes down. */
  down(how?: "fin" | "rst"): void;
  /** Comes back up. */
  up(): void;
  /** Waits until the listener matches the faults after a change. */
  settled?(): Promise<void>;
}
