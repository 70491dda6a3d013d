/**
 * One accepted TCP connection of a test server. The walk of one record is
 * one way: socket -> bytes-in stage -> codec -> journal `frame_in` ->
 * frame-in stage -> server handler -> (`sendReply`) reply stage -> journal ->
 * bytes-out gate -> encode -> bytes-out stage -> write, with backpressure.
 * Each stage of the fault engine is called once per event; the connection
 * knows no fault by name. It closes by FIN, RST or half-close (through the
 * close stage).
 *
 * @module
 */
import type { Socket } from "node:net";
import { concat } from "../codecs/_bytes.ts";
import { encodeUtf8 } from "../codecs/utf8.ts";
import type { Codec, Decoder } from "../codecs/codec.ts";
import { errorFrame, type Frame, type FrameError } from "../codecs/frame.ts";
import {
  type ByteSink,
  type CloseCall,
  type CloseHow,
  DelayQueue,
  type FaultConnection,
  type FaultContext,
  type FaultEngine,
  type FaultPipe,
  type FrameInCall,
  type ReplyCall,
} from "../faults/mod.ts";
import type { Journal } from "../journal/journal.ts";

/**
 * Frames that may wait behind a connection's async handler, with its replies
 * waiting for a delay-ACK fault, before the connection stops reading from
 * its peer.
 */
export const HANDLER_BACKLOG = 256;

export type { CloseHow } from "../faults/mod.ts";

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
  /**
   * Close a connection that sends more than this many bad frames within a
   * second, however many good ones come between (0: never; default 0 here,
   * 100 in {@linkcode TcpServer}).
   */
  maxBadRate?: number;
  /**
   * Reset a connection once this many bytes of its replies wait unsent (the
   * peer does not read them); 0 never (default 0 here, 1 MiB in the server).
   */
  maxBacklogBytes?: number;
  /** Close a connection with no traffic either way for this long, in ms (0: never). */
  idleTimeoutMs?: number;
  /** Send an error frame back for bad input (default true; false: journal only). */
  replyToBadInput?: boolean;
  /**
   * Called for each decoded frame, in order. It returns its reply (an ACK,
   * whose `id` names the record), which goes out through the reply stage as
   * {@linkcode Connection.sendReply} sends it; or nothing.
   */
  onFrame(
    frame: Frame,
    connection: Connection,
  ): Frame | void | Promise<Frame | void>;
  /**
   * Raw mode: when set, every chunk read goes here as it is, undecoded
   * (`onFrame` is never called), and the connection forwards (a proxy).
   */
  onBytes?(chunk: Uint8Array, connection: Connection): void;
  /** Called once the connection is gone. */
  onClosed(connection: Connection): void;
}

function address(host: string | undefined, port: number | undefined): string {
  const h = host ?? "?";
  return `${h.includes(":") ? `[${h}]` : h}:${port ?? 0}`;
}

/**
 * A hot event of a connection, fields as `{ conn, id, frame }` always gave
 * them: a frame in or out (`frame`), a reply sent (`id`, `frame`), dropped
 * (`id`) or delayed (`id`, `ms`). The journal's own fields come last as
 * placeholders (see `Journal.add`): each kind of event has one shape, and
 * none grows a field later (without them the primary took a fifth to a
 * quarter longer per record, docs/performance.md).
 */
function hotEvent(
  conn: number,
  id: string | undefined,
  frame: Frame | undefined,
  ms?: number,
): Record<string, unknown> {
  if (id === undefined) {
    return { conn, frame, seq: 0, time: 0, wall: 0, server: "", type: "" };
  }
  if (frame !== undefined) {
    return { conn, id, frame, seq: 0, time: 0, wall: 0, server: "", type: "" };
  }
  return ms === undefined
    ? { conn, id, seq: 0, time: 0, wall: 0, server: "", type: "" }
    : { conn, id, ms, seq: 0, time: 0, wall: 0, server: "", type: "" };
}

/** Whether an object has no own enumerable field (no allocation). */
function hasNone(fields: Record<string, unknown>): boolean {
  if (fields === NO_FIELDS) return true;
  for (const key in fields) if (Object.hasOwn(fields, key)) return false;
  return true;
}

