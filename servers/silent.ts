/**
 * The silent server: accepts TCP connections and never answers, to test a
 * client's timeouts (the failed-but-open channel of DC-10, the missing ACK
 * of TS-3 and FO-2, the unreachable server of QA-2..QA-4). Four modes:
 *
 * - `read` (default): reads and journals what comes (`frame_in`,
 *   `bad_input`), never writes a byte, not even an error frame.
 * - `no-read`: never reads, so the peer's writes fill the TCP window and
 *   its `write` stops draining.
 * - `no-accept`: listens with a tiny backlog and never accepts; the accept
 *   queue is full, so the kernel drops new SYNs and `connect()` hangs until
 *   the client's own timeout.
 * - `trickle`: reads like `read` and sends one byte (a space) every
 *   `trickleEveryMs`: the connection is never idle, yet no frame ever
 *   completes.
 *
 * Each mode is a preset of the fault engine (see `docs/faults.md`), so any
 * server can have it: `no-read` is the `noRead` fault, `trickle` the
 * `trickle` fault, `no-accept` the `noAccept` fault (the TCP base runs the
 * listener); `read` is a handler that never answers (the `blackHole` fault
 * gives the same on a server that would).
 *
 * For every connection that closes it keeps a wait: how long the client
 * waited since its last frame and how the connection ended (`waits()`,
 * `GET /waits`, journal event `wait_ended`). Input cut short when the client
 * leaves (a partial line, or a partial binary frame) is not a read: the wait
 * counts from the last whole frame.
 *
 * @example Start one for a test
 * ```ts ignore
 * import { startSilentServer } from "./silent.ts";
 * await using silent = await startSilentServer({ port: 0, mode: "no-read" });
 * ```
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  addClearRoute,
  createAdminApp,
  jsonResponse,
} from "../core/admin/admin_app.ts";
import { parseInteger } from "../core/cli/cli.ts";
import { type OptionsSchema, withFlag } from "../core/cli/option_flags.ts";
import { oneOfSchema } from "../core/cli/option_values.ts";
import type { Connection } from "../core/server/connection.ts";
import type { Faults } from "../core/faults/mod.ts";
import type { JournalEvent } from "../core/journal/journal.ts";
import { type CliMain, serverMain, tcpField } from "../core/cli/server_cli.ts";
import {
  type ServerState,
  TcpServer,
  type TcpServerOptions,
} from "../core/server/tcp_server.ts";
import { parseDuration } from "../core/units/units.ts";
import {
  acceptQueue,
  addressKey,
  readTcpTable,
  TCP_STATE,
} from "./_tcp_table.ts";

/** The silent server's default TCP port. */
export const SILENT_PORT = 7030;
/** The silent server's default admin port. */
export const SILENT_ADMIN_PORT = 7031;

/** How the silent server keeps quiet. */
export type SilentMode = "read" | "no-read" | "no-accept" | "trickle";

/** Every mode, for `--mode`. */
export const SILENT_MODES: readonly SilentMode[] = [
  "read",
  "no-read",
  "no-accept",
  "trickle",
];

/** What `--trickle-every` (`trickleEveryMs`) takes. */
const TRICKLE_RANGE = "expected 1 ms to 1 h";

/**
 * The silent server's own options, described once: the command-line flags
 * (`--mode no-accept --backlog 2`) and the lab's `silent` entry are derived
 * from it, and the TypeScript options below are checked against it.
 */
export const SilentOptionsSchema: OptionsSchema<
  Pick<SilentServerOptions, "mode" | "trickleEveryMs" | "backlog" | "fillQueue">
