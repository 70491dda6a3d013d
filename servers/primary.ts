/**
 * The primary server (IP1): ACKs every record and packet it receives, with
 * the faults of the fault engine in the way (drop, delay, duplicate or
 * corrupt the ACK; refuse, reset, black-hole, go down).
 *
 * @example Start one for a test
 * ```ts ignore
 * import { startPrimaryServer } from "./primary.ts";
 * await using primary = await startPrimaryServer({ port: 0, dropAck: 0.3, seed: 7 });
 * ```
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { createAdminApp } from "../core/admin/admin_app.ts";
import type { Connection } from "../core/server/connection.ts";
import type { Frame } from "../core/codecs/frame.ts";
import { type OptionsSchema, withFlag } from "../core/cli/option_flags.ts";
import { type CliMain, serverMain } from "../core/cli/server_cli.ts";
import { TcpServer, type TcpServerOptions } from "../core/server/tcp_server.ts";
import { answerTelematicsFrame } from "./_telematics.ts";

/** The primary's default TCP port. */
export const PRIMARY_PORT = 7000;
/** The primary's default admin port. */
export const PRIMARY_ADMIN_PORT = 7001;

/**
 * The primary's own options, described once: the command-line flag
 * (`--no-packet-ack`) and the lab's `primary` entry are derived from it, and
 * the TypeScript options below are checked against it.
 */
export const PrimaryOptionsSchema: OptionsSchema<
  Pick<PrimaryServerOptions, "ackPackets">
> = z.object({
  ackPackets: withFlag(
    z.boolean().optional().describe(
      "ACK packets of other kinds too, not only records (default true)",
    ),
    {
      name: "no-packet-ack",
      negates: true,
      description: "ACK records only, not packets of other kinds",
    },
  ),
});

/** Options for {@linkcode startPrimaryServer}. */
export interface PrimaryServerOptions extends TcpServerOptions {
  /** ACK packets of other kinds too, not only records (default true). */
  ackPackets?: boolean;
}

/** A primary server: ACKs every record (`{"type":"ack","id":...}`). */
export class PrimaryServer extends TcpServer {
  #ackPackets: boolean;

  /**
   * Makes a primary; call `start()`, or use {@linkcode startPrimaryServer}.
   * A server that answers as a primary does (the flapping server, while up)
   * extends it and names its own kind.
   */
  constructor(options: PrimaryServerOptions = {}, kind = "primary") {
    super(kind, options);
    this.#ackPackets = options.ackPackets ?? true;
  }

  /**
   * The admin app (a Hono `OpenAPIHono`): the shared routes. Serve it with
   * `serveAdmin`, or call it in process with `app.request()`.
   *
   * @ignore
   */
  adminApp(): OpenAPIHono {
    return createAdminApp(this);
  }

  /** ACKs records and packets; answers anything else with an error frame. */
  protected override handleFrame(
    frame: Frame,
    connection: Connection,
  ): Frame | undefined {
    return answerTelematicsFrame(frame, connection, {
      ackPackets: this.#ackPackets,
    });
  }
}

/**
 * Starts a primary server, listening once the promise resolves.
 *
 * @example Usage
 * ```ts ignore
 * import { startPrimaryServer } from "./primary.ts";
 * await using primary = await startPrimaryServer({ port: 0, dropAck: 0.3, seed: 7 });
 * console.log(primary.addr.port);
 * ```
 */
export function startPrimaryServer(
  options: PrimaryServerOptions = {},
): Promise<PrimaryServer> {
  return new PrimaryServer(options).start();
}

/** Runs the primary's command line. */
export const main: CliMain = serverMain(import.meta, {
  summary:
    "The primary server (IP1): ACKs every record it receives, with faults switched by flag or live over the admin API.",
  defaults: { port: PRIMARY_PORT, adminPort: PRIMARY_ADMIN_PORT },
  options: PrimaryOptionsSchema,
  start: startPrimaryServer,
});
