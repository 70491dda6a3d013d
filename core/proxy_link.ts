/**
 * The proxy link: one accepted client socket joined to one upstream socket by
 * two pipes, one per direction (`upstream` = client to server, `downstream` =
 * server to client). Each pipe runs a chain of byte stages (the toxics of its
 * direction) and keeps TCP's semantics: a FIN passes through on its own
 * (half-close, both ways), a reset reaches the other side as a reset, and
 * bytes held in flight are bounded: a pipe stops reading its source while its
 * destination has not drained or its stages hold more than
 * {@linkcode LINK_HIGH_WATER} bytes.
 *
 * @module
 */
import { connect, type Socket } from "node:net";

/** A direction of a link: `upstream` (client to server) or `downstream`. */
export type LinkStream = "upstream" | "downstream";

/** The two directions, in Toxiproxy's order. */
export const LINK_STREAMS: readonly LinkStream[] = ["upstream", "downstream"];

/** How a link (or one of its sockets) ended. */
export type LinkCloseHow = "fin" | "rst";

/** The bytes a pipe's stages may hold before it stops reading its source. */
export const LINK_HIGH_WATER = 1 << 20;

/** The bytes that may wait in a destination socket before its source pauses. */
export const LINK_WRITE_WATER = 256 * 1024;

/** What a stage hands its output to: the next stage, or the destination. */
export interface StageOutput {
  /** Passes a chunk on. */
  write(chunk: Uint8Array): void;
  /** Passes the source's FIN on (after every chunk written before it). */
  end(): void;
  /** Closes the whole link: both sockets, by FIN or by reset. */
  close(how: LinkCloseHow, reason: string): void;
}

/**
 * One toxic acting on one direction of one link. The pipe calls `write` for
 * every chunk and `end` once for the source's FIN, in order; the stage calls
 * its output's `write`, `end` or `close`, at once or later.
 */
export interface ByteStage {
  /** A chunk arrives from the source side. */
  write(chunk: Uint8Array): void;
  /** The source sent its FIN. */
  end(): void;
  /** Bytes the stage holds now (for backpressure). */
  readonly held: number;
  /**
   * The stage is being removed: hands on at once, in order, what it holds
   * (Toxiproxy drops no data on removal).
   */
  flush(): void;
  /** Stops the stage's timers; it writes nothing after this. */
  dispose(): void;
}

/** Makes the stage of one toxic for one pipe, given the pipe's output to it. */
export type StageFactory = (output: StageOutput) => ByteStage;

/** Byte counts of one link. */
export interface LinkBytes {
  /** Read from the client. */
  upstreamIn: number;
  /** Written to the upstream server. */
  upstreamOut: number;
  /** Read from the upstream server. */
  downstreamIn: number;
  /** Written to the client. */
  downstreamOut: number;
}

/** What a link reports to its owner. */
export interface LinkEvents {
  /** The upstream connection is open. */
  upstreamConnected?(local: string): void;
  /** The upstream connection could not be made; the client is being closed. */
  upstreamFailed?(code: string, message: string): void;
  /** A FIN passed through one direction. */
  halfClosed?(stream: LinkStream): void;
  /**
   * A direction stopped reading its source because its stages hold more
   * than {@linkcode LINK_HIGH_WATER} bytes (once per stop).
   */
  heldBack?(stream: LinkStream, held: number): void;
  /** Bytes were read from a source (for counters). */
  read?(stream: LinkStream, bytes: number): void;
  /** Bytes were written to a destination (for counters). */
  wrote?(stream: LinkStream, bytes: number): void;
  /** Both sockets are gone. */
  closed?(info: LinkClosed): void;
}

/** How a link ended, as its `closed` event says. */
export interface LinkClosed {
  /** FIN (orderly) or RST (reset). */
  how: LinkCloseHow;
  /** Who ended it: `client`, `upstream` or `proxy`. */
  by: "client" | "upstream" | "proxy";
  /** Why, in a word or two. */
  reason: string;
  /** Byte counts. */
  bytes: LinkBytes;
  /** How long it lived, in ms. */
  ms: number;
}

/** Options for {@linkcode ProxyLink}. */
export interface ProxyLinkOptions {
  /** The accepted client socket (made with `allowHalfOpen: true`). */
  client: Socket;
  /** Where to connect. */
  upstream: { hostname: string; port: number };
  /** What to tell the owner. */
  events?: LinkEvents;
  /**
   * Do not connect upstream: read and drop what the client sends, never
   * answer (a black hole). The link ends when the client leaves or it is
   * closed.
   */
  blackHole?: boolean;
  /**
   * Puts a step in front of each direction's stages (the fault engine's
   * byte pipes): it gets every chunk read from the source and writes what
   * passes to `next`.
   */
  wrap?: (stream: LinkStream, next: ChunkSink) => ChunkSink;
}

