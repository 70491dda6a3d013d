/**
 * Failover figures: a library over journals (any servers, any proxies) that
 * answers what a user asks after a fault. For every transition (a fault set,
 * changed or cleared, a schedule flip, a toxic added or removed) and every
 * client the servers saw: how long it took to connect to another server, to
 * get a frame accepted there, and to come back; for the protocols the
 * toolkit decodes, what it lost or had ACKed twice and the longest gap in
 * its ACKed stream; for raw bytes, connection-level figures (reconnect time,
 * bytes through each path, connections opened per second during the
 * outage). Also the time series the charts draw.
 *
 * A client is named by its `hello` (`device`, `agent` or `client`), else by
 * its peer's host; pass `identify` to name them otherwise.
 *
 * @example Figures from servers a test started
 * ```ts ignore
 * import { analyseFailovers } from "./figures.ts";
 * const figures = analyseFailovers([primary.journal, secondary.journal]);
 * for (const transition of figures.transitions) {
 *   for (const client of transition.clients) {
 *     console.log(transition.source, transition.faults, client.client, client.failoverMs);
 *   }
 * }
 * ```
 *
 * @module
 */
import { Journal, type JournalEvent } from "../core/journal/journal.ts";

/** Fault kinds after which every connected client must leave (default of `outageFaults`). */
export const OUTAGE_FAULTS: readonly string[] = [
  "down",
  "blackHole",
  "toxic:timeout",
  "toxic:reset_peer",
  "proxy:disabled",
];

/** Options for {@linkcode analyseFailovers}. */
export interface FailoverOptions {
  /**
   * Which clock to order and measure by: `time` (monotonic, the default: the
   * journals come from one process) or `wall` (journals from several
   * processes, such as JSON-lines files).
   */
  clock?: "time" | "wall";
  /** The time (on that clock) figures are measured from: 0 in the output (default: the first event). */
  origin?: number;
  /** The end of the run (default: the last event). */
  until?: number;
  /** Names the client of a connection (default: its hello, else its peer's host). */
  identify?: (connection: FailoverConnection) => string | undefined;
  /** Fault kinds after which every connected client must leave (default {@linkcode OUTAGE_FAULTS}). */
  outageFaults?: readonly string[];
  /** Width of one chart bucket in ms (default: about a sixtieth of the run, 100 ms at least). */
  bucketMs?: number;
  /** How many journal lines of evidence a figure keeps (default 6). */
  evidenceLines?: number;
}

/** One connection a server or proxy accepted, as the analysis sees it. */
export interface FailoverConnection {
  /** The server or proxy (the journal's `server`; `server/listener` for servers with several listeners). */
  source: string;
  /** Its connection id there. */
  conn: number;
  /** The peer, `host:port`. */
  peer: string;
  /** The name the client gave in its hello (`device`, `agent` or `client`). */
  hello?: string;
  /** For a connection through a proxy: the other end (the proxy's, or the server's behind it). */
  via?: string;
  /** The client it is attributed to. */
  client: string;
  /** Opened, ms from the origin. */
  openedMs: number;
  /** Closed, ms from the origin (absent while open). */
  closedMs?: number;
  /** Whether frames were decoded on it (else it carried raw bytes). */
  decoded: boolean;
  /** First frame decoded (raw codec: first chunk of bytes), ms from the origin. */
  firstFrameMs?: number;
  /** First frame accepted (ACKed), ms from the origin. */
  firstAckMs?: number;
  /** Bytes in, as journalled when it closed. */
  bytesIn: number;
  /** Bytes out, as journalled when it closed. */
  bytesOut: number;
}

/** What one client did after one transition. */
export interface ClientFigures {
  /** The client. */
  client: string;
  /** Whether the toolkit decoded its frames (lost, duplicated and the ACK gap apply). */
  decoded: boolean;
  /** The server or proxy it was on when the transition came. */
  from: string;
  /** The first other server or proxy it connected to after it, if any. */
  to?: string;
  /** ms from the transition to its first connection to another server or proxy. */
  switchMs: number | null;
  /** ms from the transition to its first frame accepted (ACKed, else decoded) by another server; raw: its first connection there. */
  acceptedMs: number | null;
  /** The failover time the expectations judge: `acceptedMs` for decoded protocols, `switchMs` for raw bytes. */
  failoverMs: number | null;
  /** ms from the transition to its first connection back to `from` after the fault cleared (null: never came back). */
  returnMs: number | null;
  /** ms from the transition to its first new connection anywhere (the same server too). */
  reconnectMs: number | null;
  /** Connections it opened from the transition until the fault cleared. */
  connectionsOpened: number;
  /** The same, per second: a retry storm shows here. */
  connectionsPerSecond: number;
  /** Bytes in and out through each server or proxy on connections open during the fault. */
  bytesByPath: Record<string, number>;
  /** Records or messages sent before or during the fault that no server ever ACKed, though a later one was ACKed. */
  lost: number;
  /** Their ids (the first 20). */
  lostIds: string[];
  /** Records or messages sent before or during the fault not ACKed, and nothing after them either: in flight, or lost at the end of the run. */
  pending: number;
  /** Records or messages ACKed more than once (by two servers, or twice), once at least after the transition. */
  duplicated: number;
  /** Their ids (the first 20). */
  duplicatedIds: string[];
  /** The longest time between two ACKs it got, from its last ACK before the transition to its first after recovery. */
  longestAckGapMs: number | null;
  /** True when no ACK came after the gap began (the gap is a lower bound). */
  ackGapOpen: boolean;
  /** Journal lines behind these figures. */
  evidence: string[];
}

