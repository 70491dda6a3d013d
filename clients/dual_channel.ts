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
 * import { startDualChannelClient } from "./dual_channel.ts";
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
import type { Codec } from "../core/codec.ts";
import {
  CliError,
  flag,
  type FlagTable,
  type FlagValues,
  parsePort,
} from "../core/cli.ts";
import type { Frame } from "../core/frame.ts";
import { Journal, type JournalEvent } from "../core/journal.ts";
import { parseDuration } from "../core/units.ts";
import {
  type Channel,
  CHANNELS,
  WATCHDOG_ECHO_HOSTS,
  WATCHDOG_ECHO_PORT,
} from "../servers/watchdog_echo.ts";
import {
  connectFrames,
  type FrameConnection,
  resolveCodec,
} from "./_connection.ts";
import { codecFlag, flagOrEnv, runContractCli } from "./_contract.ts";
import { checkMs } from "./_options.ts";

export type { Channel };

/** Where one channel connects to, and the local address (adapter) it binds. */
export interface ChannelEndpoint {
  /** The server's address on this channel's network. */
  hostname: string;
  /** The server's port on this channel. */
  port: number;
  /** The local address to bind: this channel's adapter (default: any). */
  localAddress?: string;
}

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

/** Which channel is preferred, and which setting decided it. */
export interface Preference {
  /** The preferred channel, if any. */
  channel?: Channel;
  /** `address` (`preferredNetAddr`), `number` (`preferredNetNr`) or `none`. */
  by: "address" | "number" | "none";
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

function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** A parsed `PreferredNetAddr`: an IPv4 network and its prefix length. */
export interface NetworkMask {
  /** The network address, as a 32-bit number. */
  network: number;
  /** How many leading bits must match (0 to 32). */
  bits: number;
}

/**
 * Parses a `PreferredNetAddr`: `a.b.c.d/bits`, or `a.b.c.d` whose trailing
 * zero octets are wildcards (`172.16.0.0` is `172.16.0.0/16`, `127.0.2.0`
 * is `/24`, `10.0.0.0` is `/8`, `0.0.0.0` matches every address, and an
 * address without trailing zeros matches only itself).
 *
 * @example Usage
 * ```ts
 * import { parseNetworkMask } from "./dual_channel.ts";
 * parseNetworkMask("172.16.0.0"); // { network: 2886729728, bits: 16 }
 * ```
 */
export function parseNetworkMask(text: string): NetworkMask {
  const [address, bitsText, extra] = text.trim().split("/");
  const network = parseIpv4(address);
  const bits = bitsText === undefined
    ? (() => {
      const octets = address.split(".");
      let last = octets.length - 1;
      while (last >= 0 && octets[last] === "0") last--;
      return (last + 1) * 8;
    })()
    : /^\d{1,2}$/.test(bitsText)
    ? Number(bitsText)
    : NaN;
  if (network === undefined || extra !== undefined || !(bits <= 32)) {
    throw new RangeError(
      `Cannot use network address "${text}": expected IPv4 such as 172.16.0.0 (trailing zero octets are wildcards) or 172.16.0.0/16`,
    );
  }
  return { network, bits };
}

/** Whether an address (an IPv4 literal) is on a network; names never are. */
export function onNetwork(mask: NetworkMask, address: string): boolean {
  const value = parseIpv4(address);
  if (value === undefined) return false;
  if (mask.bits === 0) return true;
  const shift = 32 - mask.bits;
  return Math.floor(value / 2 ** shift) ===
    Math.floor(mask.network / 2 ** shift);
}

/**
 * Decides the preferred channel (DC-8, DC-9). `preferredNetAddr` decides
 * when exactly one channel is on that network (its local address or its
 * server address is); when it is unset, or matches both channels or
 * neither, `preferredNetNr` decides (1 is A, 2 is B); with neither setting
 * no channel is preferred.
 *
 * @example Usage
 * ```ts
 * import { preferredChannel } from "./dual_channel.ts";
 * preferredChannel({
 *   channels: {
 *     A: { hostname: "127.0.1.1", port: 7040 },
 *     B: { hostname: "127.0.2.1", port: 7040 },
 *   },
 *   preferredNetAddr: "127.0.2.0",
 *   preferredNetNr: 1,
 * }); // { channel: "B", by: "address" }
 * ```
 */
export function preferredChannel(
  options: Pick<
    DualChannelClientOptions,
    "channels" | "preferredNetAddr" | "preferredNetNr"
  >,
): Preference {
  const nr = options.preferredNetNr;
  if (nr !== undefined && nr !== 1 && nr !== 2) {
    throw new RangeError(
      `Cannot use preferredNetNr ${nr}: expected 1 (channel A) or 2 (channel B)`,
    );
  }
  if (options.preferredNetAddr !== undefined) {
    const mask = parseNetworkMask(options.preferredNetAddr);
    const on = (channel: Channel) => {
      const endpoint = options.channels[channel];
      return onNetwork(mask, endpoint.hostname) ||
        (endpoint.localAddress !== undefined &&
          onNetwork(mask, endpoint.localAddress));
    };
    const a = on("A");
    const b = on("B");
    if (a !== b) return { channel: a ? "A" : "B", by: "address" };
  }
  if (nr !== undefined) return { channel: nr === 1 ? "A" : "B", by: "number" };
  return { by: "none" };
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

interface Link {
  channel: Channel;
  endpoint: ChannelEndpoint;
  connection?: FrameConnection;
  connecting?: AbortController;
  retryTimer?: ReturnType<typeof setTimeout>;
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
 * import { DualChannelClient } from "./dual_channel.ts";
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
  #links: Record<Channel, Link>;
  #periodMs: number;
  #timeoutMs: number;
  #retryMs: number;
  #connectTimeoutMs: number;
  #activeWatchdog: ActiveWatchdog;
  #client: string;
  #codec: Codec;
  #ownJournal: boolean;
  #pending = new Map<string, Pending>();
  #active?: Channel;
  #running = false;
  #closed = false;
  #tracked = new Set<Promise<unknown>>();
  #resolveFinished!: () => void;

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
    this.#periodMs = checkMs(
      "watchdogPeriodMs",
      options.watchdogPeriodMs ?? 1000,
      1,
    );
    this.#timeoutMs = checkMs(
      "watchdogTimeoutMs",
      options.watchdogTimeoutMs ?? 3000,
      1,
    );
    this.#retryMs = checkMs("retryMs", options.retryMs ?? 2000, 1);
    this.#connectTimeoutMs = checkMs(
      "connectTimeoutMs",
      options.connectTimeoutMs ?? this.#timeoutMs,
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
    const link = (channel: Channel): Link => ({
      channel,
      endpoint: { ...options.channels[channel] },
      watchdogs: [],
      inFlight: new Map(),
      seq: 0,
      working: false,
      dataSinceTick: false,
    });
    this.#links = { A: link("A"), B: link("B") };
    this.#ownJournal = !options.journal;
    this.journal = options.journal ??
      new Journal({ server: options.name ?? "dual_channel" });
    if (options.onEvent) this.journal.subscribe(options.onEvent);
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
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
          : link.connection
          ? "alternate"
          : link.connecting
          ? "connecting"
          : "down",
        working: link.working,
        ...(link.connection ? { local: link.connection.local } : {}),
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
    await this.#settled();
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
    await this.#settled();
    const undelivered = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of undelivered) {
      pending.reject(
        new Error(`Cannot deliver "${pending.id}": the client closed first`),
      );
    }
    this.journal.append("closed_client", { undelivered: undelivered.length });
    if (this.#ownJournal) await this.journal.close();
    else await this.journal.flush();
    this.#resolveFinished();
  }

  /** Closes the client at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #describe(channel: Channel): string {
    const endpoint = this.#links[channel].endpoint;
    return `${endpoint.hostname}:${endpoint.port}${
      endpoint.localAddress ? ` from ${endpoint.localAddress}` : ""
    }`;
  }

  #track<T>(promise: Promise<T>): void {
    const tracked = promise.then(() => {}, () => {}).finally(() =>
      this.#tracked.delete(tracked)
    );
    this.#tracked.add(tracked);
  }

  async #settled(): Promise<void> {
    while (this.#tracked.size > 0) {
      await Promise.allSettled([...this.#tracked]);
    }
  }

  /** Connects a channel, now or after `delayMs`, unless open or connecting. */
  #open(channel: Channel, delayMs = 0): void {
    const link = this.#links[channel];
    if (!this.#running || this.#closed) return;
    if (link.connection || link.connecting || link.retryTimer) return;
    if (delayMs > 0) {
      link.retryTimer = setTimeout(() => {
        link.retryTimer = undefined;
        this.#open(channel);
      }, delayMs);
      return;
    }
    const abort = new AbortController();
    link.connecting = abort;
    this.journal.append("connecting", {
      channel,
      addr: `${link.endpoint.hostname}:${link.endpoint.port}`,
      ...(link.endpoint.localAddress
        ? { localAddress: link.endpoint.localAddress }
        : {}),
    });
    let connection: FrameConnection | undefined;
    const attempt = connectFrames({
      hostname: link.endpoint.hostname,
      port: link.endpoint.port,
      localAddress: link.endpoint.localAddress,
      codec: this.#codec,
      timeoutMs: this.#connectTimeoutMs,
      signal: abort.signal,
      onFrame: (frame) => {
        if (connection && link.connection === connection) {
          this.#onFrame(channel, frame);
        }
      },
      onDecodeError: (error) =>
        this.journal.append("bad_input", { channel, ...error }),
    });
    this.#track(attempt);
    attempt.then((opened) => {
      if (link.connecting !== abort) return this.#track(opened.close("rst"));
      link.connecting = undefined;
      connection = opened;
      link.connection = opened;
      link.working = false;
      link.watchdogs = [];
      link.inFlight.clear();
      link.dataSinceTick = false;
      this.#track(opened.closed);
      opened.closed.then((how) => {
        if (link.connection !== opened) return; // Dropped by us already.
        this.#fail(
          channel,
          `closed by server (${how.how}${how.reason ? ` ${how.reason}` : ""})`,
        );
      });
      this.journal.append("connected", {
        channel,
        remote: opened.remote,
        local: opened.local,
      });
      opened.send({ type: "hello", client: this.#client, channel });
      link.tickTimer = setInterval(() => this.#tick(channel), this.#periodMs);
      this.#onConnected(channel);
    }, (error: Error) => {
      if (link.connecting !== abort) return;
      link.connecting = undefined;
      this.journal.append("connect_failed", {
        channel,
        message: error.message,
        retryMs: this.#retryMs,
      });
      this.#open(channel, this.#retryMs);
    });
  }

  /** Closes a channel (or stops connecting it) and clears its timers. */
  #drop(channel: Channel, reason: string): void {
    const link = this.#links[channel];
    clearTimeout(link.retryTimer);
    link.retryTimer = undefined;
    clearInterval(link.tickTimer);
    link.tickTimer = undefined;
    clearTimeout(link.deadlineTimer);
    link.deadlineTimer = undefined;
    link.connecting?.abort();
    link.connecting = undefined;
    link.watchdogs = [];
    link.inFlight.clear();
    link.working = false;
    link.grace = undefined;
    const connection = link.connection;
    if (!connection) return;
    link.connection = undefined;
    this.journal.append("disconnected", { channel, reason });
    this.#track(connection.close());
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
    if (from && this.#links[from].connection) {
      this.journal.append("alternate", { channel: from });
    }
    for (const pending of this.#pending.values()) {
      if (!pending.channel) this.#transmit(pending, channel);
    }
  }

  /** A channel failed (DC-10): drop it, move traffic (DC-5), retry it (DC-6). */
  #fail(channel: Channel, reason: string): void {
    const link = this.#links[channel];
    if (!link.connection) return;
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
      if (this.#links[alternate].connection) {
        this.#activate(alternate, `failover: ${reason}`);
      } else {
        this.journal.append("no_active", { reason });
      }
    }
    this.#open(channel, this.#retryMs);
  }

  #transmit(pending: Pending, channel: Channel): void {
    const link = this.#links[channel];
    if (!link.connection) return;
    pending.channel = channel;
    pending.attempts++;
    const frame: Frame = {
      type: "data",
      id: pending.id,
      ...(pending.data === undefined ? {} : { data: pending.data }),
    };
    link.connection.send(frame);
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
    if (!link.connection) return;
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
    if (!link.connection) return;
    const seq = ++link.seq;
    link.connection.send({ type: "watchdog", seq });
    link.watchdogs.push({ seq, at: performance.now() });
    this.journal.append("watchdog_sent", { channel, seq });
    this.#arm(channel);
  }

  /** The time by which the channel must have answered, if it owes an answer. */
  #deadline(link: Link): number | undefined {
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
    if (deadline === undefined || !link.connection) return;
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
 * import { startDualChannelClient } from "./dual_channel.ts";
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