/** Where a chunk goes: the stages of a direction, or a step before them. */
export interface ChunkSink {
  /** Takes one chunk. */
  write(chunk: Uint8Array): void;
  /** Stops the step's timers (passing on or dropping what it holds). */
  stop?(): void;
}

/** One direction of a link: a source socket, a chain of stages, a destination. */
class Pipe {
  readonly stream: LinkStream;
  bytesIn = 0;
  bytesOut = 0;
  #link: ProxyLink;
  #source: Socket;
  #dest: Socket;
  #stages: { key: string; stage: ByteStage }[] = [];
  #needDrain = false;
  #paused = false;
  #held = false;
  #ended = false;
  #finished = false;
  #entry: ChunkSink;

  constructor(
    stream: LinkStream,
    link: ProxyLink,
    source: Socket,
    dest: Socket,
    wrap?: (stream: LinkStream, next: ChunkSink) => ChunkSink,
  ) {
    this.stream = stream;
    this.#link = link;
    this.#source = source;
    this.#dest = dest;
    const stages: ChunkSink = { write: (chunk) => this.#toStages(chunk) };
    this.#entry = wrap ? wrap(stream, stages) : stages;
  }

  /** Stops (or starts again) reading the source, whatever its backpressure. */
  hold(held: boolean): void {
    this.#held = held;
    if (held) this.#pause();
    else this.#check();
  }

  /** Starts reading the source. */
  start(): void {
    this.#source.on("data", (chunk: Uint8Array) => this.#read(chunk));
    this.#source.on("end", () => this.#end());
    this.#dest.on("drain", () => {
      this.#needDrain = false;
      this.#check();
    });
    this.#source.resume();
  }

  /** The keys of the stages in order. */
  keys(): string[] {
    return this.#stages.map((entry) => entry.key);
  }

  /** Appends a stage at the end of the chain (Toxiproxy's order). */
  add(key: string, factory: StageFactory): void {
    if (this.#finished) return;
    const entry = { key, stage: undefined as unknown as ByteStage };
    entry.stage = factory(this.#output(entry));
    this.#stages.push(entry);
  }

  /** Removes a stage, handing on what it holds first. */
  remove(key: string): void {
    const entry = this.#stages.find((e) => e.key === key);
    if (!entry) return;
    entry.stage.flush();
    entry.stage.dispose();
    const at = this.#stages.indexOf(entry);
    if (at >= 0) this.#stages.splice(at, 1);
    this.#check();
  }

  /** Stops every stage's timers. */
  dispose(): void {
    this.#entry.stop?.();
    for (const entry of this.#stages) entry.stage.dispose();
    this.#stages = [];
  }

  #output(entry: { key: string; stage: ByteStage }): StageOutput {
    return {
      write: (chunk) => {
        const at = this.#stages.indexOf(entry);
        if (at < 0) return;
        const next = this.#stages[at + 1];
        if (next) next.stage.write(chunk);
        else this.#deliver(chunk);
        this.#check();
      },
      end: () => {
        const at = this.#stages.indexOf(entry);
        if (at < 0) return;
        const next = this.#stages[at + 1];
        if (next) next.stage.end();
        else this.#finish();
      },
      close: (how, reason) => this.#link.close(how, reason, "proxy"),
    };
  }

  #read(chunk: Uint8Array): void {
    this.bytesIn += chunk.length;
    this.#link.events.read?.(this.stream, chunk.length);
    this.#entry.write(chunk);
  }

  #toStages(chunk: Uint8Array): void {
    const first = this.#stages[0];
    if (first) {
      first.stage.write(chunk);
      this.#check();
    } else this.#deliver(chunk);
  }

  #deliver(chunk: Uint8Array): void {
    if (this.#finished || this.#dest.destroyed || this.#dest.writableEnded) {
      return;
    }
    this.bytesOut += chunk.length;
    this.#link.events.wrote?.(this.stream, chunk.length);
    // Up to LINK_WRITE_WATER bytes may wait in the socket before the source
    // pauses: pausing at every full 16 KiB buffer costs a turn per chunk.
    this.#dest.write(chunk);
    if (!this.#needDrain && this.#dest.writableLength > LINK_WRITE_WATER) {
      this.#needDrain = true;
      this.#pause();
    }
  }

  #end(): void {
    this.#ended = true;
    const first = this.#stages[0];
    if (first) first.stage.end();
    else this.#finish();
  }

  /** Passes the FIN to the destination (half-close). */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#dest.destroyed || this.#dest.writableEnded) return;
    this.#link.events.halfClosed?.(this.stream);
    this.#dest.end();
  }

  #check(): void {
    if (this.#ended) return;
    let held = 0;
    for (const entry of this.#stages) held += entry.stage.held;
    if (held > LINK_HIGH_WATER && !this.#paused) {
      this.#link.events.heldBack?.(this.stream, held);
    }
    if (this.#held || this.#needDrain || held > LINK_HIGH_WATER) this.#pause();
    else if (this.#paused) {
      this.#paused = false;
      if (!this.#source.destroyed) this.#source.resume();
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#source.pause();
  }
}

function address(host: string | undefined, port: number | undefined): string {
  const h = host ?? "?";
  return `${h.includes(":") ? `[${h}]` : h}:${port ?? 0}`;
}

/**
 * A client joined to an upstream server. The client is held (not read) until
 * the upstream connection is open; if it cannot be opened the client is
 * closed.
 *
 * @example Usage
 * ```ts ignore
 * import { createServer } from "node:net";
 * import { ProxyLink } from "./proxy_link.ts";
 * createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
 *   new ProxyLink({ client, upstream: { hostname: "127.0.0.1", port: 6379 } });
 * }).listen(26379, "127.0.0.1");
 * ```
 */
export class ProxyLink {
  /** The client's `host:port`. */
  readonly peer: string;
  /** The client's host. */
  readonly peerHost: string;
  /** Wall-clock time it was accepted. */
  readonly openedAt: number = Date.now();
  /** What the owner is told. */
  readonly events: LinkEvents;
  /** Resolves once both sockets are gone. */
  readonly finished: Promise<LinkClosed>;
  #client: Socket;
  #upstream?: Socket;
  #pipes = new Map<LinkStream, Pipe>();
  #connected = false;
  #closing?: { how: LinkCloseHow; by: LinkClosed["by"]; reason: string };
  #closed = false;
  #opened = performance.now();
  #resolve!: (closed: LinkClosed) => void;
  #pending: { stream: LinkStream; key: string; factory: StageFactory }[] = [];
  #blackHoleBytes = 0;
  #wrap?: ProxyLinkOptions["wrap"];
  #clientHeld = false;

  /** Joins a client to its upstream (connects at once). */
  constructor(options: ProxyLinkOptions) {
    this.#client = options.client;
    this.events = options.events ?? {};
    this.peerHost = this.#client.remoteAddress ?? "?";
    this.peer = address(this.#client.remoteAddress, this.#client.remotePort);
    this.finished = new Promise((resolve) => this.#resolve = resolve);
    this.#wrap = options.wrap;
    const client = this.#client;
    client.setNoDelay(true);
    client.pause();
    client.on("error", (error: Error & { code?: string }) => {
      this.#failed(error, "client");
    });
    client.on("close", () => this.#socketClosed());
    if (options.blackHole) {
      client.on("data", (chunk: Uint8Array) => {
        this.#blackHoleBytes += chunk.length;
        this.events.read?.("upstream", chunk.length);
      });
      client.on("end", () => this.close("fin", "client:closed", "client"));
      client.resume();
      return;
    }
    const upstream = connect({
      host: options.upstream.hostname,
      port: options.upstream.port,
      noDelay: true,
      allowHalfOpen: true,
    });
    this.#upstream = upstream;
    upstream.pause();
    upstream.on("connect", () => this.#open(upstream));
    upstream.on("error", (error: Error & { code?: string }) => {
      if (!this.#connected) {
        this.events.upstreamFailed?.(
          error.code ?? "error",
          error.message,
        );
        this.close("fin", `upstream:${error.code ?? "failed"}`, "upstream");
        return;
      }
      this.#failed(error, "upstream");
    });
    upstream.on("close", () => this.#socketClosed());
  }

  /** Whether the upstream connection is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Whether the link is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Byte counts so far. */
  bytes(): LinkBytes {
    const up = this.#pipes.get("upstream");
    const down = this.#pipes.get("downstream");
    return {
      upstreamIn: (up?.bytesIn ?? 0) + this.#blackHoleBytes,
      upstreamOut: up?.bytesOut ?? 0,
      downstreamIn: down?.bytesIn ?? 0,
      downstreamOut: down?.bytesOut ?? 0,
    };
  }

  /** The keys of the stages of one direction, in order. */
  stages(stream: LinkStream): string[] {
    return this.#pipes.get(stream)?.keys() ??
      this.#pending.filter((p) => p.stream === stream).map((p) => p.key);
  }

  /** Appends a stage to one direction (kept until the upstream is open). */
  addStage(stream: LinkStream, key: string, factory: StageFactory): void {
    const pipe = this.#pipes.get(stream);
    if (pipe) pipe.add(key, factory);
    else if (!this.#closed) this.#pending.push({ stream, key, factory });
  }

  /** Removes a stage from one direction, handing on what it holds. */
  removeStage(stream: LinkStream, key: string): void {
    this.#pending = this.#pending.filter((p) =>
      p.stream !== stream || p.key !== key
    );
    this.#pipes.get(stream)?.remove(key);
  }

  /** Stops reading the client (its writes fill the TCP window), or reads again. */
  holdClient(held: boolean): void {
    this.#clientHeld = held;
    this.#pipes.get("upstream")?.hold(held);
  }

  /** Writes bytes to the client directly, past the stages. */
  writeToClient(bytes: Uint8Array): boolean {
    const client = this.#client;
    if (this.#closed || client.destroyed || client.writableEnded) return false;
    client.write(bytes);
    return true;
  }

  /**
   * Closes both sockets: `fin` ends them (what is written still goes out),
   * `rst` resets them.
   */
  close(
    how: LinkCloseHow = "fin",
    reason = "proxy",
    by: LinkClosed["by"] = "proxy",
  ): void {
    if (this.#closed) return;
    this.#closing ??= { how, by, reason };
    for (const pipe of this.#pipes.values()) pipe.dispose();
    for (const socket of [this.#client, this.#upstream]) {
      if (!socket || socket.destroyed) continue;
      if (how === "rst") socket.resetAndDestroy();
      else socket.end(() => socket.destroy());
    }
    // A socket that never drains would hold the link open: bounded.
    if (how === "fin") {
      const timer = setTimeout(() => {
        for (const socket of [this.#client, this.#upstream]) {
          socket?.destroy();
        }
      }, 2000);
      void this.finished.then(() => clearTimeout(timer));
    }
  }

  #open(upstream: Socket): void {
    if (this.#closing || this.#closed) {
      upstream.destroy();
      return;
    }
    this.#connected = true;
    upstream.setNoDelay(true);
    this.events.upstreamConnected?.(
      address(upstream.localAddress, upstream.localPort),
    );
    const up = new Pipe("upstream", this, this.#client, upstream, this.#wrap);
    const down = new Pipe(
      "downstream",
      this,
      upstream,
      this.#client,
      this.#wrap,
    );
    if (this.#clientHeld) up.hold(true);
    this.#pipes.set("upstream", up);
    this.#pipes.set("downstream", down);
    for (const { stream, key, factory } of this.#pending) {
      this.#pipes.get(stream)!.add(key, factory);
    }
    this.#pending = [];
    up.start();
    down.start();
  }

  #failed(error: Error & { code?: string }, side: "client" | "upstream") {
    const reset = error.code === "ECONNRESET" || error.code === "EPIPE";
    this.#closing ??= {
      how: reset ? "rst" : "fin",
      by: side,
      reason: `${side}:${error.code ?? error.message}`,
    };
    const other = side === "client" ? this.#upstream : this.#client;
    if (other && !other.destroyed) {
      if (reset) other.resetAndDestroy();
      else other.destroy();
    }
  }

  #socketClosed(): void {
    const client = this.#client;
    const upstream = this.#upstream;
    if (!client.destroyed || (upstream && !upstream.destroyed)) {
      // One side is gone without an error: when it went without ending its
      // writes in order, end the other one too.
      if (client.destroyed && upstream && !upstream.destroyed) {
        if (!this.#connected) upstream.destroy();
        else if (!client.readableEnded) upstream.destroy();
      } else if (upstream?.destroyed && !client.destroyed) {
        if (!this.#connected || !upstream.readableEnded) {
          client.end(() => client.destroy());
        }
      }
      return;
    }
    if (this.#closed) return;
    this.#closed = true;
    for (const pipe of this.#pipes.values()) pipe.dispose();
    const closing = this.#closing ??
      { how: "fin" as const, by: "client" as const, reason: "closed" };
    const info: LinkClosed = {
      ...closing,
      bytes: this.bytes(),
      ms: Math.round(performance.now() - this.#opened),
    };
    this.events.closed?.(info);
    this.#resolve(info);
  }
}
