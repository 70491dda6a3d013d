/**
 * What every server of the toolkit is, whatever its kind and however many
 * listeners it has: the one interface the command-line runner, the admin
 * API and the lab know a server by.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Journal } from "../journal/journal.ts";

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
