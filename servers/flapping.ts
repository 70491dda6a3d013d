/**
 * The flapping server: alternates up and down on a schedule, fixed
 * (`--up 5s --down 2s`) or seeded random (`--up 2s..8s --down 1s..3s`, drawn
 * from the server's seeded stream: the same seed gives the same schedule).
 * What "down" means is the down mode: `refuse` (listener closed, open
 * connections closed), `reset` (accept then RST; open connections reset) or
 * `black-hole` (accept and keep open, never answer).
 *
 * The schedule is a preset of the fault engine: a schedule run by the
 * engine (`runSchedule`) sets the fault of the down mode (`down`, `reset` or
 * `blackHole`) for each down period and removes it for each up period; pause,
 * resume and force are the engine's. Each transition is journalled as a
 * `transition` event.
 *
 * Standalone (the default) it answers as a primary while up: it ACKs every
 * record. As a proxy (`target`) it forwards raw bytes both ways to any TCP
 * server while up, never decoding them, so a real server of any protocol can
 * be made to flap: each connection is a {@linkcode ProxyLink} (the fault
 * proxy's link: half-close and resets pass through), with the engine's byte
 * steps in front of both directions.
 *
 * @example Flap a standalone primary every 30 ms
 * ```ts ignore
 * import { startFlappingServer } from "./flapping.ts";
 * await using flapping = await startFlappingServer({ port: 0, up: 30, down: 30 });
 * ```
 *
 * @module
 */
import type { Socket } from "node:net";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  createAdminApp,
  ERROR_RESPONSES,
  jsonResponse,
} from "../core/admin/admin_app.ts";
import { CliError } from "../core/cli/cli.ts";
import { type OptionsFit, withFlag } from "../core/cli/option_flags.ts";
import { DurationRangeSchema, oneOfSchema } from "../core/cli/option_values.ts";
import type { Codec } from "../core/codecs/codec.ts";
import type { ConnectionInfo } from "../core/server/connection.ts";
import type {
  FaultKind,
  Faults,
  ScheduleStatus,
  TransitionReason,
} from "../core/faults/mod.ts";
import {
  type LinkCloseHow,
  type LinkStream,
  ProxyLink,
} from "../core/net/proxy_link.ts";
import { type CliMain, serverMain, tcpField } from "../core/cli/server_cli.ts";
import type {
  Addr,
  ServerState,
  TcpServerOptions,
} from "../core/server/tcp_server.ts";
import { type DurationRange, parseHostPort } from "../core/units/units.ts";
import {
  acceptSubject,
  engineSteps,
  linkInfo,
  type LinkSubject,
} from "./_link_subject.ts";
import { PrimaryServer } from "./primary.ts";
import { joinHostPort } from "../core/net/host_port.ts";

/** The flapping server's default TCP port. */
export const FLAPPING_PORT = 7020;
/** The flapping server's default admin port. */
export const FLAPPING_ADMIN_PORT = 7021;

/** Whether the flapping server is up or down. */
export type FlapState = "up" | "down";

/** What "down" means; see {@linkcode DOWN_MODES}. */
export type DownMode = "refuse" | "reset" | "black-hole";

/**
 * The down modes: `refuse` (listener closed: connects are refused, open
 * connections closed with FIN), `reset` (connections accepted then reset,
 * open ones reset), `black-hole` (connections accepted and kept open, never
 * answered).
 */
export const DOWN_MODES: readonly DownMode[] = [
  "refuse",
  "reset",
  "black-hole",
];

/** The fault each down mode sets while down. */
const MODE_FAULT: Record<DownMode, FaultKind> = {
  refuse: "down",
  reset: "reset",
  "black-hole": "blackHole",
};

/** Faults that need frames (ACKs, frame counts): no use to a raw proxy. */
const FRAME_FAULTS: readonly FaultKind[] = [
  "dropAck",
  "delayAck",
  "duplicateAck",
  "corruptAck",
  "closeAfter",
];

/**
 * The flapping server's own options, described once: the command-line flags
 * (`--up 2s..8s --down-mode reset`) and the lab's `flapping` entry are
 * derived from it, and the TypeScript options below are checked against it.
 */
