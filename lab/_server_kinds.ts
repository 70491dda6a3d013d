/**
 * Every kind of server a topology file may name: the schema of its entry,
 * how to start it, and what its dashboard card counts and shows. Private to
 * `lab/`.
 *
 * @module
 */
import { z } from "zod";
import { type Faults, FaultsSchema } from "../core/faults/mod.ts";
import type { JournalEvent } from "../core/journal/journal.ts";
import {
  FLAPPING_PORT,
  type FlappingServer,
  startFlappingServer,
} from "../servers/flapping.ts";
import {
  MESSAGE_STORE_FRONTS,
  startMessageStoreServer,
} from "../servers/message_store.ts";
import {
  PRIMARY_PORT,
  PrimaryOptionsSchema,
  startPrimaryServer,
} from "../servers/primary.ts";
import { startProxyServer } from "../servers/proxy.ts";
import { ToxicSchema } from "./plan.ts";
import { Journal } from "../core/journal/journal.ts";
import {
  SECONDARY_PORT,
  SecondaryOptionsSchema,
  startSecondaryServer,
} from "../servers/secondary.ts";
import {
  SILENT_MODES,
  SILENT_PORT,
  type SilentMode,
  startSilentServer,
} from "../servers/silent.ts";
import {
  type Channel,
  CHANNELS,
  startWatchdogEchoServer,
  WATCHDOG_ECHO_HOSTS,
  WATCHDOG_ECHO_PORT,
} from "../servers/watchdog_echo.ts";
import {
  ACKS_DROPPED,
  ACKS_SENT,
  addressOf,
  COMMON_SERVER_FIELDS,
  counter,
  DurationRangeSchema,
  framesIn,
  type LabServer,
  LISTENER_FIELDS,
  multiListenerLabServer,
  PortSchema,
  RECORDS_IN,
  type ServerKind,
  serverOptions,
  tcpLabServer,
} from "./_kind.ts";
import { joinHostPort } from "../core/net/host_port.ts";

/** The schema of an entry of a kind with one listener: its own fields besides. */
function listenerSchema(kind: string, fields: z.ZodRawShape): z.ZodObject {
  return z.object({
    kind: z.literal(kind),
    ...LISTENER_FIELDS,
    ...COMMON_SERVER_FIELDS,
    ...fields,
  }).strict();
}

/** What the primary's and the secondary's cards count. */
const TELEMATICS_COUNTERS = [RECORDS_IN, ACKS_SENT, ACKS_DROPPED];

const primary: ServerKind = {
  kind: "primary",
  summary: "IP1: ACKs every record",
  schema: listenerSchema("primary", PrimaryOptionsSchema.shape),
  counters: TELEMATICS_COUNTERS,
  async start(config, context) {
    const server = await startPrimaryServer({
      ...serverOptions(config, context, PRIMARY_PORT),
      ackPackets: config.ackPackets as boolean | undefined,
    });
    return tcpLabServer(server);
  },
};

const secondary: ServerKind = {
  kind: "secondary",
  summary: "IP2: records what it gets; ACKs only if told",
  schema: listenerSchema("secondary", SecondaryOptionsSchema.shape),
  counters: TELEMATICS_COUNTERS,
  async start(config, context) {
    const server = await startSecondaryServer({
      ...serverOptions(config, context, SECONDARY_PORT),
      ack: config.ack as boolean | undefined,
    });
    return tcpLabServer(server, {
      view: () => ({
        ACKs: config.ack ? "on" : "off (mirror)",
        "seen twice": server.duplicates().length,
      }),
    });
  },
};

function formatMs(ms: number): string {
  return ms >= 10_000
    ? `${Math.round(ms / 1000)}s`
    : `${(ms / 1000).toFixed(1)}s`;
}