const FLAGS: FlagTable = {
  "host-a": {
    type: "string",
    value: "HOST",
    default: `$FT_HOST_A or ${WATCHDOG_ECHO_HOSTS.A}`,
    description: "The server's address on channel A (the first network)",
  },
  "port-a": {
    type: "string",
    value: "PORT",
    default: `$FT_PORT_A or ${WATCHDOG_ECHO_PORT}`,
    description: "The server's port on channel A",
  },
  "host-b": {
    type: "string",
    value: "HOST",
    default: `$FT_HOST_B or ${WATCHDOG_ECHO_HOSTS.B}`,
    description: "The server's address on channel B (the second network)",
  },
  "port-b": {
    type: "string",
    value: "PORT",
    default: `$FT_PORT_B or ${WATCHDOG_ECHO_PORT}`,
    description: "The server's port on channel B",
  },
  "local-a": {
    type: "string",
    value: "ADDR",
    default: "$FT_LOCAL_A or any",
    description: "Local address to bind on channel A (the first adapter)",
  },
  "local-b": {
    type: "string",
    value: "ADDR",
    default: "$FT_LOCAL_B or any",
    description: "Local address to bind on channel B (the second adapter)",
  },
  "watchdog-period": {
    type: "string",
    value: "DURATION",
    default: "1s",
    description: "Send a watchdog this often",
  },
  "watchdog-timeout": {
    type: "string",
    value: "DURATION",
    default: "3s",
    description: "A channel fails when nothing answers within this long",
  },
  retry: {
    type: "string",
    value: "DURATION",
    default: "2s",
    description: "Connect a broken channel again this often",
  },
  "connect-timeout": {
    type: "string",
    value: "DURATION",
    default: "--watchdog-timeout",
    description: "Give up a connection attempt after this long",
  },
  "preferred-net-addr": {
    type: "string",
    value: "ADDR",
    description:
      "PreferredNetAddr: the preferred network, such as 127.0.2.0 (trailing zero octets are wildcards) or 127.0.2.0/24",
  },
  "preferred-net-nr": {
    type: "string",
    value: "N",
    description:
      "PreferredNetNr: the preferred adapter, 1 (channel A) or 2 (channel B)",
  },
  "active-watchdog": {
    type: "string",
    value: "WHEN",
    default: "idle",
    description:
      "Watchdogs on the active channel too: idle (when no data went), always, never",
  },
  client: {
    type: "string",
    value: "ID",
    default: "dual-channel",
    description: 'Send {"type":"hello","client":ID,"channel":...} on connect',
  },
};

