/**
 * The watchdog-echo server: the server side of the dual-channel (DC)
 * behaviours. Two listeners stand for two independent networks, channel A
 * (default 127.0.1.1:7040) and channel B (default 127.0.2.1:7040). On both,
 * it echoes `watchdog` frames back unchanged and ACKs `data` frames
 * (`{"type":"ack","id":...}`).
 *
 * Each channel has faults of its own: cut it (close every connection and
 * refuse new ones), black-hole it (keep TCP open, answer nothing), delay its
 * echoes and ACKs, drop its next N watchdog echoes. Both channels write into
 * one journal, in one order, and every event says which channel it is about
 * (`"channel": "A"`), so "data only on the active channel" (DC-3) and "the
 * alternate is monitored by watchdogs" (DC-4) are journal queries.
 *
 * @example Start one for a test
 * ```ts ignore
 * import { startWatchdogEchoServer } from "./watchdog_echo.ts";
 * await using server = await startWatchdogEchoServer({
 *   channels: { A: { port: 0 }, B: { port: 0 } },
 *   seed: 7,
 * });
 * server.cut("A");
 * ```
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  createAdminApp,
  createApiApp,
  ErrorSchema,
  jsonResponse,
} from "../core/admin/admin_app.ts";
import { parsePort } from "../core/cli/cli.ts";
import { type OptionsSchema, withFlag } from "../core/cli/option_flags.ts";
import { PortSchema } from "../core/cli/option_values.ts";
import type { Codec } from "../core/codecs/codec.ts";
import type { Connection } from "../core/server/connection.ts";
import { type Faults, FaultsSchema } from "../core/faults/mod.ts";
import type { Frame } from "../core/codecs/frame.ts";
import type { JournalEvent, JournalQuery } from "../core/journal/journal.ts";
import { DualChannelFrameSchema, parseFrame } from "../core/codecs/protocol.ts";
import { randomSeed, SeededRandom } from "../core/faults/random.ts";
import {
  type Addr,
  connectionLimits,
  type ServerState,
  TcpServer,
  type TcpServerOptions,
} from "../core/server/tcp_server.ts";
import { type CliMain, serverMain } from "../core/cli/server_cli.ts";
import type { ToolkitServer } from "../core/server/toolkit_server.ts";
import { MultiListenerServer } from "../core/server/multi_listener_server.ts";
import { MultiListenerHost } from "../core/server/multi_listener_host.ts";
import { addMultiListenerRoutes } from "../core/admin/multi_listener_routes.ts";
import { joinHostPort } from "../core/net/host_port.ts";

/** A channel of the dual-channel protocol. */
export type Channel = "A" | "B";
/** Both channels, in order (A is the first network, B the second). */
export const CHANNELS: readonly Channel[] = ["A", "B"];
/** The default TCP port of both channels. */
export const WATCHDOG_ECHO_PORT = 7040;
/** The default admin port. */
export const WATCHDOG_ECHO_ADMIN_PORT = 7041;
/** The default host of each channel: two loopback networks. */
export const WATCHDOG_ECHO_HOSTS: Readonly<Record<Channel, string>> = {
  A: "127.0.1.1",
  B: "127.0.2.1",
};

/** What a reply was, in the `reply` field of `ack_sent`, `ack_dropped`, `ack_delayed`. */
export type ReplyKind = "echo" | "ack";

/** Where one channel listens, and its own faults. */
export interface ChannelOptions {
  /** Host to bind (default 127.0.1.1 for A, 127.0.2.1 for B). */
  hostname?: string;
  /** Port to bind; 0 picks a free one (default: the server's `port`). */
  port?: number;
  /** This channel's faults; when given, the server-wide `faults` do not apply to it. */
  faults?: Faults;
}

/** One channel's options: where it listens, and its own faults. */
function channelSchema(channel: Channel) {
  const ch = channel.toLowerCase();
  return z.object({
    hostname: withFlag(
      z.string().min(1).optional().describe(
        `Host of channel ${channel} (the ${
          channel === "A" ? "first" : "second"
        } network)`,
      ),
      {
        name: `host-${ch}`,
        value: "HOST",
        default: WATCHDOG_ECHO_HOSTS[channel],
      },
    ),
    port: withFlag(
      PortSchema.optional().describe(
        `TCP port of channel ${channel}; 0 picks a free one (default: the server's port)`,
      ),
      {
        name: `port-${ch}`,
        value: "PORT",
        default: "--port",
        description: `TCP port of channel ${channel}; 0 picks a free one`,
        parse: parsePort,
      },
    ),
    faults: withFlag(
      FaultsSchema.optional().describe(
        `Channel ${channel}'s faults (the body of PUT /channels/${channel}/faults), instead of the server's`,
      ),
      {
        name: `faults-${ch}`,
        value: "JSON",
        json: true,
        description:
          `Channel ${channel}'s faults as JSON (the body of PUT /channels/${channel}/faults); the fault flags then do not apply to ${channel}`,
      },
    ),
  }).strict();
}

