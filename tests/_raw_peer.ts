/**
 * Test helper: a raw TCP peer that writes bytes and reads exact byte counts,
 * for device protocols whose replies tests check byte for byte. Every wait
 * is bounded by a signal. Used by the tests only.
 *
 * @module
 */
import { connect, type Socket } from "node:net";

/** A raw test peer. */
export interface RawPeer extends AsyncDisposable {
  /** The underlying socket. */
  socket: Socket;
  /** Writes bytes. */
  write(bytes: Uint8Array): void;
  /** Resolves with the next `count` bytes read. */
  read(count: number, signal: AbortSignal): Promise<Uint8Array>;
  /** Every byte received so far and not taken by `read`. */
  readonly unread: Uint8Array;
}

/** Resolves at the next wake-up of `waiters`, or when `signal` aborts. */
export function nextWake(
  waiters: Set<() => void>,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((done) => {
    const waiter = () => {
      waiters.delete(waiter);
      signal.removeEventListener("abort", waiter);
      done();
    };
    waiters.add(waiter);
    signal.addEventListener("abort", waiter, { once: true });
  });
}

/** Races a promise against a signal, so no wait can hang a test. */
export function within<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      signal.throwIfAborted();
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      });
    }),
  ]);
}

/** Connects a raw peer to a server. */
export function connectRaw(
  addr: { hostname: string; port: number },
): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: addr.hostname, port: addr.port });
    let buffer = new Uint8Array(0);
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const waiter of [...waiters]) waiter();
    };
    const closed = new Promise<void>((done) => socket.on("close", done));
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(buffer.length + chunk.length);
      next.set(buffer);
      next.set(chunk, buffer.length);
      buffer = next;
      wake();
    });
    socket.on("close", wake);
    socket.on("error", () => {});
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve({
        socket,
        get unread() {
          return buffer;
        },
        write: (bytes) => socket.write(bytes),
        async read(count, signal) {
          while (buffer.length < count) {
            signal.throwIfAborted();
            if (socket.destroyed) {
              throw new Error(
                `Peer closed with ${buffer.length} of ${count} bytes read`,
              );
            }
            await nextWake(waiters, signal);
          }
          const out = buffer.slice(0, count);
          buffer = buffer.slice(count);
          return out;
        },
        async [Symbol.asyncDispose]() {
          if (!socket.destroyed) socket.destroy();
          await closed;
        },
      });
    });
  });
}

/** Bytes from hex, spaces and line breaks allowed. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16),
  );
}

/** Hex of bytes, space-separated upper case (`00 02 64 01 13 BC`). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(
    bytes,
    (byte) => byte.toString(16).toUpperCase().padStart(2, "0"),
  ).join(" ");
}
