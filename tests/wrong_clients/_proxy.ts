/**
 * The proxy the wrong clients put between a reference client and one
 * server: each accepted connection gets its own connection upstream, and
 * what goes over it passes through hooks that can alter, drop or add
 * frames. The runner only sees the servers' side, so to it what a hook does
 * is the client's behaviour.
 *
 * What the client sends is decoded with the server's side of the codec and
 * forwarded encoded as the client's side would, frame by frame (so a frame
 * written with {@linkcode FrameProxy.inject} never lands inside another).
 * What the server sends passes as it is, unless a `toClient` hook reads it:
 * line JSON only (a device codec's replies are not decoded).
 *
 * Test-only: not part of the toolkit's API.
 *
 * @module
 */
import {
  createConnection,
  createServer,
  type Server,
  type Socket,
} from "node:net";
import type { Codec, Decoder } from "../../core/codecs/codec.ts";
import { createCodec } from "../../core/codecs/create_codec.ts";
import type { Frame } from "../../core/codecs/frame.ts";

/** Where a proxied connection goes. */
export interface Upstream {
  /** The server's host. */
  hostname: string;
  /** The server's port. */
  port: number;
  /** The local address to connect from (default: any). */
  localAddress?: string;
}

/** What a hook may do besides returning the frames to forward. */
export interface ProxyLink {
  /** Writes a frame to the client. */
  toClient(frame: Frame): void;
  /** Writes a frame to the server. */
  toServer(frame: Frame): void;
}

/** Hooks of a {@linkcode FrameProxy}: the frames to forward instead of one. */
export interface ProxyHooks {
  /** A frame from the client to the server. */
  toServer?(frame: Frame, link: ProxyLink): Frame[];
  /** A frame from the server to the client (line JSON only). */
  toClient?(frame: Frame, link: ProxyLink): Frame[];
}

/** Options for {@linkcode FrameProxy.start}. */
export interface FrameProxyOptions {
  /** The server, or a function asked at each accepted connection. */
  upstream: Upstream | (() => Upstream);
  /** What to do with frames (default: forward them all). */
  hooks?: ProxyHooks;
  /** The host the proxy listens on, on a port of its own (default 127.0.0.1). */
  hostname?: string;
  /** The wire codec (default `line-json`). */
  codec?: string;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  connected: boolean;
}

function write(socket: Socket, bytes: Uint8Array | undefined): void {
  if (bytes && !socket.destroyed) socket.write(bytes);
}

/** Feeds a socket's bytes to a decoder and each decoded frame to `onFrame`. */
function onFrames(
  socket: Socket,
  decoder: Decoder,
  onFrame: (frame: Frame) => void,
): void {
  socket.on("data", (chunk: Uint8Array) => {
    for (const decoded of decoder.push(chunk)) {
      if (decoded.frame) onFrame(decoded.frame);
    }
  });
}

/** A TCP proxy between a client and one server; see the module doc. */
export class FrameProxy {
  readonly #server: Server;
  readonly #target: () => Upstream;
  readonly #hooks: ProxyHooks;
  /** The server's side: decodes what the client sends, encodes replies. */
  readonly #serverSide: Codec;
  /** The client's side: encodes what goes to the server, decodes replies. */
  readonly #clientSide: Codec;
  readonly #pairs = new Set<Pair>();
  #pending: Frame[] = [];

  private constructor(options: FrameProxyOptions) {
    const { upstream, hooks = {}, codec = "line-json" } = options;
    if (hooks.toClient && codec !== "line-json") {
      throw new RangeError(
        `Cannot alter what the server sends over codec ${codec}: this proxy decodes the client's side only`,
      );
    }
    this.#target = typeof upstream === "function" ? upstream : () => upstream;
    this.#hooks = hooks;
    this.#serverSide = createCodec(codec);
    this.#clientSide = createCodec(codec, { role: "client" });
    this.#server = createServer(
      { noDelay: true },
      (client) => this.#accept(client),
    );
  }

  /** Starts a proxy, listening once it resolves. */
  static start(options: FrameProxyOptions): Promise<FrameProxy> {
    const proxy = new FrameProxy(options);
    return new Promise((resolve, reject) => {
      proxy.#server.once("error", reject);
      proxy.#server.listen(
        { host: options.hostname ?? "127.0.0.1", port: 0 },
        () => {
          proxy.#server.off("error", reject);
          resolve(proxy);
        },
      );
    });
  }

  #accept(client: Socket): void {
    client.pause();
    const { hostname, port, localAddress } = this.#target();
    const upstream = createConnection({
      host: hostname,
      port,
      ...(localAddress ? { localAddress } : {}),
      noDelay: true,
    });
    const pair: Pair = { client, upstream, connected: false };
    this.#pairs.add(pair);
    const link: ProxyLink = {
      toClient: (frame) => write(client, this.#serverSide.encode(frame)),
      toServer: (frame) => write(upstream, this.#clientSide.encode(frame)),
    };
    upstream.once("connect", () => {
      pair.connected = true;
      for (const frame of this.#pending.splice(0)) this.inject(frame);
      client.resume();
    });
    const { toServer, toClient } = this.#hooks;
    onFrames(client, this.#serverSide.decoder(), (frame) => {
      for (const out of toServer ? toServer(frame, link) : [frame]) {
        link.toServer(out);
      }
    });
    if (toClient) {
      onFrames(upstream, this.#clientSide.decoder(), (frame) => {
        for (const out of toClient(frame, link)) link.toClient(out);
      });
    } else {
      upstream.on("data", (chunk: Uint8Array) => write(client, chunk));
    }
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", () => client.resetAndDestroy());
    client.on("error", () => upstream.resetAndDestroy());
    upstream.on("close", drop);
    client.on("close", drop);
  }

  /** The proxy's port. */
  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Writes a frame to the server over every open connection, now or once one is up. */
  inject(frame: Frame): void {
    const open = [...this.#pairs].filter((p) =>
      p.connected && !p.upstream.destroyed
    );
    if (open.length === 0) return void this.#pending.push(frame);
    const bytes = this.#clientSide.encode(frame);
    for (const { upstream } of open) write(upstream, bytes);
  }

  /** Stops accepting: further connections are refused. */
  refuse(): void {
    this.#server.close();
  }

  /** Closes every open connection; new ones are still accepted. */
  drop(): void {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    this.drop();
    if (this.#server.listening) {
      await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    }
  }
}
