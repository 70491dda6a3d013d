/**
 * The reference SCADA client with two channels (behaviours DC-1 to DC-10):
 * one server reachable over two independent networks, channel A (the first
 * adapter) and channel B (the second).
 *
 * - It connects both channels at once (DC-1); the first one connected is the
 *   active channel, the other the alternate (DC-2).
 * - Data goes over the active channel only (DC-3). The alternate carries
 *   watchdogs every `watchdogPeriodMs`, which the server echoes (DC-4). The
 *   active channel carries a watchdog only when no data went over it since
 *   the last tick (`activeWatchdog: "idle"`, the default): data ACKs prove it
 *   alive while data flows, watchdogs while it is idle.
 * - A channel fails when its connection closes or errors, or when a watchdog
 *   or a data frame it carries gets no echo or ACK within
 *   `watchdogTimeoutMs` (DC-10; a later echo answers every earlier watchdog).
 * - When the active channel fails, the alternate becomes active and every
 *   unacknowledged data frame is sent again on it (DC-5). The application
 *   sees each message once: {@linkcode DualChannelClient.send} resolves
 *   exactly once, on the first ACK for its id from either channel; later
 *   ACKs for it are ignored (journalled as `ack_ignored`).
 * - A broken channel is connected again every `retryMs` and comes back as
 *   the alternate (DC-6), unless it is the preferred channel: then traffic
 *   moves back to it as soon as it answers its first watchdog (DC-7).
 * - The preferred channel is set by network address or by adapter number
 *   (DC-8); the address wins unless it is unset or matches both or neither
 *   channel, and then the number decides (DC-9). See
 *   {@linkcode preferredChannel}.
 *
 * Every step is written to the client's journal (`connected`, `active`,
 * `watchdog_sent`, `data_sent`, `delivered`, `channel_failed`, ...), so tests
 * wait on it as they do on a server's.
 *
 * @example Against a watchdog-echo server
 * ```ts ignore
 * import { startDualChannelClient } from "./dual_channel_client.ts";
 * await using client = await startDualChannelClient({
 *   channels: {
 *     A: { hostname: "127.0.1.1", port: 7040, localAddress: "127.0.1.2" },
 *     B: { hostname: "127.0.2.1", port: 7040, localAddress: "127.0.2.2" },
 *   },
 *   watchdogPeriodMs: 200,
 *   watchdogTimeoutMs: 1000,
 *   preferredNetNr: 1,
 * });
 * await client.send("m1", { value: 42 }); // resolves once ACKed
 * ```
 *
 * @module
 */
import type { Codec } from "../core/codecs/codec.ts";
import type { Frame } from "../core/codecs/frame.ts";
import type { Journal, JournalEvent } from "../core/journal/journal.ts";
import { ServerEnd } from "../core/server/server_end.ts";
import { joinHostPort } from "../core/net/host_port.ts";
import { type Channel, CHANNELS } from "../servers/watchdog_echo.ts";
import { resolveCodec } from "./_connection.ts";
import { Link, Tasks } from "./_link.ts";
import { msOption } from "./_options.ts";

import {
  type ChannelEndpoint,
  type Preference,
  preferredChannel,
} from "./preferred_channel.ts";

export type { Channel };

/** When the active channel carries watchdogs (the alternate always does). */
export type ActiveWatchdog = "idle" | "always" | "never";

