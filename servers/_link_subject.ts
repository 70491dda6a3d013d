/**
 * A proxy link as the fault engine sees it, shared by the proxy server's
 * named proxies and the flapping server's proxy mode.
 *
 * @module
 */
import type { Socket } from "node:net";
import type { ConnectionInfo } from "../core/server/connection.ts";
import type { Journal } from "../core/journal/journal.ts";
import type {
  CloseHow,
  FaultConnection,
  FaultEngine,
} from "../core/faults/mod.ts";
import type {
  ChunkChain,
  ChunkSink,
  LinkCloseHow,
  LinkStream,
  ProxyLink,
} from "../core/net/proxy_link.ts";

/**
 * Runs the fault engine's accept stage on an accepted socket. Returns its
 * subject when the link may be made, or undefined when a fault (reset,
 * refuse) took the socket: its `closed` event is journalled once it is gone,
 * with `fields` and `by`.
 */
export function acceptSubject(
  faults: FaultEngine,
  journal: Journal,
  socket: Socket,
  ids: { conn: number; peer: string },
  closed: { by: string; fields?: Record<string, unknown> },
): LinkSubject | undefined {
  const subject = new LinkSubject(ids.conn, socket, ids.peer);
  if (faults.accept(subject)) return subject;
  socket.on("close", () => {
    subject.dispose();
    journal.append("closed", {
      conn: ids.conn,
      ...closed.fields,
      how: subject.closedHow ?? "fin",
      by: closed.by,
      reason: subject.closedReason ?? "fault",
    });
  });
  return undefined;
}

/** A link as the admin API lists it among connections. */
export function linkInfo(
  id: number,
  link: ProxyLink,
  fields: {
    peer: string;
    local: string;
    listener?: string;
    tags: Record<string, string>;
  },
): ConnectionInfo {
  const bytes = link.bytes();
  return {
    id,
    peer: fields.peer,
    local: fields.local,
    ...(fields.listener !== undefined ? { listener: fields.listener } : {}),
    openedAt: link.openedAt,
    bytesIn: bytes.upstreamIn,
    bytesOut: bytes.downstreamOut,
    framesIn: 0,
    framesOut: 0,
    halfClosed: false,
    tags: fields.tags,
  };
}

/**
 * The fault engine's byte steps in front of a link's two directions: the
 * bytes-in stage on `upstream`, the bytes-out stage (and its gate) on
 * `downstream`. Pass it as {@linkcode ProxyLink}'s `wrap`.
 */
export function engineSteps(
  faults: FaultEngine,
  conn: FaultConnection,
): (stream: LinkStream, next: ChunkSink) => ChunkChain {
  return (stream, next) => {
    if (stream === "upstream") return faults.pipe(conn, "in", next);
    return faults.pipe(conn, "out", {
      write: (chunk) => {
        if (faults.gate(conn, "bytes", undefined, chunk.length)) {
          next.write(chunk);
        }
      },
      end: () => next.end(),
    });
  };
}

/**
 * A proxy link as the fault engine sees it: who it is, and what a fault may
 * do to it (close it, hold its reads, write to its client, run timers).
 */
export class LinkSubject implements FaultConnection {
  readonly conn: number;
  readonly peerHost: string;
  readonly peer: string;
  readonly framesIn = 0;
  readonly forwards = true;
  readonly faultState: Map<string, unknown> = new Map();
  closedHow?: LinkCloseHow;
  closedReason?: string;
  #socket: Socket;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #link?: ProxyLink;
  #held = false;

  /** The link, once made (accept-stage faults act before it is). */
  get link(): ProxyLink | undefined {
    return this.#link;
  }

  set link(link: ProxyLink) {
    this.#link = link;
    if (this.#held) link.holdClient(true);
  }

  constructor(id: number, socket: Socket, peer: string) {
    this.conn = id;
    this.#socket = socket;
    this.peer = peer;
    this.peerHost = socket.remoteAddress ?? "?";
  }

  get closing(): boolean {
    return this.closedHow !== undefined || (this.link?.closed ?? false) ||
      this.#socket.destroyed;
  }

  close(how: CloseHow, reason: string): void {
    const final: LinkCloseHow = how === "rst" ? "rst" : "fin";
    this.closedHow ??= final;
    this.closedReason ??= reason;
    if (this.link) return this.link.close(final, reason, "proxy");
    this.#socket.on("error", () => {});
    if (final === "rst") this.#socket.resetAndDestroy();
    else this.#socket.end(() => this.#socket.destroy());
  }

  pauseReading(): void {
    this.#held = true;
    this.link?.holdClient(true);
  }

  resumeReading(): void {
    this.#held = false;
    this.link?.holdClient(false);
  }

  writeBytes(bytes: Uint8Array): boolean {
    return this.link?.writeToClient(bytes) ?? false;
  }

  every(ms: number, fn: () => void): void {
    if (!this.closing) this.#timers.add(setInterval(fn, ms));
  }

  after(ms: number, fn: () => void): void {
    if (this.closing) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  /** Stops its timers (the link is gone). */
  dispose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
