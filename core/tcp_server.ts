/**
 * The TCP server base every test server is built on: bind (127.0.0.1 by
 * default, port 0 allowed), accept, decode each connection's frames, keep a
 * registry of connections, apply the connection faults (refuse, reset,
 * black-hole, down), and go down and come back up on the same port.
 *
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Codec } from "./codec.ts";
import { createCodec } from "./codecs.ts";
import {
  type CloseHow,
  Connection,
  type ConnectionInfo,
} from "./connection.ts";
import { FaultEngine, type Faults } from "./faults.ts";
import type { Frame } from "./frame.ts";
import { Journal } from "./journal.ts";
import { randomSeed, SeededRandom } from "./random.ts";

/** A bound address. */
export interface Addr {
  /** The host it is bound to. */
  hostname: string;
  /** The port it is bound to. */
  port: number;
}

/** Options every TCP test server takes. */
export interface TcpServerOptions {
  /** The server's name, in the journal and the admin API (default: its kind). */
  name?: string;
  /** Host to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  port?: number;
  /** A label for this listener, for servers with several (`A`, `B`). */
  label?: string;
  /** A codec, or a codec's name (default `line-json`). */
  codec?: Codec | string;
  /** The largest frame accepted, in bytes (default 65536). */
  maxFrameBytes?: number;
  /** Close a connection after this many bad frames in a row; 0 never (default 100). */
  maxBadFrames?: number;
  /**
   * Send `{"type":"error",...}` back for bad input (default true). False
   * journals bad input only, for servers that never answer.
   */
  replyToBadInput?: boolean;
  /** The run seed (default: a random one, reported in `seed`). */
  seed?: number;
  /** A stream to draw from instead of one made from `seed`. */
  random?: SeededRandom;
  /** A journal to write to (default: a new one). */
  journal?: Journal;
  /** A JSON-lines file for the new journal. */
  journalFile?: string;
  /** Faults in force before the first connection is accepted. */
  faults?: Faults;
  /** Shorthand: drop this share of ACKs (0 to 1); adds to `faults`. */
  dropAck?: number;
  /** Shorthand: delay every ACK by this many milliseconds; adds to `faults`. */
  delayAck?: number;
  /**
   * Raw mode: hand every chunk read to `handleBytes` undecoded instead of
   * decoding frames (for proxies; default false).
   */
  raw?: boolean;
  /** Gives connection ids, when several servers share one journal. */
  nextConnectionId?: () => number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

function withShorthand(options: TcpServerOptions): Faults | undefined {
  if (options.dropAck === undefined && options.delayAck === undefined) {
    return options.faults;
  }
  return {
    ...options.faults,
    ...(options.dropAck !== undefined
      ? { dropAck: { probability: options.dropAck } }
      : {}),
    ...(options.delayAck !== undefined
      ? { delayAck: { ms: options.delayAck } }
      : {}),
  };
}

/** A server's state as the admin API shows it. */
export interface ServerState {
  /** The server's name. */
  name: string;
  /** What kind of server it is. */
  kind: string;
  /** Whether it accepts connections now. */
  listening: boolean;
  /** The address it listens on (kept while down). */
  addr: Addr;
  /** The codec's name. */
  codec: string;
  /** The run seed. */
  seed: number;
  /** The faults in force. */
  faults: Faults;
  /** How many connections are open. */
  connections: number;
  /** How many events of each type the journal has seen. */
  counts: Record<string, number>;
}

/**
 * A TCP test server. Subclasses give it a frame handler by overriding
 * {@linkcode TcpServer.handleFrame}.
 *
 * @example Usage
 * ```ts
 * import { TcpServer } from "./tcp_server.ts";
 * await using server = new TcpServer("echo", { port: 0 });
 * await server.start();
 * server.addr.port; // the port picked
 * ```
 */
export class TcpServer implements AsyncDisposable {
  /** What kind of server this is (`primary`, `secondary`, ...). */
  readonly kind: string;
  /** The server's name. */
  readonly name: string;
  /** The listener's label, if it has one. */
  readonly label?: string;
  /** The run seed. */
  readonly seed: number;
  /** The root random stream of this server. */
  readonly random: SeededRandom;
  /** The journal every event of this server goes to. */
  readonly journal: Journal;
  /** The faults in force; change them with `set`, `patch`, `clear`. */
  readonly faults: FaultEngine;
  /** The codec. */
  readonly codec: Codec;
  /** Resolves once the server is closed. */
  readonly finished: Promise<void>;
  #options: TcpServerOptions;
  #ownJournal: boolean;
  #hostname: string;
  #port: number;
  #server?: Server;
  #connections = new Map<number, Connection>();
  #nextId = 0;
  #closed = false;
  #abort = new AbortController();
  #resolveFinished!: () => void;
  #reconciling: Promise<void> = Promise.resolve();
  #started = false;