export const FlappingOptionsSchema: z.ZodObject<{
  up: z.ZodOptional<typeof DurationRangeSchema>;
  down: z.ZodOptional<typeof DurationRangeSchema>;
  downMode: z.ZodOptional<z.ZodType<DownMode>>;
  target: z.ZodOptional<z.ZodString>;
  startState: z.ZodOptional<z.ZodType<FlapState>>;
  paused: z.ZodOptional<z.ZodBoolean>;
  ackPackets: z.ZodOptional<z.ZodBoolean>;
}> = z.object({
  up: withFlag(
    DurationRangeSchema.optional().describe(
      "Length of each up period: fixed (5s) or a seeded range (2s..8s)",
    ),
    { name: "up", value: "DURATION[..MAX]", default: "5s" },
  ),
  down: withFlag(
    DurationRangeSchema.optional().describe(
      "Length of each down period: fixed (2s) or a seeded range (1s..3s)",
    ),
    { name: "down", value: "DURATION[..MAX]", default: "2s" },
  ),
  downMode: withFlag(
    oneOfSchema(DOWN_MODES).optional().describe(
      "What down means: refuse (listener closed), reset (accept then RST), black-hole (accept, never answer)",
    ),
    { name: "down-mode", value: "MODE", default: "refuse" },
  ),
  target: withFlag(
    z.string().min(1).optional().describe(
      "Proxy mode: forward raw bytes to this TCP server while up (any protocol): host:port (in a lab, a server of the lab by name too)",
    ),
    {
      name: "target",
      value: "HOST:PORT",
      description:
        "Proxy mode: forward raw bytes to this TCP server while up (any protocol)",
      // The command line takes an address only (the lab, a server's name too).
      parse: (text) => {
        parseHostPort(text);
        return text;
      },
    },
  ),
  startState: withFlag(
    z.enum(["up", "down"], { error: "expected up or down" }).optional()
      .describe("Start up or down"),
    { name: "start-state", value: "STATE", default: "up" },
  ),
  paused: withFlag(
    z.boolean().optional().describe(
      "Start with the schedule paused (resume with POST /schedule/resume)",
    ),
    { name: "paused" },
  ),
  ackPackets: withFlag(
    z.boolean().optional().describe(
      "Standalone: ACK packets of other kinds too, not only records (default true)",
    ),
    {
      name: "no-packet-ack",
      negates: true,
      description: "Standalone: ACK records only, not packets of other kinds",
    },
  ),
});

function parseFlapState(text: string): FlapState {
  if (text !== "up" && text !== "down") {
    throw new RangeError("expected up or down");
  }
  return text;
}

/** Options for {@linkcode startFlappingServer}. */
export interface FlappingServerOptions extends TcpServerOptions {
  /** How long each up period lasts, in ms: fixed, or a seeded range (default 5000). */
  up?: number | DurationRange;
  /** How long each down period lasts, in ms: fixed, or a seeded range (default 2000). */
  down?: number | DurationRange;
  /** What "down" means (default `refuse`). */
  downMode?: DownMode;
  /**
   * Proxy mode: forward raw bytes to this server (`host:port` or an address)
   * while up, instead of answering as a primary.
   */
  target?: string | Addr;
  /** The state to start in (default `up`). */
  startState?: FlapState;
  /** Start with the schedule paused: it stays in `startState` until resumed (default false). */
  paused?: boolean;
  /** Standalone: ACK packets of other kinds too, not only records (default true). */
  ackPackets?: boolean;
}

// What the schema gives can be passed as the options above (`deno check`).
const _flappingOptionsFit: OptionsFit<
  z.infer<typeof FlappingOptionsSchema>,
  Pick<
    FlappingServerOptions,
    | "up"
    | "down"
    | "downMode"
    | "target"
    | "startState"
    | "paused"
    | "ackPackets"
  >
> = true;

/** The schedule a flapping server follows. */
export interface FlapSchedule {
  /** Length of an up period, in ms (min = max when fixed). */
  up: DurationRange;
  /** Length of a down period, in ms (min = max when fixed). */
  down: DurationRange;
  /** What "down" means. */
  downMode: DownMode;
  /** The state it started in. */
  startState: FlapState;
}