const SUMMARY =
  `The reference SCADA client with two channels (DC behaviours). It speaks the client-under-test contract: commands on standard input ({"cmd":"send","id":"m1","data":{}}, {"cmd":"restart"}, {"cmd":"stop"}), events on standard output ({"event":"connected","server":"A"}, {"event":"active","channel":"A"}, {"event":"deleted","id":"m1"}, {"event":"down","channel":"A","reason":"..."}, {"event":"error","message":"..."}).`;

function optionsFromFlags(values: FlagValues): DualChannelClientOptions {
  const duration = (name: string) => flag(values, name, parseDuration);
  const endpoint = (channel: Channel): ChannelEndpoint => {
    const lower = channel.toLowerCase();
    const hostname = flagOrEnv(values, `host-${lower}`, `FT_HOST_${channel}`) ??
      WATCHDOG_ECHO_HOSTS[channel];
    flagOrEnv(values, `port-${lower}`, `FT_PORT_${channel}`);
    const localAddress = flagOrEnv(
      values,
      `local-${lower}`,
      `FT_LOCAL_${channel}`,
    );
    return {
      hostname,
      port: flag(values, `port-${lower}`, parsePort) ?? WATCHDOG_ECHO_PORT,
      ...(localAddress ? { localAddress } : {}),
    };
  };
  const codec = codecFlag(values);
  const activeWatchdog = (values["active-watchdog"] as string | undefined) ??
    "idle";
  if (!["idle", "always", "never"].includes(activeWatchdog)) {
    throw new CliError(
      `Invalid --active-watchdog "${activeWatchdog}": expected idle, always or never`,
    );
  }
  return {
    channels: { A: endpoint("A"), B: endpoint("B") },
    watchdogPeriodMs: duration("watchdog-period"),
    watchdogTimeoutMs: duration("watchdog-timeout"),
    retryMs: duration("retry"),
    connectTimeoutMs: duration("connect-timeout"),
    // An empty value is unset: the conformance runner fills an unset
    // preference as an empty placeholder (`--preferred-net-nr=`).
    preferredNetAddr: flag(values, "preferred-net-addr", (text) => {
      if (text === "") return undefined;
      parseNetworkMask(text);
      return text;
    }),
    preferredNetNr: flag(values, "preferred-net-nr", (text) => {
      if (text === "") return undefined;
      if (text !== "1" && text !== "2") {
        throw new RangeError("expected 1 (channel A) or 2 (channel B)");
      }
      return Number(text);
    }),
    activeWatchdog: activeWatchdog as ActiveWatchdog,
    client: values.client as string | undefined,
    codec,
  };
}