  /** Makes a server of a kind; call {@linkcode TcpServer.start} to listen. */
  constructor(kind: string, options: TcpServerOptions = {}) {
    this.kind = kind;
    this.name = options.name ?? kind;
    this.label = options.label;
    this.#options = options;
    this.#hostname = options.hostname ?? "127.0.0.1";
    this.#port = options.port ?? 0;
    this.random = options.random ??
      new SeededRandom(options.seed ?? randomSeed()).derive(this.name);
    this.seed = this.random.seed;
    this.#ownJournal = !options.journal;
    this.journal = options.journal ??
      new Journal({ server: this.name, file: options.journalFile });
    this.codec = typeof options.codec === "object"
      ? options.codec
      : createCodec(options.codec ?? "line-json", {
        maxFrameBytes: options.maxFrameBytes,
      });
    this.faults = new FaultEngine({
      random: this.random.derive("faults"),
      journal: this.journal,
      faults: withShorthand(options),
    });
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** The address it listens on (kept while down, so it comes back there). */
  get addr(): Addr {
    return { hostname: this.#hostname, port: this.#port };
  }

  /** Whether it accepts connections now. */
  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** Aborted once the server closes: event streams end on it. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Binds and starts accepting (unless a refuse or down fault is in force). */
  async start(): Promise<this> {
    if (this.#started) return this;
    this.#started = true;
    this.faults.onChange(() => this.#reconcile());
    if (this.#options.signal?.aborted) {
      await this.close();
      return this;
    }
    if (this.#shouldListen()) await this.#listen();
    else {
      // Bind once to own the port (and learn it when 0 was asked), then let go.
      await this.#listen();
      await this.#reconcileNow();
    }
    return this;
  }

  /** The open connections. */
  connections(): Connection[] {
    return [...this.#connections.values()];
  }

  /** A connection by id. */
  connection(id: number): Connection | undefined {
    return this.#connections.get(id);
  }

  /** Snapshots of the open connections, for the admin API. */
  connectionInfos(): ConnectionInfo[] {
    return this.connections().map((connection) => connection.info());
  }

  /** The server's state, for the admin API. */
  state(): ServerState {
    return {
      name: this.name,
      kind: this.kind,
      listening: this.listening,
      addr: this.addr,
      codec: this.codec.name,
      seed: this.seed,
      faults: this.faults.get(),
      connections: this.#connections.size,
      counts: this.journal.counts(),
    };
  }

  /** Goes down: stops listening and closes every connection. */
  down(how: CloseHow = "fin"): void {
    this.faults.patch({ down: how === "rst" ? { how } : {} });
  }

  /** Comes back up on the same port. */
  up(): void {
    this.faults.patch({ down: null, refuse: null });
  }

  /** Waits until the listener matches the faults after a change. */
  settled(): Promise<void> {
    return this.#reconciling;
  }

  /** Closes every connection and the listener; resolves once all are gone. */
  async close(): Promise<void> {
    if (this.#closed) return this.finished;
    this.#closed = true;
    this.faults.dispose();
    await this.#reconciling.catch(() => {});
    await this.#unlisten("close");
    await this.#closeAll("fin", "server closing");
    this.#abort.abort();
    if (this.#ownJournal) await this.journal.close();
    else await this.journal.flush();
    this.#resolveFinished();
  }

  /** Closes the server at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Handles one decoded frame. Subclasses override it. */
  protected handleFrame(
    _frame: Frame,
    _connection: Connection,
  ): void | Promise<void> {}

  /**
   * Handles one chunk of bytes, undecoded, in raw mode (the `raw` option).
   * Subclasses override it.
   */
  protected handleBytes(
    _chunk: Uint8Array,
    _connection: Connection,
  ): void {}

  /** Called when a connection is accepted. Subclasses may override it. */
  protected handleConnected(_connection: Connection): void {}

  /** Called when a connection is gone. Subclasses may override it. */
  protected handleClosed(_connection: Connection): void {}

  #shouldListen(): boolean {
    return !this.#closed && !this.faults.active("refuse") &&
      !this.faults.active("down");
  }

  #reconcile(): void {
    this.#reconciling = this.#reconciling.then(() => this.#reconcileNow())
      .catch((error) => {
        this.journal.append("error", {
          message: `Cannot change listener: ${error.message}`,
        });
      });
  }

  async #reconcileNow(): Promise<void> {
    if (this.#closed) return;
    const down = this.faults.rule("down");
    if (down && this.#connections.size > 0) {
      await this.#closeAll(down.how ?? "fin", "fault:down");
    }
    if (this.#shouldListen()) {
      if (!this.#server) await this.#listen();
    } else if (this.#server) {
      await this.#unlisten(down ? "down" : "refuse");
    }
  }

  #listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer(
        { noDelay: true },
        (socket) => this.#accept(socket),
      );
      server.once("error", reject);
      server.listen({ host: this.#hostname, port: this.#port }, () => {
        server.off("error", reject);
        server.on("error", (error) =>
          this.journal.append("error", {
            message: `Listener failed: ${error.message}`,
          }));
        const bound = server.address();
        if (bound && typeof bound === "object") this.#port = bound.port;
        this.#server = server;
        this.journal.append("listening", {
          addr: `${this.#hostname}:${this.#port}`,
          codec: this.codec.name,
          ...(this.label ? { listener: this.label } : {}),
        });
        resolve();
      });
    });
  }

  #unlisten(reason: string): Promise<void> {
    const server = this.#server;
    if (!server) return Promise.resolve();
    this.#server = undefined;
    this.journal.append("stopped_listening", {
      reason,
      ...(this.label ? { listener: this.label } : {}),
    });
    return new Promise((resolve) => {
      server.close(() => resolve());
      // close() waits for open connections; the listener itself is gone now.
      queueMicrotask(resolve);
    });
  }

  #accept(socket: Socket): void {
    if (this.#closed || !this.#server) {
      socket.destroy();
      return;
    }
    const id = this.#options.nextConnectionId?.() ?? ++this.#nextId;
    const connection = new Connection(id, socket, {
      journal: this.journal,
      faults: this.faults,
      codec: this.codec,
      maxBadFrames: this.#options.maxBadFrames ?? 100,
      replyToBadInput: this.#options.replyToBadInput ?? true,
      onFrame: (frame, conn) => this.handleFrame(frame, conn),
      ...(this.#options.raw
        ? {
          onBytes: (chunk: Uint8Array, conn: Connection) =>
            this.handleBytes(chunk, conn),
        }
        : {}),
      onClosed: (conn) => {
        this.#connections.delete(conn.id);
        this.handleClosed(conn);
      },
    }, this.label);
    this.#connections.set(id, connection);
    this.journal.append("connected", {
      conn: id,
      peer: connection.peer,
      local: connection.local,
      ...(this.label ? { listener: this.label } : {}),
    });
    if (this.faults.decide("reset", connection.context())) {
      connection.close("rst", "fault:reset");
      return;
    }
    this.handleConnected(connection);
  }

  async #closeAll(how: CloseHow, reason: string): Promise<void> {
    const open = this.connections();
    if (open.length === 0) return;
    const gone = Promise.all(
      open.map((connection) =>
        new Promise<void>((resolve) => {
          if (connection.closed) return resolve();
          const stop = this.journal.subscribe((event) => {
            if (event.type === "closed" && event.conn === connection.id) {
              stop();
              resolve();
            }
          });
        })
      ),
    );
    for (const connection of open) connection.close(how, reason);
    const timer = setTimeout(() => {
      for (const connection of open) connection.close("rst", reason);
    }, 1000);
    await gone;
    clearTimeout(timer);
  }
}