/** Where a flapping server is in its schedule, as `GET /schedule` shows it. */
export interface FlapStatus {
  /** Up or down now. */
  state: FlapState;
  /** Whether the schedule is paused (the state holds until resumed or forced). */
  paused: boolean;
  /** What "down" means. */
  downMode: DownMode;
  /** The state of the next transition. */
  nextState: FlapState;
  /** Milliseconds until the next transition (left, when paused). */
  nextMs: number;
  /** Wall-clock time of the next transition, ms since the epoch; null when paused. */
  nextAt: number | null;
  /** The length of the current period as drawn, in ms. */
  periodMs: number;
  /** How many transitions so far (the start counts as the first). */
  transitions: number;
  /** The schedule. */
  schedule: FlapSchedule;
  /** Proxy mode: the server bytes are forwarded to. */
  target?: string;
}

/** A flapping server's state for the admin API: the server's, plus its schedule. */
export interface FlappingServerState extends ServerState {
  /** Where it is in its schedule. */
  schedule: FlapStatus;
}

/** A codec that decodes nothing: proxy mode hands bytes over raw. */
const RAW_CODEC: Codec = {
  name: "raw",
  decoder: () => ({ push: () => [], end: () => [], pending: 0 }),
  encode: () => undefined,
};

function durationRange(
  value: number | DurationRange | undefined,
  fallback: number,
  name: string,
): DurationRange {
  const range = value === undefined
    ? { min: fallback, max: fallback }
    : typeof value === "number"
    ? { min: value, max: value }
    : { min: value.min, max: value.max };
  if (
    !Number.isFinite(range.min) || !Number.isFinite(range.max) ||
    range.min < 1 || range.max < range.min
  ) {
    throw new RangeError(
      `Cannot use ${name} period ${
        JSON.stringify(value)
      }: expected at least 1 ms, and min at most max`,
    );
  }
  return range;
}

function scheduleOf(options: FlappingServerOptions): FlapSchedule {
  const downMode = options.downMode ?? "refuse";
  if (!DOWN_MODES.includes(downMode)) {
    throw new RangeError(
      `Cannot use down mode "${downMode}": expected one of ${
        DOWN_MODES.join(", ")
      }`,
    );
  }
  const startState = options.startState ?? "up";
  if (startState !== "up" && startState !== "down") {
    throw new RangeError(
      `Cannot use start state "${startState}": expected up or down`,
    );
  }
  return {
    up: durationRange(options.up, 5000, "up"),
    down: durationRange(options.down, 2000, "down"),
    downMode,
    startState,
  };
}

function checkProxyOptions(options: FlappingServerOptions): void {
  if (options.codec !== undefined) {
    throw new TypeError(
      "Cannot use a codec with target: a proxy forwards raw bytes undecoded",
    );
  }
  const faults: Faults = {
    ...options.faults,
    ...(options.dropAck !== undefined ? { dropAck: {} } : {}),
    ...(options.delayAck !== undefined ? { delayAck: { ms: 0 } } : {}),
  };
  const used = FRAME_FAULTS.find((kind) => faults[kind] !== undefined);
  if (used) {
    throw new TypeError(
      `Cannot use the ${used} fault with target: a proxy forwards raw bytes and has no frames or ACKs to fault`,
    );
  }
}

/** One proxied connection: the link and what its journal events need. */
interface LinkEntry {
  link: ProxyLink;
  subject: LinkSubject;
  peer: string;
  local: string;
  /** The upstream connection's local `host:port`, once open. */
  upstreamLocal?: string;
  /** The direction whose FIN came first: who ended the link. */
  firstFin?: LinkStream;
}

function formatAddr(host: string | undefined, port: number | undefined) {
  const h = host ?? "?";
  return `${h.includes(":") ? `[${h}]` : h}:${port ?? 0}`;
}

/**
 * A server that goes up and down on a schedule. Standalone it answers as a
 * primary while up; with a `target` it is a raw TCP proxy in front of
 * another server.
 */
export class FlappingServer extends PrimaryServer {
  /** Proxy mode: the server bytes are forwarded to. */
  readonly target?: Addr;
  #schedule: FlapSchedule;
  #kind: FaultKind;
  /** Paused before the schedule runs (`paused` option), then as the engine says. */
  #paused: boolean;
  #started = false;
  #closing?: Promise<void>;
  #links = new Map<number, LinkEntry>();

