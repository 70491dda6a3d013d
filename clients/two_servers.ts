/**
 * The reference tracker client with two servers (behaviours TS and FO): a
 * device memory of unacknowledged records, IP1 and IP2, and the "Two
 * servers" checkbox.
 *
 * - Ticked (`twoServers: true`, mirror mode): each record goes to IP1 and
 *   once to IP2; it leaves device memory only on IP1's ACK, and is resent to
 *   IP1 (never to IP2) until then. Other packet kinds go to IP1 only, and
 *   IP2 is connected only while IP1 is.
 * - Not ticked (failover mode): records go to the server in use, IP1 first;
 *   after an ACK timeout and `resends` more tries, the device switches to the
 *   other server and stays there while it ACKs. A restart starts again from
 *   IP1.
 *
 * One record (or packet) is in flight at a time: the device sends the oldest
 * item of its memory, waits for its ACK (or the ACK timeout), then the next.
 * Every step is written to the client's journal (`connected`, `sent`, `ack`,
 * `deleted`, `switched`, ...), so tests wait on it as they do on a server's.
 *
 * @example Mirror mode against two servers
 * ```ts ignore
 * import { startTwoServersClient } from "./two_servers.ts";
 * await using client = await startTwoServersClient({
 *   port1: 7000,
 *   port2: 7010,
 *   twoServers: true,
 *   ackTimeoutMs: 300,
 * });
 * client.send({ id: "r1", data: { lat: 54.7 } });
 * await client.journal.waitFor((e) => e.type === "deleted" && e.id === "r1");
 * ```
 *
 * @module
 */
import type { Codec } from "../core/codecs/codec.ts";
import { CliError, flag, parseInteger, parsePort } from "../core/cli/cli.ts";
import type { Frame } from "../core/codecs/frame.ts";
import type { Journal } from "../core/journal/journal.ts";
import { ServerEnd } from "../core/server/server_end.ts";
import { PACKET_KINDS } from "../core/codecs/protocol.ts";
import { joinHostPort } from "../core/net/host_port.ts";
import { parseDuration } from "../core/units/units.ts";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type FrameConnection,
  type FrameConnectionClosed,
  resolveCodec,
} from "./_connection.ts";
import { codecFlag, flagOrEnv, runContractCli } from "./_contract.ts";
import { type ContractEventMapper, contractEvents } from "./contract.ts";
import { DurableQueue } from "./_durable_queue.ts";
import { Link, Tasks } from "./_link.ts";
import { countOption, msOption } from "./_options.ts";

/** The two servers of a tracker: `ip1` (primary) and `ip2` (secondary). */
export type ServerName = "ip1" | "ip2";

/** A packet kind other than a record: transparent, tachograph, sdcard, garmin. */
export type PacketKind = (typeof PACKET_KINDS)[number];

/** What the device can send: a record, or a packet of another kind. */
export type ItemKind = "record" | PacketKind;

/** A record or packet handed to {@linkcode TwoServersClient.send}. */
export interface DeviceItem {
  /** The id the server ACKs it by; unique among the items in memory. */
  id: string;
  /** `record` (default) or a packet kind. */
  kind?: ItemKind;
  /** The payload, any JSON value. */
  data?: unknown;
}

/** One item in device memory. */
export interface MemoryEntry {
  /** The id the server ACKs it by. */
  id: string;
  /** `record` or a packet kind. */
  kind: ItemKind;
  /** The payload. */
  data?: unknown;
  /** Mirror mode: the one copy to IP2 was sent (it never is again). */
  copiedToIp2?: boolean;
}

/** Options for {@linkcode TwoServersClient}. */
export interface TwoServersClientOptions {
  /** IP1's host (default `127.0.0.1`). */
  ip1?: string;
  /** IP1's port. */
  port1: number;
  /** IP2's host (default `127.0.0.1`). */
  ip2?: string;
  /** IP2's port. */
  port2: number;
  /** The "Two servers" checkbox: true for mirror mode, false for failover mode (default). */
  twoServers?: boolean;
  /** How long to wait for an ACK before it counts as missing, in ms (default 5000). */
  ackTimeoutMs?: number;
  /** Failover mode: resends to the server in use before switching (default 0). */
  resends?: number;
  /** Wait this long before connecting again after a failed or lost connection, in ms (default 1000). */
  reconnectDelayMs?: number;
  /** Give up a connection attempt after this many ms (default 5000). */
  connectTimeoutMs?: number;
  /** A file that keeps device memory across process restarts. */
  memoryFile?: string;
  /** A codec, or a codec's name (default `line-json`). */
  codec?: Codec | string;
  /** A device id, sent as `{"type":"hello","device":...}` on every connection. */
  device?: string;
  /** The name written in the journal's events (default `two_servers`). */
  name?: string;
  /** A journal to write to (default: a new one). */
  journal?: Journal;
  /** Closes the client when aborted. */
  signal?: AbortSignal;
}

