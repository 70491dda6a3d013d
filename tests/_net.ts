/**
 * Test helpers: a raw line-JSON (or any codec) TCP peer over node:net, bounded
 * by signals. Used by the tests only.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Codec } from "../core/codecs/codec.ts";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { Frame } from "../core/codecs/frame.ts";

/** A test peer: sends frames, receives decoded frames in order. */
export interface TestPeer extends AsyncDisposable {
  /** The underlying socket. */
  socket: Socket;
  /** Every frame received so far. */
  received: Frame[];
  /** Sends one frame. */
  send(frame: Frame): void;
  /** Writes raw bytes or text. */
  write(data: Uint8Array | string): void;
  /** Resolves with the next frame not yet taken by `next`. */
  next(signal?: AbortSignal): Promise<Frame>;
  /** Resolves once the peer side has closed (FIN or RST); returns how. */
  ended: Promise<"fin" | "rst" | "error">;
  /** Closes with FIN and waits. */
  close(): Promise<void>;
}

/** Connects a test peer to a server. */
export function connectPeer(
  addr: { hostname: string; port: number },
  options: { codec?: Codec | string; localAddress?: string } = {},
): Promise<TestPeer> {
  const codec = typeof options.codec === "object"
    ? options.codec
    : createCodec(options.codec ?? "line-json");
  const decoder = codec.decoder();
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: addr.hostname,
      port: addr.port,
      localAddress: options.localAddress,
    });
    const received: Frame[] = [];
    let taken = 0;
    const waiters: (() => void)[] = [];
    let endedHow: "fin" | "rst" | "error" | undefined;
    const ended = new Promise<"fin" | "rst" | "error">((done) => {
      socket.on("end", () => {
        endedHow ??= "fin";
      });
      socket.on("error", (error: Error & { code?: string }) => {
        endedHow ??= error.code === "ECONNRESET" ? "rst" : "error";
      });
      socket.on("close", () => {
        done(endedHow ?? "fin");
        for (const wake of waiters.splice(0)) wake();
      });
    });
    socket.on("data", (chunk: Uint8Array) => {
      for (const decoded of decoder.push(chunk)) {
        if (decoded.frame) received.push(decoded.frame);
      }
      for (const wake of waiters.splice(0)) wake();
    });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      const peer: TestPeer = {
        socket,
        received,
        ended,
        send: (frame) => socket.write(codec.encode(frame)!),
        write: (data) => socket.write(data),
        async next(signal) {
          while (taken >= received.length) {
            if (socket.destroyed) {
              throw new Error("Peer closed before a frame came");
            }
            signal?.throwIfAborted();
            await new Promise<void>((wake) => {
              waiters.push(wake);
              signal?.addEventListener("abort", () => wake(), { once: true });
            });
          }
          return received[taken++];
        },
        async close() {
          socket.end();
          await ended;
        },
        async [Symbol.asyncDispose]() {
          if (!socket.destroyed) socket.destroy();
          await ended;
        },
      };
      resolve(peer);
    });
  });
}
