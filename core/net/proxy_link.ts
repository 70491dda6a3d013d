/**
 * The proxy link: one accepted client socket joined to one upstream socket by
 * two pipes, one per direction (`upstream` = client to server, `downstream` =
 * server to client). Each pipe runs one chain of byte steps (the fault
 * engine's pipe of its direction: faults by kind, then the toxics) and keeps
 * TCP's semantics: a FIN passes through the chain in order (half-close, both
 * ways), a reset reaches the other side as a reset, and bytes held in flight
 * are bounded: a pipe stops reading its source while its destination has not
 * drained or its chain holds more than {@linkcode LINK_HIGH_WATER} bytes.
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

/** The bytes a pipe's chain may hold before it stops reading its source. */
export const LINK_HIGH_WATER = 1 << 20;

/** The bytes that may wait in a destination socket before its source pauses. */
export const LINK_WRITE_WATER = 256 * 1024;

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
   * A direction stopped reading its source because its chain holds more
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
   * Makes each direction's chain (the fault engine's byte pipe): it gets
   * every chunk read from the source and the source's FIN, in order, and
   * writes what passes to `next`, the destination.
   */
  wrap?: (stream: LinkStream, next: ChunkSink) => ChunkChain;
}

/** Where a chunk goes: the destination of a direction. */
export interface ChunkSink {
  /** Takes one chunk. */
  write(chunk: Uint8Array): void;
  /** The source's FIN, after every chunk before it. */
  end(): void;
}

/** A direction's chain of byte steps, in front of its destination. */
export interface ChunkChain extends ChunkSink {
  /** Bytes its steps hold now (the source pauses above {@linkcode LINK_HIGH_WATER}). */
  readonly held: number;
  /** The link is gone: its steps stop. */
  stop?(): void;
  /** The names of its steps in force, in order. */
  names?(): string[];
}

/** One direction of a link: a source socket, a chain of steps, a destination. */
class Pipe {
  readonly stream: LinkStream;
  bytesIn = 0;
  bytesOut = 0;
  #link: ProxyLink;
  #source: Socket;
  #dest: Socket;
  #needDrain = false;
  #paused = false;
  #held = false;
  #ended = false;
  #finished = false;
  #chain: ChunkChain;

  constructor(
    stream: LinkStream,
    link: ProxyLink,
    source: Socket,
    dest: Socket,
    wrap?: (stream: LinkStream, next: ChunkSink) => ChunkChain,
  ) {
    this.stream = stream;
    this.#link = link;
    this.#source = source;
    this.#dest = dest;
    const sink: ChunkSink = {
      write: (chunk) => this.#deliver(chunk),
      end: () => this.#finish(),
    };
    this.#chain = wrap
      ? wrap(stream, sink)
      : { write: sink.write, end: sink.end, held: 0 };
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

  /** The names of the steps in force, in order. */
  keys(): string[] {
    return this.#chain.names?.() ?? [];
  }

  /** Stops every step's timers. */
  dispose(): void {
    this.#chain.stop?.();
  }

  #read(chunk: Uint8Array): void {
    this.bytesIn += chunk.length;
    this.#link.events.read?.(this.stream, chunk.length);
    this.#chain.write(chunk);
    if (this.#chain.held > LINK_HIGH_WATER) this.#check();
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
    } else if (this.#paused && !this.#needDrain) this.#check();
  }

  #end(): void {
    this.#ended = true;
    this.#chain.end();
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
    const held = this.#chain.held;
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

  /** The names of the steps in force on one direction, in order. */
  stages(stream: LinkStream): string[] {
    return this.#pipes.get(stream)?.keys() ?? [];
  }

  /** Stops reading the client (its writes fill the TCP window), or reads again. */
  holdClient(held: boolean): void {
    this.#clientHeld = held;
    this.#pipes.get("upstream")?.hold(held);
  }

  /** Writes bytes to the client directly, past the chain. */
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