/** One transition: a fault set, changed or cleared, a schedule flip, a toxic added or removed. */
export interface FailoverTransition {
  /** ms from the origin. */
  atMs: number;
  /** Wall-clock time, ms since the epoch. */
  wall: number;
  /** The server or proxy (`server/listener` for a channel or front). */
  source: string;
  /** The toxic it concerns, for a proxy. */
  toxic?: string;
  /** `set`, `changed` or `cleared`. */
  change: "set" | "changed" | "cleared";
  /** The fault kinds set, changed or cleared (toxics as `toxic:<type>`). */
  faults: string[];
  /** What made it, when known: a plan step (`plan[2]`), `schedule`. */
  cause?: string;
  /** Whether every connected client must leave (an outage fault). */
  outage: boolean;
  /** For `set` and `changed`: when these faults were cleared, ms from the origin (null: still in force at the end). */
  clearedMs: number | null;
  /** The journal line of the transition. */
  line: string;
  /** Figures of every client it moved (or, for an outage, every client connected then). */
  clients: ClientFigures[];
}

/** A span of time a fault was in force on a server or proxy. */
export interface FaultSpan {
  /** ms from the origin. */
  fromMs: number;
  /** ms from the origin (the end of the run while in force). */
  toMs: number;
  /** The fault kinds. */
  faults: string[];
  /** Whether it is an outage. */
  outage: boolean;
}

/** A client moving from one server or proxy to another. */
export interface ClientSwitch {
  /** ms from the origin. */
  atMs: number;
  /** The client. */
  client: string;
  /** Where it was. */
  from: string;
  /** Where it went. */
  to: string;
}

/** One server's or proxy's time series, one value per bucket. */
export interface SourceSeries {
  /** The server or proxy. */
  source: string;
  /** Whether it decoded frames (its chart shows records/s) or carried raw bytes (bytes/s). */
  decoded: boolean;
  /** Frames (records, messages) in per second. */
  recordsPerSecond: number[];
  /** Bytes per second (connections' bytes spread over their life, counted when they closed). */
  bytesPerSecond: number[];
  /** Connections open at some time during each bucket. */
  connections: number[];
  /** Connections opened in each bucket. */
  opened: number[];
  /** When faults were in force. */
  faults: FaultSpan[];
}

/** A client's figures over the whole run. */
export interface ClientTotals {
  /** The client. */
  client: string;
  /** Whether its frames were decoded. */
  decoded: boolean;
  /** Servers or proxies it used, in order of first use. */
  sources: string[];
  /** Where it is (its newest connection's server), if connected at the end. */
  on?: string;
  /** How many times it switched. */
  switches: number;
  /** Records or messages lost around transitions (distinct). */
  lost: number;
  /** Records or messages ACKed more than once around transitions (distinct). */
  duplicated: number;
  /** Its figures after the newest transition that moved it. */
  last?: ClientFigures & { atMs: number; source: string; faults: string[] };
}

/** Everything {@linkcode analyseFailovers} found. */
export interface FailoverAnalysis {
  /** The clock used. */
  clock: "time" | "wall";
  /** The origin (on that clock): 0 ms in every figure. */
  origin: number;
  /** Wall-clock time of the origin, ms since the epoch. */
  originWall: number;
  /** The end of the run, ms from the origin. */
  endMs: number;
  /** Chart bucket width, ms. */
  bucketMs: number;
  /** Every transition, in time order. */
  transitions: FailoverTransition[];
  /** Every client, by first appearance. */
  clients: ClientTotals[];
  /** Every server or proxy with its series. */
  sources: SourceSeries[];
  /** Every switch of every client, in time order. */
  switches: ClientSwitch[];
  /** Every connection seen. */
  connections: FailoverConnection[];
  /** Sums over every client. */
  totals: { lost: number; duplicated: number; transitions: number };
}

