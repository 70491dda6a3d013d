/**
 * The secondary server (IP2): records every record and packet it receives,
 * in a log that counts how many times each id was seen, and sends no ACK
 * (behaviours TS-4, TS-7). With `ack: true` (`--ack`) it ACKs like the
 * primary, through the ACK faults, so it can be the failover target of FO-2
 * and FO-3.
 *
 * "IP2 saw each record at most once" (TS-4) is one query:
 * `secondary.duplicates()` (or `GET /records/counts`) is empty.
 *
 * @example Start one for a test
 * ```ts ignore
 * import { startSecondaryServer } from "./secondary.ts";
 * await using secondary = await startSecondaryServer({ port: 0 });
 * // ... run the client in mirror mode ...
 * secondary.duplicates(); // [] when no record reached IP2 twice
 * ```
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  addClearRoute,
  createAdminApp,
  ErrorSchema,
  jsonResponse,
} from "../core/admin/admin_app.ts";
import type { Connection } from "../core/server/connection.ts";
import type { Frame } from "../core/codecs/frame.ts";
import { type OptionsSchema, withFlag } from "../core/cli/option_flags.ts";
import { type CliMain, serverMain, tcpField } from "../core/cli/server_cli.ts";
import {
  type ServerState,
  TcpServer,
  type TcpServerOptions,
} from "../core/server/tcp_server.ts";
import { checkTelematicsFrame, telematicsReply } from "./_telematics.ts";

/** The secondary's default TCP port. */
export const SECONDARY_PORT = 7010;
/** The secondary's default admin port. */
export const SECONDARY_ADMIN_PORT = 7011;

/**
 * The secondary's own options, described once: the command-line flag
 * (`--ack`) and the lab's `secondary` entry are derived from it, and the
 * TypeScript options below are checked against it.
 */
export const SecondaryOptionsSchema: OptionsSchema<
  Pick<SecondaryServerOptions, "ack">
> = z.object({
  ack: withFlag(
    z.boolean().optional().describe(
      "ACK like the primary, to be a failover target (default false)",
    ),
    {
      name: "ack",
      description:
        "ACK records and packets like the primary (through the ACK faults): a failover target",
    },
  ),
});

/** Options for {@linkcode startSecondaryServer}. */
export interface SecondaryServerOptions extends TcpServerOptions {
  /**
   * ACK records and packets like the primary, through the ACK faults, to act
   * as a failover target (default false: mirror only, no ACK).
   */
  ack?: boolean;
  /** How many entries the record log keeps, oldest dropped first (default 100000). Counts are never dropped. */
  logCapacity?: number;
}

/** One record or packet the secondary received. */
export interface ReceivedRecord {
  /** Position in the log, from 1, never reused (clearing keeps counting). */
  n: number;
  /** Monotonic time in milliseconds (`performance.now()`), like journal events. */
  time: number;
  /** Wall-clock time in milliseconds since the epoch. */
  wall: number;
  /** The connection it came on. */
  conn: number;
  /** The peer's `host:port`. */
  peer: string;
  /** The device, if the connection said hello with one. */
  device?: string;
  /** `record`, or `packet` for the other kinds (which TS-5 says never come to IP2). */
  type: "record" | "packet";
  /** `record`, or the packet's kind (`transparent`, `tachograph`, `sdcard`, `garmin`). */
  kind: string;
  /** The record's (or packet's) id. */
  id: string;
  /** How many times this id had been received, this one included (2 and up: a repeat). */
  count: number;
}

/** A filter for {@linkcode SecondaryServer.received}. */
export interface ReceivedQuery {
  /** Only this id. */
  id?: string;
  /** Only this connection. */
  conn?: number;
  /** At most this many entries (the newest ones). */
  limit?: number;
}