/**
 * The watchdog-echo server's own options, described once: the command-line
 * flags (`--host-a`, `--port-b`, `--faults-b`) and the lab's `watchdog-echo`
 * entry are derived from it, and the TypeScript options below are checked
 * against it.
 */
export const WatchdogEchoOptionsSchema: OptionsSchema<
  Pick<WatchdogEchoServerOptions, "channels">
> = z.object({
  channels: z.object({
    A: channelSchema("A").optional(),
    B: channelSchema("B").optional(),
  }).strict().optional().describe(
    "Where each channel listens, and its own faults",
  ),
});

/** Options for {@linkcode startWatchdogEchoServer}. */
export interface WatchdogEchoServerOptions extends
  Omit<
    TcpServerOptions,
    "hostname" | "port" | "label" | "nextConnectionId" | "random" | "codec"
  > {
  /**
   * TCP port of both channels, unless a channel names its own; 0 picks a
   * free one (default 0).
   */
  port?: number;
  /** Where each channel listens, and its own faults. */
  channels?: Partial<Record<Channel, ChannelOptions>>;
  /** A codec's name (default `line-json`); each channel makes its own. */
  codec?: string;
}

/**
 * One channel of a {@linkcode WatchdogEchoServer}: a TCP server with faults
 * of its own, writing into the shared journal through a view that stamps
 * `channel` on every event.
 */
export class EchoChannel extends TcpServer {
  /** Which channel this is. */
  readonly channel: Channel;

  /** Makes one channel; {@linkcode WatchdogEchoServer} makes both. */
  constructor(channel: Channel, options: TcpServerOptions) {
    super("watchdog-echo", options);
    this.channel = channel;
  }

  /** Tags each connection with its channel (shown in the admin API). */
  protected override handleConnected(connection: Connection): void {
    connection.tags.channel = this.channel;
  }

  /** Echoes watchdogs, ACKs data, tags hellos, rejects anything else. */
  protected override handleFrame(frame: Frame, connection: Connection): void {
    const parsed = parseFrame(DualChannelFrameSchema, frame);
    if (parsed.error) return connection.reject(parsed.error);
    const message = parsed.frame;
    switch (message.type) {
      case "hello":
        if (message.client) connection.tags.client = message.client;
        if (message.channel) connection.tags.claims = message.channel;
        return;
      case "watchdog":
        // Through the ACK faults, so drop/delay apply to echoes too.
        connection.sendReply(frame, `wd-${message.seq}`, {
          reply: "echo" satisfies ReplyKind,
        });
        return;
      case "data":
        connection.sendReply({ type: "ack", id: message.id }, message.id, {
          reply: "ack" satisfies ReplyKind,
        });
        return;
    }
  }
}

/** The whole server's state, for the admin API. */
export interface WatchdogEchoState {
  /** The server's name. */
  name: string;
  /** Always `watchdog-echo`. */
  kind: string;
  /** The run seed. */
  seed: number;
  /** The codec's name. */
  codec: string;
  /** Each channel's state. */
  channels: Record<Channel, ServerState>;
  /** How many events of each type the shared journal has seen. */
  counts: Record<string, number>;
}

/**
 * The watchdog-echo server: two channels, one journal. Get a channel's own
 * server (faults, connections, down/up) with {@linkcode WatchdogEchoServer.channel}.
 */
