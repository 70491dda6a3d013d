/**
 * The reference messaging agent with a primary and alternate servers
 * (behaviours QA-1 to QA-9), for the message-store server.
 *
 * - It is given an ordered list of servers: the first is its primary, the
 *   rest are alternates (QA-1). It says `hello` with its name and its
 *   primary on every connection.
 * - Each new connection attempt starts from the primary (QA-9). When the
 *   primary cannot be reached the agent tries an alternate at once (QA-2),
 *   or first retries the primary `failoverRetries` more times, waiting
 *   `failoverDelayMs` between tries (`-fr`, `-fd`; QA-3). Each alternate is
 *   tried once, in order; when none can be reached it reports an error
 *   (QA-4). "Reached" means the server answered `hello` with `welcome`
 *   within the connect timeout.
 * - The client store keeps every message the agent sends until a server
 *   ACKs it into the shared store; every message delivered to the agent is
 *   kept locally first and ACKed after (QA-8). Whichever server it is on, it
 *   receives everything waiting for it (QA-5).
 * - A `push` is acted on (a `sync`) only from the primary (QA-6).
 * - While the shared store is down every server answers
 *   `store_unavailable`: the agent reports an error, keeps its messages and
 *   does not fail over (the store is shared); the next transmission tries
 *   again (QA-7).
 *
 * The agent keeps the connection it made. A transmission (`connect()`,
 * `send()`, `sync()`, the periodic sync) connects first when there is no
 * connection; losing the connection with messages still unacknowledged
 * starts one new transmission at once. Every step is written to the agent's
 * journal (`connecting`, `connect_failed`, `connected`, `stored`, `received`,
 * `push`, `error`, ...), so tests wait on it as they do on a server's.
 *
 * @example Send a message through ml1, or ml2 if ml1 is down
 * ```ts ignore
 * import { FailoverAgent } from "./failover_agent.ts";
 * await using agent = new FailoverAgent({
 *   agent: "alice",
 *   servers: "ml1=127.0.0.1:7050,ml2=127.0.0.1:7052",
 *   failoverRetries: 2,
 *   failoverDelayMs: 500,
 * });
 * await agent.send("bob", { text: "hi" }); // resolves once in the shared store
 * ```
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Codec } from "../core/codecs/codec.ts";
import {
  CliError,
  flag,
  type FlagTable,
  type FlagValues,
  parseInteger,
} from "../core/cli/cli.ts";
import type { Frame } from "../core/codecs/frame.ts";
import type { Journal } from "../core/journal/journal.ts";
import { ServerEnd } from "../core/server/server_end.ts";
import {
  type NamedAddress,
  parseDuration,
  parseNamedAddressList,
} from "../core/units/units.ts";
import {
  connectFrames,
  type FrameConnection,
  type FrameConnectionClosed,
  resolveCodec,
} from "./_connection.ts";
import { codecFlag, flagOrEnv, runContractCli } from "./_contract.ts";
import { type ContractEventMapper, contractEvents } from "./contract.ts";
import { DurableQueue } from "./_durable_queue.ts";
import { countOption, msOption } from "./_options.ts";

/** How many received messages the client store keeps, by default. */
const DEFAULT_MAX_RECEIVED = 10_000;

