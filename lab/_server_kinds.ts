/**
 * Every kind of server a topology file may name: the schema of its entry,
 * how to start it, and what its dashboard card counts and shows. Private to
 * `lab/`.
 *
 * @module
 */
import { z } from "zod";
import type { Faults } from "../core/faults/mod.ts";
import type { JournalEvent } from "../core/journal/journal.ts";
import {
  FLAPPING_PORT,
  FlappingOptionsSchema,
  startFlappingServer,
} from "../servers/flapping.ts";
import {
  frontList,
  MessageStoreOptionsSchema,
  startMessageStoreServerAt,
} from "../servers/message_store.ts";
import {
  PRIMARY_PORT,
  PrimaryOptionsSchema,
  startPrimaryServer,
} from "../servers/primary.ts";
import {
  ProxyOptionsSchema,
  ProxyServerOptionsSchema,
  startProxyServer,
} from "../servers/proxy.ts";
import { ToxicSchema } from "./plan.ts";
import { Journal } from "../core/journal/journal.ts";
import {
  SECONDARY_PORT,
  SecondaryOptionsSchema,
  startSecondaryServer,
} from "../servers/secondary.ts";
import {
  SILENT_PORT,
  SilentOptionsSchema,
  startSilentServer,
} from "../servers/silent.ts";
import {
  type Channel,
  CHANNELS,
  startWatchdogEchoServer,
  WATCHDOG_ECHO_PORT,
  WatchdogEchoOptionsSchema,
} from "../servers/watchdog_echo.ts";
import {
  ACKS_DROPPED,
  ACKS_SENT,
  addressOf,
  COMMON_SERVER_FIELDS,
  counter,
  framesIn,
  type LabReference,
  type LabServer,
  type LabStartContext,
  type LabSwitch,
  LISTENER_FIELDS,
  multiListenerLabServer,
  RECORDS_IN,
  type ServerKind,
  serverOptions,
  tcpLabServer,
} from "./_kind.ts";
import { PortSchema } from "../core/cli/option_values.ts";
import type { TcpServer } from "../core/server/tcp_server.ts";
import type { ToolkitServer } from "../core/server/toolkit_server.ts";
import { joinHostPort } from "../core/net/host_port.ts";

/** The options an entry gives a server: the common ones, and its own. */
type EntryOptions<O extends z.ZodObject> =
  & ReturnType<typeof serverOptions>
  & Partial<z.output<O>>;

/** What a kind with one listener needs besides its server's options schema. */
interface ListenerKindSpec<O extends z.ZodObject, S> {
  kind: string;
  summary: string;
  /** The server's own options: the entry's fields besides the common ones. */
  options: O;
  /** The kind's default port. */
  port: number;
  counters: ServerKind["counters"];
  references?(config: Record<string, unknown>): LabReference[];
  start(options: EntryOptions<O>, context: LabStartContext): Promise<S>;
  /** What its card shows and switches. */
  card?(server: S, config: Record<string, unknown>): {
    view?: () => Record<string, unknown>;
    switches?: () => LabSwitch[];
  };
}

/**
 * A kind of server with one listener: its entry is the listener's and
 * common fields, plus the fields of its server's options schema, handed to
 * its start function as they are.
 */
function listenerKind<
  O extends z.ZodObject,
  S extends TcpServer & ToolkitServer,
>(spec: ListenerKindSpec<O, S>): ServerKind {
  const own = Object.keys(spec.options.shape);
  return {
    kind: spec.kind,
    summary: spec.summary,
    schema: z.object({
      kind: z.literal(spec.kind),
      ...LISTENER_FIELDS,
      ...COMMON_SERVER_FIELDS,
      ...spec.options.shape,
    }).strict(),
    counters: spec.counters,
    references: spec.references,
    async start(config, context) {
      // The entry was parsed by the schema: its own fields are the options.
      const options = Object.fromEntries(
        own.filter((key) => config[key] !== undefined).map((
          key,
        ) => [key, config[key]]),
      ) as Partial<z.output<O>>;
      const server = await spec.start({
        ...serverOptions(config, context, spec.port),
        ...options,
      }, context);
      return tcpLabServer(server, spec.card?.(server, config));
    },
  };
}

/** Another server of this lab by name, or an address (`host:port`). */
function labReference(
  config: Record<string, unknown>,
  field: string,
): LabReference[] {
  const value = config[field];
  return typeof value === "string" && !value.includes(":")
    ? [{ path: [field], names: [value] }]
    : [];
}

/** The address a reference names: its own, or the named server's first. */
function referencedAddress(value: string, context: LabStartContext): string {
  if (value.includes(":")) return value;
  const address = addressOf(context.servers, value);
  return joinHostPort(address.hostname, address.port);
}

