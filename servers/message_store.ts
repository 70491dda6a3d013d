/**
 * The message-store server: the server side of the messaging (QA)
 * behaviours. Several named front servers (`ml1`, `ml2`, ...) sit over ONE
 * shared server-side message store, as a messaging agent's primary and
 * alternate servers do:
 *
 * - an agent says `hello` with its name and its primary; every front
 *   delivers everything waiting for it, right after `hello` and on `sync`
 *   (QA-5);
 * - a `send` is ACKed only once the message is in the shared store; a
 *   delivered message leaves the store only when the agent ACKs it, and is
 *   delivered again on the next `hello` or `sync` until then (QA-8);
 * - a `push` goes out only from the agent's primary, when a new message for
 *   it arrives while it is connected there (QA-6);
 * - the store itself can be taken down: every front then answers
 *   `{"type":"error","code":"store_unavailable"}` to `hello`, `send`, `sync`
 *   and `ack`, delivers nothing and loses nothing (QA-7).
 *
 * Each front has faults of its own (refuse, reset, down, black-hole, drop
 * ACK, ...): that is how an agent is made to fail over. Every front writes
 * into one journal, in one order, and each of its events says which front
 * it is about (`"front": "ml1"`).
 *
 * @example Start one for a test
 * ```ts ignore
 * import { startMessageStoreServer } from "./message_store.ts";
 * await using server = await startMessageStoreServer({
 *   fronts: [{ name: "ml1", port: 0 }, { name: "ml2", port: 0 }],
 *   seed: 7,
 * });
 * server.front("ml1").down();
 * ```
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { createAdminApp } from "../core/admin/admin_app.ts";
import { type OptionsAgree, withFlag } from "../core/cli/option_flags.ts";
import { PortSchema } from "../core/cli/option_values.ts";
import { type CliMain, serverMain } from "../core/cli/server_cli.ts";
import type { Codec } from "../core/codecs/codec.ts";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { Connection } from "../core/server/connection.ts";
import { type Faults, FaultsSchema } from "../core/faults/mod.ts";
import type { Frame } from "../core/codecs/frame.ts";
import { AgentFrameSchema, parseFrame } from "../core/codecs/protocol.ts";
import { randomSeed } from "../core/faults/random.ts";
import {
  connectionLimits,
  type ServerState,
  TcpServer,
  type TcpServerOptions,
} from "../core/server/tcp_server.ts";
import {
  type NamedAddress,
  parseNamedAddressList,
} from "../core/units/units.ts";
import { MultiListenerServer } from "../core/server/multi_listener_server.ts";
import { MultiListenerHost } from "../core/server/multi_listener_host.ts";
import type { ToolkitServer } from "../core/server/toolkit_server.ts";
import { messageStoreAdminApp } from "./_message_store_admin.ts";
import {
  type MessageStore,
  type StoredMessage,
  StoreUnavailableError,
} from "./message_store_interface.ts";
import { MemoryMessageStore } from "./message_store_memory.ts";
import { openMessageStore } from "./message_store_open.ts";

export {
  type DeliverableOptions,
  type MessageStore,
  type MessageStoreWatcher,
  type StoredMessage,
  StoreUnavailableError,
} from "./message_store_interface.ts";
import { joinHostPort } from "../core/net/host_port.ts";

/** The default fronts of the command line: ml1 on 7050, ml2 on 7052. */
export const MESSAGE_STORE_FRONTS: readonly NamedAddress[] = [
  { name: "ml1", hostname: "127.0.0.1", port: 7050 },
  { name: "ml2", hostname: "127.0.0.1", port: 7052 },
];
/** The default admin port. */
export const MESSAGE_STORE_ADMIN_PORT = 7051;

/** Where one front listens, and its own faults. */
export interface FrontOptions {
  /** The front's name, sent in `welcome` and named by agents as their primary. */
  name: string;
  /** Host to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  port?: number;
  /** This front's faults, on top of the server-wide `faults`. */
  faults?: Faults;
}