/** Options for {@linkcode FailoverAgent}. */
export interface FailoverAgentOptions {
  /** The agent's name, sent in `hello`; messages are addressed to it. */
  agent: string;
  /**
   * The servers, primary first: `[{ name, hostname, port }]` or
   * `"ml1=127.0.0.1:7050,ml2=127.0.0.1:7052"`.
   */
  servers: NamedAddress[] | string;
  /** `-fr`: retries of the primary before going to an alternate (default 0). */
  failoverRetries?: number;
  /** `-fd`: wait between tries of the primary, in ms (default 1000). */
  failoverDelayMs?: number;
  /** Give up on a server that has not answered `hello` with `welcome` after this many ms (default 2000). */
  connectTimeoutMs?: number;
  /** Give up on a connection that has not ACKed a sent message after this many ms, and connect again (default 5000). */
  ackTimeoutMs?: number;
  /** Sync this often, in ms; 0 never (default 0). */
  syncIntervalMs?: number;
  /** A codec, or a codec's name (default `line-json`). */
  codec?: Codec | string;
  /** A file that keeps the outgoing messages across process restarts. */
  outboxFile?: string;
  /**
   * How many received messages the client store keeps (default 10000): past
   * it, the oldest goes (journalled `received_dropped`). A kept message is
   * never journalled as `received` twice; one dropped may be, if a server
   * delivers it again. 0 keeps none.
   */
  maxReceived?: number;
  /**
   * A journal to write to (default: a new one named after the agent, closed
   * with it; a given one is only flushed).
   */
  journal?: Journal;
  /** Closes the agent when aborted. */
  signal?: AbortSignal;
}

/** A message in the client store, waiting for a server's ACK. */
export interface OutgoingMessage {
  /** Its id, unique among the agent's messages. */
  id: string;
  /** The agent it is for. */
  to: string;
  /** Its body. */
  body?: unknown;
}

/** A message the agent received, kept in its client store. */
export interface ReceivedMessage {
  /** Its id. */
  id: string;
  /** Who sent it. */
  from: string;
  /** Its body. */
  body?: unknown;
  /** The server it came through. */
  front: string;
}

/** Why a transmission failed: `unreachable` (QA-4), `store_unavailable` (QA-7), `aborted`, `closed`. */
export type FailoverAgentErrorCode =
  | "unreachable"
  | "store_unavailable"
  | "aborted"
  | "closed";

/** The error a failed transmission rejects with. */
export class FailoverAgentError extends Error {
  /** Why it failed. */
  readonly code: FailoverAgentErrorCode;

  /** Makes the error of a failed transmission. */
  constructor(code: FailoverAgentErrorCode, message: string) {
    super(message);
    this.name = "FailoverAgentError";
    this.code = code;
  }
}

/** The agent's state, as {@linkcode FailoverAgent.state} shows it. */
export interface FailoverAgentState {
  /** The agent's name. */
  agent: string;
  /** The servers, primary first. */
  servers: NamedAddress[];
  /** The server connected now, if any. */
  connected?: string;
  /** Messages waiting for a server's ACK, oldest first. */
  outbox: OutgoingMessage[];
  /** How many messages it has received. */
  received: number;
  /** How many of those the client store dropped, oldest first (see `maxReceived`). */
  receivedDropped: number;
}

interface Session {
  server: NamedAddress;
  primary: boolean;
  connection?: FrameConnection;
  open: boolean;
  welcome: PromiseWithResolvers<void>;
  written: Set<string>;
  timers: Map<string, ReturnType<typeof setTimeout>>;
  /** After it closes: start a new transmission if messages wait. */
  retransmit: boolean;
}

/**
 * A messaging agent with a primary and alternate servers. Create it,
 * `connect()` (or just `send()`), and watch `journal` for what it does.
 *
 * @example Retry the primary twice, 1s apart, before the alternate
 * ```ts ignore
 * import { FailoverAgent } from "./failover_agent.ts";
 * await using agent = new FailoverAgent({
 *   agent: "alice",
 *   servers: [
 *     { name: "ml1", hostname: "127.0.0.1", port: 7050 },
 *     { name: "ml2", hostname: "127.0.0.1", port: 7052 },
 *   ],
 *   failoverRetries: 2,
 *   failoverDelayMs: 1000,
 * });
 * console.log(await agent.connect()); // "ml1", or "ml2"
 * ```
 */