> = z.object({
  mode: withFlag(
    oneOfSchema(SILENT_MODES).optional().describe(
      "read (read, never answer), no-read (never read: the peer's window fills), no-accept (never accept: connects hang), trickle (one byte every --trickle-every)",
    ),
    { name: "mode", value: "MODE", default: "read" },
  ),
  trickleEveryMs: withFlag(
    z.number().min(1, TRICKLE_RANGE).max(3_600_000, TRICKLE_RANGE).optional()
      .describe(
        "With mode trickle: milliseconds between two bytes (default 1000)",
      ),
    {
      name: "trickle-every",
      value: "DURATION",
      default: "1s",
      description: "With --mode trickle: time between two bytes",
      parse: parseDuration,
      needs: { option: "mode", value: "trickle" },
    },
  ),
  backlog: withFlag(
    z.number().int().min(0).max(65535).optional().describe(
      "With mode no-accept: listen backlog (Linux queues N+1 connections; default 0)",
    ),
    {
      name: "backlog",
      value: "N",
      default: "0",
      description:
        "With --mode no-accept: listen backlog (Linux queues N+1 connections)",
      parse: parseInteger(0, 65535),
      needs: { option: "mode", value: "no-accept" },
    },
  ),
  fillQueue: withFlag(
    z.boolean().optional().describe(
      "With mode no-accept: fill the accept queue with the server's own connections, so that every connect hangs (default true)",
    ),
    {
      name: "no-fill",
      negates: true,
      description:
        "With --mode no-accept: leave the accept queue to clients (the first N+1 connect, later ones hang)",
      needs: { option: "mode", value: "no-accept" },
    },
  ),
});

/** Options for {@linkcode startSilentServer}. */
export interface SilentServerOptions extends TcpServerOptions {
  /** How to keep quiet (default `read`). */
  mode?: SilentMode;
  /** `trickle`: milliseconds between two bytes (default 1000). */
  trickleEveryMs?: number;
  /** `trickle`: the byte sent (default 0x20, a space: never ends a line). */
  trickleByte?: number;
  /** `no-accept`: the listen backlog; Linux admits `backlog + 1` connections (default 0). */
  backlog?: number;
  /**
   * `no-accept`: fill the accept queue with the server's own connections, so
   * that every client's connect hangs (default true). When false, the first
   * `backlog + 1` clients complete their handshake (and are never accepted);
   * later ones hang.
   */
  fillQueue?: boolean;
  /**
   * `no-read`: how often to look in the kernel's TCP table for peers that
   * have closed (the server reads nothing, so it cannot see their FIN
   * otherwise), in milliseconds (default 250).
   */
  peerPollMs?: number;
  /** How many waits are kept, oldest dropped first (default 10000). */
  waitCapacity?: number;
}

/** How a connection ended: who closed it, and how. */
export type SilentWaitEnd =
  | "peer-fin"
  | "peer-rst"
  | "server-fin"
  | "server-rst";

/** One closed connection: how long its client waited, and how it ended. */
export interface SilentWait {
  /** The connection id. */
  conn: number;
  /** The peer's `host:port`. */
  peer: string;
  /** The mode it met. */
  mode: SilentMode;
  /** Wall-clock time it was accepted, ms since the epoch. */
  openedAt: number;
  /** Milliseconds from accept to close. */
  ms: number;
  /**
   * Milliseconds from the last frame (or bad input) the server read to the
   * close, or from accept when it read none: how long the client waited for
   * an answer before it gave up.
   */
  waitedMs: number;
  /** Who closed it and how. */
  ended: SilentWaitEnd;
  /** Why, as the journal's `closed` event says (`peer`, `ECONNRESET`, `server closing`, ...). */
  reason: string;
  /** Bytes the server read. */
  bytesIn: number;
  /** Frames the server decoded. */
  framesIn: number;
  /** Bytes the server wrote (only `trickle` writes any). */
  bytesOut: number;
}