/** A front's name: letters, digits, `.`, `_` and `-`, up to 64. */
const FRONT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Keys an object of fronts by name cannot keep: whole numbers go first,
 * whatever the order given, and `__proto__` is dropped.
 */
const OBJECT_KEY_TRAPS = /^(?:0|[1-9][0-9]*|__proto__)$/;
const TRAP_MESSAGE =
  "a whole number or __proto__ cannot name a front NAME (the fronts would lose their order, or that front)";

/** Where one front listens, and its own faults, by the front's name. */
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

/** Fronts by name, in order: the form of the `fronts` option. */
export type FrontsByName = Record<string, Omit<FrontOptions, "name">>;

/** `--front ml1=HOST:PORT,ml2=HOST:PORT` as fronts by name. */
function frontsFromText(text: string): FrontsByName {
  const fronts = parseNamedAddressList(text);
  const trap = fronts.find(({ name }) => OBJECT_KEY_TRAPS.test(name));
  if (trap) throw new RangeError(TRAP_MESSAGE.replace("NAME", trap.name));
  return Object.fromEntries(
    fronts.map(({ name, ...address }) => [name, address]),
  );
}

/**
 * The message-store server's own options, described once: the command-line
 * flags (`--front ml1=HOST:PORT --store URL --store-down`) and the lab's
 * `message-store` entry are derived from it. Fronts are given by name
 * ({@linkcode frontList} makes the list the server takes), the store by
 * what {@linkcode openMessageStore} opens.
 */
export const MessageStoreOptionsSchema: z.ZodObject<{
  fronts: z.ZodOptional<z.ZodType<FrontsByName>>;
  store: z.ZodOptional<z.ZodString>;
  storeDown: z.ZodOptional<z.ZodBoolean>;
}> = z.object({
  fronts: withFlag(
    z.record(
      z.string().regex(
        FRONT_NAME,
        "Invalid front name: use letters, digits, ., _ and -",
      ).refine((name) => !OBJECT_KEY_TRAPS.test(name), {
        error: "Invalid front name: not a whole number, nor __proto__",
      }),
      FrontSchema,
    ).refine((fronts) => Object.keys(fronts).length > 0, {
      error: "Invalid fronts: name at least one front",
    }).optional().describe(
      "Front servers by name, in order (default ml1 on 7050, ml2 on 7052)",
    ),
    {
      name: "front",
      value: "NAME=HOST:PORT",
      multiple: true,
      default: "ml1=<host>:7050 and ml2=<host>:7052",
      description:
        "A front server, in order; a comma-separated list works too (port 0 picks a free one)",
      alias: {
        name: "fronts",
        value: "NAME=HOST:PORT,...",
        description: "The same as --front, as one comma-separated list",
      },
      parse: frontsFromText,
    },
  ),
  store: withFlag(
    z.string().min(1).optional().describe(
      "The shared store: memory (this process only) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, shared by every process pointed at it (schema created on first start)",
    ),
    { name: "store", value: "memory|URL", default: "memory" },
  ),
  storeDown: withFlag(
    z.boolean().optional().describe("Start with the shared store down"),
    {
      name: "store-down",
      description:
        "Start with the shared store down; bring it up over the admin API",
    },
  ),
});

/**
 * The fronts of a `fronts` option, in order, each with its port: the given
 * one, else its default (ml1 7050, ml2 7052, others 7050 + 2 x position);
 * ml1 and ml2 (on `hostname`, when given) when there are none.
 */
export function frontList(
  fronts: FrontsByName | undefined,
  hostname?: string,
): (FrontOptions & { port: number })[] {
  if (!fronts) {
    return MESSAGE_STORE_FRONTS.map((front) => ({
      ...front,
      ...(hostname !== undefined ? { hostname } : {}),
    }));
  }
  return Object.entries(fronts).map(([name, front], i) => ({
    name,
    ...front,
    port: front.port ??
      MESSAGE_STORE_FRONTS.find((f) => f.name === name)?.port ??
      7050 + 2 * i,
  }));
}