/** Journals or their events (such as lines read back from a journal file). */
export type JournalSource = Journal | readonly JournalEvent[];

const NOT_RECORDS = new Set(["ack", "hello", "watchdog", "sync", "error"]);
const MAX_IDS = 20;

function frameOf(event: JournalEvent): Record<string, unknown> | undefined {
  const frame = event.frame;
  return typeof frame === "object" && frame !== null
    ? frame as Record<string, unknown>
    : undefined;
}

function helloName(frame: Record<string, unknown>): string | undefined {
  for (const key of ["device", "agent", "client"]) {
    if (typeof frame[key] === "string") return frame[key] as string;
  }
  return undefined;
}

/** The listener an event concerns: its `listener`, `front`, `channel` or `proxy`. */
function labelOf(event: JournalEvent): string | undefined {
  for (const key of ["listener", "front", "channel", "proxy"]) {
    if (typeof event[key] === "string") return event[key] as string;
  }
  return undefined;
}

/**
 * The server, or `server/listener` for servers with several listeners (and
 * `server/proxy` for a proxy server holding several proxies).
 */
function sourceOf(event: JournalEvent): string {
  const label = labelOf(event);
  return label && label !== event.server
    ? `${event.server}/${label}`
    : event.server;
}

function hostOf(peer: string): string {
  const match = /^\[?([^\]]*?)\]?:\d+$/.exec(peer);
  return match ? match[1] : peer;
}

const SKIP_FIELDS = new Set(["seq", "time", "wall", "server", "type"]);

/** One journal event as one line: `1234 ms primary #17 frame_in conn=3 {...}`. */
export function journalLine(event: JournalEvent, origin = 0): string {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (!SKIP_FIELDS.has(key)) rest[key] = value;
  }
  return `${
    (event.time - origin).toFixed(0)
  } ms ${event.server} #${event.seq} ${event.type} ${JSON.stringify(rest)}`;
}

interface Ack {
  at: number;
  id: string;
  source: string;
  event: JournalEvent;
}

function kinds(faults: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof faults === "object" && faults !== null) {
    for (const [kind, rule] of Object.entries(faults)) {
      if (rule !== undefined && rule !== null) {
        out.set(kind, JSON.stringify(rule));
      }
    }
  }
  return out;
}

/** Toxic names to types, from the events that carry both. */
function toxicTypes(events: readonly JournalEvent[]): Map<string, string> {
  const types = new Map<string, string>();
  for (const event of events) {
    if (
      event.type === "fault" && typeof event.toxic === "string" &&
      typeof event.fault === "string"
    ) {
      types.set(`${sourceOf(event)}\u0000${event.toxic}`, event.fault);
    }
    if (event.type === "plan_step" && Array.isArray(event.toxics)) {
      for (const toxic of event.toxics as { name?: string; type?: string }[]) {
        if (toxic?.name && toxic.type) {
          types.set(`${event.target}\u0000${toxic.name}`, toxic.type);
        }
      }
    }
  }
  return types;
}

/**
 * Reads failover figures from journals of servers and proxies (and,
 * optionally, of clients: their `queued` events count records that never
 * reached a server). See the module doc.
 *
 * @example Usage
 * ```ts ignore
 * import { analyseFailovers } from "./figures.ts";
 * const { transitions, totals } = analyseFailovers([primary.journal, secondary.journal]);
 * ```
 */
