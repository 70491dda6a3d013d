/**
 * One accepted TCP connection of a test server: decoding, writing with
 * backpressure, ACKs through the fault engine, and closing by FIN, RST or
 * half-close.
 *
 * @module
 */
import type { Socket } from "node:net";
import { concat } from "./_bytes.ts";
import type { Codec, Decoder } from "./codec.ts";
import {
  CORRUPT_ID_PREFIX,
  errorFrame,
  type Frame,
  type FrameError,
} from "./frame.ts";
import type { CloseHow, FaultContext, FaultEngine } from "./faults.ts";
import type { Journal } from "./journal.ts";

export type { CloseHow } from "./faults.ts";

/** A connection as the admin API lists it. */
export interface ConnectionInfo {
  /** The connection id, from 1 per server. */
  id: number;
  /** The peer's `host:port`. */
  peer: string;
  /** The local `host:port` it was accepted on. */
  local: string;
  /** The listener's label, for servers with several (`A`, `B`, `ml1`). */
  listener?: string;
  /** Wall-clock time it was accepted, ms since the epoch. */
  openedAt: number;
  /** Bytes read. */
  bytesIn: number;
  /** Bytes written. */
  bytesOut: number;
  /** Frames decoded. */
  framesIn: number;
  /** Frames written. */
  framesOut: number;
  /** Whether our side has half-closed. */
  halfClosed: boolean;
  /** Anything the server attached (device, agent, channel). */
  tags: Record<string, string>;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  /** The server's journal. */
  journal: Journal;
  /** The server's faults. */
  faults: FaultEngine;
  /** The server's codec. */
  codec: Codec;
  /** Close a connection after this many bad frames in a row (0: never). */
  maxBadFrames: number;
  /** Send an error frame back for bad input (default true; false: journal only). */
  replyToBadInput?: boolean;
  /** Called for each decoded frame, in order. */
  onFrame(frame: Frame, connection: Connection): void | Promise<void>;
  /**
   * Raw mode: when set, every chunk read goes here as it is, undecoded
   * (`onFrame` is never called). For proxies.
   */
  onBytes?(chunk: Uint8Array, connection: Connection): void;
  /** Called once the connection is gone. */
  onClosed(connection: Connection): void;
}

function address(host: string | undefined, port: number | undefined): string {
  const h = host ?? "?";
  return `${h.includes(":") ? `[${h}]` : h}:${port ?? 0}`;
}

const encoder = new TextEncoder();

function corruptId(id: string): string {
  return `${CORRUPT_ID_PREFIX}${id}`;
}

/** One accepted TCP connection. Servers get these in their frame handler. */
export class Connection {
  /** The connection id, from 1 per server. */
  readonly id: number;
  /** The peer's host. */
  readonly peerHost: string;
  /** The peer's `host:port`. */
  readonly peer: string;
  /** The local `host:port`. */
  readonly local: string;
  /** The listener's label, for servers with several. */
  readonly listener?: string;
  /** Wall-clock time it was accepted. */
  readonly openedAt: number = Date.now();
  /** Anything the server attaches (device id, agent name, channel). */
  readonly tags: Record<string, string> = {};
  #socket: Socket;
  #host: ConnectionHost;
  #decoder: Decoder;
  #bytesIn = 0;
  #bytesOut = 0;
  #framesIn = 0;
  #framesOut = 0;
  #badInRow = 0;
  #halfClosed = false;
  #closing?: { how: CloseHow; by: "server" | "peer"; reason: string };
  #closed = false;
  #queue?: Promise<void>;
  #timer?: ReturnType<typeof setTimeout>;
  /** Delayed replies, in order of when they are due. */
  #delayed: { due: number; send: () => void }[] = [];
  #waitingDrain = false;
  #batch?: (string | Uint8Array)[];
  #paused = false;
  /** The fault context of decisions about the whole connection (no id). */
  readonly #context: FaultContext;