export class WatchdogEchoServer extends MultiListenerHost<EchoChannel>
  implements ToolkitServer {
  /** Always `watchdog-echo`. */
  readonly kind = "watchdog-echo";
  /** The server's name. */
  readonly name: string;
  /** The run seed. */
  readonly seed: number;
  /** Both channels as one multi-listener server (scope `channel`). */
  readonly listeners: MultiListenerServer<EchoChannel>;

  /** Makes both channels; nothing listens until `start()`. */
  constructor(options: WatchdogEchoServerOptions = {}) {
    super();
    this.name = options.name ?? "watchdog-echo";
    const random = new SeededRandom(options.seed ?? randomSeed()).derive(
      this.name,
    );
    this.seed = random.seed;
    this.listeners = new MultiListenerServer({
      name: this.name,
      kind: this.kind,
      seed: this.seed,
      scope: "channel",
      names: CHANNELS,
      journal: options.journal,
      journalFile: options.journalFile,
      signal: options.signal,
      listener: ({ name, journal, nextConnectionId }) => {
        const channel = name as Channel;
        const own = options.channels?.[channel];
        return new EchoChannel(channel, {
          name: `${this.name}/${channel}`,
          label: channel,
          hostname: own?.hostname ?? WATCHDOG_ECHO_HOSTS[channel],
          port: own?.port ?? options.port ?? 0,
          codec: options.codec,
          maxFrameBytes: options.maxFrameBytes,
          maxBadFrames: options.maxBadFrames,
          ...connectionLimits(options),
          random: random.derive(channel),
          journal,
          nextConnectionId,
          ...(own?.faults ? { faults: own.faults } : {
            faults: options.faults,
            dropAck: options.dropAck,
            delayAck: options.delayAck,
          }),
        });
      },
    });
  }

  /** One channel's server: its faults, connections, `down()`/`up()`. */
  channel(channel: Channel): EchoChannel {
    return this.listeners.listener(channel);
  }

  /** Where each channel listens (kept while a channel is cut). */
  get addr(): Record<Channel, Addr> {
    return { A: this.channel("A").addr, B: this.channel("B").addr };
  }

  /** The codec (channel A's; both use the same kind). */
  get codec(): Codec {
    return this.channel("A").codec;
  }

  /** Binds both channels. If one cannot bind, closes both and throws. */
  async start(): Promise<this> {
    await this.listeners.start();
    return this;
  }

  /**
   * Cuts a channel: closes its connections (FIN, or RST) and refuses new
   * ones, until {@linkcode WatchdogEchoServer.restore}.
   */
  async cut(channel: Channel, how: "fin" | "rst" = "fin"): Promise<void> {
    this.channel(channel).down(how);
    await this.channel(channel).settled();
  }

  /** Clears every fault of a channel: it listens and answers again. */
  async restore(channel: Channel): Promise<void> {
    this.channel(channel).faults.clear();
    await this.channel(channel).settled();
  }

  /** Black-holes a channel: TCP stays open, nothing is echoed or ACKed (DC-10). */
  blackHole(channel: Channel): void {
    this.channel(channel).faults.patch({ blackHole: {} });
  }

  /** Delays every echo and ACK on a channel by `ms` milliseconds. */
  delayEcho(channel: Channel, ms: number): void {
    this.channel(channel).faults.patch({ delayAck: { ms } });
  }

  /**
   * Drops the next `n` replies on a channel: on an alternate channel, where
   * only watchdogs flow, the next `n` watchdog echoes (a `dropAck` fault
   * with `window.first = n`; it counts data ACKs of that channel too).
   */
  dropWatchdogs(channel: Channel, n: number): void {
    this.channel(channel).faults.patch({ dropAck: { window: { first: n } } });
  }

  /** The journal events of one channel that pass a query, oldest first. */
  eventsOn(channel: Channel, query: JournalQuery = {}): JournalEvent[] {
    return this.channel(channel).journal.query(query);
  }

  /**
   * The `frame_in` events of one channel, oldest first, only frames of
   * `type` when given: `framesOn("B", "data")` should be empty while A is
   * active (DC-3).
   */
  framesOn(channel: Channel, type?: string): JournalEvent[] {
    return this.eventsOn(channel, { type: "frame_in" }).filter((event) =>
      type === undefined || (event.frame as Frame | undefined)?.type === type
    );
  }

  /** The echoes (`echo`) or data ACKs (`ack`) sent on one channel, oldest first. */
  repliesOn(channel: Channel, reply?: ReplyKind): JournalEvent[] {
    return this.eventsOn(channel, { type: "ack_sent" }).filter((event) =>
      reply === undefined || event.reply === reply
    );
  }

  /** The state of both channels, for the admin API. */
  state(): WatchdogEchoState {
    return {
      name: this.name,
      kind: this.kind,
      seed: this.seed,
      codec: this.codec.name,
      channels: { A: this.channel("A").state(), B: this.channel("B").state() },
      counts: this.journal.counts(),
    };
  }

  /**
   * The admin app: each channel's shared routes under `/channels/A` and
   * `/channels/B`, shortcuts `POST /channels/{channel}/cut` (and `restore`,
   * `black-hole`, `delay-echo`, `drop-watchdogs`), and `/health`, `/state`,
   * `/journal`, `/events`, `/openapi.json` for the whole server.
   *
   * @ignore
   */
  adminApp(): OpenAPIHono {
    return watchdogEchoAdminApp(this);
  }
}

const ChannelParam = z.object({
  channel: z.enum(CHANNELS as [Channel, ...Channel[]]).openapi({
    param: { name: "channel", in: "path" },
    description: "The channel: A or B",
  }),
});