const flapping: ServerKind = {
  kind: "flapping",
  summary: "Goes up and down on a schedule",
  schema: listenerSchema("flapping", {
    up: DurationRangeSchema.optional().describe(
      "Length of an up period (default 5s)",
    ),
    down: DurationRangeSchema.optional().describe(
      "Length of a down period (default 2s)",
    ),
    downMode: z.enum(["refuse", "reset", "black-hole"]).optional().describe(
      "What down means (default refuse)",
    ),
    target: z.string().min(1).optional().describe(
      "Proxy mode: a server of this lab by name, or host:port",
    ),
    startState: z.enum(["up", "down"]).optional(),
    paused: z.boolean().optional().describe("Start with the schedule paused"),
    ackPackets: z.boolean().optional(),
  }),
  counters: [
    RECORDS_IN,
    ACKS_SENT,
    counter("transitions", "flaps", (e) => e.type === "transition"),
  ],
  references: (config) =>
    typeof config.target === "string" && !config.target.includes(":")
      ? [{ path: ["target"], names: [config.target] }]
      : [],
  async start(config, context) {
    const target = config.target as string | undefined;
    const server: FlappingServer = await startFlappingServer({
      ...serverOptions(config, context, FLAPPING_PORT),
      up: config.up as { min: number; max: number } | undefined,
      down: config.down as { min: number; max: number } | undefined,
      downMode: config.downMode as "refuse" | "reset" | "black-hole",
      target: target === undefined || target.includes(":")
        ? target
        : addressOf(context.servers, target),
      startState: config.startState as "up" | "down" | undefined,
      paused: config.paused as boolean | undefined,
      ackPackets: config.ackPackets as boolean | undefined,
    });
    return tcpLabServer(server, {
      view: () => {
        const status = server.scheduleStatus();
        return {
          schedule: `${status.state}${
            status.paused
              ? " (paused)"
              : `, ${status.nextState} in ${formatMs(status.nextMs)}`
          }`,
          ...(status.target ? { proxy: `to ${status.target}` } : {}),
        };
      },
      switches: () => [{
        key: "paused",
        label: "schedule paused",
        on: server.paused,
        onPath: "/schedule/pause",
        offPath: "/schedule/resume",
      }],
    });
  },
};

const silent: ServerKind = {
  kind: "silent",
  summary: "Accepts and never answers",
  schema: listenerSchema("silent", {
    mode: z.enum(SILENT_MODES as [SilentMode, ...SilentMode[]]).optional()
      .describe("read (default), no-read, no-accept or trickle"),
    trickleEveryMs: z.number().min(1).optional(),
    backlog: z.number().int().min(0).optional(),
    fillQueue: z.boolean().optional(),
  }),
  counters: [
    counter("framesIn", "frames in", (e) => e.type === "frame_in"),
    counter("waits", "waits ended", (e) => e.type === "wait_ended"),
  ],
  async start(config, context) {
    const server = await startSilentServer({
      ...serverOptions(config, context, SILENT_PORT),
      mode: config.mode as SilentMode | undefined,
      trickleEveryMs: config.trickleEveryMs as number | undefined,
      backlog: config.backlog as number | undefined,
      fillQueue: config.fillQueue as boolean | undefined,
    });
    return tcpLabServer(server, { view: () => ({ mode: server.mode }) });
  },
};

const ChannelSchema = z.object({
  hostname: z.string().min(1).optional().describe(
    "Host of this channel (default 127.0.1.1 for A, 127.0.2.1 for B)",
  ),
  port: PortSchema.optional().describe("Port of this channel"),
  faults: FaultsSchema.optional().describe(
    "This channel's faults (instead of the server's)",
  ),
}).strict();

