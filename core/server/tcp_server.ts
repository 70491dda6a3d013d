/**
 * The TCP server base every test server is built on: bind (127.0.0.1 by
 * default, port 0 allowed), accept, decode each connection's frames, keep a
 * registry of connections, and run the listener's one lifecycle as the
 * fault engine's listen stage says: listening, closed (refuse, down: open
 * connections closed too), or listening without ever accepting (no-accept,
 * with a tiny backlog). New connections go through the accept stage.
 * Scheduled faults (pause, resume, force) are operations of every server.
 *
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Codec } from "../codecs/codec.ts";
import { createCodec } from "../codecs/create_codec.ts";
import {
  type CloseHow,
  Connection,
  type ConnectionHost,
  type ConnectionInfo,
} from "./connection.ts";
import {
  FaultEngine,
  type FaultKind,
  type Faults,
  type ListenPlan,
  type ScheduleStatus,
  type TransitionReason,
} from "../faults/mod.ts";
import type { Frame } from "../codecs/frame.ts";
import type { Journal } from "../journal/journal.ts";
import { ServerEnd } from "./server_end.ts";
import { randomSeed, SeededRandom } from "../faults/random.ts";
import { joinHostPort } from "../net/host_port.ts";

/** The default most bad frames a second on one connection: 100. */
export const DEFAULT_MAX_BAD_RATE = 100;
/** The default most bytes of unread replies for one connection: 1 MiB. */
export const DEFAULT_MAX_BACKLOG_BYTES = 1024 * 1024;
/** The default longest wait of `close()` for connections to go: 5000 ms. */
export const DEFAULT_SHUTDOWN_MS = 5000;

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
  /** The deepest nesting of a JSON frame (default 64). */
  maxDepth?: number;
  /**
   * Close a connection that sends more than this many bad frames within a
   * second, good ones between or not; 0 never (default 100, or 0 when
   * `maxBadFrames` is 0).
   */
  maxBadRate?: number;
  /**
   * Reset a connection (journalled `backlog_exceeded`, then `closed` with
   * reason `backlog: ...`) once this many bytes of replies wait for a peer
   * that does not read; 0 never (default 1 MiB).
   */
  maxBacklogBytes?: number;
  /** Reset new connections past this many open ones (journalled `refused`); 0 no limit (default). */
  maxConnections?: number;
  /** Close a connection with no traffic either way for this many ms; 0 never (default). */
  idleTimeoutMs?: number;
  /**
   * The most `close()` waits for connections to go, in ms (default 5000):
   * FIN first, RST after a second, and past this nothing is waited for.
   */
  shutdownMs?: number;
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
   * decoding frames (default false).
   *
   * @deprecated Nothing in the toolkit uses it any more: a proxy takes its
   * sockets whole with `adoptSocket` (and `halfOpen`), as flapping's
   * `target` mode does.
   */
  raw?: boolean;
  /**
   * Accept sockets half-open (reading the peer's FIN does not end ours),
   * for a subclass that takes every socket with `adoptSocket` (a proxy
   * passing FINs through; default false).
   */
  halfOpen?: boolean;
  /** The listen backlog (default 511; the `noAccept` fault sets its own). */
  backlog?: number;
  /** Gives connection ids, when several servers share one journal. */
  nextConnectionId?: () => number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

/** The limits on connections a server takes (see `docs/hardening.md`). */
export type ConnectionLimits = Pick<
  TcpServerOptions,
  | "maxDepth"
  | "maxBadRate"
  | "maxBacklogBytes"
  | "maxConnections"
  | "idleTimeoutMs"
  | "shutdownMs"
>;

/**
 * The connection limits among some options (a server's, the common CLI
 * flags'), for a server that hands them on to each of its listeners.
 */
