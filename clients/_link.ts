/**
 * Client plumbing shared by the reference clients: a {@linkcode Link} to one
 * server that connects (now or after a delay), keeps at most one connection
 * or attempt, and drops it; and the {@linkcode Tasks} a client waits for
 * before it restarts or closes. Private to `clients/`; never re-exported.
 *
 * @module
 */
import {
  connectFrames,
  type FrameConnection,
  type FrameConnectionClosed,
  type FrameConnectionOptions,
} from "./_connection.ts";
import type { Frame } from "../core/codecs/frame.ts";

/**
 * Promises a client started and must see settle before it restarts or
 * closes (connection attempts, closes): tracked, never rejected.
 */
export class Tasks {
  #tracked = new Set<Promise<unknown>>();

  /** Tracks a promise until it settles; its result is ignored. */
  track<T>(promise: Promise<T>): void {
    const tracked = promise.then(() => {}, () => {}).finally(() =>
      this.#tracked.delete(tracked)
    );
    this.#tracked.add(tracked);
  }

  /** Resolves once every tracked promise, and any tracked meanwhile, settled. */
  async settled(): Promise<void> {
    while (this.#tracked.size > 0) {
      await Promise.allSettled([...this.#tracked]);
    }
  }
}

/** Where and how a link connects: the connect options bar the signal and frame handler. */
export type LinkTarget = Omit<FrameConnectionOptions, "signal" | "onFrame">;

/** What a {@linkcode Link} asks of its client. */
export interface LinkHooks {
  /** Whether the link should connect now (checked on every attempt). */
  wanted(): boolean;
  /** An attempt starts: journal it and say where to connect. */
  connecting(): LinkTarget;
  /** The connection is open (it is the link's connection now). */
  opened(connection: FrameConnection): void;
  /** An attempt failed (not called for attempts dropped meanwhile). */
  failed(error: Error): void;
  /** The server closed the link's connection (not called once dropped). */
  closed(connection: FrameConnection, how: FrameConnectionClosed): void;
  /** A frame came on the link's current connection. */
  frame(frame: Frame): void;
}

/**
 * One client link to one server: at most one open connection, one attempt or
 * one scheduled attempt at a time. Attempts and closes are tracked by the
 * client's {@linkcode Tasks}.
 */
export class Link {
  #tasks: Tasks;
  #hooks: LinkHooks;
  #connection?: FrameConnection;
  #connecting?: AbortController;
  #timer?: ReturnType<typeof setTimeout>;

  /** Makes an idle link. */
  constructor(tasks: Tasks, hooks: LinkHooks) {
    this.#tasks = tasks;
    this.#hooks = hooks;
  }

  /** The open connection, if any. */
  get connection(): FrameConnection | undefined {
    return this.#connection;
  }

  /** Whether an attempt is under way. */
  get connecting(): boolean {
    return this.#connecting !== undefined;
  }

  /** Whether an attempt is scheduled (waiting out a delay). */
  get scheduled(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Connects now or after `delayMs`, unless open, connecting, scheduled or
   * not wanted (asked again when the delay is over).
   */
  open(delayMs = 0): void {
    if (this.#connection || this.#connecting || this.#timer) return;
    if (!this.#hooks.wanted()) return;
    if (delayMs > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.open();
      }, delayMs);
      return;
    }
    const abort = new AbortController();
    this.#connecting = abort;
    const target = this.#hooks.connecting();
    let connection: FrameConnection | undefined;
    const attempt = connectFrames({
      ...target,
      signal: abort.signal,
      onFrame: (frame) => {
        if (connection && this.#connection === connection) {
          this.#hooks.frame(frame);
        }
      },
    });
    this.#tasks.track(attempt);
    attempt.then((opened) => {
      if (this.#connecting !== abort) {
        return this.#tasks.track(opened.close("rst"));
      }
      this.#connecting = undefined;
      connection = opened;
      this.#connection = opened;
      this.#tasks.track(opened.closed);
      opened.closed.then((how) => {
        if (this.#connection === opened) this.#hooks.closed(opened, how);
      });
      this.#hooks.opened(opened);
    }, (error: Error) => {
      if (this.#connecting !== abort) return;
      this.#connecting = undefined;
      this.#hooks.failed(error);
    });
  }

  /**
   * Forgets the connection without closing it (the server closed it), and
   * returns it.
   */
  release(): FrameConnection | undefined {
    const connection = this.#connection;
    this.#connection = undefined;
    return connection;
  }

  /**
   * Stops a scheduled or running attempt and closes the connection, if any
   * (tracked). Returns the connection it closed.
   */
  drop(): FrameConnection | undefined {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#connecting?.abort();
    this.#connecting = undefined;
    const connection = this.release();
    if (connection) this.#tasks.track(connection.close());
    return connection;
  }
}