/** The client's state, as {@linkcode TwoServersClient.state} shows it. */
export interface TwoServersClientState {
  /** `mirror` (two servers ticked) or `failover`. */
  mode: "mirror" | "failover";
  /** The server records go to (always `ip1` in mirror mode). */
  server: ServerName;
  /** The servers connected now. */
  connected: ServerName[];
  /** The id waiting for its ACK, if any. */
  inFlight?: string;
  /** Device memory, oldest first. */
  memory: MemoryEntry[];
}

const KINDS: readonly ItemKind[] = ["record", ...PACKET_KINDS];

interface InFlight {
  id: string;
  server: ServerName;
  timer: ReturnType<typeof setTimeout>;
}

function other(server: ServerName): ServerName {
  return server === "ip1" ? "ip2" : "ip1";
}

function toFrame(entry: MemoryEntry): Frame {
  const data = entry.data === undefined ? {} : { data: entry.data };
  return entry.kind === "record"
    ? { type: "record", id: entry.id, ...data }
    : { type: "packet", kind: entry.kind, id: entry.id, ...data };
}

/**
 * A tracker with two servers. Create it, `start()` it, `send()` records and
 * packets; watch `journal` for what it does.
 *
 * @example Failover mode, one resend before switching
 * ```ts ignore
 * import { TwoServersClient } from "./two_servers.ts";
 * await using client = await new TwoServersClient({
 *   port1: 7000,
 *   port2: 7010,
 *   ackTimeoutMs: 300,
 *   resends: 1,
 * }).start();
 * client.send({ id: "r1" });
 * client.send({ id: "g1", kind: "garmin", data: { text: "hi" } });
 * ```
 */
export class TwoServersClient implements AsyncDisposable {
  /** The journal every event of this client goes to. */
  readonly journal: Journal;
  /** `mirror` (two servers ticked) or `failover`. */
  readonly mode: "mirror" | "failover";
  /** Resolves once the client is closed. */
  readonly finished: Promise<void>;
  #addrs: Record<ServerName, { hostname: string; port: number }>;
  #ackTimeoutMs: number;
  #resends: number;
  #reconnectDelayMs: number;
  #connectTimeoutMs: number;
  #codec: Codec;
  #device?: string;
  #end: ServerEnd;
  #memory: DurableQueue<MemoryEntry>;
  #tasks = new Tasks();
  #links: Record<ServerName, Link>;
  /** A hello was sent on the link and no frame has come back since. */
  #helloPending: Record<ServerName, boolean> = { ip1: false, ip2: false };
  #inUse: ServerName = "ip1";
  #inFlight?: InFlight;
  #failures = 0;
  #sends = new Map<string, number>();
  #running = false;
  #closed = false;