/** A reply waiting for its delay, in the queue its server's connections share. */
interface DelayedReply {
  to: Connection;
  frame: Frame;
  id: string;
  copies: number;
  fields: Record<string, unknown>;
}

/**
 * The delayed replies of every connection of one host (one server), in one
 * queue with one timer: not a timer per connection (with a 1 ms delay on 50
 * connections, 50 timers a millisecond).
 */
const delaysByHost = new WeakMap<ConnectionHost, DelayQueue<DelayedReply>>();

/** What `sendReply` adds to events when given no fields (never written to). */
const NO_FIELDS: Record<string, unknown> = Object.freeze({});

/** The end of a connection's pipes: the FIN does not pass through them. */
function noEnd(): void {}

/**
 * The connection a socket carries, for the listeners every socket shares
 * (four closures per connection cost more than the connection's own state).
 */
const OWNER = Symbol("connection");

/** An accepted socket with its connection. */
type OwnedSocket = Socket & { [OWNER]: Connection };

/** One accepted TCP connection. Servers get these in their frame handler. */
export class Connection implements FaultConnection {
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
  /** Made at the first chunk read: an idle connection holds none. */
  #decoder?: Decoder;
  #bytesIn = 0;
  #bytesOut = 0;
  #framesIn = 0;
  #framesOut = 0;
  #badInRow = 0;
  #badWindowStart = 0;
  #badInWindow = 0;
  #halfClosed = false;
  #closing?: { how: CloseHow; by: "server" | "peer"; reason: string };
  #closed = false;
  #inputEnded = false;
  #queue?: Promise<void>;
  /** How many of this connection's replies wait in its host's delay queue. */
  #delayedCount = 0;
  #timers?: Set<ReturnType<typeof setTimeout>>;
  #faultState?: Map<string, unknown>;
  #waitingDrain = false;
  #batch?: (string | Uint8Array)[];
  #paused = false;
  #heldForJournal = false;
  /** Frames waiting behind an async handler, and delayed replies; past the limit reading stops. */
  #waiting = 0;
  #heldForHandler = false;
  #in: FaultPipe;
  #out: FaultPipe;
  /**
   * Reused for every reply (reply stage) and frame (frame-in stage); made
   * at the first of each.
   */
  #replyCall?: ReplyCall;
  #frameCall?: FrameInCall;

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
    this.peerHost = socket.remoteAddress ?? "?";
    this.peer = address(socket.remoteAddress, socket.remotePort);
    this.local = address(socket.localAddress, socket.localPort);
    this.listener = listener;
    const input: ByteSink = {
      write: host.onBytes
        ? (chunk) => {
          if (!this.#closing && !this.#closed) host.onBytes!(chunk, this);
        }
        : (chunk) => this.#decode(chunk),
      // The FIN is the socket's own `end` event; it does not pass through.
      end: noEnd,
    };
    this.#in = host.faults.pipe(this, "in", input);
    this.#out = host.faults.pipe(this, "out", {
      write: (chunk) => this.#socketWrite(chunk),
      end: noEnd,
    });
    socket.setNoDelay(true);
    (socket as OwnedSocket)[OWNER] = this;
    socket.on("data", Connection.#onData);
    socket.on("end", Connection.#onEnd);
    socket.on("error", Connection.#onError);
    socket.on("close", Connection.#onClose);
    if (host.idleTimeoutMs) {
      socket.setTimeout(host.idleTimeoutMs, () => {
        this.close("fin", `idle: no traffic for ${host.idleTimeoutMs} ms`);
      });
    }
  }

  static #onData(this: OwnedSocket, chunk: Uint8Array): void {
    this[OWNER].#read(chunk);
  }

  static #onEnd(this: OwnedSocket): void {
    this[OWNER].#ended();
  }

  static #onError(this: OwnedSocket, error: Error & { code?: string }): void {
    const connection = this[OWNER];
    if (connection.#closing) return;
    connection.#closing = {
      how: error.code === "ECONNRESET" ? "rst" : "fin",
      by: "peer",
      reason: error.code ?? error.message,
    };
  }

  static #onClose(this: OwnedSocket): void {
    this[OWNER].#gone();
  }

  /**
   * One chunk read: every event it causes (`frame_in`, `fault`, `ack_sent`)
   * gets one time, read once (see {@linkcode Journal.pinTime}).
   */
  #read(chunk: Uint8Array): void {
    this.#bytesIn += chunk.length;
    const journal = this.#host.journal;
    journal.pinTime();
    try {
      this.#in.write(chunk);
    } finally {
      journal.unpinTime();
    }
    if (journal.congested) this.#holdForJournal();
  }

  /** The connection id, as fault decisions name it. */
  get conn(): number {
    return this.id;
  }

  /** The channel faults can aim at: the listener's label. */
  get channel(): string | undefined {
    return this.listener;
  }

  /** Frames decoded so far. */
  get framesIn(): number {
    return this.#framesIn;
  }

  /** Whether it forwards bytes (raw mode, a proxy) rather than answering. */
  get forwards(): boolean {
    return this.#host.onBytes !== undefined;
  }

  /** Per-connection state of faults, by kind. */
  get faultState(): Map<string, unknown> {
    return this.#faultState ??= new Map();
  }

  /** The context fault decisions about this connection take. */
  context(id?: string): FaultContext {
    return { conn: this.id, peer: this.peer, peerHost: this.peerHost, id };
  }

  /** Whether the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the connection is gone or closing (no more faults act on it). */
  get closing(): boolean {
    return this.#closed || this.#closing !== undefined;
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
   * Writes a frame (journalled as `frame_out`) unless a fault keeps it in
   * or the connection is gone. Returns whether it was written.
   */
  send(frame: Frame): boolean {
    return this.#write(frame, "frame_out", hotEvent(this.id, undefined, frame));
  }

  /**
   * Sends an ACK-like reply through the reply stage (drop, NACK, corrupt,
   * duplicate, delay with jitter: see `docs/faults.md`): an ACK, or another
   * reply that plays its part, such as a watchdog echo. Journalled as
   * `ack_sent` (`nack_sent` for a NACK; codecs without one journal
   * `unencodable`), `ack_dropped` or `ack_delayed`, each with `fields` added
   * (such as `{ reply: "echo" }`, to tell kinds of reply apart).
   */
  sendReply(
    frame: Frame,
    id: string,
    fields: Record<string, unknown> = NO_FIELDS,
  ): void {
    const call = this.#replyCall ??= {
      conn: this,
      id,
      given: frame,
      frame,
      drop: false,
      copies: 1,
      delayMs: -1,
    };
    call.id = id;
    call.given = frame;
    call.frame = frame;
    call.drop = false;
    call.copies = 1;
    call.delayMs = -1;
    this.#host.faults.reply(call);
    const journal = this.#host.journal;
    if (call.drop) {
      journal.add(
        "ack_dropped",
        hasNone(fields)
          ? hotEvent(this.id, id, undefined)
          : { conn: this.id, id, ...fields },
      );
      return;
    }
    const reply = call.frame;
    const copies = call.copies;
    if (call.delayMs >= 0) {
      const ms = call.delayMs;
      journal.add(
        "ack_delayed",
        hasNone(fields)
          ? hotEvent(this.id, id, undefined, ms)
          : { conn: this.id, id, ms, ...fields },
      );
      let delays = delaysByHost.get(this.#host);
      if (!delays) {
        delays = new DelayQueue({ deliver: Connection.#sendDelayed });
        delaysByHost.set(this.#host, delays);
      }
      this.#delayedCount++;
      this.#wait();
      delays.push(journal.now() + ms, {
        to: this,
        frame: reply,
        id,
        copies,
        fields,
      });
      return;
    }
    for (let i = 0; i < copies; i++) this.#ack(reply, id, fields);
  }
  /**
   * Sends a reply through the reply stage, as {@linkcode Connection.sendReply}.
   *
   * @deprecated Use {@linkcode Connection.sendReply}: the name said "ACK",
   * but it sends every ACK-like reply (echoes too).
   */
  sendAck(
    frame: Frame,
    id: string,
    fields: Record<string, unknown> = NO_FIELDS,
  ): void {
    this.sendReply(frame, id, fields);
  }

  /** Sends an error frame for bad input (journalled as `frame_out`). */
  sendError(error: FrameError): boolean {
    return this.send(errorFrame(error));
  }

  /** Writes raw bytes (for proxies and device protocols) through the bytes-out stage. */
  writeBytes(bytes: Uint8Array): boolean {
    if (this.#closed || this.#closing || this.#halfClosed) return false;
    if (!this.#host.faults.gate(this, "bytes", undefined, bytes.length)) {
      return false;
    }
    if (this.#batch) this.#batch.push(bytes);
    else this.#out.write(bytes);
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
    this.#resume();
  }

  /** Reads again unless paused, waiting to write, or held for the journal. */
  #resume(): void {
    if (
      !this.#paused && !this.#waitingDrain && !this.#heldForJournal &&
      !this.#heldForHandler && !this.#closed
    ) this.#socket.resume();
  }

  /**
   * Backpressure from the journal file: stops reading until the file sink
   * catches up, so a flood is slowed to the disk's pace, not dropped.
   */
  #holdForJournal(): void {
    if (this.#heldForJournal) return;
    this.#heldForJournal = true;
    this.#socket.pause();
    void this.#host.journal.whenUncongested().then(() => {
      this.#heldForJournal = false;
      this.#resume();
    });
  }

  /** Runs `fn` every `ms` until the connection is gone. */
  every(ms: number, fn: () => void): void {
    if (this.#closed) return;
    (this.#timers ??= new Set()).add(setInterval(fn, ms));
  }

  /** Runs `fn` once after `ms`, unless the connection is gone first. */
  after(ms: number, fn: () => void): void {
    if (this.#closed) return;
    const timers = this.#timers ??= new Set();
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  /**
   * Closes the connection: `fin` (orderly), `rst` (reset) or `half-close`.
   * A FIN or RST goes through the close stage (which may turn it into RST,
   * or make it late).
   */
  close(how: CloseHow = "fin", reason = "admin"): void {
    if (this.#closed) return;
    if (this.#closing) {
      // A FIN close may wait forever on a peer that reads nothing (the FIN
      // queues behind unsent bytes): a reset asked for now still happens.
      if (how === "rst" && this.#closing.how !== "rst") this.#reset();
      return;
    }
    if (how === "half-close") {
      this.#flush();
      if (this.#halfClosed) return;
      this.#halfClosed = true;
      this.#host.journal.append("half_closed", { conn: this.id, reason });
      this.#socket.end();
      return;
    }
    const faults = this.#host.faults;
    if (faults.closeHooks) {
      const call: CloseCall = { conn: this, how, delayMs: 0 };
      faults.closing(call);
      how = call.how;
      if (call.delayMs > 0) {
        const final = how;
        this.#flush();
        this.#closing = { how: final, by: "server", reason };
        this.#dropDelayed();
        this.after(call.delayMs, () => this.#shut(final));
        return;
      }
    }
    if (how === "rst") this.#batch = undefined;
    else this.#flush();
    this.#closing = { how, by: "server", reason };
    this.#clearTimers();
    this.#shut(how);
  }

  /** Resets now, whatever close is under way; the reason already given stays. */
  #reset(reason?: string): void {
    if (this.#closed) return;
    this.#batch = undefined;
    if (this.#closing) this.#closing.how = "rst";
    else {this.#closing = {
        how: "rst",
        by: "server",
        reason: reason ?? "admin",
      };}
    this.#clearTimers();
    this.#shut("rst");
  }

  #shut(how: "fin" | "rst"): void {
    this.#in.stop();
    this.#out.stop();
    if (how === "rst") this.#socket.resetAndDestroy();
    else this.#socket.end(() => this.#socket.destroy());
  }

  #ack(frame: Frame, id: string, fields: Record<string, unknown>): void {
    const type = frame.type === "nack" ? "nack_sent" : "ack_sent";
    this.#write(
      frame,
      type,
      hasNone(fields)
        ? hotEvent(this.id, id, frame)
        : { conn: this.id, id, frame, ...fields },
    );
  }

  /** Encodes and writes a frame; `event` is what `type` is journalled with. */
  #write(
    frame: Frame,
    type: string,
    event: Record<string, unknown>,
  ): boolean {
    if (this.#closed || this.#closing || this.#halfClosed) return false;
    const id = typeof frame.id === "string" ? frame.id : undefined;
    if (!this.#host.faults.gate(this, frame.type, id, 0)) return false;
    const codec = this.#host.codec;
    const journal = this.#host.journal;
    const out = codec.encodeText?.(frame) ?? codec.encode(frame);
    if (out === undefined) {
      journal.append("unencodable", { conn: this.id, frame });
      return false;
    }
    this.#framesOut++;
    journal.add(type, event);
    if (this.#batch) this.#batch.push(out);
    else this.#out.write(typeof out === "string" ? encodeUtf8(out) : out);
    return true;
  }

  /** The end of the bytes-out stage: the socket, with backpressure. */
  #socketWrite(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#bytesOut += bytes.length;
    if (this.#socket.write(bytes)) return;
    const max = this.#host.maxBacklogBytes;
    const backlog = this.#socket.writableLength;
    if (max && backlog > max && this.#closing?.how !== "rst") {
      this.#host.journal.append("backlog_exceeded", {
        conn: this.id,
        bytes: backlog,
        limit: max,
      });
      this.#reset(
        `backlog: ${backlog} bytes of replies unread, over the limit of ${max}`,
      );
      return;
    }
    if (this.#waitingDrain) return;
    this.#waitingDrain = true;
    this.#socket.pause();
    this.#socket.once("drain", () => {
      this.#waitingDrain = false;
      this.#resume();
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
      if (text) parts.push(encodeUtf8(text));
      text = "";
      parts.push(part);
    }
    if (text) parts.push(encodeUtf8(text));
    this.#out.write(parts.length === 1 ? parts[0] : concat(parts));
  }

  /** The end of the bytes-in stage: the codec. */
  #decode(chunk: Uint8Array): void {
    // Replies to one chunk's frames leave in one write.
    this.#batch = [];
    try {
      const decoder = this.#decoder ??= this.#host.codec.decoder();
      for (const decoded of decoder.push(chunk)) {
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
      return;
    }
    const rate = this.#host.maxBadRate;
    if (!rate) return;
    const now = performance.now();
    if (now - this.#badWindowStart >= 1000) {
      this.#badWindowStart = now;
      this.#badInWindow = 0;
    }
    if (++this.#badInWindow > rate) {
      this.close("fin", `more than ${rate} bad frames a second`);
    }
  }

  #frame(frame: Frame, reply?: Frame, handled = false): void {
    this.#badInRow = 0;
    this.#framesIn++;
    this.#host.journal.add("frame_in", hotEvent(this.id, undefined, frame));
    const call = this.#frameCall ??= { conn: this, frame };
    call.frame = frame;
    call.owed = reply;
    call.close = undefined;
    this.#host.faults.frameIn(call);
    const close = call.close as FrameInCall["close"];
    this.#handle(frame, call.owed, handled);
    if (close) this.close(close.how, close.reason);
  }

  /**
   * Runs the handler in order (after an async one has finished); first sends
   * the reply the codec says the protocol owes (a login answer), and skips
   * the handler for frames the codec has handled (keep-alives).
   */
  #handle(frame: Frame, owed?: Frame, handled = false): void {
    if (this.#queue) {
      this.#wait();
      this.#queue = this.#queue.then(() => this.#run(frame, owed, handled))
        .catch((error) => this.#failed(error))
        .finally(() => this.#waited());
      return;
    }
    try {
      const result = this.#run(frame, owed, handled);
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

  /**
   * A frame waits behind an async handler, or a reply for its delay (a
   * delay-ACK fault). Past {@linkcode HANDLER_BACKLOG} of them reading stops
   * (journalled `reading_held`), so a peer cannot grow the queue faster than
   * the handler answers or the delay lets replies go; only the frames of
   * reads already made are decoded meanwhile.
   */
  #wait(): void {
    if (++this.#waiting < HANDLER_BACKLOG || this.#heldForHandler) return;
    this.#heldForHandler = true;
    this.#socket.pause();
    this.#host.journal.append("reading_held", {
      conn: this.id,
      waiting: this.#waiting,
    });
  }

  /** A waiting frame was handled (or reply sent): read again once half the backlog is gone. */
  #waited(): void {
    this.#waiting--;
    if (!this.#heldForHandler || this.#waiting > HANDLER_BACKLOG / 2) return;
    this.#heldForHandler = false;
    this.#host.journal.append("reading_resumed", {
      conn: this.id,
      waiting: this.#waiting,
    });
    this.#resume();
  }

  /** Sends the owed reply, runs the handler, and sends the reply it returns. */
  #run(frame: Frame, owed?: Frame, handled = false): void | Promise<void> {
    if (owed) this.send(owed);
    if (handled) return;
    const result = this.#host.onFrame(frame, this);
    if (result === undefined) return;
    if (result instanceof Promise) {
      return result.then((reply) => {
        if (reply) this.sendReply(reply, String(reply.id));
      });
    }
    this.sendReply(result, String(result.id));
  }

  #failed(error: unknown): void {
    this.#host.journal.append("error", {
      conn: this.id,
      message: `Handler failed: ${(error as Error)?.message ?? error}`,
    });
  }

  /** Journals what the decoder holds when input ends: a frame cut short is `truncated`. */
  #endInput(): void {
    if (this.#inputEnded || this.#host.onBytes) return;
    this.#inputEnded = true;
    // No bytes came, so no decoder was made and nothing is pending.
    const decoder = this.#decoder;
    if (!decoder) return;
    for (const decoded of decoder.end()) {
      if (decoded.error) {
        this.#host.journal.append("bad_input", {
          conn: this.id,
          code: decoded.error.code,
          message: decoded.error.message,
        });
      }
    }
  }

  #ended(): void {
    this.#endInput();
    if (!this.#closing) {
      this.#closing = { how: "fin", by: "peer", reason: "peer" };
    }
    if (!this.#socket.writableEnded) this.#socket.end();
  }

  #gone(): void {
    if (this.#closed) return;
    // A reset in the middle of a frame ends input too (no `end` event).
    if (this.#closing?.by !== "server") this.#endInput();
    this.#closed = true;
    this.#clearTimers();
    this.#in.stop();
    this.#out.stop();
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
   * Sends the delayed replies now due, of every connection of a host: each
   * connection's in one write, all with one time (see `Journal.pinTime`).
   */
  static #sendDelayed(replies: DelayedReply[]): void {
    if (replies.length === 0) return;
    const touched: Connection[] = [];
    const journal = replies[0].to.#host.journal;
    journal.pinTime();
    try {
      for (const { to, frame, id, copies, fields } of replies) {
        to.#delayedCount--;
        to.#waited();
        if (!to.#batch) {
          to.#batch = [];
          touched.push(to);
        }
        try {
          for (let i = 0; i < copies; i++) to.#ack(frame, id, fields);
        } catch (error) {
          // One connection's failure must not cost the others in the batch
          // (the queue is the server's) their replies.
          journal.append("error", {
            conn: to.id,
            id,
            message: `Cannot send a delayed reply: ${
              (error as Error)?.message ?? error
            }`,
          });
        }
      }
    } finally {
      journal.unpinTime();
      for (const connection of touched) connection.#flush();
    }
  }

  /** Forgets this connection's replies still waiting for their delay. */
  #dropDelayed(): void {
    if (this.#delayedCount === 0) return;
    delaysByHost.get(this.#host)?.removeWhere((reply) => reply.to === this);
    // They wait no more: a connection still closing may read again (one
    // gone journals no `reading_resumed` after its `closed`).
    this.#waiting -= this.#delayedCount - 1;
    this.#delayedCount = 0;
    if (this.#closed) this.#waiting--;
    else this.#waited();
  }

  #clearTimers(): void {
    this.#dropDelayed();
    if (!this.#timers) return;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
