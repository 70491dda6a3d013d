/**
 * Every kind of traffic client a topology file may name: the reference
 * clients of `clients/`, each fed a record or message every `everyMs`.
 * Private to `lab/`.
 *
 * @module
 */
import { z } from "zod";
import { DualChannelClient } from "../clients/dual_channel.ts";
import { FailoverAgent } from "../clients/failover_agent.ts";
import { TwoServersClient } from "../clients/two_servers.ts";
import {
  addressOf,
  type ClientKind,
  type ClientStartContext,
  CodecNameSchema,
  type LabClient,
  type LabIssue,
  type LabReference,
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

/**
 * The schema of a client kind's entry: its `kind` literal, its own
 * `fields`, then the traffic fields every kind has.
 */
function clientSchema(kind: string, fields: z.ZodRawShape): z.ZodObject {
  return z.object({ kind: z.literal(kind), ...fields, ...TRAFFIC_FIELDS })
    .strict();
}

/** The `server` field of a client kind that talks to one server of `kind`. */
function serverField(kind: string): z.ZodString {
  return z.string().min(1).describe(`A ${kind} server of this lab, by name`);
}

/** An entry's reference, through its `field`, to a server of one of `kinds`. */
function serverReference(
  config: Record<string, unknown>,
  field: string,
  kinds: string[],
): LabReference {
  return { path: [field], names: [config[field] as string], kinds };
}

/** A started reference client, as {@linkcode trafficClient} feeds it. */
interface Fed {
  /** How many items wait unacknowledged. */
  queued(): number;
  /** Hands it the next item. */
  send(): void;
  /** What it is doing now, for the dashboard. */
  state(): { summary: string } & Record<string, unknown>;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Feeds a started client an item every `everyMs` (the entry's, else the
 * lab's) while fewer than `maxQueued` (default 50) wait; closing stops the
 * feed, then the client.
 */
function trafficClient(
  kind: string,
  config: Record<string, unknown>,
  context: ClientStartContext,
  client: Fed,
): Promise<LabClient> {
  const maxQueued = (config.maxQueued as number | undefined) ?? 50;
  const timer = setInterval(() => {
    try {
      if (client.queued() < maxQueued) client.send();
    } catch {
      // A client that refuses an item says so in its journal.
    }
  }, (config.everyMs as number | undefined) ?? context.everyMs);
  return Promise.resolve({
    name: context.name,
    kind,
    state: () => client.state(),
    async close() {
      clearInterval(timer);
      await client.close();
    },
  });
}

const TELEMATICS_SERVERS = [
  "primary",
  "secondary",
  "flapping",
  "silent",
  "proxy",
];

const twoServers: ClientKind = {
  kind: "two-servers",
  summary: "Tracker with IP1 and IP2 (mirror or failover)",
  schema: clientSchema("two-servers", {
    ip1: z.string().min(1).describe("IP1: a server of this lab, by name"),
    ip2: z.string().min(1).describe("IP2: a server of this lab, by name"),
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
  }),
  references: (config) => [
    serverReference(config, "ip1", TELEMATICS_SERVERS),
    serverReference(config, "ip2", TELEMATICS_SERVERS),
  ],
  start(config, context) {
    const names = { ip1: config.ip1 as string, ip2: config.ip2 as string };
    const ip1 = addressOf(context.servers, names.ip1);
    const ip2 = addressOf(context.servers, names.ip2);
    const client = new TwoServersClient({
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
      codec: config.codec as string | undefined,
      journal: context.journal,
    });
    client.start();
    return trafficClient("two-servers", config, context, {
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
      close: () => client.close(),
    });
  },
};

const dualChannel: ClientKind = {
  kind: "dual-channel",
  summary: "SCADA client with channels A and B",
  schema: clientSchema("dual-channel", {
    server: serverField("watchdog-echo"),
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
  }),
  references: (config) => [
    serverReference(config, "server", ["watchdog-echo"]),
  ],
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
      codec: config.codec as string | undefined,
      journal: context.journal,
    });
    client.start();
    return trafficClient("dual-channel", config, context, {
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
      close: () => client.close(),
    });
  },
};

const failoverAgent: ClientKind = {
  kind: "failover-agent",
  summary: "Messaging agent with a primary and alternates",
  schema: clientSchema("failover-agent", {
    server: serverField("message-store"),
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
  }),
  references: (config) => [
    serverReference(config, "server", ["message-store"]),
  ],
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
      codec: config.codec as string | undefined,
      journal: context.journal,
    });
    agent.sync().catch(() => {});
    return trafficClient("failover-agent", config, context, {
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
      close: () => agent.close(),
    });
  },
};

/** Every kind of traffic client a topology may name, by kind. */
export const CLIENT_KINDS: Readonly<Record<string, ClientKind>> = {
  "two-servers": twoServers,
  "dual-channel": dualChannel,
  "failover-agent": failoverAgent,
};
