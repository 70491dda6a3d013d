/**
 * What a kind of server or traffic client gives the lab: the zod schema of
 * its entry in the topology file, a start function, the counters its
 * dashboard card shows. Shared helpers for the kinds. Private to `lab/`.
 *
 * @module
 */
import { z } from "zod";
import { CODEC_NAMES } from "../core/codecs/create_codec.ts";
import { type Faults, FaultsSchema } from "../core/faults/mod.ts";
import type { Journal, JournalEvent } from "../core/journal/journal.ts";
import type { TcpServer } from "../core/server/tcp_server.ts";
import { PortSchema } from "../core/cli/option_values.ts";
import type {
  LabAddress,
  LabFaultTarget,
  LabServer,
  LabSwitch,
} from "./types.ts";
import type { ToolkitServer } from "../core/server/toolkit_server.ts";
import type { MultiListenerServer } from "../core/server/multi_listener_server.ts";

export type { LabAddress, LabFaultTarget, LabServer, LabSwitch };

/** A number on a server's card, counted from its journal events. */
export interface CounterDef {
  /** A stable key (`recordsIn`). */
  key: string;
  /** What the card shows (`records in`). */
  label: string;
  /** Whether an event adds one to the counter. */
  match(event: JournalEvent): boolean;
}

/** Servers that one field of an entry names, for the topology check. */
export interface LabReference {
  /** The path of the field below the entry (`["ip1"]`). */
  path: (string | number)[];
  /** The server names it holds, in order. */
  names: string[];
  /** Whether the field is a list (each name's index is added to the path). */
  list?: boolean;
  /** The server kinds allowed there (default any). */
  kinds?: string[];
}

/** A problem a kind finds in an entry, beyond its schema. */
export interface LabIssue {
  /** The path below the entry. */
  path: (string | number)[];
  /** What is wrong. */
  message: string;
}

/** What a kind's `start` gets besides its options. */
export interface LabStartContext {
  /** The server's or client's name in the topology. */
  name: string;
  /** The lab's run seed. */
  seed: number;
  /** The servers started so far, by name. */
  servers: ReadonlyMap<string, LabServer>;
}

/** One kind of server the topology may name. */
export interface ServerKind {
  /** The name used as `"kind"` in the file. */
  kind: string;
  /** One line on what it is. */
  summary: string;
  /** The schema of one entry of this kind (with its `kind` literal). */
  schema: z.ZodObject;
  /** The counters its card shows. */
  counters: readonly CounterDef[];
  /** Other servers an entry refers to (started first), for the topology check. */
  references?(config: Record<string, unknown>): LabReference[];
  /** The entry with every port set to 0 (default: sets `port`). */
  withAnyPort?(config: Record<string, unknown>): Record<string, unknown>;
  /** Starts one, with its faults in force before it accepts a connection. */
  start(
    config: Record<string, unknown>,
    context: LabStartContext,
  ): Promise<LabServer>;
}

/** A running traffic client, as the lab drives it. */
export interface LabClient {
  /** The client's name in the topology. */
  readonly name: string;
  /** Its kind. */
  readonly kind: string;
  /** What it is doing now: `summary` is one line for the dashboard. */
  state(): { summary: string } & Record<string, unknown>;
  /** Stops it and releases everything it holds. */
  close(): Promise<void>;
}

/** What a client kind's `start` gets besides its options. */
export interface ClientStartContext extends LabStartContext {
  /** How often to send a record or message, in ms (the entry's `everyMs` wins). */
  everyMs: number;
  /** The client's journal (named after it), kept for the lab's life. */
  journal: Journal;
  /** The next id for a record or message; numbering goes on across restarts of the traffic. */
  nextId(): string;
}

/** One kind of traffic client the topology may name. */
export interface ClientKind {
  /** The name used as `"kind"` in the file. */
  kind: string;
  /** One line on what it is. */
  summary: string;
  /** The schema of one entry of this kind. */
  schema: z.ZodObject;
  /** The servers an entry refers to, for the topology check. */
  references(config: Record<string, unknown>): LabReference[];
  /** Problems beyond the schema, given every server entry by name. */
  check?(
    config: Record<string, unknown>,
    servers: Readonly<Record<string, Record<string, unknown>>>,
  ): LabIssue[];
  /** Starts one; it produces traffic until closed. */
  start(
    config: Record<string, unknown>,
    context: ClientStartContext,
  ): Promise<LabClient>;
}

/** Names of servers and clients: safe in a URL path segment. */
export const NameSchema: z.ZodString = z.string().regex(
  /^[a-z0-9][a-z0-9_-]{0,62}$/i,
  "Invalid name: use letters, digits, - and _ (up to 63), starting with a letter or digit",
);

/** A codec's name. */
export const CodecNameSchema: z.ZodType<string> = z.string().refine(
  (name) => CODEC_NAMES.includes(name),
  { error: `Invalid codec: expected one of ${CODEC_NAMES.join(", ")}` },
);