  /** Wraps an accepted socket; the server does this, not you. */
  constructor(
    id: number,
    socket: Socket,
    host: ConnectionHost,
    listener?: string,
  ) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.#decoder = host.codec.decoder();
    this.peerHost = socket.remoteAddress ?? "?";
    this.peer = address(socket.remoteAddress, socket.remotePort);
    this.local = address(socket.localAddress, socket.localPort);
    this.listener = listener;
    this.#context = this.context();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.#read(chunk));
    socket.on("end", () => this.#ended());
    socket.on("error", (error: Error & { code?: string }) => {
      if (this.#closing) return;
      this.#closing = {
        how: error.code === "ECONNRESET" ? "rst" : "fin",
        by: "peer",
        reason: error.code ?? error.message,
      };
    });
    socket.on("close", () => this.#gone());
  }

  /** The context fault decisions about this connection take. */
  context(id?: string): FaultContext {
    return { conn: this.id, peer: this.peer, peerHost: this.peerHost, id };
  }

  /** Whether the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A snapshot for the admin API. */
  info(): ConnectionInfo {
    return {
      id: this.id,
      peer: this.peer,
      local: this.local,
      ...(this.listener ? { listener: this.listener } : {}),
      openedAt: this.openedAt,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      framesIn: this.#framesIn,
      framesOut: this.#framesOut,
      halfClosed: this.#halfClosed,
      tags: { ...this.tags },
    };
  }

  /**
   * Writes a frame (journalled as `frame_out`) unless the connection is
   * black-holed or gone. Returns whether it was written.
   */
  send(frame: Frame): boolean {
    return this.#write(frame, "frame_out", { conn: this.id, frame });
  }

  /**
   * Sends an ACK-like reply through the ACK faults: drop, delay (with
   * jitter), duplicate, corrupt (wrong id), NACK instead (`{type:"nack"}`,
   * journalled as `nack_sent`; codecs without a NACK journal `unencodable`).
   * Journalled as `ack_sent`, `ack_dropped` or `ack_delayed`, each with
   * `fields` added (such as
   * `{ reply: "echo" }`, to tell kinds of reply apart).
   */
  sendAck(
    frame: Frame,
    id: string,
    fields: Record<string, unknown> = {},
  ): void {
    const faults = this.#host.faults;
    const context = this.context(id);
    if (faults.decide("dropAck", context)) {
      this.#host.journal.append("ack_dropped", {
        conn: this.id,
        id,
        ...fields,
      });
      return;
    }
    let reply = frame;
    if (faults.decide("nackAck", context)) reply = { ...reply, type: "nack" };
    if (faults.decide("corruptAck", context)) {
      reply = { ...frame, id: corruptId(id) };
    }
    const copies = faults.decide("duplicateAck", context) ? 2 : 1;
    const delay = faults.rule("delayAck");
    if (delay && faults.decide("delayAck", context)) {
      const ms = delay.ms +
        (delay.jitterMs
          ? faults.draw("delayAck", this.id, 0, delay.jitterMs)
          : 0);
      this.#host.journal.append("ack_delayed", {
        conn: this.id,
        id,
        ms,
        ...fields,
      });
      this.#later(performance.now() + ms, () => {
        for (let i = 0; i < copies; i++) this.#ack(reply, id, fields);
      });
      return;
    }
    for (let i = 0; i < copies; i++) this.#ack(reply, id, fields);
  }

  /** Sends an error frame for bad input (journalled as `frame_out`). */
  sendError(error: FrameError): boolean {
    return this.send(errorFrame(error));
  }

  /** Writes raw bytes (for proxies and device protocols), unless black-holed. */
  writeBytes(bytes: Uint8Array): boolean {
    if (this.#closed || this.#closing || this.#halfClosed) return false;
    if (this.#host.faults.active("blackHole", this.#context)) return false;
    if (this.#batch) this.#batch.push(bytes);
    else this.#push(bytes);
    return true;
  }

  /** Whether written bytes wait for the socket to drain (write backpressure). */
  get writableNeedDrain(): boolean {
    return this.#waitingDrain;
  }

  /**
   * Resolves once written bytes have drained (at once if none wait) or the
   * connection is gone. A proxy pauses its source until then.
   */
  drained(): Promise<void> {
    if (!this.#waitingDrain || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off("drain", done);
        this.#socket.off("close", done);
        resolve();
      };
      this.#socket.once("drain", done);
      this.#socket.once("close", done);
    });
  }

  /** Stops reading: the peer's writes fill the TCP window. */
  pauseReading(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  /** Reads again after {@linkcode Connection.pauseReading}. */
  resumeReading(): void {
    this.#paused = false;
    if (!this.#waitingDrain) this.#socket.resume();
  }

  /** Closes the connection: `fin` (orderly), `rst` (reset) or `half-close`. */
  close(how: CloseHow = "fin", reason = "admin"): void {
    if (this.#closed || this.#closing) return;
    if (how === "rst") this.#batch = undefined;
    else this.#flush();
    if (how === "half-close") {
      if (this.#halfClosed) return;
      this.#halfClosed = true;
      this.#host.journal.append("half_closed", { conn: this.id, reason });
      this.#socket.end();
      return;
    }
    this.#closing = { how, by: "server", reason };
    this.#clearTimers();
    if (how === "rst") this.#socket.resetAndDestroy();
    else this.#socket.end(() => this.#socket.destroy());
  }

  #ack(frame: Frame, id: string, fields: Record<string, unknown>): void {
    const type = frame.type === "nack" ? "nack_sent" : "ack_sent";
    this.#write(frame, type, { conn: this.id, id, frame, ...fields });
  }

  /** Encodes and writes a frame; `event` is what `type` is journalled with. */
  #write(
    frame: Frame,
    type: string,
    event: Record<string, unknown>,
  ): boolean {
    if (this.#closed || this.#closing || this.#halfClosed) return false;
    const journal = this.#host.journal;
    if (this.#host.faults.active("blackHole", this.#context)) {
      journal.append("fault", {
        fault: "blackHole",
        fired: true,
        conn: this.id,
        suppressed: frame.type,
        ...(typeof frame.id === "string" ? { id: frame.id } : {}),
      });
      return false;
    }
    const codec = this.#host.codec;
    const out = codec.encodeText?.(frame) ?? codec.encode(frame);
    if (out === undefined) {
      journal.append("unencodable", { conn: this.id, frame });
      return false;
    }
    this.#framesOut++;
    journal.append(type, event);
    if (this.#batch) this.#batch.push(out);
    else this.#push(typeof out === "string" ? encoder.encode(out) : out);
    return true;
  }

  #push(bytes: Uint8Array): void {
    this.#bytesOut += bytes.length;
    if (this.#socket.write(bytes) || this.#waitingDrain) return;
    this.#waitingDrain = true;
    this.#socket.pause();
    this.#socket.once("drain", () => {
      this.#waitingDrain = false;
      if (!this.#paused) this.#socket.resume();
    });
  }

  /** Writes what replies to one chunk's frames gathered, in one write. */
  #flush(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (!batch || batch.length === 0 || this.#closed) return;
    const parts: Uint8Array[] = [];
    let text = "";
    for (const part of batch) {
      if (typeof part === "string") {
        text += part;
        continue;
      }
      if (text) parts.push(encoder.encode(text));
      text = "";
      parts.push(part);
    }
    if (text) parts.push(encoder.encode(text));
    this.#push(parts.length === 1 ? parts[0] : concat(parts));
  }

  #read(chunk: Uint8Array): void {
    this.#bytesIn += chunk.length;
    if (this.#host.onBytes) {
      if (!this.#closing && !this.#closed) this.#host.onBytes(chunk, this);
      return;
    }
    // Replies to one chunk's frames leave in one write.
    this.#batch = [];
    try {
      for (const decoded of this.#decoder.push(chunk)) {
        if (this.#closing || this.#closed) return;
        if (decoded.error) this.#bad(decoded.error, decoded.raw);
        else this.#frame(decoded.frame, decoded.reply, decoded.handled);
      }
    } finally {
      this.#flush();
    }
  }

  /**
   * Rejects input: journals a `bad_input` event and sends the error frame
   * back (unless `replyToBadInput` is false). The connection stays open (up
   * to the server's bad-frame limit).
   */
  reject(error: FrameError, raw?: string): void {
    this.#bad(error, raw);
  }

  #bad(error: FrameError, raw?: string): void {
    this.#badInRow++;
    this.#host.journal.append("bad_input", {
      conn: this.id,
      code: error.code,
      message: error.message,
      ...(raw !== undefined ? { raw } : {}),
    });
    if (this.#host.replyToBadInput !== false) this.sendError(error);
    const max = this.#host.maxBadFrames;
    if (max > 0 && this.#badInRow >= max) {
      this.close("fin", `${this.#badInRow} bad frames in a row`);
    }
  }

  #frame(frame: Frame, reply?: Frame, handled = false): void {
    this.#badInRow = 0;
    this.#framesIn++;
    this.#host.journal.append("frame_in", { conn: this.id, frame });
    const closeAfter = this.#host.faults.rule("closeAfter");
    const closing = closeAfter !== undefined &&
      this.#framesIn >= closeAfter.frames &&
      this.#host.faults.active("closeAfter", this.#context);
    if (closing) {
      this.#host.journal.append("fault", {
        fault: "closeAfter",
        fired: true,
        conn: this.id,
      });
    }
    this.#handle(frame, reply, handled);
    if (closing) this.close(closeAfter.how ?? "fin", "fault:closeAfter");
  }

  /**
   * Runs the handler in order; first sends the reply the codec says the
   * protocol owes (a login answer), and skips the handler for frames the
   * codec has handled (keep-alives).
   */
  #handle(frame: Frame, reply?: Frame, handled = false): void {
    const run = () => {
      if (reply) this.#answer(reply);
      if (!handled) return this.#host.onFrame(frame, this);
    };
    if (this.#queue) {
      this.#queue = this.#queue.then(run).catch((error) => this.#failed(error));
      return;
    }
    try {
      const result = run();
      if (result instanceof Promise) {
        const queued: Promise<void> = result.catch((error) =>
          this.#failed(error)
        ).finally(() => {
          if (this.#queue === queued) this.#queue = undefined;
        });
        this.#queue = queued;
      }
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Sends a reply the protocol owes; a login answer goes through `rejectLogin`. */
  #answer(reply: Frame): void {
    if (
      reply.type === "login_ack" && reply.accepted !== false &&
      this.#host.faults.decide("rejectLogin", this.#context)
    ) {
      reply = { ...reply, accepted: false };
    }
    this.send(reply);
  }

  #failed(error: unknown): void {
    this.#host.journal.append("error", {
      conn: this.id,
      message: `Handler failed: ${(error as Error)?.message ?? error}`,
    });
  }

  #ended(): void {
    for (const decoded of this.#decoder.end()) {
      if (decoded.error) {
        this.#host.journal.append("bad_input", {
          conn: this.id,
          code: decoded.error.code,
          message: decoded.error.message,
        });
      }
    }
    if (!this.#closing) {
      this.#closing = { how: "fin", by: "peer", reason: "peer" };
    }
    if (!this.#socket.writableEnded) this.#socket.end();
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    const closing = this.#closing ??
      { how: "fin" as const, by: "peer" as const, reason: "peer" };
    this.#host.journal.append("closed", {
      conn: this.id,
      how: closing.how,
      by: closing.by,
      reason: closing.reason,
      framesIn: this.#framesIn,
      framesOut: this.#framesOut,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      ms: Date.now() - this.openedAt,
    });
    this.#host.onClosed(this);
  }

  /**
   * Runs `send` at `due` (monotonic ms). One timer per connection: replies
   * due together leave in one write, whatever their number.
   */
  #later(due: number, send: () => void): void {
    const queue = this.#delayed;
    let at = queue.length;
    while (at > 0 && queue[at - 1].due > due) at--;
    queue.splice(at, 0, { due, send });
    if (at === 0) this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#delayed.length === 0) return;
    const wait = Math.max(0, this.#delayed[0].due - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now() + 0.5;
      let n = 0;
      while (n < this.#delayed.length && this.#delayed[n].due <= now) n++;
      const ready = this.#delayed.splice(0, n);
      this.#batch ??= [];
      try {
        for (const entry of ready) entry.send();
      } finally {
        this.#flush();
      }
      this.#arm();
    }, wait);
  }

  #clearTimers(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#delayed = [];
  }
}