/** Options for {@linkcode DualChannelClient}. */
export interface DualChannelClientOptions {
  /** Channel A (the first adapter) and channel B (the second). */
  channels: Record<Channel, ChannelEndpoint>;
  /** Send a watchdog this often, in ms (default 1000). */
  watchdogPeriodMs?: number;
  /** A channel fails when a watchdog or data frame gets no answer within this many ms (default 3000). */
  watchdogTimeoutMs?: number;
  /** Connect a broken channel again this often, in ms (default 2000). */
  retryMs?: number;
  /** Give up a connection attempt after this many ms (default: `watchdogTimeoutMs`). */
  connectTimeoutMs?: number;
  /**
   * The preferred network (`PreferredNetAddr`): an IPv4 network address
   * whose trailing zero octets are wildcards (`172.16.0.0` is 172.16.x.x),
   * or `address/bits`. A channel is on it when its local or server address
   * is. See {@linkcode preferredChannel}.
   */
  preferredNetAddr?: string;
  /** The preferred adapter (`PreferredNetNr`): 1 is channel A, 2 is channel B. */
  preferredNetNr?: number;
  /** When the active channel carries watchdogs: `idle` (default), `always`, `never`. */
  activeWatchdog?: ActiveWatchdog;
  /** The client id sent in `{"type":"hello","client":...,"channel":...}` (default `dual-channel`). */
  client?: string;
  /** A codec, or a codec's name (default `line-json`). */
  codec?: Codec | string;
  /** The name written in the journal's events (default `dual_channel`). */
  name?: string;
  /** A journal to write to (default: a new one). */
  journal?: Journal;
  /** Called with every journal event of the client, as it happens. */
  onEvent?: (event: JournalEvent) => void;
  /** Closes the client when aborted. */
  signal?: AbortSignal;
}
/** One channel as {@linkcode DualChannelClient.state} shows it. */
export interface ChannelState {
  /** `active`, `alternate`, `connecting` or `down` (waiting to retry). */
  role: "active" | "alternate" | "connecting" | "down";
  /** Whether it answered a watchdog or data frame since it connected. */
  working: boolean;
  /** Our `host:port` on this channel, while connected. */
  local?: string;
  /** Data ids sent on it and not yet ACKed. */
  inFlight: string[];
}

/** The client's state. */
export interface DualChannelClientState {
  /** The active channel, if any. */
  active?: Channel;
  /** The preferred channel and what decided it. */
  preferred: Preference;
  /** Each channel's state. */
  channels: Record<Channel, ChannelState>;
  /** Data ids not yet ACKed, in the order they were sent. */
  pending: string[];
}
interface Pending {
  id: string;
  data: unknown;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
  /** The channel it is in flight on; unset while it waits for an active channel. */
  channel?: Channel;
  attempts: number;
}

interface ChannelLink {
  channel: Channel;
  endpoint: ChannelEndpoint;
  /** The connection plumbing: at most one connection or attempt. */
  net: Link;
  tickTimer?: ReturnType<typeof setInterval>;
  deadlineTimer?: ReturnType<typeof setTimeout>;
  /** Watchdogs sent and not yet answered, oldest first. */
  watchdogs: { seq: number; at: number }[];
  /** Data sent on this link and not yet ACKed: id to time sent. */
  inFlight: Map<string, number>;
  seq: number;
  working: boolean;
  dataSinceTick: boolean;
  /** A deadline given a second look, and until when (see `#arm`). */
  grace?: { due: number; until: number };
}

function other(channel: Channel): Channel {
  return channel === "A" ? "B" : "A";
}

/**
 * A SCADA client with two channels. Create it, `start()` it, `send()` data;
 * watch `journal` (or `onEvent`) for what it does.
 *
 * @example Prefer the second network by address
 * ```ts ignore
 * import { DualChannelClient } from "./dual_channel_client.ts";
 * await using client = await new DualChannelClient({
 *   channels: {
 *     A: { hostname: "127.0.1.1", port: 7040 },
 *     B: { hostname: "127.0.2.1", port: 7040 },
 *   },
 *   preferredNetAddr: "127.0.2.0",
 * }).start();
 * await client.send("m1", { value: 1 });
 * ```
 */