/** How many times each id was received: the summary behind TS-4. */
export interface RecordCounts {
  /** Records and packets received in all (since the last clear). */
  total: number;
  /** Distinct ids received. */
  distinct: number;
  /** Times received, by id. */
  counts: Record<string, number>;
  /** Ids received more than once, in the order of their first repeat. */
  duplicates: string[];
  /** Entries received, by kind (`record`, `garmin`, ...). */
  byKind: Record<string, number>;
}

/**
 * A secondary server: records what it receives; ACKs only when told to.
 *
 * @example Usage
 * ```ts ignore
 * import { SecondaryServer } from "./secondary.ts";
 * await using secondary = await new SecondaryServer({ port: 0 }).start();
 * secondary.countsById(); // { r1: 1, ... }
 * ```
 */
export class SecondaryServer extends TcpServer {
  /** Whether it ACKs (acts as a failover target) rather than only mirroring. */
  readonly ack: boolean;
  #capacity: number;
  #log: ReceivedRecord[] = [];
  #head = 0;
  #n = 0;
  #counts = new Map<string, number>();
  #byKind = new Map<string, number>();
  #duplicates: string[] = [];
  #total = 0;

  /** Makes a secondary server; call `start()` to listen. */
  constructor(options: SecondaryServerOptions = {}) {
    super("secondary", options);
    this.ack = options.ack ?? false;
    this.#capacity = options.logCapacity ?? 100_000;
    if (!Number.isSafeInteger(this.#capacity) || this.#capacity < 1) {
      throw new RangeError(
        `Cannot keep a record log of ${this.#capacity} entries: expected a whole number from 1`,
      );
    }
  }

  /** The records and packets received, oldest first, filtered. */
  received(query: ReceivedQuery = {}): ReceivedRecord[] {
    const all = this.#head === 0
      ? this.#log.slice()
      : [...this.#log.slice(this.#head), ...this.#log.slice(0, this.#head)];
    const found = all.filter((entry) =>
      (query.id === undefined || entry.id === query.id) &&
      (query.conn === undefined || entry.conn === query.conn)
    );
    return query.limit !== undefined ? found.slice(-query.limit) : found;
  }

  /** How many times each id was received. */
  countsById(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Ids received more than once (TS-4 says: none), in the order of their first repeat. */
  duplicates(): string[] {
    return this.#duplicates.slice();
  }

  /** The counts summary: totals, per id, repeats, per kind. */
  recordCounts(): RecordCounts {
    return {
      total: this.#total,
      distinct: this.#counts.size,
      counts: this.countsById(),
      duplicates: this.duplicates(),
      byKind: Object.fromEntries(this.#byKind),
    };
  }

  /** Empties the record log and the counts; returns how many entries the log held. */
  clearReceived(): number {
    const cleared = this.#log.length;
    this.#log = [];
    this.#head = 0;
    this.#counts.clear();
    this.#byKind.clear();
    this.#duplicates = [];
    this.#total = 0;
    return cleared;
  }

  /** The server's state, with whether it ACKs and the record totals. */
  override state(): ServerState & {
    ack: boolean;
    records: { total: number; distinct: number; duplicates: number };
  } {
    return {
      ...super.state(),
      ack: this.ack,
      records: {
        total: this.#total,
        distinct: this.#counts.size,
        duplicates: this.#duplicates.length,
      },
    };
  }

  /**
   * The admin app: the shared routes, plus `/records` and `/records/counts`.
   *
   * @ignore
   */
  adminApp(): OpenAPIHono {
    return secondaryAdminApp(this);
  }

  /** Checks a frame, ACKs it only with `ack`, and logs records and packets. */
  protected override handleFrame(
    frame: Frame,
    connection: Connection,
  ): Frame | undefined {
    const message = checkTelematicsFrame(frame, connection);
    if (!message || message.type === "hello") return;
    this.#record(
      connection,
      message.type,
      message.type === "packet" ? message.kind : "record",
      message.id,
    );
    return telematicsReply(message, { ack: this.ack });
  }

  #record(
    connection: Connection,
    type: "record" | "packet",
    kind: string,
    id: string,
  ): void {
    const count = (this.#counts.get(id) ?? 0) + 1;
    this.#counts.set(id, count);
    this.#byKind.set(kind, (this.#byKind.get(kind) ?? 0) + 1);
    this.#total++;
    if (count === 2) this.#duplicates.push(id);
    const entry: ReceivedRecord = {
      n: ++this.#n,
      time: performance.now(),
      wall: Date.now(),
      conn: connection.id,
      peer: connection.peer,
      ...(connection.tags.device ? { device: connection.tags.device } : {}),
      type,
      kind,
      id,
      count,
    };
    if (this.#log.length < this.#capacity) this.#log.push(entry);
    else {
      this.#log[this.#head] = entry;
      this.#head = (this.#head + 1) % this.#capacity;
    }
    if (count > 1) {
      this.journal.append("record_repeated", {
        conn: connection.id,
        id,
        kind,
        count,
      });
    }
  }
}

const ReceivedRecordSchema = z.object({
  n: z.number(),
  time: z.number(),
  wall: z.number(),
  conn: z.number(),
  peer: z.string(),
  device: z.string().optional(),
  type: z.enum(["record", "packet"]),
  kind: z.string(),
  id: z.string(),
  count: z.number(),
}).openapi("ReceivedRecord");

const RecordCountsSchema = z.object({
  total: z.number(),
  distinct: z.number(),
  counts: z.record(z.string(), z.number()),
  duplicates: z.array(z.string()),
  byKind: z.record(z.string(), z.number()),
}).openapi("RecordCounts");

/** Adds the secondary's own routes to the shared admin app. */
function secondaryAdminApp(server: SecondaryServer): OpenAPIHono {
  const app = createAdminApp(server);
  app.openapi(
    createRoute({
      method: "get",
      path: "/records",
      request: {
        query: z.object({
          id: z.string().min(1).optional().openapi({
            description: "Only this record or packet id",
          }),
          conn: z.coerce.number().int().min(1).optional().openapi({
            description: "Only this connection",
          }),
          limit: z.coerce.number().int().min(1).max(100_000).optional()
            .openapi({ description: "At most this many, the newest" }),
        }),
      },
      responses: {
        200: jsonResponse(
          z.object({
            records: z.array(ReceivedRecordSchema),
            total: z.number(),
          }),
          "Records and packets received, oldest first; total counts every one since the last clear",
        ),
        400: jsonResponse(ErrorSchema, "The query was invalid"),
      },
    }),
    (c) => {
      const query = c.req.valid("query");
      return c.json({
        records: server.received({ ...query, limit: query.limit ?? 1000 }),
        total: server.recordCounts().total,
      }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/records/counts",
      responses: {
        200: jsonResponse(
          RecordCountsSchema,
          "Times each id was received; duplicates lists ids received more than once (TS-4: none)",
        ),
      },
    }),
    (c) => c.json(server.recordCounts(), 200),
  );
  addClearRoute(
    app,
    "/records",
    "The record log and counts are empty",
    () => server.clearReceived(),
  );
  return app;
}

/**
 * Starts a secondary server, listening once the promise resolves.
 *
 * @example Usage
 * ```ts ignore
 * import { startSecondaryServer } from "./secondary.ts";
 * await using mirror = await startSecondaryServer({ port: 0 });
 * await using target = await startSecondaryServer({ port: 0, ack: true });
 * ```
 */
export function startSecondaryServer(
  options: SecondaryServerOptions = {},
): Promise<SecondaryServer> {
  return new SecondaryServer(options).start();
}

/** Runs the secondary's command line. */
export const main: CliMain = serverMain(import.meta, {
  summary:
    "The secondary server (IP2): records every record it receives and counts each id; sends no ACK unless --ack.",
  defaults: { port: SECONDARY_PORT, adminPort: SECONDARY_ADMIN_PORT },
  options: SecondaryOptionsSchema,
  start: startSecondaryServer,
  describe: (server) => `${tcpField(server)} ack=${server.ack}`,
});