export class FailoverAgent implements AsyncDisposable {
  /** The agent's name. */
  readonly agent: string;
  /** The servers, primary first. */
  readonly servers: readonly NamedAddress[];
  /** The journal every event of this agent goes to. */
  readonly journal: Journal;
  /** Resolves once the agent is closed. */
  readonly finished: Promise<void>;
  #failoverRetries: number;
  #failoverDelayMs: number;
  #connectTimeoutMs: number;
  #ackTimeoutMs: number;
  #codec: Codec;
  #end: ServerEnd;
  #outbox: DurableQueue<OutgoingMessage>;
  /** The client store's incoming side, oldest first, at most `#maxReceived`. */
  #received = new Map<string, ReceivedMessage>();
  #maxReceived: number;
  #receivedDropped = 0;
  #waiters = new Map<string, PromiseWithResolvers<string>>();
  #session?: Session;
  #transmission?: Promise<Session>;
  #abort = new AbortController();
  #syncTimer?: ReturnType<typeof setInterval>;
  #nextId = 0;
  #closed = false;
  #closing?: Promise<void>;

  /** Makes an agent; it connects on the first `connect()`, `send()` or `sync()`. */
  constructor(options: FailoverAgentOptions) {
    if (typeof options.agent !== "string" || options.agent === "") {
      throw new TypeError("Cannot make agent: expected a non-empty name");
    }
    this.agent = options.agent;
    this.servers = typeof options.servers === "string"
      ? parseNamedAddressList(options.servers)
      : [...options.servers];
    if (this.servers.length === 0) {
      throw new RangeError("Cannot make agent: expected at least one server");
    }
    this.#failoverRetries = countOption(options, "failoverRetries", 0);
    this.#failoverDelayMs = msOption(options, "failoverDelayMs", 1000, 0);
    this.#connectTimeoutMs = msOption(options, "connectTimeoutMs", 2000, 1);
    this.#ackTimeoutMs = msOption(options, "ackTimeoutMs", 5000, 1);
    const syncIntervalMs = msOption(options, "syncIntervalMs", 0, 0);
    this.#maxReceived = countOption(
      options,
      "maxReceived",
      DEFAULT_MAX_RECEIVED,
    );
    this.#codec = resolveCodec(options.codec);
    this.#end = new ServerEnd(this.agent, { journal: options.journal });
    this.journal = this.#end.journal;
    this.finished = this.#end.finished;
    this.#outbox = new DurableQueue({ file: options.outboxFile });
    if (syncIntervalMs > 0) {
      this.#syncTimer = setInterval(
        () => void this.sync().catch(() => {}),
        syncIntervalMs,
      );
    }
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** The primary server. */
  get primary(): NamedAddress {
    return this.servers[0];
  }

  /** The name of the server connected now, if any. */
  get connected(): string | undefined {
    return this.#session?.open ? this.#session.server.name : undefined;
  }

  /** The client store's outgoing side: messages not yet ACKed, oldest first. */
  get outbox(): OutgoingMessage[] {
    return this.#outbox.values();
  }

  /**
   * The client store's incoming side: the messages received, in order (the
   * last `maxReceived` of them).
   */
  get received(): ReceivedMessage[] {
    return [...this.#received.values()];
  }

  /** The agent's state. */
  state(): FailoverAgentState {
    return {
      agent: this.agent,
      servers: [...this.servers],
      ...(this.connected ? { connected: this.connected } : {}),
      outbox: this.outbox,
      // Every message received: those kept and those dropped.
      received: this.#received.size + this.#receivedDropped,
      receivedDropped: this.#receivedDropped,
    };
  }

  /**
   * Connects unless connected: the primary first (with its retries), then
   * each alternate once. Resolves with the server's name; rejects with a
   * {@linkcode FailoverAgentError} (`unreachable`, `store_unavailable`).
   * Every message waiting for the agent is delivered right after.
   */
  async connect(): Promise<string> {
    return (await this.#connected()).server.name;
  }

  /**
   * A transmission: connects unless connected (which delivers what waits),
   * or asks the connected server for what waits (`sync`). Messages arrive as
   * `received` events.
   */
  async sync(): Promise<void> {
    const existing = this.#session?.open ? this.#session : undefined;
    const session = await this.#connected();
    if (session === existing) session.connection?.send({ type: "sync" });
  }

  /**
   * Puts a message in the client store and sends it, connecting first if
   * needed. Resolves with its id once a server has ACKed it into the shared
   * store; rejects with a {@linkcode FailoverAgentError} if the transmission
   * fails, the message staying in the client store for the next one.
   * Throws if a message with that id waits already.
   */
  send(to: string, body?: unknown, id?: string): Promise<string> {
    if (this.#closed) {
      return Promise.reject(
        new FailoverAgentError("closed", "Cannot send: the agent is closed"),
      );
    }
    const messageId = id ?? `${this.agent}-${++this.#nextId}`;
    this.#outbox.push({
      id: messageId,
      to,
      ...(body !== undefined ? { body } : {}),
    });
    const waiter = Promise.withResolvers<string>();
    // The caller may not await: a failure is in the journal anyway.
    waiter.promise.catch(() => {});
    this.#waiters.set(messageId, waiter);
    this.journal.append("queued", { id: messageId, to });
    this.#transmit();
    return waiter.promise;
  }

  /**
   * Restarts the agent: drops the connection and any connection attempt,
   * keeps the client store, and connects again from the primary (QA-9).
   */
  async restart(): Promise<string> {
    if (this.#closed) {
      throw new FailoverAgentError("closed", "Cannot restart: agent closed");
    }
    this.journal.append("restarted", { outbox: this.#outbox.size });
    const dropped = this.#drop();
    this.#abort.abort();
    this.#abort = new AbortController();
    await dropped;
    await this.#transmission?.catch(() => {});
    return await this.connect();
  }

  /**
   * Closes the connection and stops; unacknowledged sends reject. Closes the
   * journal the agent made (flushes one it was given), then `finished`
   * resolves.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#closed = true;
      clearInterval(this.#syncTimer);
      const dropped = this.#drop();
      this.#abort.abort();
      await dropped;
      await this.#transmission?.catch(() => {});
      this.#failWaiters(
        new FailoverAgentError("closed", "Cannot send: the agent closed"),
      );
      this.#outbox.close();
      this.journal.append("closed_client", { outbox: this.#outbox.size });
      // Deprecated alias of `closed_client` (journal names 1.1; gone in 2).
      this.journal.append("closed", {
        outbox: this.#outbox.size,
        deprecated: true,
      });
      await this.#end.end();
    })();
  }

  /** Closes the agent (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Starts a transmission in the background (sends what the outbox holds). */
  #transmit(): void {
    this.#connected().then(
      (session) => this.#flush(session),
      () => {}, // Journalled, and the waiters rejected.
    );
  }

  #connected(): Promise<Session> {
    if (this.#closed) {
      return Promise.reject(
        new FailoverAgentError("closed", "Cannot connect: the agent is closed"),
      );
    }
    if (this.#session?.open) return Promise.resolve(this.#session);
    this.#transmission ??= this.#open().catch((error) => {
      if (error.code !== "aborted") this.#failWaiters(error);
      throw error;
    }).finally(() => this.#transmission = undefined);
    return this.#transmission;
  }

  /** One connection attempt: the primary (with retries), then each alternate once. */
  async #open(): Promise<Session> {
    const signal = this.#abort.signal;
    const [primary, ...alternates] = this.servers;
    const attempts = [
      ...Array.from({ length: this.#failoverRetries + 1 }, () => primary),
      ...alternates,
    ];
    const failures: string[] = [];
    for (const [index, server] of attempts.entries()) {
      if (index > 0 && index <= this.#failoverRetries) {
        this.journal.append("retry_delay", {
          front: server.name,
          ms: this.#failoverDelayMs,
        });
        await delay(this.#failoverDelayMs, undefined, { signal }).catch(
          () => {},
        );
      }
      if (signal.aborted) {
        throw new FailoverAgentError("aborted", "Cannot connect: aborted");
      }
      this.journal.append("connecting", {
        front: server.name,
        primary: server === primary,
        attempt: index + 1,
      });
      try {
        return await this.#handshake(server, server === primary, signal);
      } catch (error) {
        if (error instanceof FailoverAgentError) throw error;
        if (signal.aborted) {
          throw new FailoverAgentError("aborted", "Cannot connect: aborted");
        }
        const reason = (error as Error).message;
        failures.push(`${server.name}: ${reason}`);
        this.journal.append("connect_failed", { front: server.name, reason });
      }
    }
    const error = new FailoverAgentError(
      "unreachable",
      `Cannot connect: no server could be reached (${failures.join("; ")})`,
    );
    this.journal.append("error", { code: error.code, message: error.message });
    throw error;
  }

  async #handshake(
    server: NamedAddress,
    primary: boolean,
    signal: AbortSignal,
  ): Promise<Session> {
    const session: Session = {
      server,
      primary,
      open: false,
      welcome: Promise.withResolvers<void>(),
      written: new Set(),
      timers: new Map(),
      retransmit: true,
    };
    session.welcome.promise.catch(() => {});
    const connection = await connectFrames({
      hostname: server.hostname,
      port: server.port,
      codec: this.#codec,
      timeoutMs: this.#connectTimeoutMs,
      signal,
      onFrame: (frame) => this.#onFrame(session, frame),
    });
    session.connection = connection;
    connection.closed.then((how) => this.#onClosed(session, how));
    connection.send({
      type: "hello",
      agent: this.agent,
      primary: this.primary.name,
    });
    const timer = setTimeout(
      () =>
        session.welcome.reject(
          new Error(`no welcome within ${this.#connectTimeoutMs}ms`),
        ),
      this.#connectTimeoutMs,
    );
    try {
      await session.welcome.promise;
    } catch (error) {
      await connection.close("rst");
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (signal.aborted) {
      session.retransmit = false;
      await connection.close("fin");
      throw new FailoverAgentError("aborted", "Cannot connect: aborted");
    }
    return session;
  }

  #onFrame(session: Session, frame: Frame): void {
    const connection = session.connection!;
    const front = session.server.name;
    switch (frame.type) {
      case "welcome": {
        if (session.open) return;
        session.open = true;
        this.#session = session;
        this.journal.append("connected", { front, primary: session.primary });
        session.welcome.resolve();
        this.#flush(session);
        return;
      }
      case "message": {
        if (typeof frame.id !== "string") return;
        if (!this.#received.has(frame.id)) {
          this.journal.append("received", {
            id: frame.id,
            from: frame.from,
            front,
          });
          this.#keepReceived({
            id: frame.id,
            from: String(frame.from ?? ""),
            ...(frame.body !== undefined ? { body: frame.body } : {}),
            front,
          });
        }
        connection.send({ type: "ack", id: frame.id });
        return;
      }
      case "ack": {
        if (typeof frame.id !== "string" || !this.#outbox.has(frame.id)) return;
        clearTimeout(session.timers.get(frame.id));
        session.timers.delete(frame.id);
        this.#outbox.delete(frame.id);
        this.journal.append("stored", { id: frame.id, front });
        // Deprecated alias of `stored` (journal names 1.1; gone in 2).
        this.journal.append("sent", { id: frame.id, front, deprecated: true });
        this.#waiters.get(frame.id)?.resolve(frame.id);
        this.#waiters.delete(frame.id);
        return;
      }
      case "push": {
        if (!session.primary) {
          this.journal.append("push_ignored", { front });
          return;
        }
        this.journal.append("push", { front });
        connection.send({ type: "sync" });
        return;
      }
      case "error": {
        const code = String(frame.code ?? "error");
        const message = `Server ${front} answered ${code}${
          frame.message ? `: ${frame.message}` : ""
        }`;
        this.journal.append("error", { code, message, front });
        if (code !== "store_unavailable") return;
        // No failover: the store is shared, every server would say the same.
        const error = new FailoverAgentError("store_unavailable", message);
        session.retransmit = false;
        if (!session.open) {
          session.welcome.reject(error);
          return;
        }
        // The next transmission makes a new connection.
        if (this.#session === session) this.#session = undefined;
        this.#failWaiters(error);
        void connection.close("fin");
        return;
      }
    }
  }

  /** Keeps a received message, dropping the oldest past `maxReceived`. */
  #keepReceived(message: ReceivedMessage): void {
    this.#received.set(message.id, message);
    while (this.#received.size > this.#maxReceived) {
      const oldest = this.#received.keys().next().value!;
      this.#received.delete(oldest);
      this.#receivedDropped++;
      this.journal.append("received_dropped", {
        id: oldest,
        dropped: this.#receivedDropped,
      });
    }
  }

  #onClosed(session: Session, how: FrameConnectionClosed): void {
    for (const timer of session.timers.values()) clearTimeout(timer);
    session.timers.clear();
    if (!session.open) {
      session.welcome.reject(
        new Error(`closed before welcome (${how.how}, ${how.by})`),
      );
      return;
    }
    session.open = false;
    if (this.#session === session) this.#session = undefined;
    this.journal.append("disconnected", {
      front: session.server.name,
      by: how.by,
      how: how.how,
      ...(how.reason ? { reason: how.reason } : {}),
    });
    if (session.retransmit && !this.#closed && this.#outbox.size > 0) {
      this.#transmit();
    }
  }

  /** Writes every message of the outbox not yet written on this session. */
  #flush(session: Session): void {
    if (!session.open || this.#session !== session) return;
    for (const message of this.#outbox.values()) {
      if (session.written.has(message.id)) continue;
      if (!session.connection!.send({ type: "send", ...message })) return;
      session.written.add(message.id);
      session.timers.set(
        message.id,
        setTimeout(() => {
          this.journal.append("ack_timeout", {
            id: message.id,
            front: session.server.name,
          });
          void session.connection!.close("rst");
        }, this.#ackTimeoutMs),
      );
    }
  }

  /** Closes the connection, if any, without starting a new transmission. */
  async #drop(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    session.retransmit = false;
    await session.connection?.close("fin");
  }

  #failWaiters(error: Error): void {
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }
}