/** Options for {@linkcode startMessageStoreServer}. */
export interface MessageStoreServerOptions extends
  Omit<
    TcpServerOptions,
    "hostname" | "port" | "label" | "nextConnectionId" | "random" | "codec"
  > {
  /** The fronts, in order (default `ml1` and `ml2`, both on a free port). */
  fronts?: FrontOptions[];
  /**
   * The shared store (default a new {@linkcode MemoryMessageStore}); open one
   * from `memory` or a `postgres://` URL with `openMessageStore`.
   */
  store?: MessageStore;
  /** Close the store when the server closes (default false: the caller owns it). */
  closeStore?: boolean;
  /** Start with the store down (default false). */
  storeDown?: boolean;
  /** A codec's name (default `line-json`), used by every front. */
  codec?: string;
}

// The options above and the schema agree (`deno check` fails otherwise).
const _messageStoreOptionsAgree: OptionsAgree<
  z.infer<typeof MessageStoreOptionsSchema>["storeDown"],
  MessageStoreServerOptions["storeDown"]
> = true;

/** What a front hands every frame to. */
export type FrontFrameHandler = (
  frame: Frame,
  connection: Connection,
  front: MessageFront,
) => void | Promise<void>;

/** Options for one {@linkcode MessageFront}. */
export interface MessageFrontOptions extends TcpServerOptions {
  /** The front's name. */
  name: string;
  /** Handles every frame the front decodes. */
  onFrame: FrontFrameHandler;
}

/**
 * One named front of a {@linkcode MessageStoreServer}: a TCP server with
 * faults of its own, writing into the shared journal through a view that
 * stamps `front` on every event. Get it with
 * {@linkcode MessageStoreServer.front}.
 */
export class MessageFront extends TcpServer {
  #onFrame: FrontFrameHandler;

  /** Makes a front; `start()` binds it. */
  constructor(options: MessageFrontOptions) {
    super("message-front", { ...options, label: options.name });
    this.#onFrame = options.onFrame;
  }

  /**
   * The admin app of this front (a Hono `OpenAPIHono`): the shared routes.
   *
   * @ignore
   */
  adminApp(options: { openapi?: boolean } = {}): OpenAPIHono {
    return createAdminApp(this, options);
  }

  /** Hands every frame to the server's handler. */
  protected override handleFrame(
    frame: Frame,
    connection: Connection,
  ): void | Promise<void> {
    return this.#onFrame(frame, connection, this);
  }
}

/** The whole server's state, for the admin API. */
export interface MessageStoreState {
  /** The server's name. */
  name: string;
  /** Always `message-store`. */
  kind: string;
  /** The run seed. */
  seed: number;
  /** The codec's name. */
  codec: string;
  /** Whether the shared store can be used now. */
  storeAvailable: boolean;
  /** Each front's state, in order. */
  fronts: ServerState[];
  /** How many events of each type the shared journal has seen. */
  counts: Record<string, number>;
}

/** A message to inject through {@linkcode MessageStoreServer.inject}. */
export interface InjectedMessage {
  /** The agent it is for. */
  to: string;
  /** Who it is from (default `admin`). */
  from?: string;
  /** Its body. */
  body?: unknown;
  /** Its id (default `admin-1`, `admin-2`, ...). */
  id?: string;
}

/** What {@linkcode MessageStoreServer.inject} did. */
export interface InjectResult {
  /** False when that id already waited for (or was acknowledged by) that agent. */
  stored: boolean;
  /** The message. */
  message: StoredMessage;
}

/** A connection's store writes on their way before its handler waits for them. */
const MAX_WRITES_IN_FLIGHT = 256;

/**
 * The message-store server: named fronts over one shared store. Get a
 * front's own server (faults, connections, `down()`/`up()`) with
 * {@linkcode MessageStoreServer.front}; take the store itself down with
 * {@linkcode MessageStoreServer.storeDown}.
 */
