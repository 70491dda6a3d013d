/**
 * Test helpers for the fault proxy: an upstream server whose behaviour a test
 * picks, and a raw client that records bytes and how the connection ended.
 * Every wait is bounded by a signal. Used by the tests only.
 *
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { nextWake } from "./_raw_peer.ts";

/** How a socket ended, as the side reading it saw. */
export type EndedHow = "fin" | "rst" | "error";

/** A raw client: writes bytes, collects what it reads, knows how it ended. */
export interface RawClient extends AsyncDisposable {
  /** The socket. */
  socket: Socket;
  /** Bytes read so far. */
  readonly received: Uint8Array;
  /** Resolves once the peer's FIN (or a reset) arrived: how. */
  readEnded: Promise<EndedHow>;
  /** Resolves once the socket is closed: how it ended. */
  closed: Promise<EndedHow>;
  /** Resolves once at least `count` bytes have been read. */
  readAtLeast(count: number, signal: AbortSignal): Promise<Uint8Array>;
}

function track(socket: Socket): RawClient {
  let buffer = new Uint8Array(0);
  const waiters = new Set<() => void>();
  let how: EndedHow | undefined;
  const readEnded = Promise.withResolvers<EndedHow>();
  const closed = new Promise<EndedHow>((done) =>
    socket.on("close", () => {
      readEnded.resolve(how ?? "fin");
      done(how ?? "fin");
      for (const wake of [...waiters]) wake();
    })
  );
  socket.on("data", (chunk: Uint8Array) => {
    const next = new Uint8Array(buffer.length + chunk.length);
    next.set(buffer);
    next.set(chunk, buffer.length);
    buffer = next;
    for (const wake of [...waiters]) wake();
  });
  socket.on("end", () => {
    how ??= "fin";
    readEnded.resolve("fin");
  });
  socket.on("error", (error: Error & { code?: string }) => {
    how ??= error.code === "ECONNRESET" ? "rst" : "error";
    readEnded.resolve(how);
  });
  return {
    socket,
    get received() {
      return buffer;
    },
    readEnded: readEnded.promise,
    closed,
    async readAtLeast(count, signal) {
      while (buffer.length < count) {
        signal.throwIfAborted();
        if (socket.destroyed || socket.readableEnded) {
          throw new Error(
            `Socket ended with ${buffer.length} of ${count} bytes read`,
          );
        }
        await nextWake(waiters, signal);
      }
      return buffer;
    },
    async [Symbol.asyncDispose]() {
      if (!socket.destroyed) socket.destroy();
      await closed;
    },
  };
}

/** Connects a raw client (half-open allowed: it may end its writes and read on). */
export function connectClient(
  addr: { hostname: string; port: number },
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: addr.hostname,
      port: addr.port,
      allowHalfOpen: true,
    });
    const client = track(socket);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(client);
    });
  });
}

/**
 * Asserts nothing listens at `addr`: a connect is refused. A connect that
 * the kernel completes to itself (its local port chosen equal to the port
 * it dials: TCP's self-connect, which a closed loopback port in the
 * ephemeral range allows about once in tens of thousands of tries) is
 * refused too; anything else accepting fails the assertion.
 */
export function assertNotListening(
  addr: { hostname: string; port: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: addr.hostname, port: addr.port });
    socket.once("error", (error: Error & { code?: string }) => {
      if (error.code === "ECONNREFUSED") resolve();
      else reject(error);
    });
    socket.once("connect", () => {
      const self = socket.localPort === addr.port &&
        socket.localAddress === socket.remoteAddress;
      socket.destroy();
      if (self) resolve();
      else {
        reject(
          new Error(
            `Expected nothing to listen on ${addr.hostname}:${addr.port}, but a connect was accepted`,
          ),
        );
      }
    });
  });
}

/** What an upstream test server does with each connection. */
export type UpstreamHandler = (client: RawClient) => void;

/** An upstream test server. */
export interface Upstream extends AsyncDisposable {
  /** Where it listens. */
  addr: { hostname: string; port: number };
  /** `host:port`. */
  address: string;
  /** Its accepted connections, in order. */
  accepted: RawClient[];
  /** Resolves with the `n`th accepted connection (from 1). */
  connection(n: number, signal: AbortSignal): Promise<RawClient>;
}

/** Starts an upstream server on 127.0.0.1, port 0. */
export async function startUpstream(
  handler: UpstreamHandler = echo,
): Promise<Upstream> {
  const accepted: RawClient[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const client = track(socket);
    accepted.push(client);
    handler(client);
    for (const wake of [...waiters]) wake();
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
  );
  const port = (server.address() as { port: number }).port;
  return {
    addr: { hostname: "127.0.0.1", port },
    address: `127.0.0.1:${port}`,
    accepted,
    async connection(n, signal) {
      while (accepted.length < n) {
        signal.throwIfAborted();
        await nextWake(waiters, signal);
      }
      return accepted[n - 1];
    },
    async [Symbol.asyncDispose]() {
      for (const client of accepted) {
        if (!client.socket.destroyed) client.socket.destroy();
      }
      await Promise.all(accepted.map((client) => client.closed));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Echoes every byte; ends its writes when the client ends its. */
export function echo(client: RawClient): void {
  client.socket.on("data", (chunk: Uint8Array) => client.socket.write(chunk));
  client.socket.on("end", () => client.socket.end());
}

/** Seeded bytes (so a failure shows the same bytes again). */
export function bytes(count: number, seed = 1): Uint8Array {
  const out = new Uint8Array(count);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