const FLAGS: FlagTable = {
  servers: {
    type: "string",
    value: "LIST",
    multiple: true,
    description:
      "Servers, primary first: name=host:port,... (env FT_SERVERS); repeatable, appended in order",
  },
  agent: {
    type: "string",
    value: "NAME",
    description: "The agent's name (env FT_AGENT)",
  },
  "failover-retries": {
    type: "string",
    value: "N",
    default: "0",
    description: "-fr: retries of the primary before an alternate",
  },
  "failover-delay": {
    type: "string",
    value: "DURATION",
    default: "1s",
    description: "-fd: wait between tries of the primary",
  },
  "connect-timeout": {
    type: "string",
    value: "DURATION",
    default: "2s",
    description: "Give up on a server that has not answered hello by then",
  },
  "ack-timeout": {
    type: "string",
    value: "DURATION",
    default: "5s",
    description: "Connect again when a sent message is not ACKed by then",
  },
  "sync-interval": {
    type: "string",
    value: "DURATION",
    default: "1s",
    description: "Sync (a transmission) this often; 0 never",
  },
  "outbox-file": {
    type: "string",
    value: "PATH",
    description: "Keep unacknowledged outgoing messages in this file",
  },
};

const SUMMARY =
  `The reference messaging agent with a primary and alternate servers (QA behaviours). It speaks the client-under-test contract: commands on standard input ({"cmd":"send","id":"m1","to":"bob","body":{}}, {"cmd":"restart"}, {"cmd":"stop"}), events on standard output ({"event":"connected","server":"ml1"}, {"event":"received","id":"m7"}, {"event":"push"}, {"event":"deleted","id":"m1"}, {"event":"error","message":"..."}). It exits 1 if, when it stops, its last connection attempt reached no server. The QAnywhere spellings -fr N and -fd DURATION work too.`;