export class MessageStoreServer extends MultiListenerHost<MessageFront>
  implements ToolkitServer {
  /** Always `message-store`. */
  readonly kind = "message-store";
  /** The server's name. */
  readonly name: string;
  /** The run seed. */
  readonly seed: number;
  /** The shared store. */
  readonly store: MessageStore;
  /** The codec every front speaks. */
  readonly codec: Codec;
  /** Every front as one multi-listener server (scope `front`). */
  readonly listeners: MultiListenerServer<MessageFront>;
  #down: boolean;
  #injected = 0;
  #closeStore: boolean;
  #unwatch?: () => void;
  /** Names this server's connections apart from other processes' (holders). */
  #instance = crypto.randomUUID();
  /** Connections that have been made their agent's holder once. */
  #attached = new WeakSet<Connection>();
  /**
   * Where each connection on its primary stands with pushes: pushed (and not
   * synced since), delivering (a hello or sync is being answered), or
   * delivering with news (a message came meanwhile: push once the answer is
   * out, so that the agent ACKs what it got before it syncs again).
   */
  #pushes = new WeakMap<Connection, "pushed" | "delivering" | "news">();
  /** Each connection's sends and ACKs still on their way to a pipelined store. */
  #writes = new WeakMap<Connection, Promise<void>>();
  #inFlight = new WeakMap<Connection, number>();

  /** Makes the server and its fronts; `start()` binds them. */
  constructor(options: MessageStoreServerOptions = {}) {
    super();
    this.name = options.name ?? "message-store";
    this.seed = options.seed ?? randomSeed();
    this.store = options.store ?? new MemoryMessageStore();
    this.#closeStore = options.closeStore ?? false;
    this.codec = createCodec(options.codec ?? "line-json", {
      maxFrameBytes: options.maxFrameBytes,
      maxDepth: options.maxDepth,
    });
    const fronts = options.fronts ?? [{ name: "ml1" }, { name: "ml2" }];
    if (fronts.length === 0) {
      throw new RangeError("Cannot start message store: it needs a front");
    }
    for (const [index, front] of fronts.entries()) {
      if (
        !FRONT_NAME.test(front.name) ||
        fronts.findIndex((other) => other.name === front.name) !== index
      ) {
        throw new RangeError(
          `Cannot use front name "${front.name}": expected a unique name of letters, digits, ".", "_" or "-"`,
        );
      }
    }
    this.#down = options.storeDown ?? false;
    const byName = new Map(fronts.map((front) => [front.name, front]));
    this.listeners = new MultiListenerServer({
      name: this.name,
      kind: this.kind,
      seed: this.seed,
      scope: "front",
      names: fronts.map((front) => front.name),
      journal: options.journal,
      journalFile: options.journalFile,
      signal: options.signal,
      listener: ({ name, journal, nextConnectionId }) => {
        const front = byName.get(name)!;
        return new MessageFront({
          name,
          hostname: front.hostname,
          port: front.port ?? 0,
          codec: this.codec,
          maxBadFrames: options.maxBadFrames,
          ...connectionLimits(options),
          seed: this.seed,
          journal,
          nextConnectionId,
          faults: options.faults || front.faults
            ? { ...options.faults, ...front.faults }
            : undefined,
          dropAck: options.dropAck,
          delayAck: options.delayAck,
          onFrame: (frame, connection, self) =>
            this.#handle(frame, connection, self),
        });
      },
      closed: async () => {
        this.#unwatch?.();
        if (this.#closeStore) await this.store.close?.();
      },
    });
  }

  /** Every front, in order. */
  get fronts(): MessageFront[] {
    return this.listeners.listeners;
  }

  /** One front's server: its faults, connections, `down()`/`up()`. */
  front(name: string): MessageFront {
    return this.listeners.listener(name);
  }

  /** Whether the shared store can be used now (not taken down, and available). */
  get storeAvailable(): boolean {
    return !this.#down && this.store.available;
  }

  /** Binds every front. If one cannot bind, closes them all and throws. */
  async start(): Promise<this> {
    if (this.#down) this.journal.append("store_down", {});
    this.#unwatch = this.store.watch?.({
      stored: (agent) => {
        if (this.storeAvailable) this.#notify(agent);
      },
      availability: (available, reason) =>
        void this.#storeChanged(available, reason),
      missed: () => {
        if (this.storeAvailable) void this.#pushWaiting();
      },
    });
    await this.listeners.start();
    return this;
  }

  /**
   * Takes the shared store down (QA-7): every front answers
   * `store_unavailable` to `hello`, `send`, `sync` and `ack`, and delivers
   * nothing. Nothing stored is lost.
   */
  storeDown(): void {
    if (this.#down) return;
    this.#down = true;
    this.journal.append("store_down", {});
  }

  /**
   * Brings the shared store back. Agents connected to their primary that
   * have messages waiting get a `push`.
   */
  async storeUp(): Promise<void> {
    if (!this.#down) return;
    this.#down = false;
    this.journal.append("store_up", {});
    await this.#pushWaiting();
  }

  /** The store itself went away or came back (a real outage, `reason` says why). */
  async #storeChanged(available: boolean, reason: string): Promise<void> {
    this.journal.append(available ? "store_up" : "store_down", { reason });
    if (available && !this.#down) await this.#pushWaiting();
  }

  /** Pushes to every connected agent with messages waiting, on its primary. */
  async #pushWaiting(): Promise<void> {
    const agents = new Set(
      this.fronts.flatMap((front) =>
        front.connections().map((connection) => connection.tags.agent)
      ).filter((agent) => agent !== undefined),
    );
    try {
      for (const agent of agents) {
        if ((await this.#use(() => this.store.pending(agent))).length > 0) {
          this.#notify(agent);
        }
      }
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
    }
  }

  /**
   * Puts a message into the shared store as if an agent had sent it, and
   * pushes to the recipient on its primary. Throws
   * {@linkcode StoreUnavailableError} while the store is down.
   */
  async inject(message: InjectedMessage): Promise<InjectResult> {
    const stored: StoredMessage = {
      id: message.id ?? `admin-${++this.#injected}`,
      to: message.to,
      from: message.from ?? "admin",
      ...(message.body !== undefined ? { body: message.body } : {}),
      storedAt: Date.now(),
    };
    const fresh = await this.#use(() => this.store.put(stored));
    this.journal.append(fresh ? "message_stored" : "message_duplicate", {
      agent: stored.to,
      from: stored.from,
      id: stored.id,
      via: "admin",
    });
    if (fresh) this.#notify(stored.to);
    return { stored: fresh, message: stored };
  }

  /** Every message waiting in the shared store. Throws while the store is down. */
  messages(): Promise<StoredMessage[]> {
    return this.#use(() => this.store.list());
  }

  /** The state of the whole server, for the admin API. */
  state(): MessageStoreState {
    return {
      name: this.name,
      kind: this.kind,
      seed: this.seed,
      codec: this.codec.name,
      storeAvailable: this.storeAvailable,
      fronts: this.fronts.map((front) => front.state()),
      counts: this.journal.counts(),
    };
  }

  /**
   * The admin app: each front's shared routes under `/fronts/<name>`,
   * `POST /messages`, `GET /store`, `POST /store/down`, `POST /store/up`,
   * and `/health`, `/state`, `/connections`, `/journal`, `/events`,
   * `/openapi.json` for the whole server. A Hono `OpenAPIHono`: serve it
   * with `serveAdmin`, or call it in process with `app.request()`.
   *
   * @ignore
   */
  adminApp(): OpenAPIHono {
    return messageStoreAdminApp(this);
  }

  async #use<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.storeAvailable) throw new StoreUnavailableError();
    try {
      return await operation();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      this.journal.append("error", {
        message: `Message store failed: ${(error as Error)?.message ?? error}`,
      });
      throw new StoreUnavailableError(
        `Cannot use the message store: ${(error as Error)?.message ?? error}`,
      );
    }
  }

  async #handle(
    frame: Frame,
    connection: Connection,
    front: MessageFront,
  ): Promise<void> {
    const parsed = parseFrame(AgentFrameSchema, frame);
    if (parsed.error) return connection.reject(parsed.error);
    const message = parsed.frame;
    const journal = front.journal;
    if (message.type === "hello") {
      connection.tags.agent = message.agent;
      if (message.primary) connection.tags.primary = message.primary;
      else delete connection.tags.primary;
    }
    const agent = connection.tags.agent;
    if (agent === undefined) {
      return connection.reject({
        code: "hello_first",
        message:
          `Cannot handle ${message.type} before hello: send {"type":"hello","agent":"<name>","primary":"<server>"} first`,
      });
    }
    const operate = async () => {
      try {
        switch (message.type) {
          case "hello":
            await this.#writes.get(connection);
            if (!this.storeAvailable) throw new StoreUnavailableError();
            connection.send({ type: "welcome", server: front.name });
            return await this.#deliver(agent, connection, front, true);
          case "sync":
            // After this connection's ACKs: what they removed is not sent again.
            await this.#writes.get(connection);
            return await this.#deliver(agent, connection, front, false);
          case "send": {
            const stored: StoredMessage = {
              id: message.id,
              to: message.to,
              from: agent,
              ...(message.body !== undefined ? { body: message.body } : {}),
              storedAt: Date.now(),
            };
            const fresh = await this.#use(() => this.store.put(stored));
            journal.append(fresh ? "message_stored" : "message_duplicate", {
              conn: connection.id,
              agent: stored.to,
              from: agent,
              id: stored.id,
            });
            connection.sendReply({ type: "ack", id: message.id }, message.id);
            if (fresh) this.#notify(stored.to);
            return;
          }
          case "ack": {
            const removed = await this.#use(() =>
              this.store.ack(agent, message.id)
            );
            journal.append(removed ? "message_acked" : "ack_unknown", {
              conn: connection.id,
              agent,
              id: message.id,
            });
            return;
          }
        }
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        journal.append("store_unavailable", {
          conn: connection.id,
          agent,
          request: message.type,
          ...("id" in message ? { id: message.id } : {}),
        });
        connection.send({
          type: "error",
          code: "store_unavailable",
          message: error.message,
        });
      }
    };
    if (
      !this.store.pipelined ||
      (message.type !== "send" && message.type !== "ack")
    ) {
      return await operate();
    }
    // A store that takes a while (a database): keep reading this
    // connection's frames while its writes are on their way. The store
    // answers writes in order, so ACKs and errors still go out in order.
    const written = operate().catch((error) => {
      journal.append("error", {
        conn: connection.id,
        message: `Message store failed: ${(error as Error)?.message ?? error}`,
      });
    });
    const before = this.#writes.get(connection);
    const all = before
      ? Promise.all([before, written]).then(() => {})
      : written;
    this.#writes.set(connection, all);
    const inFlight = (this.#inFlight.get(connection) ?? 0) + 1;
    this.#inFlight.set(connection, inFlight);
    void all.then(() => {
      if (this.#writes.get(connection) === all) this.#writes.delete(connection);
    });
    void written.then(() =>
      this.#inFlight.set(connection, this.#inFlight.get(connection)! - 1)
    );
    // Bounded: past this many writes on their way, the handler waits for
    // them, and the connection stops reading once frames back up behind it.
    if (inFlight >= MAX_WRITES_IN_FLIGHT) await all;
  }

  /**
   * Sends the agent what waits for it, if this connection is its newest
   * (`attach`: make it so, on hello).
   */
  async #deliver(
    agent: string,
    connection: Connection,
    front: MessageFront,
    attach: boolean,
  ): Promise<void> {
    const journal = front.journal;
    const holder = `${this.#instance}/${front.name}/${connection.id}`;
    // A sync on a connection whose hello met the store down attaches too.
    this.#pushes.set(connection, "delivering");
    let messages;
    try {
      messages = await this.#use(() =>
        this.store.deliverable(agent, holder, {
          attach: attach || !this.#attached.has(connection),
        })
      );
    } catch (error) {
      this.#pushes.delete(connection);
      throw error;
    }
    this.#attached.add(connection);
    for (const message of messages) {
      const sent = connection.send({
        type: "message",
        id: message.id,
        from: message.from,
        ...(message.body !== undefined ? { body: message.body } : {}),
      });
      if (sent) {
        journal.append("message_delivered", {
          conn: connection.id,
          agent,
          id: message.id,
        });
      }
    }
    const news = this.#pushes.get(connection) === "news";
    this.#pushes.delete(connection);
    if (news) this.#push(connection, front, agent);
  }

  /** Pushes to every connection of the agent on its primary (QA-6). */
  #notify(agent: string): void {
    for (const front of this.fronts) {
      for (const connection of front.connections()) {
        if (connection.tags.agent !== agent) continue;
        const primary = connection.tags.primary;
        if (primary !== front.name) {
          front.journal.append("push_withheld", {
            conn: connection.id,
            agent,
            primary: primary ?? null,
          });
        } else {
          const state = this.#pushes.get(connection);
          if (state === "delivering") this.#pushes.set(connection, "news");
          else if (state === undefined) this.#push(connection, front, agent);
        }
      }
    }
  }

  /** Sends one push (the agent has not been pushed since it last synced). */
  #push(connection: Connection, front: MessageFront, agent: string): void {
    if (connection.send({ type: "push" })) {
      this.#pushes.set(connection, "pushed");
      front.journal.append("push_sent", { conn: connection.id, agent });
    }
  }
}

