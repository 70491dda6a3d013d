/**
 * Client plumbing: one TCP connection to a server that carries frames
 * through a codec, with a connect timeout and an optional local address to
 * bind. Used by the reference clients only; never re-exported.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Codec, CodecOptions, Decoder } from "../core/codecs/codec.ts";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { Frame, FrameError } from "../core/codecs/frame.ts";

/** The default connect timeout, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * The codec a client option names: a codec as is, or a codec made by name
 * (default `line-json`) with these options.
 */
export function resolveCodec(
  codec: Codec | string | undefined,
  options: CodecOptions = {},
): Codec {
  return typeof codec === "object"
    ? codec
    : createCodec(codec ?? "line-json", options);
}

/** Options for {@linkcode connectFrames}. */
export interface FrameConnectionOptions {
  /** The server's host. */
  hostname: string;
  /** The server's port. */
  port: number;
  /**
   * A codec, or a codec's name (default `line-json`); a name makes the
   * codec for a client (`role: "client"`).
   */
  codec?: Codec | string;
  /** The local address to bind (a channel's network), if any. */
  localAddress?: string;
  /** Give up connecting after this many milliseconds (default 5000). */
  timeoutMs?: number;
  /** Called with each decoded frame, in order. */
  onFrame?: (frame: Frame) => void;
  /** Called with bytes from the server that did not decode into a frame. */
  onDecodeError?: (error: FrameError) => void;
  /** Aborts connecting, or closes the connection (RST) once open. */
  signal?: AbortSignal;
}

/** How a connection ended. */
export interface FrameConnectionClosed {
  /** Who ended it: our side (`local`) or the server (`peer`). */
  by: "local" | "peer";
  /** `fin` (orderly), `rst` (reset) or `error` (any other socket error). */
  how: "fin" | "rst" | "error";
  /** The socket error's code or message, when there was one. */
  reason?: string;
}

/** One open client connection that sends and receives frames. */
export interface FrameConnection extends AsyncDisposable {
  /** The server's `host:port`. */
  readonly remote: string;
  /** Our `host:port`. */
  readonly local: string;
  /** Whether the connection is gone (or going). */
  readonly isClosed: boolean;
  /** Resolves once the connection is gone, saying how. */
  readonly closed: Promise<FrameConnectionClosed>;
  /**
   * Encodes and writes a frame. Returns false, writing nothing, when the
   * connection is closed or the codec cannot express the frame.
   */
  send(frame: Frame): boolean;
  /** Closes with FIN (default) or RST and waits until it is gone. */
  close(how?: "fin" | "rst"): Promise<FrameConnectionClosed>;
}

function address(host: string | undefined, port: number | undefined): string {
  const h = host ?? "?";
  return `${h.includes(":") ? `[${h}]` : h}:${port ?? 0}`;
}

class SocketFrameConnection implements FrameConnection {
  readonly remote: string;
  readonly local: string;
  readonly closed: Promise<FrameConnectionClosed>;
  #socket: Socket;
  #codec: Codec;
  #decoder: Decoder;
  #ending?: FrameConnectionClosed;

  constructor(socket: Socket, codec: Codec, options: FrameConnectionOptions) {
    this.#socket = socket;
    this.#codec = codec;
    this.#decoder = codec.decoder();
    this.remote = address(socket.remoteAddress, socket.remotePort);
    this.local = address(socket.localAddress, socket.localPort);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      for (const decoded of this.#decoder.push(chunk)) {
        if (decoded.frame) options.onFrame?.(decoded.frame);
        else options.onDecodeError?.(decoded.error);
      }
    });
    socket.on("end", () => {
      this.#ending ??= { by: "peer", how: "fin" };
      if (!socket.writableEnded) socket.end();
    });
    socket.on("error", (error: Error & { code?: string }) => {
      this.#ending ??= {
        by: "peer",
        how: error.code === "ECONNRESET" ? "rst" : "error",
        reason: error.code ?? error.message,
      };
    });
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        options.signal?.removeEventListener("abort", this.#onAbort);
        resolve(this.#ending ?? { by: "peer", how: "fin" });
      });
    });
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  get isClosed(): boolean {
    return this.#ending !== undefined || this.#socket.destroyed;
  }

  send(frame: Frame): boolean {
    if (this.isClosed || this.#socket.writableEnded) return false;
    const bytes = this.#codec.encode(frame);
    if (!bytes) return false;
    this.#socket.write(bytes);
    return true;
  }

  close(how: "fin" | "rst" = "fin"): Promise<FrameConnectionClosed> {
    if (!this.#ending && !this.#socket.destroyed) {
      this.#ending = { by: "local", how };
      if (how === "rst") this.#socket.resetAndDestroy();
      else this.#socket.end(() => this.#socket.destroy());
    }
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onAbort = (): void => void this.close("rst");
}

/**
 * Connects to a server and returns a connection that sends and receives
 * frames through a codec. Rejects with `Cannot connect to host:port: why`
 * when the server refuses, the timeout passes or the signal aborts.
 *
 * @example Usage
 * ```ts ignore
 * import { connectFrames } from "./_connection.ts";
 * await using connection = await connectFrames({
 *   hostname: "127.0.0.1",
 *   port: 7000,
 *   timeoutMs: 1000,
 *   onFrame: (frame) => console.log(frame),
 * });
 * connection.send({ type: "record", id: "r1", data: {} });
 * ```
 */
export function connectFrames(
  options: FrameConnectionOptions,
): Promise<FrameConnection> {
  const codec = resolveCodec(options.codec, { role: "client" });
  const target = address(options.hostname, options.port);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      return reject(
        new Error(`Cannot connect to ${target}: aborted before connecting`),
      );
    }
    const socket = connect({
      host: options.hostname,
      port: options.port,
      localAddress: options.localAddress,
    });
    const fail = (why: string) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.off("connect", onConnect);
      socket.on("error", () => {}); // Late errors of a socket given up on.
      socket.destroy();
      reject(new Error(`Cannot connect to ${target}: ${why}`));
    };
    const onError = (error: Error & { code?: string }) =>
      fail(error.code ?? error.message);
    const onAbort = () => fail("aborted");
    const onConnect = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      resolve(new SocketFrameConnection(socket, codec, options));
    };
    const timer = setTimeout(
      () => fail(`no answer within ${timeoutMs}ms`),
      timeoutMs,
    );
    socket.once("error", onError);
    socket.once("connect", onConnect);
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