/** Rewrites the QAnywhere spellings `-fr N` and `-fd D` into long flags. */
export function expandShortFlags(args: string[]): string[] {
  const long: Record<string, string> = {
    "-fr": "--failover-retries",
    "-fd": "--failover-delay",
  };
  return args.map((arg) => {
    const [name, ...rest] = arg.split("=");
    if (!(name in long)) return arg;
    return rest.length > 0 ? `${long[name]}=${rest.join("=")}` : long[name];
  });
}

function optionsFromFlags(values: FlagValues): FailoverAgentOptions {
  const env = Deno.env.get("FT_SERVERS") || undefined;
  const lists = (values.servers as string[] | undefined) ??
    (env === undefined ? [] : [env]);
  if (lists.length === 0) {
    throw new CliError(
      "Missing --servers: expected name=host:port,... with the primary first",
    );
  }
  const servers = flag(
    { servers: lists.join(",") },
    "servers",
    (text) => parseNamedAddressList(text),
  )!;
  const agent = flagOrEnv(values, "agent", "FT_AGENT");
  if (!agent) throw new CliError("Missing --agent: the agent's name");
  const codec = codecFlag(values);
  const duration = (name: string) => flag(values, name, parseDuration);
  return {
    agent,
    servers,
    failoverRetries: flag(values, "failover-retries", parseInteger(0, 1e6)),
    failoverDelayMs: duration("failover-delay"),
    connectTimeoutMs: duration("connect-timeout"),
    ackTimeoutMs: duration("ack-timeout"),
    syncIntervalMs: duration("sync-interval") ?? 1000,
    outboxFile: values["outbox-file"] as string | undefined,
    codec,
  };
}