export class DualChannelClient implements AsyncDisposable {
  /** The journal every event of this client goes to. */
  readonly journal: Journal;
  /** The preferred channel, and which setting decided it. */
  readonly preferred: Preference;
  /** Resolves once the client is closed. */
  readonly finished: Promise<void>;
  #links: Record<Channel, ChannelLink>;
  #periodMs: number;
  #timeoutMs: number;
  #retryMs: number;
  #connectTimeoutMs: number;
  #activeWatchdog: ActiveWatchdog;
  #client: string;
  #codec: Codec;
  #end: ServerEnd;
  #pending = new Map<string, Pending>();
  #active?: Channel;
  #running = false;
  #closed = false;
  #tasks = new Tasks();

  /** Makes a client; nothing connects until `start()`. Throws on bad options. */
  constructor(options: DualChannelClientOptions) {
    for (const channel of CHANNELS) {
      const endpoint = options.channels?.[channel];
      if (!endpoint?.hostname || !Number.isInteger(endpoint.port)) {
        throw new TypeError(
          `Cannot use channel ${channel}: expected { hostname, port }`,
        );
      }
    }
    this.preferred = preferredChannel(options);
    this.#periodMs = msOption(options, "watchdogPeriodMs", 1000, 1);
    this.#timeoutMs = msOption(options, "watchdogTimeoutMs", 3000, 1);
    this.#retryMs = msOption(options, "retryMs", 2000, 1);
    this.#connectTimeoutMs = msOption(
      options,
      "connectTimeoutMs",
      this.#timeoutMs,
      1,
    );
    this.#activeWatchdog = options.activeWatchdog ?? "idle";
    if (!["idle", "always", "never"].includes(this.#activeWatchdog)) {
      throw new RangeError(
        `Cannot use activeWatchdog "${this.#activeWatchdog}": expected idle, always or never`,
      );
    }
    this.#client = options.client ?? "dual-channel";
    this.#codec = resolveCodec(options.codec);
    const link = (channel: Channel): ChannelLink => ({
      channel,
      endpoint: { ...options.channels[channel] },
      net: this.#link(channel),
      watchdogs: [],
      inFlight: new Map(),
      seq: 0,
      working: false,
      dataSinceTick: false,
    });
    this.#links = { A: link("A"), B: link("B") };
    this.#end = new ServerEnd(options.name ?? "dual_channel", {
      journal: options.journal,
    });
    this.journal = this.#end.journal;
    if (options.onEvent) this.journal.subscribe(options.onEvent);
    this.finished = this.#end.finished;
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** The active channel, if any: the one data goes over. */
  get active(): Channel | undefined {
    return this.#active;
  }

  /** The client's state: roles, pending data. */
  state(): DualChannelClientState {
    const channel = (name: Channel): ChannelState => {
      const link = this.#links[name];
      return {
        role: name === this.#active
          ? "active"
          : link.net.connection
          ? "alternate"
          : link.net.connecting
          ? "connecting"
          : "down",
        working: link.working,
        ...(link.net.connection ? { local: link.net.connection.local } : {}),
        inFlight: [...link.inFlight.keys()],
      };
    };
    return {
      ...(this.#active ? { active: this.#active } : {}),
      preferred: this.preferred,
      channels: { A: channel("A"), B: channel("B") },
      pending: [...this.#pending.keys()],
    };
  }

  /** Connects both channels at once (DC-1). */
  start(): Promise<this> {
    if (this.#running || this.#closed) return Promise.resolve(this);
    this.#running = true;
    this.journal.append("started", {
      preferred: this.preferred.channel ?? null,
      preferredBy: this.preferred.by,
      A: this.#describe("A"),
      B: this.#describe("B"),
    });
    for (const channel of CHANNELS) this.#open(channel);
    return Promise.resolve(this);
  }

  /**
   * Sends application data over the active channel (or as soon as there is
   * one). Resolves once, when the server has ACKed it on either channel,
   * however many times it had to be sent (DC-5); rejects only if the client
   * closes first. Sending an id that is still pending returns the same
   * promise and sends nothing.
   */
  send(id: string, data?: unknown): Promise<void> {
    if (typeof id !== "string" || id === "") {
      return Promise.reject(
        new TypeError("Cannot send data: expected a non-empty string id"),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot send "${id}": the client is closed`),
      );
    }
    const known = this.#pending.get(id);
    if (known) return known.promise;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    // Rejected only on close; an application that dropped the promise must
    // not crash for it.
    promise.catch(() => {});
    const pending: Pending = {
      id,
      data,
      promise,
      resolve,
      reject,
      attempts: 0,
    };
    this.#pending.set(id, pending);
    this.journal.append("queued", { id });
    if (this.#active) this.#transmit(pending, this.#active);
    return promise;
  }

  /**
   * Reboots: drops both connections and every timer, forgets which channel
   * was active, keeps the pending data (sent again once a channel is
   * active), and connects both channels again.
   */
  async restart(): Promise<void> {
    if (this.#closed) return;
    this.journal.append("restarted", { pending: this.#pending.size });
    this.#active = undefined;
    for (const channel of CHANNELS) this.#drop(channel, "restart");
    for (const pending of this.#pending.values()) pending.channel = undefined;
    await this.#tasks.settled();
    if (this.#running && !this.#closed) {
      for (const channel of CHANNELS) this.#open(channel);
    }
  }

  /** Closes both channels; pending sends reject. */
  async close(): Promise<void> {
    if (this.#closed) return this.finished;
    this.#closed = true;
    this.#running = false;
    this.#active = undefined;
    for (const channel of CHANNELS) this.#drop(channel, "close");
    await this.#tasks.settled();
    const undelivered = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of undelivered) {
      pending.reject(
        new Error(`Cannot deliver "${pending.id}": the client closed first`),
      );
    }
    this.journal.append("closed_client", { undelivered: undelivered.length });
    await this.#end.end();
  }

  /** Closes the client at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #describe(channel: Channel): string {
    const endpoint = this.#links[channel].endpoint;
    return `${joinHostPort(endpoint.hostname, endpoint.port)}${
      endpoint.localAddress ? ` from ${endpoint.localAddress}` : ""
    }`;
  }

  #link(channel: Channel): Link {
    return new Link(this.#tasks, {
      wanted: () => this.#running && !this.#closed,
      connecting: () => {
        const { endpoint } = this.#links[channel];
        this.journal.append("connecting", {
          channel,
          addr: joinHostPort(endpoint.hostname, endpoint.port),
          ...(endpoint.localAddress
            ? { localAddress: endpoint.localAddress }
            : {}),
        });
        return {
          hostname: endpoint.hostname,
          port: endpoint.port,
          localAddress: endpoint.localAddress,
          codec: this.#codec,
          timeoutMs: this.#connectTimeoutMs,
          onDecodeError: (error) =>
            this.journal.append("bad_input", { channel, ...error }),
        };
      },
      opened: (opened) => {
        const link = this.#links[channel];
        link.working = false;
        link.watchdogs = [];
        link.inFlight.clear();
        link.dataSinceTick = false;
        this.journal.append("connected", {
          channel,
          remote: opened.remote,
          local: opened.local,
        });
        opened.send({ type: "hello", client: this.#client, channel });
        link.tickTimer = setInterval(
          () => this.#tick(channel),
          this.#periodMs,
        );
        this.#onConnected(channel);
      },
      failed: (error) => {
        this.journal.append("connect_failed", {
          channel,
          message: error.message,
          retryMs: this.#retryMs,
        });
        this.#open(channel, this.#retryMs);
      },
      closed: (_opened, how) =>
        this.#fail(
          channel,
          `closed by server (${how.how}${how.reason ? ` ${how.reason}` : ""})`,
        ),
      frame: (frame) => this.#onFrame(channel, frame),
    });
  }

  /** Connects a channel, now or after `delayMs`, unless open or connecting. */
  #open(channel: Channel, delayMs = 0): void {
    this.#links[channel].net.open(delayMs);
  }

  /** Closes a channel (or stops connecting it) and clears its timers. */
  #drop(channel: Channel, reason: string): void {
    const link = this.#links[channel];
    clearInterval(link.tickTimer);
    link.tickTimer = undefined;
    clearTimeout(link.deadlineTimer);
    link.deadlineTimer = undefined;
    link.watchdogs = [];
    link.inFlight.clear();
    link.working = false;
    link.grace = undefined;
    if (!link.net.drop()) return;
    this.journal.append("disconnected", { channel, reason });
  }

  #onConnected(channel: Channel): void {
    if (!this.#active) {
      // DC-2: the first channel connected is the active one.
      this.#activate(channel, "first connected");
    } else {
      // DC-6: a channel that comes back is the alternate.
      this.journal.append("alternate", { channel });
    }
    // A watchdog at once, whatever the role: the channel proves it works
    // (DC-7 waits for that before moving traffic back).
    this.#sendWatchdog(channel);
  }

  #activate(channel: Channel, reason: string): void {
    const from = this.#active;
    this.#active = channel;
    this.journal.append("active", {
      channel,
      reason,
      ...(from ? { from } : {}),
    });
    if (from && this.#links[from].net.connection) {
      this.journal.append("alternate", { channel: from });
    }
    for (const pending of this.#pending.values()) {
      if (!pending.channel) this.#transmit(pending, channel);
    }
  }

  /** A channel failed (DC-10): drop it, move traffic (DC-5), retry it (DC-6). */
  #fail(channel: Channel, reason: string): void {
    const link = this.#links[channel];
    if (!link.net.connection) return;
    this.journal.append("channel_failed", { channel, reason });
    this.#drop(channel, reason);
    const requeued: string[] = [];
    for (const pending of this.#pending.values()) {
      if (pending.channel === channel) {
        pending.channel = undefined;
        requeued.push(pending.id);
      }
    }
    if (requeued.length > 0) {
      this.journal.append("requeued", { channel, ids: requeued });
    }
    if (this.#active === channel) {
      this.#active = undefined;
      const alternate = other(channel);
      if (this.#links[alternate].net.connection) {
        this.#activate(alternate, `failover: ${reason}`);
      } else {
        this.journal.append("no_active", { reason });
      }
    }
    this.#open(channel, this.#retryMs);
  }

  #transmit(pending: Pending, channel: Channel): void {
    const link = this.#links[channel];
    if (!link.net.connection) return;
    pending.channel = channel;
    pending.attempts++;
    const frame: Frame = {
      type: "data",
      id: pending.id,
      ...(pending.data === undefined ? {} : { data: pending.data }),
    };
    link.net.connection.send(frame);
    link.inFlight.set(pending.id, performance.now());
    link.dataSinceTick = true;
    this.journal.append("data_sent", {
      channel,
      id: pending.id,
      attempt: pending.attempts,
    });
    this.#arm(channel);
  }

  #tick(channel: Channel): void {
    const link = this.#links[channel];
    if (!link.net.connection) return;
    const dataSent = link.dataSinceTick;
    link.dataSinceTick = false;
    if (channel === this.#active) {
      if (this.#activeWatchdog === "never") return;
      if (this.#activeWatchdog === "idle" && dataSent) return;
    }
    this.#sendWatchdog(channel);
  }

  #sendWatchdog(channel: Channel): void {
    const link = this.#links[channel];
    if (!link.net.connection) return;
    const seq = ++link.seq;
    link.net.connection.send({ type: "watchdog", seq });
    link.watchdogs.push({ seq, at: performance.now() });
    this.journal.append("watchdog_sent", { channel, seq });
    this.#arm(channel);
  }

  /** The time by which the channel must have answered, if it owes an answer. */
  #deadline(link: ChannelLink): number | undefined {
    let oldest = link.watchdogs[0]?.at;
    for (const at of link.inFlight.values()) {
      if (oldest === undefined || at < oldest) oldest = at;
    }
    return oldest === undefined ? undefined : oldest + this.#timeoutMs;
  }

  /**
   * Sets the channel's timer to its deadline (DC-10). A deadline whose timer
   * ran more than half the timeout late means this process stalled (load,
   * a pause), not necessarily the channel: the answer may be waiting unread.
   * Such a deadline is looked at once more, half a timeout later, before
   * the channel counts as failed (journalled as `deadline_late`).
   */
  #arm(channel: Channel): void {
    const link = this.#links[channel];
    clearTimeout(link.deadlineTimer);
    link.deadlineTimer = undefined;
    const deadline = this.#deadline(link);
    if (deadline === undefined || !link.net.connection) return;
    const at = link.grace?.due === deadline ? link.grace.until : deadline;
    link.deadlineTimer = setTimeout(() => {
      link.deadlineTimer = undefined;
      const now = performance.now();
      const due = this.#deadline(link);
      if (due === undefined) return;
      if (now + 1 < due) return this.#arm(channel);
      if (link.grace?.due === due) {
        if (now + 1 < link.grace.until) return this.#arm(channel);
      } else if (now - at > this.#timeoutMs / 2) {
        link.grace = { due, until: now + this.#timeoutMs / 2 };
        this.journal.append("deadline_late", {
          channel,
          lateMs: Math.round(now - at),
        });
        return this.#arm(channel);
      }
      this.#fail(channel, `no echo or ACK within ${this.#timeoutMs}ms`);
    }, Math.max(0, at - performance.now()));
  }

  #onFrame(channel: Channel, frame: Frame): void {
    const link = this.#links[channel];
    if (frame.type === "watchdog" && typeof frame.seq === "number") {
      const seq = frame.seq;
      // An echo answers its watchdog and every earlier one.
      const answered = link.watchdogs.filter((w) => w.seq <= seq).length;
      link.watchdogs.splice(0, answered);
      this.journal.append("watchdog_echo", { channel, seq });
      this.#arm(channel);
      this.#working(channel);
      return;
    }
    if (frame.type === "ack" && typeof frame.id === "string") {
      const id = frame.id;
      link.inFlight.delete(id);
      this.#arm(channel);
      const pending = this.#pending.get(id);
      if (!pending) {
        this.journal.append("ack_ignored", {
          channel,
          id,
          reason: "not pending: already delivered, or never sent",
        });
      } else {
        this.#pending.delete(id);
        if (pending.channel && pending.channel !== channel) {
          this.#links[pending.channel].inFlight.delete(id);
          this.#arm(pending.channel);
        }
        this.journal.append("delivered", {
          channel,
          id,
          attempts: pending.attempts,
        });
        pending.resolve();
      }
      this.#working(channel);
      return;
    }
    if (frame.type === "error") {
      this.journal.append("server_error", {
        channel,
        code: frame.code,
        message: frame.message,
      });
      return;
    }
    this.journal.append("frame_ignored", { channel, frame });
  }

  /** A channel answered: it works; the preferred one takes over (DC-7). */
  #working(channel: Channel): void {
    const link = this.#links[channel];
    if (link.working) return;
    link.working = true;
    this.journal.append("working", { channel });
    if (this.preferred.channel === channel && this.#active !== channel) {
      this.#activate(channel, `preferred (by ${this.preferred.by})`);
    }
  }
}

/**
 * Creates and starts a {@linkcode DualChannelClient}.
 *
 * @example Usage
 * ```ts ignore
 * import { startDualChannelClient } from "./dual_channel_client.ts";
 * await using client = await startDualChannelClient({
 *   channels: {
 *     A: { hostname: "127.0.1.1", port: 7040 },
 *     B: { hostname: "127.0.2.1", port: 7040 },
 *   },
 * });
 * ```
 */
export function startDualChannelClient(
  options: DualChannelClientOptions,
): Promise<DualChannelClient> {
  return new DualChannelClient(options).start();
}
