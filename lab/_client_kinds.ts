/**
 * Every kind of traffic client a topology file may name: the reference
 * clients of `clients/`, each fed a record or message every `everyMs`.
 * Private to `lab/`.
 *
 * @module
 */
import { z } from "zod";
import type { Journal } from "../core/journal/journal.ts";
import { DualChannelClient } from "../clients/dual_channel.ts";
import { FailoverAgent } from "../clients/failover_agent.ts";
import { TwoServersClient } from "../clients/two_servers.ts";
import {
  addressOf,
  type ClientKind,
  type ClientStartContext,
  CodecNameSchema,
  type LabIssue,
  serverOf,
} from "./_kind.ts";
import { frontsOf } from "./_server_kinds.ts";
import type { Channel } from "../servers/watchdog_echo.ts";

const ms = (what: string) =>
  z.number().min(0).max(3_600_000).optional().describe(what);
const positiveMs = (what: string) =>
  z.number().min(1).max(3_600_000).optional().describe(what);

const TRAFFIC_FIELDS = {
  everyMs: z.number().min(10).max(3_600_000).optional().describe(
    "Send a record or message this often (default: traffic.everyMs)",
  ),
  maxQueued: z.number().int().min(1).optional().describe(
    "Stop adding while this many wait unacknowledged (default 50)",
  ),
  codec: CodecNameSchema.optional(),
};

/** The server kinds a field of a client entry may name, by field schema. */
const SERVER_FIELDS = z.registry<{ kinds: string[] }>();

/**
 * A field of a client entry that names a server of this lab, of one of
 * `kinds`; the topology check follows it ({@linkcode TrafficKind}).
 */
function serverField(
  kinds: string[],
  description = `A ${kinds.join(" or ")} server of this lab, by name`,
): z.ZodString {
  return z.string().min(1).describe(description).register(SERVER_FIELDS, {
    kinds,
  });
}

/** The options every reference client takes: its entry's codec, its journal. */
function clientOptions(
  config: Record<string, unknown>,
  context: ClientStartContext,
): { codec?: string; journal: Journal } {
  return {
    codec: config.codec as string | undefined,
    journal: context.journal,
  };
}

/** A started reference client, with how {@linkcode clientKind} feeds it. */
interface Fed {
  /** The client; closing the lab's client closes it. */
  client: { close(): Promise<void> };
  /** How many items wait unacknowledged. */
  queued(): number;
  /** Hands it the next item. */
  send(): void;
  /** What it is doing now, for the dashboard. */
  state(): { summary: string } & Record<string, unknown>;
}

/** What a kind of traffic client gives the lab; its name is its key. */
interface TrafficKind {
  /** One line on what it is. */
  summary: string;
  /**
   * Its entry's own fields; those made by {@linkcode serverField} name the
   * servers it talks to. The traffic fields every kind has follow them.
   */
  fields: z.ZodRawShape;
  /** Problems beyond the schema, given every server entry by name. */
  check?: ClientKind["check"];
  /** Makes and starts the client; the lab feeds it as it says. */
  start(config: Record<string, unknown>, context: ClientStartContext): Fed;
}

/**
 * The {@linkcode ClientKind} `kind` of a {@linkcode TrafficKind}: its entry's
 * schema (the `kind` literal, its fields, the traffic fields), the servers
 * its server fields name, and a start that feeds the client an item every
 * `everyMs` (the entry's, else the lab's) while fewer than `maxQueued`
 * (default 50) wait; closing stops the feed, then the client.
 */
function clientKind(kind: string, spec: TrafficKind): ClientKind {
  return {
    kind,
    summary: spec.summary,
    schema: z.strictObject({
      kind: z.literal(kind),
      ...spec.fields,
      ...TRAFFIC_FIELDS,
    }),
    references: (config) =>
      Object.entries(spec.fields).flatMap(([field, schema]) => {
        const server = SERVER_FIELDS.get(schema);
        return server
          ? [{
            path: [field],
            names: [config[field] as string],
            kinds: server.kinds,
          }]
          : [];
      }),
    check: spec.check,
    start(config, context) {
      const fed = spec.start(config, context);
      const maxQueued = (config.maxQueued as number | undefined) ?? 50;
      const timer = setInterval(() => {
        try {
          if (fed.queued() < maxQueued) fed.send();
        } catch {
          // A client that refuses an item says so in its journal.
        }
      }, (config.everyMs as number | undefined) ?? context.everyMs);
      return Promise.resolve({
        name: context.name,
        kind,
        state: () => fed.state(),
        async close() {
          clearInterval(timer);
          await fed.client.close();
        },
      });
    },
  };
}