/**
 * Maps an agent journal event to the contract event the command line prints
 * on stdout (`connected`, `received`, `push`, `deleted` once a server ACKed
 * a message, `error`), or `undefined` for the rest.
 *
 * @example Usage
 * ```ts ignore
 * import { failoverAgentContractEvent } from "./failover_agent.ts";
 * agent.journal.subscribe((e) => {
 *   const printed = failoverAgentContractEvent(e);
 *   if (printed) console.log(JSON.stringify(printed));
 * });
 * ```
 */
export const failoverAgentContractEvent: ContractEventMapper = contractEvents({
  connected: (e) => ({ event: "connected", server: e.front }),
  received: (e) => ({ event: "received", id: e.id }),
  push: () => ({ event: "push" }),
  stored: (e) => ({ event: "deleted", id: e.id }),
  error: (e) => ({ event: "error", message: e.message, code: e.code }),
});

/**
 * Runs the command line: parses the flags, connects, and drives the agent
 * by the client-under-test contract until `{"cmd":"stop"}`, the end of
 * standard input, SIGINT or SIGTERM. Exits 1 if the last connection attempt
 * reached no server (QA-4), 2 on bad flags.
 */
export async function main(args: string[]): Promise<void> {
  let unreachable = false;
  const agent = await runContractCli(expandShortFlags(args), {
    script: "clients/failover_agent.ts",
    summary: SUMMARY,
    flags: FLAGS,
    options: optionsFromFlags,
    create: (options) => new FailoverAgent(options),
    contractEvent: failoverAgentContractEvent,
    start(agent) {
      agent.journal.subscribe((event) => {
        if (event.type === "connected") unreachable = false;
        if (event.type === "error" && event.code === "unreachable") {
          unreachable = true;
        }
      });
      agent.connect().catch(() => {}); // A failure is an error event.
    },
    commands: (agent) => ({
      send(command) {
        if (command.to === undefined) {
          throw new Error(
            `Cannot send "${command.id}": a message needs "to", the agent it is for`,
          );
        }
        agent.send(command.to, command.body, command.id);
      },
      async restart() {
        await agent.restart().catch(() => {});
      },
    }),
    stayOnAtEnd: false,
  });
  if (agent && unreachable) Deno.exit(1);
}

if (import.meta.main) await main(Deno.args);