/** The silent server's state: the shared state plus its mode. */
export type SilentServerState = ServerState & {
  /** How it keeps quiet. */
  mode: SilentMode;
  /** `trickle`: milliseconds between two bytes. */
  trickleEveryMs?: number;
  /** `no-accept`: the listen backlog. */
  backlog?: number;
  /** `no-accept`: whether it fills the accept queue itself. */
  fillQueue?: boolean;
  /** `no-accept`, Linux: connections the kernel queued and the server never accepted (at most `backlog + 1`). */
  acceptQueue?: { queued: number };
  /** `no-read`: whether peers that close can be seen (false when `/proc/net/tcp` cannot be read). */
  peerWatch?: boolean;
};

interface Tracked {
  connection: Connection;
  lastInput: number;
  closed?: JournalEvent;
  peerEnded?: "fin" | "rst";
}

function isMode(mode: string): mode is SilentMode {
  return (SILENT_MODES as readonly string[]).includes(mode);
}

function checkMode(mode: string): SilentMode {
  if (!isMode(mode)) {
    throw new RangeError(
      `Cannot use mode "${mode}": expected one of ${SILENT_MODES.join(", ")}`,
    );
  }
  return mode;
}

function checkWhole(
  what: string,
  value: number,
  min: number,
  max: number,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot use ${what} ${value}: expected a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * A silent server: accepts connections (or not) and never answers.
 *
 * @example Usage
 * ```ts ignore
 * import { SilentServer } from "./silent.ts";
 * await using silent = await new SilentServer({ port: 0, mode: "trickle", trickleEveryMs: 100 }).start();
 * silent.waits(); // one per closed connection
 * ```
 */
export class SilentServer extends TcpServer {
  /** How it keeps quiet. */
  readonly mode: SilentMode;
  /** `trickle`: milliseconds between two bytes. */
  readonly trickleEveryMs: number;
  /** `no-accept`: the listen backlog. */
  readonly backlog: number;
  /** `no-accept`: whether it fills the accept queue itself. */
  readonly fillQueue: boolean;
  #peerPollMs: number;
  #waitCapacity: number;
  #tracked = new Map<number, Tracked>();
  #waits: SilentWait[] = [];
  #unsubscribe: () => void;
  #watch?: ReturnType<typeof setInterval>;
  #peerWatch = true;
  #closing = false;

  /** Makes a silent server; call `start()` to listen. */
  constructor(options: SilentServerOptions = {}) {
    const mode = checkMode(options.mode ?? "read");
    const trickleEveryMs = options.trickleEveryMs ?? 1000;
    if (!(trickleEveryMs >= 1 && trickleEveryMs <= 3_600_000)) {
      throw new RangeError(
        `Cannot trickle every ${trickleEveryMs} ms: expected 1 to 3600000`,
      );
    }
    const byte = checkWhole(
      "trickle byte",
      options.trickleByte ?? 0x20,
      0,
      255,
    );
    const backlog = checkWhole("backlog", options.backlog ?? 0, 0, 65535);
    const fillQueue = options.fillQueue ?? true;
    const waitCapacity = checkWhole(
      "wait capacity",
      options.waitCapacity ?? 10_000,
      1,
      1e9,
    );
    const preset: Faults = mode === "no-read"
      ? { noRead: {} }
      : mode === "trickle"
      ? { trickle: { everyMs: trickleEveryMs, byte } }
      : mode === "no-accept"
      ? { noAccept: { backlog, fillQueue } }
      : {};
    super("silent", {
      ...options,
      faults: { ...preset, ...options.faults },
      replyToBadInput: false,
      maxBadFrames: options.maxBadFrames ?? 0,
    });
    this.mode = mode;
    this.trickleEveryMs = trickleEveryMs;
    this.backlog = backlog;
    this.fillQueue = fillQueue;
    this.#peerPollMs = options.peerPollMs ?? 250;
    this.#waitCapacity = waitCapacity;
    this.#unsubscribe = this.journal.subscribe((event) => this.#seen(event));
  }

  /** The waits of the connections closed so far, oldest first. */
  waits(): SilentWait[] {
    return this.#waits.slice();
  }

  /** Forgets the waits kept; returns how many there were. */
  clearWaits(): number {
    const cleared = this.#waits.length;
    this.#waits = [];
    return cleared;
  }

  /** The server's state, with its mode. */
  override state(): SilentServerState {
    const state: SilentServerState = { ...super.state(), mode: this.mode };
    if (this.mode === "trickle") state.trickleEveryMs = this.trickleEveryMs;
    if (this.mode === "no-read") state.peerWatch = this.#peerWatch;
    if (this.mode === "no-accept") {
      state.backlog = this.backlog;
      state.fillQueue = this.fillQueue;
      const queue = this.listening
        ? acceptQueue(this.addr.hostname, this.addr.port)
        : undefined;
      if (queue) state.acceptQueue = queue;
    }
    return state;
  }

  /**
   * The admin app: the shared routes, plus `/waits`.
   *
   * @ignore
   */
  adminApp(): OpenAPIHono {
    return silentAdminApp(this);
  }

  /** Closes every connection and the listener; resolves once all are gone. */
  override async close(): Promise<void> {
    if (this.#closing) return await this.finished;
    this.#closing = true;
    await super.close();
    this.#stopWatch();
    this.#unsubscribe();
  }

  /** `no-read` (the `noRead` fault stopped reading): watches the kernel for the peer leaving. */
  protected override handleConnected(connection: Connection): void {
    if (this.mode === "no-read" && this.#tracked.has(connection.id)) {
      this.#startWatch();
    }
  }

  /** `no-accept`: the kernel's count of the connections queued. */
  protected override acceptQueueInfo(): Record<string, unknown> | undefined {
    return acceptQueue(this.addr.hostname, this.addr.port);
  }

  /** Keeps the wait of a closed connection, and journals `wait_ended`. */
  protected override handleClosed(connection: Connection): void {
    const tracked = this.#tracked.get(connection.id);
    if (!tracked) return;
    this.#tracked.delete(connection.id);
    const closed = tracked.closed;
    const now = closed?.time ?? performance.now();
    const info = connection.info();
    const by = tracked.peerEnded ? "peer" : closed?.by ?? "peer";
    const how = tracked.peerEnded ?? (closed?.how === "rst" ? "rst" : "fin");
    const wait: SilentWait = {
      conn: connection.id,
      peer: connection.peer,
      mode: this.mode,
      openedAt: connection.openedAt,
      ms: typeof closed?.ms === "number"
        ? closed.ms
        : Date.now() - connection.openedAt,
      waitedMs: Math.round(now - tracked.lastInput),
      ended: `${by === "server" ? "server" : "peer"}-${how}` as SilentWaitEnd,
      reason: String(closed?.reason ?? "peer"),
      bytesIn: info.bytesIn,
      framesIn: info.framesIn,
      bytesOut: info.bytesOut,
    };
    this.#waits.push(wait);
    if (this.#waits.length > this.#waitCapacity) this.#waits.shift();
    const { conn, peer, ms, waitedMs, ended, reason } = wait;
    this.journal.append("wait_ended", {
      conn,
      peer,
      ms,
      waitedMs,
      ended,
      reason,
    });
  }

  /** Follows this server's connections in the journal: accept, input, close. */
  #seen(event: JournalEvent): void {
    if (event.conn === undefined) return;
    if (event.type === "connected") {
      const connection = this.connection(event.conn);
      // A shared journal carries other servers' connections too.
      if (!connection || connection.peer !== event.peer) return;
      this.#tracked.set(event.conn, { connection, lastInput: event.time });
      return;
    }
    const tracked = this.#tracked.get(event.conn);
    if (!tracked) return;
    // A frame cut short when input ends is not a read: the client sent it
    // before it began to wait (binary protocols leave one at every close).
    if (
      event.type === "frame_in" ||
      (event.type === "bad_input" && event.code !== "truncated")
    ) {
      tracked.lastInput = event.time;
    } else if (event.type === "closed") tracked.closed = event;
  }

  // no-read: the server reads nothing, so a peer's FIN stays unread in the
  // kernel. Its socket shows CLOSE_WAIT in /proc/net/tcp; a reset one is gone.

  #startWatch(): void {
    if (this.#watch !== undefined || !this.#peerWatch || this.#closing) return;
    this.#watch = setInterval(() => this.#checkPeers(), this.#peerPollMs);
  }

  #stopWatch(): void {
    clearInterval(this.#watch);
    this.#watch = undefined;
  }

  #checkPeers(): void {
    const open = [...this.#tracked.values()].filter((tracked) =>
      !tracked.connection.closed && !tracked.peerEnded
    );
    if (open.length === 0) return this.#stopWatch();
    const table = readTcpTable();
    if (!table) {
      this.#peerWatch = false;
      this.#stopWatch();
      this.journal.append("error", {
        message:
          "Cannot watch for peers closing: /proc/net/tcp cannot be read; no-read connections show closed only when the server closes them",
      });
      return;
    }
    for (const tracked of open) {
      const { connection } = tracked;
      const entry = table.get(
        `${addressKey(connection.local)}|${addressKey(connection.peer)}`,
      );
      if (entry?.state === TCP_STATE.ESTABLISHED) continue;
      const how = entry?.state === TCP_STATE.CLOSE_WAIT ? "fin" : "rst";
      tracked.peerEnded = how;
      this.journal.append("peer_closed", {
        conn: connection.id,
        how,
        unreadBytes: entry?.rxQueue ?? 0,
        seenIn: "/proc/net/tcp",
      });
      connection.close("rst", "peer closed; unread input discarded");
    }
  }
}

const WaitSchema = z.object({
  conn: z.number(),
  peer: z.string(),
  mode: z.enum(SILENT_MODES as [SilentMode, ...SilentMode[]]),
  openedAt: z.number(),
  ms: z.number(),
  waitedMs: z.number(),
  ended: z.enum(["peer-fin", "peer-rst", "server-fin", "server-rst"]),
  reason: z.string(),
  bytesIn: z.number(),
  framesIn: z.number(),
  bytesOut: z.number(),
}).openapi("SilentWait");

/** Adds the silent server's own routes to the shared admin app. */
function silentAdminApp(server: SilentServer): OpenAPIHono {
  const app = createAdminApp(server);
  app.openapi(
    createRoute({
      method: "get",
      path: "/waits",
      responses: {
        200: jsonResponse(
          z.object({ mode: z.string(), waits: z.array(WaitSchema) }),
          "Per closed connection: how long the client waited, and how it ended",
        ),
      },
    }),
    (c) => c.json({ mode: server.mode, waits: server.waits() }, 200),
  );
  addClearRoute(
    app,
    "/waits",
    "The waits are forgotten",
    () => server.clearWaits(),
  );
  return app;
}

/**
 * Starts a silent server, listening once the promise resolves (in
 * `no-accept` mode, with its accept queue already full).
 *
 * @example Usage
 * ```ts ignore
 * import { startSilentServer } from "./silent.ts";
 * await using silent = await startSilentServer({ port: 0, mode: "no-accept" });
 * // a connect() to silent.addr now hangs until the client gives up
 * ```
 */
export function startSilentServer(
  options: SilentServerOptions = {},
): Promise<SilentServer> {
  return new SilentServer(options).start();
}

/** Runs the silent server's command line. */
export const main: CliMain = serverMain(import.meta, {
  summary:
    "The silent server: accepts TCP connections and never answers, to test client timeouts.",
  // A silent server never closes on bad input unless told to.
  defaults: {
    port: SILENT_PORT,
    adminPort: SILENT_ADMIN_PORT,
    maxBadFrames: 0,
  },
  options: SilentOptionsSchema,
  start: startSilentServer,
  describe: (server) => `${tcpField(server)} mode=${server.mode}`,
});