const watchdogEcho: ServerKind = {
  kind: "watchdog-echo",
  summary: "Two channels; echoes watchdogs, ACKs data",
  schema: z.object({
    kind: z.literal("watchdog-echo"),
    port: PortSchema.optional().describe(
      "Port of both channels (default 7040)",
    ),
    channels: z.object({
      A: ChannelSchema.optional(),
      B: ChannelSchema.optional(),
    }).strict().optional(),
    ...COMMON_SERVER_FIELDS,
  }).strict(),
  counters: [
    framesIn("dataIn", "data in", ["data"]),
    ACKS_SENT,
    counter(
      "watchdogsEchoed",
      "watchdogs echoed",
      (e) => e.type === "ack_sent" && e.reply === "echo",
    ),
    counter("repliesDropped", "dropped", (e) => e.type === "ack_dropped"),
  ],
  withAnyPort(config) {
    const channels = config.channels as
      | Record<string, Record<string, unknown>>
      | undefined;
    return {
      ...config,
      port: 0,
      ...(channels
        ? {
          channels: Object.fromEntries(
            Object.entries(channels).map(([ch, own]) => [ch, {
              ...own,
              port: 0,
            }]),
          ),
        }
        : {}),
    };
  },
  async start(config, context) {
    // Each channel has its own host; the entry's port is both channels' default.
    const { hostname: _, port, ...common } = serverOptions(
      config,
      context,
      WATCHDOG_ECHO_PORT,
    );
    const channels = (config.channels ?? {}) as Record<
      string,
      z.infer<typeof ChannelSchema> | undefined
    >;
    const server = await startWatchdogEchoServer({
      ...common,
      channels: Object.fromEntries(CHANNELS.map((ch) => [ch, {
        hostname: channels[ch]?.hostname ?? WATCHDOG_ECHO_HOSTS[ch],
        port: channels[ch]?.port ?? port,
        ...(channels[ch]?.faults ? { faults: channels[ch]?.faults } : {}),
      }])),
    });
    let dataOn: Channel | undefined;
    server.journal.subscribe((event: JournalEvent) => {
      if (
        event.type === "frame_in" &&
        (event.frame as { type?: string } | undefined)?.type === "data"
      ) dataOn = event.channel as Channel;
    });
    const lab = multiListenerLabServer(server, {
      view: () => ({
        "active channel": dataOn
          ? `${dataOn} (data flows on it)`
          : "none yet (no data)",
        clients: CHANNELS.map((ch) =>
          `${ch}: ${server.channel(ch).connections().length}`
        ).join(", "),
      }),
    });
    return lab;
  },
};

const FrontSchema = z.object({
  hostname: z.string().min(1).optional().describe(
    "Host of this front (default 127.0.0.1)",
  ),
  port: PortSchema.optional().describe(
    "Port of this front (default ml1 7050, ml2 7052, others 7050 + 2 x position)",
  ),
  faults: FaultsSchema.optional().describe(
    "This front's faults (on top of the server's)",
  ),
}).strict();

/** The fronts of a message-store entry, in order, with their default ports. */
export function frontsOf(
  config: Record<string, unknown>,
): { name: string; hostname?: string; port: number; faults?: unknown }[] {
  const fronts = (config.fronts ?? {
    ml1: {},
    ml2: {},
  }) as Record<string, z.infer<typeof FrontSchema>>;
  return Object.entries(fronts).map(([name, front], i) => ({
    name,
    ...front,
    port: front.port ??
      MESSAGE_STORE_FRONTS.find((f) => f.name === name)?.port ??
      7050 + 2 * i,
  }));
}

const messageStore: ServerKind = {
  kind: "message-store",
  summary: "Fronts over one shared message store",
  schema: z.object({
    kind: z.literal("message-store"),
    fronts: z.record(
      z.string().regex(
        /^[A-Za-z0-9._-]{1,64}$/,
        "Invalid front name: use letters, digits, ., _ and -",
      ),
      FrontSchema,
    ).refine((fronts) => Object.keys(fronts).length > 0, {
      error: "Invalid fronts: name at least one front",
    }).optional().describe(
      "Front servers by name, in order (default ml1 on 7050, ml2 on 7052)",
    ),
    storeDown: z.boolean().optional().describe(
      "Start with the shared store down",
    ),
    ...COMMON_SERVER_FIELDS,
  }).strict(),
  counters: [
    framesIn("messagesIn", "messages in", ["send"]),
    counter(
      "messagesStored",
      "messages stored",
      (e) => e.type === "message_stored",
    ),
    counter("delivered", "delivered", (e) => e.type === "message_delivered"),
    counter("pushes", "pushes", (e) => e.type === "push_sent"),
  ],
  withAnyPort(config) {
    return {
      ...config,
      fronts: Object.fromEntries(
        frontsOf(config).map(({ name, port: _port, ...front }) => [name, {
          ...front,
          port: 0,
        }]),
      ),
    };
  },
  async start(config, context) {
    // Each front has its own host and port.
    const { hostname: _, port: _port, ...common } = serverOptions(
      config,
      context,
      0,
    );
    const server = await startMessageStoreServer({
      ...common,
      storeDown: config.storeDown as boolean | undefined,
      fronts: frontsOf(config).map((front) => ({
        name: front.name,
        hostname: front.hostname,
        port: front.port,
        ...(front.faults
          ? { faults: front.faults as z.infer<typeof FaultsSchema> }
          : {}),
      })),
    });
    const lab = multiListenerLabServer(server, {
      switches: () => [{
        key: "storeDown",
        label: "store down",
        on: !server.storeAvailable,
        onPath: "/store/down",
        offPath: "/store/up",
      }],
      view: () => ({
        store: server.storeAvailable ? "available" : "DOWN",
        agents: server.fronts.flatMap((front) =>
          front.connections()
            .filter((connection) => connection.tags.agent !== undefined)
            .map((connection) => {
              const name = front.name;
              const role = connection.tags.primary === name
                ? "primary"
                : "alternate";
              return `${connection.tags.agent} on ${name} (${role})`;
            })
        ),
      }),
    });
    return lab;
  },
};