/**
 * Maps a client journal event to the contract event the command line prints
 * on stdout (`connected` with the channel as `server`, `active`, `deleted`
 * on the first ACK of a data id, `down` when a channel failed), or
 * `undefined` for the rest.
 *
 * @example Usage
 * ```ts ignore
 * import { dualChannelContractEvent } from "./dual_channel.ts";
 * client.journal.subscribe((e) => {
 *   const printed = dualChannelContractEvent(e);
 *   if (printed) console.log(JSON.stringify(printed));
 * });
 * ```
 */
export function dualChannelContractEvent(
  event: JournalEvent,
): { event: string; [field: string]: unknown } | undefined {
  switch (event.type) {
    case "connected":
      return { event: "connected", server: event.channel };
    case "active":
      return { event: "active", channel: event.channel };
    case "delivered":
      return { event: "deleted", id: event.id };
    case "channel_failed":
      return { event: "down", channel: event.channel, reason: event.reason };
    default:
      return undefined;
  }
}

/**
 * Runs the command line: parses the flags, starts the client and drives it
 * by the client-under-test contract until `{"cmd":"stop"}`, the end of
 * standard input, SIGINT or SIGTERM.
 */
export async function main(args: string[]): Promise<void> {
  await runContractCli(args, {
    script: "clients/dual_channel.ts",
    summary: SUMMARY,
    flags: FLAGS,
    options: optionsFromFlags,
    create: (options) => new DualChannelClient(options),
    contractEvent: dualChannelContractEvent,
    start: (client) => client.start(),
    commands: (client) => ({
      send: (command) => {
        // Not awaited: the next command must not wait for this ACK.
        void client.send(command.id, command.data);
      },
      restart: () => client.restart(),
    }),
  });
}

if (import.meta.main) await main(Deno.args);