  /** Makes a flapping server; {@linkcode FlappingServer.start} binds it. Throws on bad options, opening nothing. */
  constructor(options: FlappingServerOptions = {}) {
    // Everything is checked before the base class opens anything.
    const target = typeof options.target === "string"
      ? parseHostPort(options.target)
      : options.target;
    if (target) checkProxyOptions(options);
    const schedule = scheduleOf(options);
    const kind = MODE_FAULT[schedule.downMode];
    super({
      ...options,
      // The start state's fault is in force before the first accept.
      ...(schedule.startState === "down"
        ? { faults: { ...options.faults, [kind]: {} } }
        : {}),
      ...(target ? { halfOpen: true, codec: RAW_CODEC } : {}),
    }, "flapping");
    this.target = target;
    this.#schedule = schedule;
    this.#kind = kind;
    this.#paused = options.paused ?? false;
  }

  /** Up or down now. */
  get flapState(): FlapState {
    const status = this.faults.scheduleStatus(this.#kind);
    if (!status) return this.#schedule.startState;
    return status.state === "on" ? "down" : "up";
  }

  /** Whether the schedule is paused. */
  get paused(): boolean {
    return this.faults.scheduleStatus(this.#kind)?.paused ?? this.#paused;
  }

  /** Binds, enters the start state and starts the schedule. */
  override async start(): Promise<this> {
    if (this.#started) return this;
    this.#started = true;
    await super.start();
    if (this.#closing || this.signal.aborted) return this;
    this.faults.onTransition((status) => {
      // Reset mode: the connections open when it goes down are reset too.
      if (status.state !== "on" || this.#schedule.downMode !== "reset") return;
      for (const connection of this.connections()) {
        connection.close("rst", "flapping:down");
      }
      this.#closeLinks("rst", "flapping:down");
    });
    // Proxy mode: a listener closed by a fault closes the open links too.
    this.faults.onChange(() => {
      const { closeOpen, reason } = this.faults.listenPlan();
      if (closeOpen) this.#closeLinks(closeOpen, `fault:${reason}`);
    });
    const { up, down, startState } = this.#schedule;
    this.faults.runSchedule(this.#kind, {
      schedule: {
        on: down,
        off: up,
        start: startState === "down" ? "on" : "off",
        paused: this.#paused,
      },
      random: {
        on: this.random.derive("schedule/down"),
        off: this.random.derive("schedule/up"),
      },
    });
    await this.settled();
    return this;
  }

  /** Where the server is in its schedule. */
  scheduleStatus(): FlapStatus {
    const status = this.faults.scheduleStatus(this.#kind);
    const state = this.flapState;
    const paused = this.paused;
    const nextMs = status?.nextMs ?? 0;
    return {
      state,
      paused,
      downMode: this.#schedule.downMode,
      nextState: state === "up" ? "down" : "up",
      nextMs,
      nextAt: paused ? null : Date.now() + nextMs,
      periodMs: status?.periodMs ?? 0,
      transitions: status?.transitions ?? 0,
      schedule: structuredClone(this.#schedule),
      ...(this.target
        ? { target: `${joinHostPort(this.target.hostname, this.target.port)}` }
        : {}),
    };
  }

  /** The server's state, with its schedule. */
  override state(): FlappingServerState {
    return { ...super.state(), schedule: this.scheduleStatus() };
  }

  /** Pauses the schedule: the current state holds until resumed or forced. */
  pause(): void {
    if (this.paused) return;
    this.#paused = true;
    this.faults.pauseSchedule(this.#kind);
    this.journal.append("schedule_paused", {
      state: this.flapState,
      nextMs: this.scheduleStatus().nextMs,
    });
  }

  /** Resumes the schedule; the period paused goes on for what was left of it. */
  resume(): void {
    if (!this.paused || this.#closing) return;
    this.#paused = false;
    this.faults.resumeSchedule(this.#kind);
    const { nextMs } = this.scheduleStatus();
    this.journal.append("schedule_resumed", {
      state: this.flapState,
      nextMs,
      nextAt: Date.now() + nextMs,
    });
  }

  /**
   * Goes up or down now, and starts a new period of that state (the
   * schedule stays paused if it was). Resolves once the state is in force.
   */
  async force(state: FlapState): Promise<void> {
    const on = parseFlapState(state) === "down" ? "on" : "off";
    if (this.#closing) return;
    await this.forceSchedule(this.#kind, on);
  }

  /**
   * The admin app (a Hono `OpenAPIHono`): the shared routes, plus
   * `/schedule`, `/schedule/pause`, `/schedule/resume` and `/schedule/force`.
   *
   * @ignore
   */
  override adminApp(): OpenAPIHono {
    const app = createAdminApp(this);
    const status = (description: string) => ({
      200: jsonResponse(FlapStatusSchema, description),
    });
    app.openapi(
      createRoute({
        method: "get",
        path: "/schedule",
        responses: status("Where the server is in its schedule"),
      }),
      (c) => c.json(this.scheduleStatus(), 200),
    );
    app.openapi(
      createRoute({
        method: "post",
        path: "/schedule/pause",
        responses: status("Paused: the state holds"),
      }),
      (c) => {
        this.pause();
        return c.json(this.scheduleStatus(), 200);
      },
    );
    app.openapi(
      createRoute({
        method: "post",
        path: "/schedule/resume",
        responses: status("Resumed"),
      }),
      (c) => {
        this.resume();
        return c.json(this.scheduleStatus(), 200);
      },
    );
    app.openapi(
      createRoute({
        method: "post",
        path: "/schedule/force",
        request: { query: z.object({ state: FlapStateSchema }) },
        responses: {
          ...status("The state is in force; a new period started"),
          400: ERROR_RESPONSES[400],
        },
      }),
      async (c) => {
        await this.force(c.req.valid("query").state);
        return c.json(this.scheduleStatus(), 200);
      },
    );
    return app;
  }

  /** Stops the schedule, closes every connection (and upstream) and the listener. */
  override close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.faults.stopSchedule(this.#kind);
      await this.settled();
      const links = [...this.#links.values()].map((entry) => entry.link);
      this.#closeLinks("fin", "server closing");
      await Promise.all(links.map((link) => link.finished));
      await super.close();
    })();
  }

  /** Journals a transition as up or down, in the down mode. */
  protected override handleTransition(
    status: ScheduleStatus,
    reason: TransitionReason,
  ): void {
    this.journal.append("transition", {
      state: status.state === "on" ? "down" : "up",
      mode: this.#schedule.downMode,
      reason,
      nextMs: status.periodMs,
      nextAt: status.paused ? null : Date.now() + status.periodMs,
      paused: status.paused,
    });
  }

  /** Open connections and proxied links, for the admin API. */
  override connectionInfos(): ConnectionInfo[] {
    const target = this.target;
    if (!target) return super.connectionInfos();
    const upstream = `${joinHostPort(target.hostname, target.port)}`;
    return [
      ...super.connectionInfos(),
      ...[...this.#links.entries()].map(([id, entry]) =>
        linkInfo(id, entry.link, {
          peer: entry.peer,
          local: entry.local,
          tags: {
            upstream,
            ...(entry.upstreamLocal
              ? { upstreamLocal: entry.upstreamLocal }
              : {}),
          },
        })
      ),
    ];
  }

  /**
   * Proxy mode: joins the accepted socket to the target with a proxy link
   * (half-close and resets pass through), the fault engine's byte steps in
   * front of both directions.
   */
  protected override adoptSocket(socket: Socket, id: number): boolean {
    const target = this.target;
    if (!target) return false;
    const journal = this.journal;
    const peer = formatAddr(socket.remoteAddress, socket.remotePort);
    const local = formatAddr(socket.localAddress, socket.localPort);
    journal.append("connected", { conn: id, peer, local });
    const subject = acceptSubject(this.faults, journal, socket, {
      conn: id,
      peer,
    }, { by: "server" });
    if (!subject) return true;
    const upstream = `${joinHostPort(target.hostname, target.port)}`;
    const link = new ProxyLink({
      client: socket,
      upstream: target,
      wrap: engineSteps(this.faults, subject),
      events: {
        upstreamConnected: (localAddr) => {
          entry.upstreamLocal = localAddr;
          journal.append("upstream_connected", {
            conn: id,
            upstream,
            local: localAddr,
          });
        },
        upstreamFailed: (code, message) =>
          journal.append("upstream_failed", {
            conn: id,
            upstream,
            code,
            message,
          }),
        halfClosed: (stream) => {
          entry.firstFin ??= stream;
          journal.append("half_closed", { conn: id, stream });
        },
        // What passed the fault engine's byte steps, as before.
        wrote: (stream, bytes) =>
          journal.append(stream === "upstream" ? "bytes_in" : "bytes_out", {
            conn: id,
            bytes,
          }),
        closed: (info) => this.#linkClosed(id, entry, info),
      },
    });
    const entry: LinkEntry = { link, subject, peer, local };
    this.#links.set(id, entry);
    subject.link = link;
    return true;
  }

  #linkClosed(
    id: number,
    entry: LinkEntry,
    info: { how: LinkCloseHow; by: string; reason: string },
  ): void {
    this.#links.delete(id);
    entry.subject.dispose();
    // Closed with no error nor close by us: whoever sent the first FIN.
    const byUpstream = info.by === "upstream" ||
      (info.reason === "closed" && entry.firstFin === "downstream");
    const reason = info.reason !== "closed"
      ? info.reason
      : byUpstream
      ? "upstream:closed"
      : "client:closed";
    if (entry.link.connected) {
      this.journal.append("upstream_closed", {
        conn: id,
        how: info.how,
        by: byUpstream ? "upstream" : "server",
      });
    }
    this.journal.append("closed", {
      conn: id,
      how: info.how,
      by: byUpstream ? "upstream" : info.by === "proxy" ? "server" : "client",
      reason,
    });
  }

  #closeLinks(how: LinkCloseHow, reason: string): void {
    for (const entry of this.#links.values()) {
      entry.link.close(how, reason, "proxy");
    }
  }
}

const FlapStateSchema = z.enum(["up", "down"]).openapi({
  description: "up or down",
});
const DownModeSchema = z.enum(DOWN_MODES as [DownMode, ...DownMode[]]);
const RangeSchema = z.object({ min: z.number(), max: z.number() });
const FlapStatusSchema = z.object({
  state: FlapStateSchema,
  paused: z.boolean(),
  downMode: DownModeSchema,
  nextState: FlapStateSchema,
  nextMs: z.number(),
  nextAt: z.number().nullable(),
  periodMs: z.number(),
  transitions: z.number(),
  schedule: z.object({
    up: RangeSchema,
    down: RangeSchema,
    downMode: DownModeSchema,
    startState: FlapStateSchema,
  }),
  target: z.string().optional(),
}).openapi("FlappingSchedule");

/**
 * Starts a flapping server, in its start state once the promise resolves.
 *
 * @example Usage
 * ```ts ignore
 * import { startFlappingServer } from "./flapping.ts";
 * await using flapping = await startFlappingServer({
 *   port: 0,
 *   up: { min: 2000, max: 8000 },
 *   down: { min: 1000, max: 3000 },
 *   downMode: "reset",
 *   seed: 7,
 * });
 * console.log(flapping.addr.port, flapping.flapState);
 * ```
 */
export function startFlappingServer(
  options: FlappingServerOptions = {},
): Promise<FlappingServer> {
  return new FlappingServer(options).start();
}

/** Flags that mean nothing to a raw proxy. */
const FRAME_ONLY_FLAGS = [
  "codec",
  "max-frame",
  "max-bad-frames",
  "no-packet-ack",
  "drop-ack",
  "delay-ack",
  "delay-jitter",
  "duplicate-ack",
  "corrupt-ack",
  "close-after",
];

/** Runs the flapping server's command line. */
export const main: CliMain = serverMain(import.meta, {
  summary:
    "The flapping server: up and down on a schedule, fixed or seeded random. Standalone it ACKs records like the primary while up; with --target it forwards raw bytes to any TCP server while up.",
  defaults: { port: FLAPPING_PORT, adminPort: FLAPPING_ADMIN_PORT },
  options: FlappingOptionsSchema,
  start: (options, values) => {
    if (options.target) {
      const bad = FRAME_ONLY_FLAGS.find((name) => values[name] !== undefined);
      if (bad) {
        throw new CliError(
          `Invalid --${bad}: it does not apply with --target (a proxy forwards raw bytes undecoded)`,
        );
      }
      const used = FRAME_FAULTS.find((kind) =>
        options.faults[kind] !== undefined
      );
      if (used) {
        throw new CliError(
          `Invalid --faults: ${used} does not apply with --target (a proxy forwards raw bytes undecoded)`,
        );
      }
    }
    const { codec, maxFrameBytes, maxBadFrames, ...rest } = options;
    return startFlappingServer({
      ...rest,
      ...(options.target ? {} : { codec, maxFrameBytes, maxBadFrames }),
    });
  },
  describe: (server) =>
    `${tcpField(server)}${
      server.target
        ? ` target=${joinHostPort(server.target.hostname, server.target.port)}`
        : ""
    }`,
});