  /** Makes a client; nothing connects until {@linkcode TwoServersClient.start}. */
  constructor(options: TwoServersClientOptions) {
    this.mode = options.twoServers ? "mirror" : "failover";
    this.#addrs = {
      ip1: { hostname: options.ip1 ?? "127.0.0.1", port: options.port1 },
      ip2: { hostname: options.ip2 ?? "127.0.0.1", port: options.port2 },
    };
    this.#ackTimeoutMs = msOption(options, "ackTimeoutMs", 5000, 1);
    this.#reconnectDelayMs = msOption(options, "reconnectDelayMs", 1000, 0);
    this.#connectTimeoutMs = msOption(
      options,
      "connectTimeoutMs",
      DEFAULT_CONNECT_TIMEOUT_MS,
      1,
    );
    this.#resends = countOption(options, "resends", 0);
    this.#codec = resolveCodec(options.codec, { role: "client" });
    this.#device = options.device;
    this.#end = new ServerEnd(options.name ?? "two_servers", {
      journal: options.journal,
    });
    this.journal = this.#end.journal;
    this.#memory = new DurableQueue({ file: options.memoryFile });
    this.#links = { ip1: this.#link("ip1"), ip2: this.#link("ip2") };
    this.finished = this.#end.finished;
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** The server records go to now (always `ip1` in mirror mode). */
  get server(): ServerName {
    return this.mode === "mirror" ? "ip1" : this.#inUse;
  }

  /** Device memory: every record and packet not yet ACKed, oldest first. */
  get memory(): MemoryEntry[] {
    return this.#memory.values().map((entry) => ({ ...entry }));
  }

  /** The client's state: mode, server in use, connections, memory. */
  state(): TwoServersClientState {
    return {
      mode: this.mode,
      server: this.server,
      connected: (["ip1", "ip2"] as const).filter((name) =>
        this.#links[name].connection
      ),
      ...(this.#inFlight ? { inFlight: this.#inFlight.id } : {}),
      memory: this.memory,
    };
  }

  /** Starts connecting (to IP1) and sending what device memory holds. */
  start(): Promise<this> {
    if (this.#running || this.#closed) return Promise.resolve(this);
    this.#running = true;
    this.journal.append("started", {
      mode: this.mode,
      memory: this.#memory.size,
      ip1: joinHostPort(this.#addrs.ip1.hostname, this.#addrs.ip1.port),
      ip2: joinHostPort(this.#addrs.ip2.hostname, this.#addrs.ip2.port),
    });
    this.#open("ip1");
    return Promise.resolve(this);
  }

  /**
   * Puts a record or packet in device memory (journalled as `queued`); it is
   * sent as soon as everything before it is ACKed. Throws if an item with the
   * same id is in memory, or the kind is unknown.
   */
  send(item: DeviceItem): void {
    if (this.#closed) {
      throw new Error(`Cannot send "${item.id}": the client is closed`);
    }
    const kind = item.kind ?? "record";
    if (typeof item.id !== "string" || item.id === "") {
      throw new TypeError("Cannot send item: expected a non-empty string id");
    }
    if (!KINDS.includes(kind)) {
      throw new RangeError(
        `Cannot send "${item.id}": unknown kind "${kind}", expected one of ${
          KINDS.join(", ")
        }`,
      );
    }
    if (this.#memory.has(item.id)) {
      throw new Error(
        `Cannot send "${item.id}": an item with this id is already in device memory`,
      );
    }
    this.#memory.push({
      id: item.id,
      kind,
      ...(item.data === undefined ? {} : { data: item.data }),
    });
    this.journal.append("queued", { id: item.id, kind });
    this.#pump();
  }

  /**
   * Reboots the device: drops both connections and every timer and goes back
   * to IP1 (FO-5), keeping device memory. Resolves once the old connections
   * are closed.
   */
  async restart(): Promise<void> {
    if (this.#closed) return;
    this.#reset("restart");
    this.journal.append("restarted", { memory: this.#memory.size });
    await this.#tasks.settled();
    if (this.#running && !this.#closed) this.#open("ip1");
  }

  /** Closes both connections and device memory's file. */
  async close(): Promise<void> {
    if (this.#closed) return this.finished;
    this.#closed = true;
    this.#running = false;
    this.#reset("close");
    await this.#tasks.settled();
    this.#memory.close();
    this.journal.append("closed_client", { memory: this.#memory.size });
    await this.#end.end();
  }

  /** Closes the client, as {@linkcode TwoServersClient.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Drops connections, timers and in-flight state; keeps memory. */
  #reset(reason: string): void {
    this.#clearInFlight();
    this.#drop("ip1", reason);
    this.#drop("ip2", reason);
    this.#inUse = "ip1";
    this.#failures = 0;
    this.#sends.clear();
  }

  /** Whether a link should be open now. */
  #wants(name: ServerName): boolean {
    if (!this.#running || this.#closed) return false;
    if (this.mode === "failover") return name === this.#inUse;
    return name === "ip1" || this.#links.ip1.connection !== undefined;
  }

  #link(name: ServerName): Link {
    return new Link(this.#tasks, {
      wanted: () => this.#wants(name),
      connecting: () => {
        const addr = this.#addrs[name];
        this.journal.append("connecting", {
          link: name,
          addr: joinHostPort(addr.hostname, addr.port),
        });
        return {
          ...addr,
          codec: this.#codec,
          timeoutMs: this.#connectTimeoutMs,
          onDecodeError: (error) =>
            this.journal.append("bad_input", { link: name, ...error }),
        };
      },
      opened: (opened) => {
        this.journal.append("connected", {
          link: name,
          addr: opened.remote,
          local: opened.local,
        });
        if (this.#device) {
          this.#helloPending[name] = opened.send({
            type: "hello",
            device: this.#device,
          });
        }
        this.#onConnected(name);
      },
      failed: (error) => {
        this.journal.append("connect_failed", {
          link: name,
          message: error.message,
        });
        this.#onConnectFailed(name);
      },
      closed: (opened, how) => this.#onClosed(name, opened, how),
      frame: (frame) => this.#onFrame(name, frame),
    });
  }

  /** Connects a link, now or after `delayMs`, unless open or connecting. */
  #open(name: ServerName, delayMs = 0): void {
    this.#links[name].open(delayMs);
  }

  /** Closes a link (or stops connecting it), journalling `disconnected`. */
  #drop(name: ServerName, reason: string): void {
    if (!this.#links[name].drop()) return;
    if (this.#inFlight?.server === name) this.#clearInFlight();
    this.journal.append("disconnected", { link: name, by: "client", reason });
  }

  #onConnected(name: ServerName): void {
    if (this.mode === "mirror" && name === "ip2") return this.#copyToIp2();
    if (this.mode === "mirror") this.#open("ip2"); // TS-6: only now.
    this.#pump();
  }

  #onConnectFailed(name: ServerName): void {
    if (
      this.mode === "failover" && name === this.#inUse && this.#memory.size > 0
    ) {
      // Failing to reach the server in use, with something to deliver,
      // counts as a transmission without ACK (FO-2, FO-4).
      return this.#failed(`cannot connect to ${name}`, this.#reconnectDelayMs);
    }
    this.#open(name, this.#reconnectDelayMs);
  }

  #onClosed(
    name: ServerName,
    _connection: FrameConnection,
    how: FrameConnectionClosed,
  ): void {
    this.#links[name].release();
    const lost = this.#inFlight?.server === name;
    if (lost) this.#clearInFlight();
    this.journal.append("disconnected", {
      link: name,
      by: "server",
      how: how.how,
      ...(how.reason ? { reason: how.reason } : {}),
    });
    if (this.mode === "mirror") {
      // TS-6: IP2 is connected only while IP1 is.
      if (name === "ip1") this.#drop("ip2", "ip1 disconnected");
      return this.#open(name, this.#reconnectDelayMs);
    }
    if (name !== this.#inUse) return;
    if (lost) return this.#failed("connection lost", this.#reconnectDelayMs);
    this.#open(name, this.#reconnectDelayMs);
  }

  /**
   * Failover mode: a transmission to the server in use got no ACK. After
   * `resends` more tries, switch to the other server (FO-2, FO-4).
   */
  #failed(reason: string, delayMs: number): void {
    this.#failures++;
    const from = this.#inUse;
    if (this.#failures <= this.#resends) {
      if (this.#links[from].connection) return this.#pump();
      return this.#open(from, delayMs);
    }
    const to = other(from);
    this.#failures = 0;
    this.#inUse = to;
    this.journal.append("switched", { from, to, reason });
    this.#drop(from, `switched to ${to}`);
    this.#open(to, delayMs);
  }

  /** The oldest item that may go to this server: only records go to IP2. */
  #next(server: ServerName): MemoryEntry | undefined {
    return this.#memory.find((entry) =>
      server === "ip1" || entry.kind === "record"
    );
  }

  /** Sends the oldest eligible item, unless one is in flight. */
  #pump(): void {
    if (this.#inFlight || !this.#running || this.#closed) return;
    const server = this.server;
    const connection = this.#links[server].connection;
    if (!connection) return;
    const entry = this.#next(server);
    if (!entry) return;
    if (!connection.send(toFrame(entry))) {
      // Closing (its close event comes next), or the codec cannot express it.
      return connection.isClosed ? undefined : this.#discard(entry, server);
    }
    const attempt = (this.#sends.get(entry.id) ?? 0) + 1;
    this.#sends.set(entry.id, attempt);
    this.journal.append("sent", {
      link: server,
      id: entry.id,
      kind: entry.kind,
      attempt,
    });
    this.#inFlight = {
      id: entry.id,
      server,
      timer: setTimeout(() => this.#onAckTimeout(), this.#ackTimeoutMs),
    };
    if (this.mode === "mirror") this.#copyToIp2();
  }

  /**
   * Mirror mode: sends the one copy of the record in flight to IP2, if IP2
   * is connected and it was never copied (TS-1, TS-4).
   */
  #copyToIp2(): void {
    const inFlight = this.#inFlight;
    const connection = this.#links.ip2.connection;
    if (!inFlight || !connection) return;
    const entry = this.#memory.get(inFlight.id);
    if (!entry || entry.kind !== "record" || entry.copiedToIp2) return;
    connection.send(toFrame(entry));
    this.#memory.replace({ ...entry, copiedToIp2: true });
    this.journal.append("sent", {
      link: "ip2",
      id: entry.id,
      kind: entry.kind,
      attempt: 1,
    });
  }

  /**
   * Drops an item the codec cannot express (it could never be delivered and
   * would block everything behind it), journalling `error` and `discarded`.
   */
  #discard(entry: MemoryEntry, server: ServerName): void {
    this.#memory.delete(entry.id);
    this.#sends.delete(entry.id);
    this.journal.append("error", {
      link: server,
      id: entry.id,
      message:
        `Cannot send "${entry.id}": the ${this.#codec.name} codec cannot express a ${entry.kind}; dropped from device memory`,
    });
    this.journal.append("discarded", { id: entry.id, link: server });
    this.#pump();
  }

  #onAckTimeout(): void {
    const inFlight = this.#inFlight;
    if (!inFlight) return;
    this.#inFlight = undefined;
    this.journal.append("ack_timeout", {
      link: inFlight.server,
      id: inFlight.id,
      ms: this.#ackTimeoutMs,
    });
    // Mirror mode resends to IP1 until it ACKs (TS-3).
    if (this.mode === "mirror") return this.#pump();
    this.#failed(`no ACK within ${this.#ackTimeoutMs}ms`, 0);
  }

  #onFrame(name: ServerName, frame: Frame): void {
    if (this.#helloPending[name]) {
      this.#helloPending[name] = false;
      // Device protocols answer the hello (Ruptela with an ACK of its own);
      // an answer has no id, unlike an ACK of a record or packet.
      if (frame.id === undefined) {
        this.journal.append("hello_answered", { link: name, frame });
        return;
      }
    }
    if (frame.type === "error") {
      this.journal.append("server_error", {
        link: name,
        code: frame.code,
        message: frame.message,
      });
      return;
    }
    if (frame.type === "nack") {
      // A device protocol's NACK: the ACK timeout resends.
      this.journal.append("nack", { link: name, id: this.#inFlight?.id });
      return;
    }
    // An ACK without an id (device protocols) is for the item in flight.
    const id = typeof frame.id === "string"
      ? frame.id
      : frame.type === "ack" && this.#inFlight?.server === name
      ? this.#inFlight.id
      : undefined;
    if (frame.type !== "ack" || id === undefined) {
      this.journal.append("frame_ignored", { link: name, frame });
      return;
    }
    this.journal.append("ack", { link: name, id });
    if (name !== this.server) {
      // TS-2: only IP1's ACK counts in mirror mode; in failover mode, only
      // the server in use's (FO-6).
      this.journal.append("ack_ignored", {
        link: name,
        id,
        reason: "not the server whose ACKs count",
      });
      return;
    }
    if (!this.#memory.delete(id)) {
      this.journal.append("ack_ignored", {
        link: name,
        id,
        reason: "not in device memory",
      });
      return;
    }
    this.#sends.delete(id);
    this.journal.append("deleted", { id, link: name });
    if (this.#inFlight?.id === id) this.#clearInFlight();
    this.#failures = 0;
    this.#pump();
  }

  #clearInFlight(): void {
    if (!this.#inFlight) return;
    clearTimeout(this.#inFlight.timer);
    this.#inFlight = undefined;
  }
}

/**
 * Creates and starts a {@linkcode TwoServersClient}.
 *
 * @example Usage
 * ```ts ignore
 * import { startTwoServersClient } from "./two_servers.ts";
 * await using client = await startTwoServersClient({ port1: 7000, port2: 7010 });
 * client.send({ id: "r1" });
 * ```
 */
export function startTwoServersClient(
  options: TwoServersClientOptions,
): Promise<TwoServersClient> {
  return new TwoServersClient(options).start();
}

/**
 * Maps a client journal event to the contract event the command line prints
 * on stdout (`deleted`, `connected`, `error`), or `undefined` for the rest.
 *
 * @example Usage
 * ```ts ignore
 * import { twoServersContractEvent } from "./two_servers.ts";
 * client.journal.subscribe((e) => {
 *   const printed = twoServersContractEvent(e);
 *   if (printed) console.log(JSON.stringify(printed));
 * });
 * ```
 */
export const twoServersContractEvent: ContractEventMapper = contractEvents({
  deleted: (e) => ({ event: "deleted", id: e.id }),
  connected: (e) => ({ event: "connected", server: e.link }),
  error: (e) => ({ event: "error", message: e.message }),
});

/**
 * Runs the command line: parses the flags, starts the client and drives it
 * by the client-under-test contract until `{"cmd":"stop"}`, the end of
 * standard input, SIGINT or SIGTERM. Its help text, flags and the options
 * they make are declared here, in the one spec it runs.
 */
export async function main(args: string[]): Promise<void> {
  await runContractCli(args, {
    script: "clients/two_servers.ts",
    summary:
      `The reference tracker client with two servers (TS and FO behaviours). It speaks the client-under-test contract: commands on standard input ({"cmd":"send","id":"r1","kind":"record","data":{}}, {"cmd":"restart"}, {"cmd":"stop"}), events on standard output ({"event":"connected","server":"ip1"}, {"event":"deleted","id":"r1"}, {"event":"error","message":"..."}).`,
    flags: {
      ip1: {
        type: "string",
        value: "HOST",
        default: "$FT_IP1 or 127.0.0.1",
        description: "IP1, the primary server that ACKs",
      },
      port1: {
        type: "string",
        value: "PORT",
        default: "$FT_PORT1",
        description: "IP1's port (required)",
      },
      ip2: {
        type: "string",
        value: "HOST",
        default: "$FT_IP2 or 127.0.0.1",
        description: "IP2, the second server",
      },
      port2: {
        type: "string",
        value: "PORT",
        default: "$FT_PORT2",
        description: "IP2's port (required)",
      },
      mirror: {
        type: "boolean",
        description:
          'The "Two servers" checkbox: mirror records to IP2 (without it: failover mode)',
      },
      "ack-timeout": {
        type: "string",
        value: "DURATION",
        default: "5s",
        description: "Wait this long for an ACK",
      },
      resends: {
        type: "string",
        value: "N",
        default: "0",
        description:
          "Failover mode: resends to the server in use before switching",
      },
      "reconnect-delay": {
        type: "string",
        value: "DURATION",
        default: "1s",
        description: "Wait this long before connecting again after a failure",
      },
      "connect-timeout": {
        type: "string",
        value: "DURATION",
        default: "5s",
        description: "Give up a connection attempt after this long",
      },
      "memory-file": {
        type: "string",
        value: "PATH",
        description: "Keep device memory in this file across process restarts",
      },
      device: {
        type: "string",
        value: "ID",
        description: 'Send {"type":"hello","device":ID} on every connection',
      },
    },
    options(values): TwoServersClientOptions {
      const port = (name: string, variable: string) => {
        if (flagOrEnv(values, name, variable) === undefined) {
          throw new CliError(
            `Missing --${name}: the server's port is required`,
          );
        }
        return flag(values, name, parsePort)!;
      };
      const duration = (name: string) => flag(values, name, parseDuration);
      const codec = codecFlag(values);
      return {
        ip1: flagOrEnv(values, "ip1", "FT_IP1"),
        port1: port("port1", "FT_PORT1"),
        ip2: flagOrEnv(values, "ip2", "FT_IP2"),
        port2: port("port2", "FT_PORT2"),
        twoServers: values.mirror === true,
        ackTimeoutMs: duration("ack-timeout"),
        resends: flag(values, "resends", parseInteger(0, 1e6)),
        reconnectDelayMs: duration("reconnect-delay"),
        connectTimeoutMs: duration("connect-timeout"),
        memoryFile: values["memory-file"] as string | undefined,
        codec,
        device: values.device as string | undefined,
      };
    },
    create: (options) => new TwoServersClient(options),
    contractEvent: twoServersContractEvent,
    start: (client) => client.start(),
    commands: (client) => ({
      send: (command) =>
        client.send({
          id: command.id,
          kind: (command.kind ?? "record") as ItemKind,
          data: command.data,
        }),
      restart: () => client.restart(),
    }),
  });
}

if (import.meta.main) await main(Deno.args);