const AnyObject = z.record(z.string(), z.unknown());

function watchdogEchoAdminApp(server: WatchdogEchoServer): OpenAPIHono {
  const app = createApiApp();
  addMultiListenerRoutes(app, server.listeners, {
    listenerApp: (listener) => createAdminApp(listener, { openapi: false }),
    state: () => server.state(),
  });

  const shortcut = <Q extends z.ZodObject>(
    path: string,
    description: string,
    query: Q,
    run: (channel: Channel, query: z.infer<Q>) => void | Promise<void>,
  ) =>
    app.openapi(
      createRoute({
        method: "post",
        path: `/channels/{channel}/${path}`,
        description,
        request: { params: ChannelParam, query },
        responses: {
          200: jsonResponse(AnyObject, "The channel's state after the change"),
          400: jsonResponse(ErrorSchema, "The request was invalid"),
        },
      }),
      async (c) => {
        // The path is generic here, so the validated types are given by hand.
        const { channel } = c.req.valid("param" as never) as {
          channel: Channel;
        };
        await run(channel, c.req.valid("query" as never) as z.infer<Q>);
        await server.channel(channel).settled();
        return c.json(
          server.channel(channel).state() as unknown as Record<
            string,
            unknown
          >,
          200,
        );
      },
    );
  shortcut(
    "cut",
    "Close every connection of the channel and refuse new ones",
    z.object({ how: z.enum(["fin", "rst"]).optional() }),
    (channel, query) => server.cut(channel, query.how ?? "fin"),
  );
  shortcut(
    "restore",
    "Clear every fault of the channel",
    z.object({}),
    (channel) => server.restore(channel),
  );
  shortcut(
    "black-hole",
    "Keep the channel's connections open but answer nothing",
    z.object({}),
    (channel) => server.blackHole(channel),
  );
  shortcut(
    "delay-echo",
    "Delay every echo and ACK of the channel",
    z.object({ ms: z.coerce.number().min(0).max(3_600_000) }),
    (channel, query) => server.delayEcho(channel, query.ms),
  );
  shortcut(
    "drop-watchdogs",
    "Drop the channel's next N replies (watchdog echoes on an alternate)",
    z.object({ n: z.coerce.number().int().min(1) }),
    (channel, query) => server.dropWatchdogs(channel, query.n),
  );

  app.doc("/openapi.json", {
    openapi: "3.0.0",
    info: {
      title: "watchdog-echo admin API",
      version: "1",
      description:
        "Faults, connections and journal of the two channels of a failover-toolkit watchdog-echo server",
    },
  });
  return app;
}

/**
 * Starts a watchdog-echo server, both channels listening once the promise
 * resolves.
 *
 * @example Usage
 * ```ts ignore
 * import { startWatchdogEchoServer } from "./watchdog_echo.ts";
 * await using server = await startWatchdogEchoServer({
 *   channels: { A: { port: 0 }, B: { port: 0 } },
 *   seed: 7,
 * });
 * console.log(server.addr.A, server.addr.B);
 * ```
 */
export function startWatchdogEchoServer(
  options: WatchdogEchoServerOptions = {},
): Promise<WatchdogEchoServer> {
  return new WatchdogEchoServer(options).start();
}

function describeChannels(server: WatchdogEchoServer): string {
  return CHANNELS.map((ch) =>
    `${ch}@${joinHostPort(server.addr[ch].hostname, server.addr[ch].port)}`
  ).join(",");
}

/**
 * Runs the watchdog-echo server's command line. Prints one line:
 * `watchdog-echo tcp=A@127.0.1.1:7040,B@127.0.2.1:7040 admin=http://127.0.0.1:7041 seed=N codec=line-json`.
 */
export const main: CliMain = serverMain(import.meta, {
  summary:
    "The watchdog-echo server (dual channel, DC): two listeners for two networks; echoes watchdog frames and ACKs data on both, with faults per channel switched by flag or over the admin API.",
  defaults: { port: WATCHDOG_ECHO_PORT, adminPort: WATCHDOG_ECHO_ADMIN_PORT },
  options: WatchdogEchoOptionsSchema,
  // One host makes no sense for two networks: --host-a and --host-b.
  common: ({ host: _host, ...flags }) => ({
    ...flags,
    port: {
      ...flags.port,
      description: "TCP port of both channels; 0 picks a free one",
    },
  }),
  faultsTitle: "Fault flags (both channels, unless --faults-a/--faults-b)",
  start: ({ hostname: _, ...options }) => startWatchdogEchoServer(options),
  describe: (server) => `tcp=${describeChannels(server)}`,
});
