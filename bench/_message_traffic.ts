/**
 * Message traffic for the message store's benchmark and long tests: agents
 * that receive (ACK every message, sync on push) and senders that send their
 * share in windows, again until each is ACKed. Line-JSON over `node:net`;
 * every wait is bounded by a signal.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { Frame } from "../core/codecs/frame.ts";

/** Where a front listens. */
export interface FrontAddress {
  /** Its host. */
  hostname: string;
  /** Its port. */
  port: number;
}

/** Resolves once `test()` holds, checked each time `subscribe`'s callback runs. */
function until(
  waiters: (() => void)[],
  test: () => boolean,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (test()) return resolve();
      if (signal.aborted) return reject(signal.reason);
      waiters.push(check);
    };
    signal.addEventListener("abort", () => {
      for (const wake of waiters.splice(0)) wake();
    }, { once: true });
    check();
  });
}

/** One line-JSON connection to a front: send frames, take them in order. */
export class TrafficPeer {
  #socket: Socket;
  #frames: Frame[] = [];
  #taken = 0;
  #waiters: (() => void)[] = [];
  #closed: Promise<void>;
  #ended = false;
  /** Called on every frame, before it is queued for {@linkcode TrafficPeer.next}. */
  onFrame?: (frame: Frame) => void;

  private constructor(socket: Socket, keep: boolean) {
    this.#socket = socket;
    const codec = createCodec("line-json");
    const decoder = codec.decoder();
    socket.on("data", (chunk: Uint8Array) => {
      for (const decoded of decoder.push(chunk)) {
        if (!decoded.frame) continue;
        this.onFrame?.(decoded.frame);
        if (keep) this.#frames.push(decoded.frame);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on("error", () => {});
    this.#closed = new Promise((done) =>
      socket.on("close", () => {
        this.#ended = true;
        for (const wake of this.#waiters.splice(0)) wake();
        done();
      })
    );
  }

  /** Connects; `keep` queues frames for `next` (a sender), else only `onFrame` sees them. */
  static connect(
    address: FrontAddress,
    keep = true,
  ): Promise<TrafficPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.hostname, port: address.port });
      socket.setNoDelay(true);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new TrafficPeer(socket, keep));
      });
    });
  }

  /** Sends one frame. */
  send(frame: Frame): void {
    if (!this.#ended) this.#socket.write(JSON.stringify(frame) + "\n");
  }

  /** The next frame not yet taken; throws once the connection is gone. */
  async next(signal: AbortSignal): Promise<Frame> {
    while (this.#taken >= this.#frames.length) {
      if (this.#ended) throw new Error("Connection closed before a frame came");
      signal.throwIfAborted();
      await new Promise<void>((wake) => {
        const abort = () => wake();
        signal.addEventListener("abort", abort, { once: true });
        this.#waiters.push(() => {
          signal.removeEventListener("abort", abort);
          wake();
        });
      });
    }
    return this.#frames[this.#taken++];
  }

  /** Closes with FIN and waits until the socket is gone. */
  async close(): Promise<void> {
    if (!this.#ended) this.#socket.end();
    await this.#closed;
  }
}

/** An agent that receives: ACKs every message at once, syncs on every push. */
export class TrafficAgent {
  /** Its name. */
  readonly name: string;
  /** The ids of every message received, in order, repeats included. */
  readonly received: string[] = [];
  /** `error` frames received. */
  errors = 0;
  /** `welcome` frames received. */
  welcomes = 0;
  #peer?: TrafficPeer;
  #waiters: (() => void)[] = [];

  /** Makes the agent; `connect` connects it. */
  constructor(name: string) {
    this.name = name;
  }

  /** Connects (closing the last connection first) and says hello. */
  async connect(front: FrontAddress, primary: string): Promise<void> {
    await this.close();
    const peer = this.#peer = await TrafficPeer.connect(front, false);
    peer.onFrame = (frame) => {
      if (frame.type === "message") {
        this.received.push(frame.id as string);
        peer.send({ type: "ack", id: frame.id });
      } else if (frame.type === "push") {
        peer.send({ type: "sync" });
      } else if (frame.type === "welcome") {
        this.welcomes++;
      } else if (frame.type === "error") {
        this.errors++;
      }
      for (const wake of this.#waiters.splice(0)) wake();
    };
    peer.send({ type: "hello", agent: this.name, primary });
  }

  /** Says hello again on the same connection. */
  hello(primary: string): void {
    this.#peer?.send({ type: "hello", agent: this.name, primary });
  }

  /** Resolves once `test` holds (checked on each frame), bounded by `signal`. */
  until(test: () => boolean, signal: AbortSignal): Promise<void> {
    return until(this.#waiters, test, signal);
  }

  /** Closes its connection. */
  async close(): Promise<void> {
    await this.#peer?.close();
    this.#peer = undefined;
  }
}

/** Options for {@linkcode sendAll}. */
export interface SendAllOptions {
  /** Message numbers to send (ids are `m<n>`). */
  ids: number[];
  /** The agent message `n` is for. */
  to(n: number): string;
  /** Messages in flight at once (default 100). */
  window?: number;
  /** Waited on after a window with refusals (the store down), before sending again. */
  gate?(): Promise<void>;
  /** Called once per message ACKed. */
  progress?(): void;
  /** Bounds every wait. */
  signal: AbortSignal;
}

/**
 * Sends messages through `peer` (said hello already) in windows, each
 * again until it is ACKed. Resolves with how many sends were refused.
 */
export async function sendAll(
  peer: TrafficPeer,
  options: SendAllOptions,
): Promise<number> {
  const size = options.window ?? 100;
  let left = options.ids;
  let refused = 0;
  while (left.length > 0) {
    const window = left.slice(0, size);
    for (const n of window) {
      peer.send({ type: "send", id: `m${n}`, to: options.to(n), body: { n } });
    }
    const acked = new Set<string>();
    let failed = 0;
    for (let answers = 0; answers < window.length; answers++) {
      const frame = await peer.next(options.signal);
      if (frame.type === "ack") {
        acked.add(frame.id as string);
        options.progress?.();
      } else failed++;
    }
    refused += failed;
    left = [
      ...window.filter((n) => !acked.has(`m${n}`)),
      ...left.slice(window.length),
    ];
    if (failed > 0) await options.gate?.();
  }
  return refused;
}