/** What the primary's and the secondary's cards count. */
const TELEMATICS_COUNTERS = [RECORDS_IN, ACKS_SENT, ACKS_DROPPED];

const primary = listenerKind({
  kind: "primary",
  summary: "IP1: ACKs every record",
  options: PrimaryOptionsSchema,
  port: PRIMARY_PORT,
  counters: TELEMATICS_COUNTERS,
  start: startPrimaryServer,
});

const secondary = listenerKind({
  kind: "secondary",
  summary: "IP2: records what it gets; ACKs only if told",
  options: SecondaryOptionsSchema,
  port: SECONDARY_PORT,
  counters: TELEMATICS_COUNTERS,
  start: startSecondaryServer,
  card: (server) => ({
    view: () => ({
      ACKs: server.ack ? "on" : "off (mirror)",
      "seen twice": server.duplicates().length,
    }),
  }),
});

function formatMs(ms: number): string {
  return ms >= 10_000
    ? `${Math.round(ms / 1000)}s`
    : `${(ms / 1000).toFixed(1)}s`;
}

const flapping = listenerKind({
  kind: "flapping",
  summary: "Goes up and down on a schedule",
  options: FlappingOptionsSchema,
  port: FLAPPING_PORT,
  counters: [
    RECORDS_IN,
    ACKS_SENT,
    counter("transitions", "flaps", (e) => e.type === "transition"),
  ],
  references: (config) => labReference(config, "target"),
  start: (options, context) =>
    startFlappingServer({
      ...options,
      target: options.target === undefined
        ? undefined
        : referencedAddress(options.target, context),
    }),
  card: (server) => ({
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
  }),
});

const silent = listenerKind({
  kind: "silent",
  summary: "Accepts and never answers",
  options: SilentOptionsSchema,
  port: SILENT_PORT,
  counters: [
    counter("framesIn", "frames in", (e) => e.type === "frame_in"),
    counter("waits", "waits ended", (e) => e.type === "wait_ended"),
  ],
  start: startSilentServer,
  card: (server) => ({ view: () => ({ mode: server.mode }) }),
});

const watchdogEcho: ServerKind = {
  kind: "watchdog-echo",
  summary: "Two channels; echoes watchdogs, ACKs data",
  schema: z.object({
    kind: z.literal("watchdog-echo"),
    port: PortSchema.optional().describe(
      "Port of both channels (default 7040)",
    ),
    ...WatchdogEchoOptionsSchema.shape,
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
    const { hostname: _, ...common } = serverOptions(
      config,
      context,
      WATCHDOG_ECHO_PORT,
    );
    const server = await startWatchdogEchoServer({
      ...common,
      channels: (config as z.output<typeof WatchdogEchoOptionsSchema>).channels,
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

/** The fronts of a message-store entry, in order, with their ports. */
export function frontsOf(
  config: Record<string, unknown>,
): ReturnType<typeof frontList> {
  return frontList(
    (config as z.output<typeof MessageStoreOptionsSchema>).fronts,
  );
}

const messageStore: ServerKind = {
  kind: "message-store",
  summary: "Fronts over one shared message store",
  schema: z.object({
    kind: z.literal("message-store"),
    ...MessageStoreOptionsSchema.shape,
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
    const { store, storeDown } = config as z.output<
      typeof MessageStoreOptionsSchema
    >;
    const server = await startMessageStoreServerAt(store, {
      ...common,
      storeDown,
      fronts: frontsOf(config),
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

const proxy: ServerKind = {
  kind: "proxy",
  summary:
    "A fault proxy in front of a server: bytes pass, toxics and faults act on them",
  schema: z.object({
    kind: z.literal("proxy"),
    ...LISTENER_FIELDS,
    ...ProxyOptionsSchema.omit({ name: true, listen: true }).shape,
    toxics: z.array(ToxicSchema).optional().describe(
      "Toxics from the start, as Toxiproxy API bodies",
    ),
    ...ProxyServerOptionsSchema.pick({ journalFile: true }).shape,
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
  references: (config) => labReference(config, "upstream"),
  async start(config, context) {
    const name = context.name;
    const upstream = referencedAddress(config.upstream as string, context);
    const server = await startProxyServer({
      port: null,
      seed: context.seed,
      journal: new Journal({
        server: name,
        file: config.journalFile as string | undefined,
      }),
      proxies: [{
        name,
        listen: joinHostPort(
          (config.hostname as string | undefined) ?? "127.0.0.1",
          (config.port as number | undefined) ?? 0,
        ),
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

/** Every kind of server a topology may name, by kind. */
export const SERVER_KINDS: Readonly<Record<string, ServerKind>> = {
  primary,
  secondary,
  flapping,
  silent,
  "watchdog-echo": watchdogEcho,
  "message-store": messageStore,
  proxy,
};