/** Each {@linkcode TrafficKind} of `kinds` as the {@linkcode ClientKind} of its key. */
function clientKinds(
  kinds: Readonly<Record<string, TrafficKind>>,
): Record<string, ClientKind> {
  return Object.fromEntries(
    Object.entries(kinds).map(([kind, spec]) => [kind, clientKind(kind, spec)]),
  );
}

const TELEMATICS_SERVERS = [
  "primary",
  "secondary",
  "flapping",
  "silent",
  "proxy",
];

const twoServers: TrafficKind = {
  summary: "Tracker with IP1 and IP2 (mirror or failover)",
  fields: {
    ip1: serverField(TELEMATICS_SERVERS, "IP1: a server of this lab, by name"),
    ip2: serverField(TELEMATICS_SERVERS, "IP2: a server of this lab, by name"),
    twoServers: z.boolean().optional().describe(
      'The "Two servers" checkbox: true mirror mode, false failover (default)',
    ),
    ackTimeoutMs: positiveMs("ACK timeout (default 5000)"),
    resends: z.number().int().min(0).optional().describe(
      "Failover mode: resends before switching (default 0)",
    ),
    reconnectDelayMs: ms("Wait before connecting again (default 1000)"),
    connectTimeoutMs: positiveMs("Connect timeout (default 5000)"),
    device: z.string().min(1).optional().describe(
      "Device id sent in hello (default: the client's name)",
    ),
  },
  start(config, context) {
    const names = { ip1: config.ip1 as string, ip2: config.ip2 as string };
    const ip1 = addressOf(context.servers, names.ip1);
    const ip2 = addressOf(context.servers, names.ip2);
    const client = new TwoServersClient({
      ...clientOptions(config, context),
      ip1: ip1.hostname,
      port1: ip1.port,
      ip2: ip2.hostname,
      port2: ip2.port,
      twoServers: config.twoServers as boolean | undefined,
      ackTimeoutMs: config.ackTimeoutMs as number | undefined,
      resends: config.resends as number | undefined,
      reconnectDelayMs: config.reconnectDelayMs as number | undefined,
      connectTimeoutMs: config.connectTimeoutMs as number | undefined,
      device: (config.device as string | undefined) ?? context.name,
    });
    client.start();
    return {
      client,
      queued: () => client.memory.length,
      send() {
        const id = context.nextId();
        client.send({ id, data: { from: context.name, at: Date.now() } });
      },
      state() {
        const state = client.state();
        return {
          summary: `${state.mode === "mirror" ? "mirror, " : ""}on ${
            names[state.server]
          }${state.memory.length > 1 ? `, ${state.memory.length} queued` : ""}`,
          mode: state.mode,
          server: names[state.server],
          connected: state.connected.map((name) => names[name]),
          queued: state.memory.length,
        };
      },
    };
  },
};

const dualChannel: TrafficKind = {
  summary: "SCADA client with channels A and B",
  fields: {
    server: serverField(["watchdog-echo"]),
    localA: z.string().min(1).optional().describe(
      "Local address channel A binds (its adapter)",
    ),
    localB: z.string().min(1).optional().describe(
      "Local address channel B binds (its adapter)",
    ),
    watchdogPeriodMs: positiveMs("Watchdog period (default 1000)"),
    watchdogTimeoutMs: positiveMs("Watchdog timeout (default 3000)"),
    retryMs: positiveMs("Reconnect a broken channel this often (default 2000)"),
    connectTimeoutMs: positiveMs("Connect timeout"),
    preferredNetAddr: z.string().min(1).optional().describe(
      "PreferredNetAddr: the preferred network, such as 127.0.2.0",
    ),
    preferredNetNr: z.union([z.literal(1), z.literal(2)]).optional()
      .describe("PreferredNetNr: 1 is channel A, 2 is channel B"),
    activeWatchdog: z.enum(["idle", "always", "never"]).optional(),
    clientId: z.string().min(1).optional().describe(
      "Client id sent in hello (default: the client's name)",
    ),
  },
  start(config, context) {
    const server = serverOf(context.servers, config.server as string);
    const endpoint = (channel: Channel, local: unknown) => {
      const address = server.addresses().find((a) => a.label === channel);
      if (!address) throw new Error(`Cannot find channel ${channel}`);
      return {
        hostname: address.hostname,
        port: address.port,
        ...(typeof local === "string" ? { localAddress: local } : {}),
      };
    };
    const client = new DualChannelClient({
      ...clientOptions(config, context),
      channels: {
        A: endpoint("A", config.localA),
        B: endpoint("B", config.localB),
      },
      watchdogPeriodMs: config.watchdogPeriodMs as number | undefined,
      watchdogTimeoutMs: config.watchdogTimeoutMs as number | undefined,
      retryMs: config.retryMs as number | undefined,
      connectTimeoutMs: config.connectTimeoutMs as number | undefined,
      preferredNetAddr: config.preferredNetAddr as string | undefined,
      preferredNetNr: config.preferredNetNr as number | undefined,
      activeWatchdog: config.activeWatchdog as
        | "idle"
        | "always"
        | "never"
        | undefined,
      client: (config.clientId as string | undefined) ?? context.name,
    });
    client.start();
    return {
      client,
      queued: () => client.state().pending.length,
      send() {
        client.send(context.nextId(), { from: context.name, at: Date.now() })
          .catch(() => {});
      },
      state() {
        const state = client.state();
        return {
          summary: `active ${state.active ?? "none"}${
            state.pending.length > 1 ? `, ${state.pending.length} pending` : ""
          }`,
          active: state.active ?? null,
          channels: {
            A: state.channels.A.role,
            B: state.channels.B.role,
          },
          pending: state.pending.length,
        };
      },
    };
  },
};