/**
 * Starts a message-store server, every front listening once the promise
 * resolves.
 *
 * @example Usage
 * ```ts ignore
 * import { startMessageStoreServer } from "./message_store.ts";
 * await using server = await startMessageStoreServer({
 *   fronts: [{ name: "ml1", port: 0 }, { name: "ml2", port: 0 }],
 *   seed: 7,
 * });
 * console.log(server.front("ml1").addr, server.front("ml2").addr);
 * ```
 */
export function startMessageStoreServer(
  options: MessageStoreServerOptions = {},
): Promise<MessageStoreServer> {
  return new MessageStoreServer(options).start();
}

/**
 * Opens the message store at `store` (`memory`, the default, or a
 * `postgres://` URL, as {@linkcode openMessageStore}) and starts a
 * message-store server over it that closes it when it closes; a server that
 * fails to start closes the store it opened.
 *
 * @example Usage
 * ```ts ignore
 * import { startMessageStoreServerAt } from "./message_store.ts";
 * await using server = await startMessageStoreServerAt("memory", {
 *   fronts: [{ name: "ml1", port: 0 }],
 * });
 * ```
 */
export async function startMessageStoreServerAt(
  store: string | undefined,
  options: Omit<MessageStoreServerOptions, "store" | "closeStore"> = {},
): Promise<MessageStoreServer> {
  const opened = await openMessageStore(store ?? "memory");
  try {
    return await startMessageStoreServer({
      ...options,
      store: opened,
      closeStore: true,
    });
  } catch (error) {
    await opened.close?.();
    throw error;
  }
}

/** Runs the message-store server's command line. */
export const main: CliMain = serverMain(import.meta, {
  summary:
    "The message-store server (QA): named front servers over one shared message store, push to agents on their primary, and a store that can be taken down. Fault flags apply to every front; set one front's faults over the admin API (/fronts/<name>/faults).",
  defaults: { port: 0, adminPort: MESSAGE_STORE_ADMIN_PORT },
  options: MessageStoreOptionsSchema,
  // Each front has its own port: --front NAME=HOST:PORT.
  common: ({ port: _port, ...flags }) => ({
    ...flags,
    host: { ...flags.host, description: "Host of the default fronts" },
  }),
  faultsTitle: "Fault flags (every front)",
  start: (options) => {
    const { fronts, store, hostname, port: _, ...common } = options;
    return startMessageStoreServerAt(store, {
      ...common,
      fronts: frontList(fronts, hostname),
    });
  },
  describe: (server) =>
    `tcp=${
      server.fronts.map((front) =>
        `${front.name}@${joinHostPort(front.addr.hostname, front.addr.port)}`
      ).join(",")
    } store=${"url" in server.store ? String(server.store.url) : "memory"}`,
});