/** Every kind of server a topology may name, by kind. */

const proxy: ServerKind = {
  kind: "proxy",
  summary:
    "A fault proxy in front of a server: bytes pass, toxics and faults act on them",
  schema: z.object({
    kind: z.literal("proxy"),
    ...LISTENER_FIELDS,
    upstream: z.string().min(1).describe(
      "The server behind it: a server of this lab by name, or host:port (an external one)",
    ),
    faults: FaultsSchema.optional().describe(
      "Connect-time faults from the start (refuse, down, reset, blackHole)",
    ),
    toxics: z.array(ToxicSchema).optional().describe(
      "Toxics from the start, as Toxiproxy API bodies",
    ),
    journalFile: z.string().min(1).optional(),
  }).strict(),
  counters: [
    counter("connections", "connections", (e) => e.type === "connected"),
    counter("toxicsAdded", "toxics added", (e) => e.type === "toxic_added"),
    counter(
      "upstreamFailed",
      "upstream failed",
      (e) => e.type === "upstream_failed",
    ),
  ],
  references: (config) =>
    typeof config.upstream === "string" && !config.upstream.includes(":")
      ? [{ path: ["upstream"], names: [config.upstream] }]
      : [],
  async start(config, context) {
    const name = context.name;
    const target = config.upstream as string;
    const upstream = target.includes(":") ? target : (() => {
      const address = addressOf(context.servers, target);
      return `${joinHostPort(address.hostname, address.port)}`;
    })();
    const server = await startProxyServer({
      port: null,
      seed: context.seed,
      journal: new Journal({
        server: name,
        file: config.journalFile as string | undefined,
      }),
      proxies: [{
        name,
        listen: `${(config.hostname as string | undefined) ?? "127.0.0.1"}:${
          (config.port as number | undefined) ?? 0
        }`,
        upstream,
        faults: config.faults as Faults | undefined,
        toxics: config.toxics as Record<string, unknown>[] | undefined,
      }],
    });
    const named = server.proxy(name)!;
    return {
      name,
      kind: "proxy",
      journals: [server.journal],
      adminApp: () => server.adminApp(),
      addresses: () => [{ ...named.addr, listening: named.listening }],
      connectionInfos: () => named.connectionInfos(),
      faultTargets: () => [{
        path: `/proxies/${name}/faults`,
        faults: named.faults.get(),
      }],
      switches: () => [],
      view: () => ({
        upstream,
        toxics: named.toxics().map((toxic) =>
          `${toxic.name} (${toxic.stream})`
        ),
      }),
      close: async () => {
        await server.close();
        await server.journal.close();
      },
    } satisfies LabServer;
  },
};

export const SERVER_KINDS: Readonly<Record<string, ServerKind>> = {
  primary,
  secondary,
  flapping,
  silent,
  "watchdog-echo": watchdogEcho,
  "message-store": messageStore,
  proxy,
};