export function analyseFailovers(
  journals: Iterable<JournalSource>,
  options: FailoverOptions = {},
): FailoverAnalysis {
  const clock = options.clock ?? "time";
  const evidenceLines = options.evidenceLines ?? 6;
  const outageFaults = new Set(options.outageFaults ?? OUTAGE_FAULTS);
  const events: JournalEvent[] = [];
  for (const journal of journals) {
    events.push(...(journal instanceof Journal ? journal.events() : journal));
  }
  const at = (event: JournalEvent) =>
    clock === "wall" ? event.wall : event.time;
  events.sort((a, b) =>
    at(a) - at(b) || (a.server < b.server ? -1 : a.server > b.server ? 1 : 0) ||
    a.seq - b.seq
  );
  const origin = options.origin ?? (events.length ? at(events[0]) : 0);
  const rel = (event: JournalEvent) => at(event) - origin;
  const endMs = Math.max(
    0,
    (options.until ??
      (events.length ? at(events[events.length - 1]) : origin)) -
      origin,
  );
  const originWall = clock === "wall"
    ? origin
    : events.length
    ? events[0].wall - (events[0].time - origin)
    : Date.now();
  const line = (event: JournalEvent) =>
    clock === "wall"
      ? journalLine({ ...event, time: event.wall }, origin)
      : journalLine(event, origin);

  // Pass 1: connections, frames, ACKs, transitions.
  const connections = new Map<string, FailoverConnection>();
  const keyOf = new Map<FailoverConnection, string>();
  const upstreams = new Map<string, string>(); // proxy's local addr -> its link
  const rawChunks = new Map<
    FailoverConnection,
    { at: number; bytes: number }[]
  >();
  const connectionIds = new Map<string, { id: string; at: number }[]>();
  const acks = new Map<string, Ack[]>(); // by connection key
  const firstSeen = new Map<string, number>(); // `${client}\u0000${id}` -> ms
  const queuedBy = new Map<string, Map<string, number>>(); // client journal -> ids
  const faultState = new Map<string, Map<string, string>>();
  const toxicState = new Map<string, Map<string, string>>();
  const planSteps: { at: number; server: string; label: string }[] = [];
  const transitions: FailoverTransition[] = [];
  const scheduleFlips: { at: number; server: string }[] = [];
  const key = (server: string, conn: number) => `${server}\u0000${conn}`;
  const types = toxicTypes(events);
  const proxyDisabled = new Set<string>();

  const addTransition = (
    event: JournalEvent,
    source: string,
    toxic: string | undefined,
    change: FailoverTransition["change"],
    faults: string[],
  ) => {
    if (faults.length === 0) return;
    transitions.push({
      atMs: rel(event),
      wall: event.wall,
      source,
      ...(toxic ? { toxic } : {}),
      change,
      faults,
      outage: change !== "cleared" && faults.some((f) => outageFaults.has(f)),
      clearedMs: null,
      line: line(event),
      clients: [],
    });
  };

  for (const event of events) {
    const t = rel(event);
    switch (event.type) {
      case "connected": {
        if (typeof event.peer !== "string" || event.conn === undefined) break;
        const connection: FailoverConnection = {
          source: sourceOf(event),
          conn: event.conn,
          peer: event.peer,
          client: "",
          openedMs: t,
          decoded: false,
          bytesIn: 0,
          bytesOut: 0,
        };
        const k = key(event.server, event.conn);
        connections.set(k, connection);
        keyOf.set(connection, k);
        break;
      }
      case "frame_in": {
        const connection = event.conn !== undefined
          ? connections.get(key(event.server, event.conn))
          : undefined;
        const frame = frameOf(event);
        if (!connection || !frame) break;
        if (frame.type === "raw") {
          // The raw codec: chunks of bytes, nothing decoded.
          connection.firstFrameMs ??= t;
          let chunks = rawChunks.get(connection);
          if (!chunks) rawChunks.set(connection, chunks = []);
          chunks.push({ at: t, bytes: Number(frame.bytes ?? 0) });
          break;
        }
        connection.decoded = true;
        connection.firstFrameMs ??= t;
        if (frame.type === "hello") {
          connection.hello ??= helloName(frame);
        } else if (
          typeof frame.id === "string" && !NOT_RECORDS.has(String(frame.type))
        ) {
          const k = key(event.server, event.conn!);
          let list = connectionIds.get(k);
          if (!list) connectionIds.set(k, list = []);
          list.push({ id: frame.id, at: t });
        }
        break;
      }
      case "ack_sent": {
        if (event.reply === "echo" || event.conn === undefined) break;
        const id = typeof event.id === "string"
          ? event.id
          : frameOf(event)?.id as string | undefined;
        const k = key(event.server, event.conn);
        const connection = connections.get(k);
        if (!connection || typeof id !== "string") break;
        connection.firstAckMs ??= t;
        let list = acks.get(k);
        if (!list) acks.set(k, list = []);
        list.push({ at: t, id, source: event.server, event });
        break;
      }
      case "upstream_connected": {
        // A proxy's link reached its server: the server's connection has
        // this local address as its peer.
        if (typeof event.local === "string" && event.conn !== undefined) {
          upstreams.set(event.local, key(event.server, event.conn));
        }
        break;
      }
      case "closed": {
        const connection = event.conn !== undefined
          ? connections.get(key(event.server, event.conn))
          : undefined;
        if (!connection || connection.closedMs !== undefined) break;
        connection.closedMs = t;
        connection.bytesIn = Number(event.bytesIn ?? 0);
        connection.bytesOut = Number(event.bytesOut ?? 0);
        break;
      }
      case "queued": {
        if (typeof event.id !== "string") break;
        let ids = queuedBy.get(event.server);
        if (!ids) queuedBy.set(event.server, ids = new Map());
        if (!ids.has(event.id)) ids.set(event.id, t);
        break;
      }
      case "faults_changed": {
        const stateKey = sourceOf(event);
        const before = faultState.get(stateKey) ?? new Map<string, string>();
        const after = kinds(event.faults);
        faultState.set(stateKey, after);
        const set = [...after.keys()].filter((k) => !before.has(k));
        const cleared = [...before.keys()].filter((k) => !after.has(k));
        const changed = [...after.keys()].filter((k) =>
          before.has(k) && before.get(k) !== after.get(k)
        );
        const source = sourceOf(event);
        addTransition(event, source, undefined, "cleared", cleared);
        addTransition(event, source, undefined, "set", set);
        addTransition(event, source, undefined, "changed", changed);
        break;
      }
      case "toxic_added":
      case "toxic_updated":
      case "toxic_removed": {
        const proxy = sourceOf(event);
        const name = String(
          typeof event.toxic === "string" ? event.toxic : event.name,
        );
        let state = toxicState.get(proxy);
        if (!state) toxicState.set(proxy, state = new Map());
        // Toxiproxy names a toxic <type>_<stream> unless told otherwise.
        const kind = `toxic:${
          (typeof event.toxicType === "string" ? event.toxicType : undefined) ??
            types.get(`${proxy}\u0000${name}`) ?? state.get(name) ??
            name.replace(/_(upstream|downstream)$/, "")
        }`;
        if (event.type === "toxic_removed") state.delete(name);
        else state.set(name, kind.slice("toxic:".length));
        addTransition(
          event,
          proxy,
          name,
          event.type === "toxic_added"
            ? "set"
            : event.type === "toxic_removed"
            ? "cleared"
            : "changed",
          [kind],
        );
        break;
      }
      case "stopped_listening":
      case "listening": {
        // A proxy disabled (Toxiproxy's enabled: false), and enabled again.
        const source = sourceOf(event);
        if (
          event.type === "stopped_listening" &&
          event.reason === "proxy:disabled"
        ) {
          proxyDisabled.add(source);
          addTransition(event, source, undefined, "set", ["proxy:disabled"]);
        } else if (event.type === "listening" && proxyDisabled.has(source)) {
          proxyDisabled.delete(source);
          addTransition(event, source, undefined, "cleared", [
            "proxy:disabled",
          ]);
        }
        break;
      }
      case "transition": {
        scheduleFlips.push({ at: t, server: sourceOf(event) });
        break;
      }
      case "plan_step": {
        const target = event.target ?? event.proxy ?? event.server;
        if (typeof target === "string" && typeof event.step === "number") {
          planSteps.push({
            at: t,
            server: typeof event.listener === "string"
              ? `${target}/${event.listener}`
              : target,
            label: `plan[${event.step}]`,
          });
        }
        break;
      }
    }
  }

  // Causes: a plan step or a schedule flip just before the change.
  for (const transition of transitions) {
    // A plan step is journalled just before its change; a schedule flip
    // just after (once the change has settled).
    const near = (list: { at: number; server: string }[], afterMs: number) =>
      list.findLast((s) =>
        s.server === transition.source && s.at <= transition.atMs + afterMs &&
        transition.atMs - s.at <= 1000
      );
    const step = near(planSteps, 1) as { label: string } | undefined;
    if (step) transition.cause = step.label;
    else if (near(scheduleFlips, 500)) transition.cause = "schedule";
  }
  // When each set or changed transition's faults were cleared.
  transitions.forEach((transition, i) => {
    if (transition.change === "cleared") return;
    const clear = transitions.slice(i + 1).find((other) =>
      other.source === transition.source &&
      other.toxic === transition.toxic &&
      (other.change === "cleared" || other.change === "changed") &&
      other.faults.some((f) => transition.faults.includes(f))
    );
    transition.clearedMs = clear ? clear.atMs : null;
  });

  // Clients.
  const all = [...connections.values()].sort((a, b) => a.openedMs - b.openedMs);
  // Pair each proxy link with the server connection it opened: one client,
  // named by the server's decoding of its hello.
  const partner = new Map<FailoverConnection, FailoverConnection>();
  const behind = new Set<FailoverConnection>(); // server ends of proxy links
  for (const connection of all) {
    const link = connections.get(upstreams.get(connection.peer) ?? "");
    if (link && link !== connection) {
      partner.set(connection, link);
      partner.set(link, connection);
      behind.add(connection);
      connection.via = link.source;
      link.via = connection.source;
    }
  }
  for (const connection of all) {
    const other = partner.get(connection);
    connection.client = options.identify?.(connection) ?? connection.hello ??
      other?.hello ?? hostOf(other?.peer ?? connection.peer);
  }
  /** Whether a connection goes through (or ends at) a source. */
  const through = (c: FailoverConnection, source: string) =>
    c.source === source || c.via === source;
  const byClient = new Map<string, FailoverConnection[]>();
  for (const connection of all) {
    let list = byClient.get(connection.client);
    if (!list) byClient.set(connection.client, list = []);
    list.push(connection);
  }
  const clientAcks = new Map<string, Ack[]>();
  for (const [client, list] of byClient) {
    const mine: Ack[] = [];
    for (const connection of list) {
      const k = keyOf.get(connection)!;
      mine.push(...(acks.get(k) ?? []));
      for (const { id, at: seen } of connectionIds.get(k) ?? []) {
        const idKey = `${client}\u0000${id}`;
        if (!(firstSeen.get(idKey)! <= seen)) firstSeen.set(idKey, seen);
      }
    }
    for (const [id, seen] of queuedBy.get(client) ?? []) {
      const idKey = `${client}\u0000${id}`;
      if (!(firstSeen.get(idKey)! <= seen)) firstSeen.set(idKey, seen);
    }
    mine.sort((a, b) => a.at - b.at);
    clientAcks.set(client, mine);
  }
  // Each client's records and messages with when first seen, built once.
  const ids = new Map<string, { id: string; at: number }[]>();
  for (const [idKey, seen] of firstSeen) {
    const at = idKey.indexOf("\u0000");
    const client = idKey.slice(0, at);
    let list = ids.get(client);
    if (!list) ids.set(client, list = []);
    list.push({ id: idKey.slice(at + 1), at: seen });
  }
  const idsOf = (client: string) => ids.get(client) ?? [];
  // Each client's ACKs by id, and when the newest ACKed record was first
  // seen: the same for every transition, built once per client.
  const acked = new Map<string, { byId: Map<string, Ack[]>; lastMs: number }>();
  const ackedOf = (client: string) => {
    let found = acked.get(client);
    if (found) return found;
    const byId = new Map<string, Ack[]>();
    for (const ack of clientAcks.get(client) ?? []) {
      let l = byId.get(ack.id);
      if (!l) byId.set(ack.id, l = []);
      l.push(ack);
    }
    let lastMs = -Infinity;
    for (const r of idsOf(client)) {
      if (byId.has(r.id) && r.at > lastMs) lastMs = r.at;
    }
    acked.set(client, found = { byId, lastMs });
    return found;
  };

  // Switches.
  const switches: ClientSwitch[] = [];
  for (const [client, all] of byClient) {
    // A proxied connection switches where its client connected: the proxy.
    const list = all.filter((c) => !behind.has(c));
    for (let i = 1; i < list.length; i++) {
      if (list[i].source !== list[i - 1].source) {
        switches.push({
          atMs: list[i].openedMs,
          client,
          from: list[i - 1].source,
          to: list[i].source,
        });
      }
    }
  }
  switches.sort((a, b) => a.atMs - b.atMs);

  const connLine = (c: FailoverConnection, what = "connected") =>
    `${
      c.openedMs.toFixed(0)
    } ms ${c.source} conn=${c.conn} ${what} peer=${c.peer} client=${c.client}`;

  // Figures per transition and client.
  const lostByClient = new Map<string, Set<string>>();
  const dupByClient = new Map<string, Set<string>>();
  for (const transition of transitions) {
    if (transition.change === "cleared") continue;
    const t = transition.atMs;
    const until = transition.clearedMs ?? endMs;
    for (const [client, list] of byClient) {
      const onSource = list.filter((c) =>
        through(c, transition.source) &&
        c.openedMs <= t && (c.closedMs === undefined || c.closedMs >= t)
      );
      if (onSource.length === 0) continue;
      const after = list.filter((c) => c.openedMs >= t);
      // Its connections from then on that avoid the source, oldest first.
      const elsewhere = after.filter((c) => !through(c, transition.source));
      const away = elsewhere[0] as FailoverConnection | undefined;
      const moved = away !== undefined && away.openedMs <= until;
      if (!transition.outage && !moved) continue;
      const decoded = list.some((c) => c.decoded);
      const evidence: string[] = [transition.line];
      const awayAccepted = elsewhere
        .map((c) => ({ c, at: c.firstAckMs ?? c.firstFrameMs }))
        .filter((x) => x.at !== undefined)
        .sort((a, b) => a.at! - b.at!)[0];
      if (away) evidence.push(connLine(away));
      let acceptedAt: number | undefined;
      if (decoded) {
        acceptedAt = awayAccepted?.at;
        if (awayAccepted) {
          const ackEvent = (acks.get(
            keyOf.get(awayAccepted.c)!,
          ) ?? [])[0];
          if (ackEvent) evidence.push(line(ackEvent.event));
        }
      } else {
        // Raw bytes: the first chunk a server read there, else the connection.
        const raw = elsewhere.find((c) => c.firstFrameMs !== undefined);
        acceptedAt = raw?.firstFrameMs ?? away?.openedMs;
      }
      const back = list.find((c) =>
        through(c, transition.source) &&
        c.openedMs >= (transition.clearedMs ?? Infinity) &&
        (away === undefined || c.openedMs >= away.openedMs)
      );
      if (back) evidence.push(connLine(back));
      const reconnect = after.find((c) => c.openedMs > t);
      const opened = list.filter((c) => c.openedMs >= t && c.openedMs <= until);
      const bytesByPath: Record<string, number> = {};
      for (const c of list) {
        if (c.openedMs <= until && (c.closedMs ?? Infinity) >= t) {
          bytesByPath[c.source] = (bytesByPath[c.source] ?? 0) + c.bytesIn +
            c.bytesOut;
        }
      }
      // Lost and duplicated: records first seen after the client's last ACK
      // before the transition, up to the clear.
      const mine = clientAcks.get(client) ?? [];
      const lastBefore = mine.findLast((a) => a.at <= t);
      const windowStart = lastBefore?.at ?? -Infinity;
      const seen = decoded ? idsOf(client) : [];
      const { byId: ackCount, lastMs } = ackedOf(client);
      const inWindow = seen.filter((r) => r.at > windowStart && r.at <= until);
      // Never ACKed though a later record was: lost. Never ACKed and
      // nothing later was either: still pending (in flight, or lost at the
      // end of the run).
      const lastAckedSeen = decoded ? lastMs : -Infinity;
      const unacked = inWindow.filter((r) => !ackCount.has(r.id));
      const lostIds = unacked.filter((r) => r.at < lastAckedSeen).map((r) =>
        r.id
      ).sort(naturally);
      const pending = unacked.length - lostIds.length;
      // ACKed more than once, once at least after the transition: an ACK
      // lost with the connection, the record sent again elsewhere.
      const duplicatedIds = seen.filter((r) => {
        const list = ackCount.get(r.id) ?? [];
        return r.at <= until && list.length > 1 &&
          list.some((ack) => ack.at > t);
      }).map((r) => r.id).sort(naturally);
      for (const id of duplicatedIds.slice(0, 2)) {
        for (const ack of ackCount.get(id)!) evidence.push(line(ack.event));
      }
      let set = lostByClient.get(client);
      if (!set) lostByClient.set(client, set = new Set());
      for (const id of lostIds) set.add(id);
      let dup = dupByClient.get(client);
      if (!dup) dupByClient.set(client, dup = new Set());
      for (const id of duplicatedIds) dup.add(id);
      // The longest ACK gap: from the last ACK before to the first after recovery.
      let longestAckGapMs: number | null = null;
      let ackGapOpen = false;
      if (decoded) {
        const times = [
          ...(lastBefore ? [lastBefore.at] : [t]),
          ...mine.filter((a) => a.at > t && a.at <= until).map((a) => a.at),
        ];
        const firstAfter = mine.find((a) => a.at > until);
        if (firstAfter) times.push(firstAfter.at);
        let gap = 0;
        for (let i = 1; i < times.length; i++) {
          gap = Math.max(gap, times[i] - times[i - 1]);
        }
        if (times.length === 1) {
          gap = endMs - times[0];
          ackGapOpen = true;
        }
        longestAckGapMs = Math.round(gap);
      }
      const switchMs = away && away.openedMs <= until + 60_000
        ? away.openedMs - t
        : null;
      const acceptedMs = acceptedAt !== undefined ? acceptedAt - t : null;
      const round = (n: number | null) => n === null ? null : Math.round(n);
      transition.clients.push({
        client,
        decoded,
        from: transition.source,
        ...(away ? { to: away.source } : {}),
        switchMs: round(switchMs),
        acceptedMs: round(acceptedMs),
        failoverMs: round(decoded ? acceptedMs : switchMs),
        returnMs: round(back ? back.openedMs - t : null),
        reconnectMs: round(reconnect ? reconnect.openedMs - t : null),
        connectionsOpened: opened.length,
        connectionsPerSecond: Math.round(
          opened.length / Math.max((until - t) / 1000, 0.001) * 100,
        ) / 100,
        bytesByPath,
        lost: lostIds.length,
        lostIds: lostIds.slice(0, MAX_IDS),
        pending,
        duplicated: duplicatedIds.length,
        duplicatedIds: duplicatedIds.slice(0, MAX_IDS),
        longestAckGapMs,
        ackGapOpen,
        evidence: evidence.slice(0, evidenceLines),
      });
    }
  }

  // Chart series.
  const bucketMs = options.bucketMs ?? niceBucket(endMs / 60);
  const buckets = Math.max(1, Math.ceil(endMs / bucketMs));
  const sourceNames = [
    ...new Set([
      ...events.filter((e) =>
        e.type === "listening" || (e.type === "connected" && e.peer)
      ).map(sourceOf),
      ...transitions.map((t) => t.source),
    ]),
  ];
  const bucketOf = (ms: number) =>
    Math.min(buckets - 1, Math.max(0, Math.floor(ms / bucketMs)));
  const perSecond = bucketMs / 1000;
  const sources: SourceSeries[] = sourceNames.map((source) => {
    const records = new Array(buckets).fill(0);
    const bytes = new Array(buckets).fill(0);
    const open = new Array(buckets).fill(0);
    const opened = new Array(buckets).fill(0);
    const mine = all.filter((c) => c.source === source);
    for (const c of mine) {
      if (c.openedMs >= 0) opened[bucketOf(c.openedMs)]++;
      for (let b = 0; b < buckets; b++) {
        // Open at any time during the bucket.
        if (
          c.openedMs < (b + 1) * bucketMs &&
          (c.closedMs ?? Infinity) >= b * bucketMs
        ) open[b]++;
      }
      const life = Math.max(1, (c.closedMs ?? c.openedMs) - c.openedMs);
      const total = c.bytesIn + c.bytesOut;
      const chunks = rawChunks.get(c);
      if (chunks) {
        // The raw codec journals each chunk read: bytes in when they came.
        for (const chunk of chunks) {
          if (chunk.at >= 0) bytes[bucketOf(chunk.at)] += chunk.bytes;
        }
      } else if (total > 0) {
        for (
          let b = bucketOf(c.openedMs);
          b <= bucketOf(c.openedMs + life);
          b++
        ) {
          const from = Math.max(c.openedMs, b * bucketMs);
          const to = Math.min(c.openedMs + life, (b + 1) * bucketMs);
          if (to > from) bytes[b] += total * (to - from) / life;
        }
      }
      for (
        const { at: seen } of connectionIds.get(keyOf.get(c)!) ?? []
      ) {
        if (seen >= 0) records[bucketOf(seen)]++;
      }
    }
    const faults: FaultSpan[] = transitions
      .filter((t) => t.source === source && t.change !== "cleared")
      .map((t) => ({
        fromMs: t.atMs,
        toMs: t.clearedMs ?? endMs,
        faults: t.faults,
        outage: t.outage,
      }));
    return {
      source,
      decoded: mine.some((c) => c.decoded) || mine.length === 0,
      recordsPerSecond: records.map((n) => round2(n / perSecond)),
      bytesPerSecond: bytes.map((n) => Math.round(n / perSecond)),
      connections: open,
      opened,
      faults,
    };
  });

  // Totals per client.
  const clients: ClientTotals[] = [...byClient].map(([client, list]) => {
    const newest = list[list.length - 1];
    const lastTransition = transitions.findLast((t) =>
      t.clients.some((c) => c.client === client)
    );
    const last = lastTransition?.clients.find((c) => c.client === client);
    return {
      client,
      decoded: list.some((c) => c.decoded),
      sources: [...new Set(list.map((c) => c.source))],
      ...(newest.closedMs === undefined ? { on: newest.source } : {}),
      switches: switches.filter((s) => s.client === client).length,
      lost: lostByClient.get(client)?.size ?? 0,
      duplicated: dupByClient.get(client)?.size ?? 0,
      ...(last && lastTransition
        ? {
          last: {
            ...last,
            atMs: Math.round(lastTransition.atMs),
            source: lastTransition.source,
            faults: lastTransition.faults,
          },
        }
        : {}),
    };
  });

  return {
    clock,
    origin,
    originWall: Math.round(originWall),
    endMs: Math.round(endMs),
    bucketMs,
    transitions: transitions.map((t) => ({
      ...t,
      atMs: Math.round(t.atMs),
      clearedMs: t.clearedMs === null ? null : Math.round(t.clearedMs),
    })),
    clients,
    sources,
    switches: switches.map((s) => ({ ...s, atMs: Math.round(s.atMs) })),
    connections: all,
    totals: {
      lost: clients.reduce((sum, c) => sum + c.lost, 0),
      duplicated: clients.reduce((sum, c) => sum + c.duplicated, 0),
      transitions: transitions.length,
    },
  };
}

const BUCKETS = [
  100,
  200,
  250,
  500,
  1000,
  2000,
  5000,
  10_000,
  15_000,
  30_000,
  60_000,
];

function niceBucket(ms: number): number {
  return BUCKETS.find((b) => b >= ms) ?? Math.ceil(ms / 60_000) * 60_000;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Sorts `tracker-2` before `tracker-10`. */
function naturally(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