/** Fields every server entry takes (those with one listener use them all). */
export const COMMON_SERVER_FIELDS = {
  codec: CodecNameSchema.optional().describe("Wire codec (default line-json)"),
  faults: FaultsSchema.optional().describe(
    "Faults in force from the start: the body of PUT /faults",
  ),
  journalFile: z.string().min(1).optional().describe(
    "Also append every event to this JSON-lines file",
  ),
  maxFrameBytes: z.number().int().min(16).optional().describe(
    "Largest frame accepted, in bytes (default 65536)",
  ),
  maxBadFrames: z.number().int().min(0).optional().describe(
    "Close a connection after this many bad frames in a row; 0 never (default 100)",
  ),
};

/** Fields of a server entry with one listener. */
export const LISTENER_FIELDS = {
  hostname: z.string().min(1).optional().describe(
    "Host to listen on (default 127.0.0.1)",
  ),
  port: PortSchema.optional().describe(
    "TCP port (default: the kind's); 0 picks a free one",
  ),
};

/** Makes a counter. */
export function counter(
  key: string,
  label: string,
  match: (event: JournalEvent) => boolean,
): CounterDef {
  return { key, label, match };
}

function frameType(event: JournalEvent): string | undefined {
  return (event.frame as { type?: string } | undefined)?.type;
}

/** Counts `frame_in` events of these frame types. */
export function framesIn(
  key: string,
  label: string,
  types: string[],
): CounterDef {
  return counter(
    key,
    label,
    (e) => e.type === "frame_in" && types.includes(frameType(e) ?? ""),
  );
}

/** Counter: records and packets in. */
export const RECORDS_IN: CounterDef = framesIn("recordsIn", "records in", [
  "record",
  "packet",
]);
/** Counter: ACKs written. */
export const ACKS_SENT: CounterDef = counter(
  "acksSent",
  "ACKs sent",
  (e) => e.type === "ack_sent" && e.reply !== "echo",
);
/** Counter: ACKs dropped by a fault. */
export const ACKS_DROPPED: CounterDef = counter(
  "acksDropped",
  "ACKs dropped",
  (e) => e.type === "ack_dropped" && e.reply !== "echo",
);

/** The options every server's constructor takes, from an entry. */
export function serverOptions(
  config: Record<string, unknown>,
  context: LabStartContext,
  defaultPort: number,
): {
  name: string;
  seed: number;
  hostname?: string;
  port: number;
  codec?: string;
  faults?: Faults;
  journalFile?: string;
  maxFrameBytes?: number;
  maxBadFrames?: number;
} {
  return {
    name: context.name,
    seed: context.seed,
    hostname: config.hostname as string | undefined,
    port: (config.port as number | undefined) ?? defaultPort,
    codec: config.codec as string | undefined,
    faults: config.faults as Faults | undefined,
    journalFile: config.journalFile as string | undefined,
    maxFrameBytes: config.maxFrameBytes as number | undefined,
    maxBadFrames: config.maxBadFrames as number | undefined,
  };
}

/** A server with one listener as a {@linkcode LabServer}. */
export function tcpLabServer(
  server: TcpServer & ToolkitServer,
  extra: {
    view?: () => Record<string, unknown>;
    switches?: () => LabSwitch[];
  } = {},
): LabServer {
  return {
    name: server.name,
    kind: server.kind,
    journals: [server.journal],
    adminApp: () => server.adminApp(),
    addresses: () => [{ ...server.addr, listening: server.listening }],
    connectionInfos: () => server.connectionInfos(),
    faultTargets: () => [{ path: "/faults", faults: server.faults.get() }],
    switches: extra.switches ?? (() => []),
    view: extra.view ?? (() => ({})),
    close: () => server.close(),
  };
}

/**
 * A server of several listeners (channels, fronts) as a
 * {@linkcode LabServer}: an address and a fault target per listener.
 */
export function multiListenerLabServer(
  server: ToolkitServer & { listeners: MultiListenerServer<TcpServer> },
  extra: {
    view?: () => Record<string, unknown>;
    switches?: () => LabSwitch[];
  } = {},
): LabServer {
  const parts = server.listeners;
  return {
    name: server.name,
    kind: server.kind,
    journals: [server.journal],
    adminApp: () => server.adminApp(),
    addresses: () =>
      parts.names.map((name) => ({
        label: name,
        ...parts.listener(name).addr,
        listening: parts.listener(name).listening,
      })),
    connectionInfos: () => parts.connectionInfos(),
    faultTargets: () =>
      parts.names.map((name) => ({
        label: name,
        path: `/${parts.scope}s/${name}/faults`,
        faults: parts.listener(name).faults.get(),
      })),
    switches: extra.switches ?? (() => []),
    view: extra.view ?? (() => ({})),
    close: () => server.close(),
  };
}

/** A started server, for a client or proxy that names it. */
export function serverOf(
  servers: ReadonlyMap<string, LabServer>,
  name: string,
): LabServer {
  const server = servers.get(name);
  if (!server) {
    throw new Error(`Cannot find server "${name}": it is not running`);
  }
  return server;
}

/** The first address of a started server, for a client or proxy that names it. */
export function addressOf(
  servers: ReadonlyMap<string, LabServer>,
  name: string,
): { hostname: string; port: number } {
  const address = serverOf(servers, name).addresses()[0];
  if (!address) {
    throw new Error(`Cannot find server "${name}": it has no address`);
  }
  return { hostname: address.hostname, port: address.port };
}