export function connectionLimits(options: ConnectionLimits): ConnectionLimits {
  const limits: ConnectionLimits = {};
  for (
    const key of [
      "maxDepth",
      "maxBadRate",
      "maxBacklogBytes",
      "maxConnections",
      "idleTimeoutMs",
      "shutdownMs",
    ] as const
  ) {
    if (options[key] !== undefined) limits[key] = options[key];
  }
  return limits;
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
  #end: ServerEnd;
  #hostname: string;
  #port: number;
  #server?: Server;
  /** `no-accept`: a listener that is never asked to accept, and the server's own queued connections. */
  #idle?: { listener: Deno.TcpListener; fillers: Deno.TcpConn[] };
  #connections = new Map<number, Connection>();
  #connectionHost?: ConnectionHost;
  #nextId = 0;
  #closed = false;
  #abort = new AbortController();
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
    this.#end = new ServerEnd(this.name, options);
    this.journal = this.#end.journal;
    this.finished = this.#end.finished;
    this.codec = typeof options.codec === "object"
      ? options.codec
      : createCodec(options.codec ?? "line-json", {
        maxFrameBytes: options.maxFrameBytes,
        maxDepth: options.maxDepth,
      });
    this.faults = new FaultEngine({
      random: this.random.derive("faults"),
      journal: this.journal,
      settled: () => this.#reconciling,
    });
    // Subscribed before the first faults, so a schedule's start is journalled too.
    this.faults.onTransition((status, reason) => {
      void this.#reconciling.then(() => {
        if (!this.#closed) this.handleTransition(status, reason);
      });
    });
    const faults = withShorthand(options);
    if (faults) this.faults.set(faults);
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** The address it listens on (kept while down, so it comes back there). */
  get addr(): Addr {
    return { hostname: this.#hostname, port: this.#port };
  }

  /** Whether it listens now (accepting or, under `noAccept`, not). */
  get listening(): boolean {
    return this.#server !== undefined || this.#idle !== undefined;
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
    const plan = this.faults.listenPlan();
    if (plan.mode === "no-accept") await this.#listenIdle(plan);
    else {
      // Bind once to own the port (and learn it when 0 was asked); let go if closed.
      await this.#listen();
      if (plan.mode === "closed") await this.#reconcileNow();
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

  /** Where a scheduled fault is in its schedule (undefined when it has none). */
  scheduleOf(kind: FaultKind): ScheduleStatus | undefined {
    return this.faults.scheduleStatus(kind);
  }

  /** Pauses a fault's schedule: its state holds until resumed or forced. */
  pauseSchedule(kind: FaultKind): boolean {
    return this.faults.pauseSchedule(kind);
  }

  /** Resumes a fault's schedule for what was left of its period. */
  resumeSchedule(kind: FaultKind): boolean {
    return this.faults.resumeSchedule(kind);
  }

  /** Puts a scheduled fault on or off now; resolves once the listener matches. */
  async forceSchedule(kind: FaultKind, state: "on" | "off"): Promise<boolean> {
    const had = this.faults.forceSchedule(kind, state);
    await this.settled();
    return had;
  }

  /**
   * Closes every connection and the listener; resolves once all are gone,
   * or once `shutdownMs` (5 s) have passed whatever peers do.
   */
  async close(): Promise<void> {
    if (this.#closed) return this.finished;
    this.#closed = true;
    this.faults.dispose();
    const shutdownMs = this.#options.shutdownMs ?? DEFAULT_SHUTDOWN_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), shutdownMs);
    });
    const done = await Promise.race([
      (async () => {
        await this.#reconciling.catch(() => {});
        await this.#unlisten("close");
        this.#unlistenIdle("close");
        await this.#closeAll("fin", "server closing");
      })(),
      late,
    ]);
    clearTimeout(timer);
    if (done === "late") {
      const open = this.connections();
      this.journal.append("error", {
        message:
          `Cannot close cleanly within ${shutdownMs} ms: ${open.length} connections reset`,
      });
      void this.#unlisten("close");
      this.#unlistenIdle("close");
      for (const connection of open) connection.close("rst", "server closing");
    }
    this.#abort.abort();
    await this.#end.end();
  }

  /** Closes the server at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Handles one decoded frame and returns its reply (an ACK, whose `id`
   * names the record: the connection sends it through the reply stage), or
   * nothing. Subclasses override it.
   */
  protected handleFrame(
    _frame: Frame,
    _connection: Connection,
  ): Frame | void | Promise<Frame | void> {}

  /**
   * Handles one chunk of bytes, undecoded, in raw mode (the `raw` option).
   * Subclasses override it.
   *
   * @deprecated With the `raw` option; take sockets with `adoptSocket`.
   */
  protected handleBytes(
    _chunk: Uint8Array,
    _connection: Connection,
  ): void {}

  /**
   * Takes an accepted socket instead of making a {@linkcode Connection} of
   * it (a proxy joins it to its upstream) and returns true; the default
   * takes none. The subclass then journals, faults and closes it itself.
   */
  protected adoptSocket(_socket: Socket, _id: number): boolean {
    return false;
  }

  /** Called when a connection is accepted. Subclasses may override it. */
  protected handleConnected(_connection: Connection): void {}

  /** Called when a connection is gone. Subclasses may override it. */
  protected handleClosed(_connection: Connection): void {}

  /**
   * Fields added to the `accept_queue_filled` event under `noAccept` (such
   * as the kernel's count of queued connections). Subclasses may override it.
   */
  protected acceptQueueInfo(): Record<string, unknown> | undefined {
    return undefined;
  }

  /** Journals a scheduled fault's transition. Subclasses may override it (flapping says up/down). */
  protected handleTransition(
    status: ScheduleStatus,
    reason: TransitionReason,
  ): void {
    this.journal.append("transition", {
      fault: status.fault,
      state: status.state,
      reason,
      nextMs: status.nextMs,
      paused: status.paused,
    });
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
    const plan = this.faults.listenPlan();
    // Stop accepting before closing what is open: closing can take up to the
    // FIN-then-RST fallback, and a client retrying meanwhile must not get in
    // and outlive the down.
    if (plan.mode === "no-accept") {
      await this.#unlisten("noAccept");
    } else if (plan.mode === "closed") {
      await this.#unlisten(plan.reason);
      this.#unlistenIdle(plan.reason);
    }
    if (plan.closeOpen && this.#connections.size > 0) {
      await this.#closeAll(plan.closeOpen, `fault:${plan.reason}`);
    }
    if (plan.mode === "accept") {
      this.#unlistenIdle("accept");
      if (!this.#server) await this.#listen();
    } else if (plan.mode === "no-accept" && !this.#idle) {
      await this.#listenIdle(plan);
    }
  }

  #listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer(
        { noDelay: true, allowHalfOpen: this.#options.halfOpen ?? false },
        (socket) => this.#accept(socket),
      );
      server.once("error", reject);
      server.listen({
        host: this.#hostname,
        port: this.#port,
        ...(this.#options.backlog !== undefined
          ? { backlog: this.#options.backlog }
          : {}),
      }, () => {
        server.off("error", reject);
        server.on("error", (error) =>
          this.journal.append("error", {
            message: `Listener failed: ${error.message}`,
          }));
        const bound = server.address();
        if (bound && typeof bound === "object") this.#port = bound.port;
        this.#server = server;
        this.journal.append("listening", {
          addr: `${joinHostPort(this.#hostname, this.#port)}`,
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

  // no-accept: a Deno listener (it accepts only when asked, and takes a
  // backlog, unlike node:net) that is never asked.

  async #listenIdle(plan: ListenPlan): Promise<void> {
    const listener = Deno.listen({
      hostname: this.#hostname,
      port: this.#port,
      tcpBacklog: plan.backlog,
    });
    const idle = { listener, fillers: [] as Deno.TcpConn[] };
    this.#idle = idle;
    this.#port = (listener.addr as Deno.NetAddr).port;
    this.journal.append("listening", {
      addr: `${joinHostPort(this.#hostname, this.#port)}`,
      codec: this.codec.name,
      mode: "no-accept",
      backlog: plan.backlog,
      ...(this.label ? { listener: this.label } : {}),
    });
    if (!plan.fillQueue) return;
    const hostname = this.#hostname === "0.0.0.0"
      ? "127.0.0.1"
      : this.#hostname === "::"
      ? "::1"
      : this.#hostname;
    // Linux admits backlog + 1 connections to the accept queue.
    for (let i = 0; i <= plan.backlog; i++) {
      let filler: Deno.TcpConn;
      try {
        filler = await Deno.connect({
          hostname,
          port: this.#port,
          signal: AbortSignal.timeout(2000),
        });
      } catch (error) {
        this.journal.append("error", {
          message: `Cannot fill the accept queue: ${(error as Error).message}`,
        });
        break;
      }
      if (this.#idle !== idle) {
        filler.close();
        return;
      }
      idle.fillers.push(filler);
    }
    this.journal.append("accept_queue_filled", {
      fillers: idle.fillers.length,
      backlog: plan.backlog,
      ...this.acceptQueueInfo(),
    });
  }

  #unlistenIdle(reason: string): void {
    const idle = this.#idle;
    if (!idle) return;
    this.#idle = undefined;
    // Closing the listener resets the connections in its queue.
    idle.listener.close();
    for (const filler of idle.fillers.splice(0)) {
      try {
        filler.close();
      } catch {
        // Already gone.
      }
    }
    if (reason === "accept") return;
    this.journal.append("stopped_listening", {
      reason,
      ...(this.label ? { listener: this.label } : {}),
    });
  }

  #accept(socket: Socket): void {
    if (this.#closed || !this.#server) {
      socket.destroy();
      return;
    }
    const max = this.#options.maxConnections;
    if (max && this.#connections.size >= max) {
      this.journal.append("refused", {
        peer: `${socket.remoteAddress}:${socket.remotePort}`,
        reason: `max connections: ${max} open`,
        ...(this.label ? { listener: this.label } : {}),
      });
      socket.on("error", () => {});
      socket.resetAndDestroy();
      return;
    }
    const id = this.#options.nextConnectionId?.() ?? ++this.#nextId;
    if (this.adoptSocket(socket, id)) return;
    const connection = new Connection(id, socket, this.#host(), this.label);
    this.#connections.set(id, connection);
    this.journal.append("connected", {
      conn: id,
      peer: connection.peer,
      local: connection.local,
      ...(this.label ? { listener: this.label } : {}),
    });
    if (!this.faults.accept(connection)) return;
    this.handleConnected(connection);
  }

  /** What every connection needs from this server: one object, shared. */
  #host(): ConnectionHost {
    if (this.#connectionHost) return this.#connectionHost;
    const options = this.#options;
    return this.#connectionHost = {
      journal: this.journal,
      faults: this.faults,
      codec: this.codec,
      maxBadFrames: options.maxBadFrames ?? 100,
      maxBadRate: options.maxBadRate ??
        (options.maxBadFrames === 0 ? 0 : DEFAULT_MAX_BAD_RATE),
      maxBacklogBytes: options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      replyToBadInput: options.replyToBadInput ?? true,
      onFrame: (frame, conn) => this.handleFrame(frame, conn),
      ...(options.raw
        ? {
          onBytes: (chunk: Uint8Array, conn: Connection) =>
            this.handleBytes(chunk, conn),
        }
        : {}),
      onClosed: (conn) => {
        this.#connections.delete(conn.id);
        this.handleClosed(conn);
      },
    };
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