const failoverAgent: TrafficKind = {
  summary: "Messaging agent with a primary and alternates",
  fields: {
    server: serverField(["message-store"]),
    fronts: z.array(z.string().min(1)).min(1).optional().describe(
      "Its fronts, primary first (default: the server's fronts in order)",
    ),
    agent: z.string().min(1).optional().describe(
      "The agent's name (default: the client's name)",
    ),
    to: z.string().min(1).describe("The agent its messages are for"),
    failoverRetries: z.number().int().min(0).optional().describe(
      "-fr: retries of the primary before an alternate (default 0)",
    ),
    failoverDelayMs: ms("-fd: wait between tries of the primary"),
    connectTimeoutMs: positiveMs("Connect timeout (default 2000)"),
    ackTimeoutMs: positiveMs("ACK timeout (default 5000)"),
    syncIntervalMs: ms("Sync this often (default 2000; 0 never)"),
  },
  check(config, servers) {
    const entry = servers[config.server as string];
    if (!entry || entry.kind !== "message-store") return [];
    const known = frontsOf(entry).map((front) => front.name);
    const issues: LabIssue[] = [];
    ((config.fronts as string[] | undefined) ?? []).forEach((front, i) => {
      if (!known.includes(front)) {
        issues.push({
          path: ["fronts", i],
          message:
            `No front named "${front}" in server "${config.server}": expected one of ${
              known.map((n) => `"${n}"`).join(", ")
            }`,
        });
      }
    });
    return issues;
  },
  start(config, context) {
    const addresses = serverOf(context.servers, config.server as string)
      .addresses();
    const order = (config.fronts as string[] | undefined) ??
      addresses.map((address) => address.label!);
    const agent = new FailoverAgent({
      ...clientOptions(config, context),
      agent: (config.agent as string | undefined) ?? context.name,
      servers: order.map((name) => {
        const address = addresses.find((a) => a.label === name);
        if (!address) throw new Error(`Cannot find front "${name}"`);
        return { name, hostname: address.hostname, port: address.port };
      }),
      failoverRetries: config.failoverRetries as number | undefined,
      failoverDelayMs: config.failoverDelayMs as number | undefined,
      connectTimeoutMs: config.connectTimeoutMs as number | undefined,
      ackTimeoutMs: config.ackTimeoutMs as number | undefined,
      syncIntervalMs: (config.syncIntervalMs as number | undefined) ?? 2000,
    });
    agent.sync().catch(() => {});
    return {
      client: agent,
      queued: () => agent.outbox.length,
      send() {
        agent.send(
          config.to as string,
          { text: `hello from ${agent.agent}` },
          context.nextId(),
        ).catch(() => {});
      },
      state() {
        const state = agent.state();
        const on = state.connected;
        return {
          summary: `${
            on
              ? `on ${on}${on === agent.primary.name ? " (primary)" : ""}`
              : "not connected"
          }${
            state.outbox.length > 1 ? `, ${state.outbox.length} to send` : ""
          }`,
          connected: on ?? null,
          primary: agent.primary.name,
          outbox: state.outbox.length,
          received: state.received,
        };
      },
    };
  },
};

/** Every kind of traffic client a topology may name, by kind. */
export const CLIENT_KINDS: Readonly<Record<string, ClientKind>> = clientKinds({
  "two-servers": twoServers,
  "dual-channel": dualChannel,
  "failover-agent": failoverAgent,
});
