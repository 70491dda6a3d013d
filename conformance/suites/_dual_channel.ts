/**
 * What the dual-channel scenarios share: a watchdog-echo server on port 0
 * (channel A on 127.0.1.1, channel B on 127.0.2.1, one journal), the
 * placeholders for the client, data ids, and journal queries per channel.
 *
 * Each channel is registered with the scenario under its own label, `A` and
 * `B` (the channel's view of the shared journal), so the evidence and the
 * timeline show one lane per channel.
 *
 * @module
 */
import type { Faults } from "../../core/faults/mod.ts";
import type { JournalEvent } from "../../core/journal/journal.ts";
import {
  type Channel,
  CHANNELS,
  startWatchdogEchoServer,
  type WatchdogEchoServer,
} from "../../servers/watchdog_echo.ts";
import type { Endpoints } from "../client.ts";
import type { Evidence, ScenarioContext } from "../scenario.ts";

export { type Channel, CHANNELS };

/** The client's adapters: one local address on each server network. */
export const LOCAL_ADDRESSES: Readonly<Record<Channel, string>> = {
  A: "127.0.1.2",
  B: "127.0.2.2",
};

/** The preferred channel as the client is told it; unset fields are empty placeholders. */
export interface PreferenceSetting {
  /** `{preferredNetAddr}`: a network address such as `127.0.2.0`. */
  netAddr?: string;
  /** `{preferredNetNr}`: 1 (channel A) or 2 (channel B). */
  netNr?: 1 | 2;
}

/** The other channel. */
export function otherChannel(channel: Channel): Channel {
  return channel === "A" ? "B" : "A";
}

/** A setting as text for summaries: `PreferredNetAddr 127.0.2.0 and PreferredNetNr 1`. */
export function describePreference(setting: PreferenceSetting): string {
  const parts = [
    setting.netAddr !== undefined
      ? `PreferredNetAddr ${setting.netAddr}`
      : undefined,
    setting.netNr !== undefined ? `PreferredNetNr ${setting.netNr}` : undefined,
  ].filter(Boolean);
  return parts.join(" and ") || "no preference";
}

/**
 * How long a scenario waits for something that should come soon: a few
 * rounds of watchdog timeout, retry, connect timeout and period, plus 1 s.
 */
export function dcSoon(ctx: ScenarioContext, factor = 2): number {
  const t = ctx.timing;
  return (t.watchdogTimeoutMs + t.retryMs + t.connectTimeoutMs +
        t.watchdogPeriodMs) * factor + 1000;
}

function frameOf(event: JournalEvent): { type?: string; id?: string } {
  return (event.frame ?? {}) as { type?: string; id?: string };
}

/** Milliseconds as text. */
export function msText(ms: number): string {
  return `${Math.round(ms)} ms`;
}

/**
 * One watchdog-echo server for a scenario, the placeholders for the
 * client, and queries over what each channel saw. Times are
 * `performance.now()` values, as in the journal.
 */
export class DualChannelRig {
  /** The server: `cut`, `restore`, `blackHole` a channel. */
  readonly server: WatchdogEchoServer;
  readonly #ctx: ScenarioContext;
  #lastId = 0;

  private constructor(ctx: ScenarioContext, server: WatchdogEchoServer) {
    this.#ctx = ctx;
    this.server = server;
  }

  /** Starts the server (each channel with its own faults) and registers both channels. */
  static async start(
    ctx: ScenarioContext,
    faults: Partial<Record<Channel, Faults>> = {},
  ): Promise<DualChannelRig> {
    const server = await startWatchdogEchoServer({
      name: "watchdog-echo",
      seed: ctx.seed,
      channels: {
        A: { port: 0, faults: faults.A ?? {} },
        B: { port: 0, faults: faults.B ?? {} },
      },
    });
    for (const channel of CHANNELS) {
      ctx.use(channel, {
        journal: server.channel(channel).journal,
        close: () => server.close(),
      });
    }
    await server.settled();
    return new DualChannelRig(ctx, server);
  }

  /**
   * The placeholders: both server addresses, both local addresses, and the
   * preference (`{preferredNetAddr}`, `{preferredNetNr}`, empty when unset).
   */
  endpoints(preference: PreferenceSetting = {}): Endpoints {
    const { A, B } = this.server.addr;
    return {
      hostA: A.hostname,
      portA: String(A.port),
      hostB: B.hostname,
      portB: String(B.port),
      localA: LOCAL_ADDRESSES.A,
      localB: LOCAL_ADDRESSES.B,
      preferredNetAddr: preference.netAddr ?? "",
      preferredNetNr: preference.netNr !== undefined
        ? String(preference.netNr)
        : "",
    };
  }

  /** Starts the client with the preference, noting what it was told. */
  async startClient(preference: PreferenceSetting = {}): Promise<void> {
    const endpoints = this.endpoints(preference);
    if (preference.netAddr !== undefined || preference.netNr !== undefined) {
      this.#ctx.note(
        "runner",
        `preference: {preferredNetAddr}="${endpoints.preferredNetAddr}" {preferredNetNr}="${endpoints.preferredNetNr}" (the client template must pass both)`,
      );
    }
    await this.#ctx.startClient(endpoints);
  }

  /** The server's events, both channels, in order, from `since` on. */
  events(
    predicate: (event: JournalEvent) => boolean = () => true,
    since = 0,
  ): JournalEvent[] {
    return this.server.journal.events().filter((e) =>
      e.time >= since && predicate(e)
    );
  }

  /** `frame_in` events of data frames (of `id`, on `channel`), from `since` on. */
  data(
    options: { id?: string; channel?: Channel; since?: number } = {},
  ): JournalEvent[] {
    return this.events(
      (e) =>
        e.type === "frame_in" && frameOf(e).type === "data" &&
        (options.id === undefined || frameOf(e).id === options.id) &&
        (options.channel === undefined || e.channel === options.channel),
      options.since,
    );
  }

  /** The channels a data id arrived on, in order (with repeats). */
  arrivals(id: string): Channel[] {
    return this.data({ id }).map((e) => e.channel as Channel);
  }

  /** Data ACKs the server sent (for `id`, on `channel`). */
  acks(options: { id?: string; channel?: Channel } = {}): JournalEvent[] {
    return this.events((e) =>
      e.type === "ack_sent" && e.reply === "ack" &&
      (options.id === undefined || e.id === options.id) &&
      (options.channel === undefined || e.channel === options.channel)
    );
  }

  /** Whether the server ACKed `id` on either channel. */
  acked(id: string): boolean {
    return this.acks({ id }).length > 0;
  }

  /** Watchdog frames a channel received from `since` on. */
  watchdogs(channel: Channel, since = 0): JournalEvent[] {
    return this.events(
      (e) =>
        e.type === "frame_in" && e.channel === channel &&
        frameOf(e).type === "watchdog",
      since,
    );
  }

  /** Watchdog echoes the server sent on a channel from `since` on. */
  echoes(channel: Channel, since = 0): JournalEvent[] {
    return this.events(
      (e) =>
        e.type === "ack_sent" && e.reply === "echo" && e.channel === channel,
      since,
    );
  }

  /** Frames of any type a channel received from `since` on. */
  frames(channel: Channel, since = 0): JournalEvent[] {
    return this.events(
      (e) => e.type === "frame_in" && e.channel === channel,
      since,
    );
  }

  /** Connections accepted on a channel from `since` on. */
  connections(channel: Channel, since = 0): JournalEvent[] {
    return this.events(
      (e) => e.type === "connected" && e.channel === channel,
      since,
    );
  }

  /** Connections of a channel that the client closed, from `since` on. */
  closedByClient(channel: Channel, since = 0): JournalEvent[] {
    return this.events(
      (e) => e.type === "closed" && e.channel === channel && e.by === "peer",
      since,
    );
  }

  /** A fresh data id: `d1`, `d2`, ... */
  nextId(): string {
    return `d${++this.#lastId}`;
  }

  /** Tells the client to send a data message; returns its id. */
  async sendData(id = this.nextId()): Promise<string> {
    await this.#ctx.send({ cmd: "send", id, data: { n: id } });
    return id;
  }

  /**
   * Waits until the client is connected on each channel, from `since` on.
   * The default bound, `dcSoon(ctx, 3)`, leaves room for a client process
   * to start on a loaded machine.
   */
  async untilConnected(
    channels: readonly Channel[],
    since = 0,
    ms = dcSoon(this.#ctx, 3),
  ): Promise<boolean> {
    return await this.#ctx.until(
      () => channels.every((ch) => this.connections(ch, since).length > 0),
      ms,
    );
  }

  /**
   * Waits until the client sends anything on a channel from `since` on (it
   * is connected and speaking there); false if nothing came in `ms`.
   */
  async untilSpeaking(
    channel: Channel,
    since: number,
    ms = dcSoon(this.#ctx, 1),
  ): Promise<boolean> {
    return await this.#ctx.until(
      () => this.frames(channel, since).length > 0,
      ms,
    );
  }

  /** Waits until data `id` reached the server; the channel it first came on. */
  async untilArrived(
    id: string,
    ms = dcSoon(this.#ctx, 1),
  ): Promise<Channel | undefined> {
    await this.#ctx.until(() => this.arrivals(id).length > 0, ms);
    return this.arrivals(id)[0];
  }

  /** Waits until the server ACKed every id; returns those it did not. */
  async untilAcked(ids: string[], ms = dcSoon(this.#ctx)): Promise<string[]> {
    await this.#ctx.until(() => ids.every((id) => this.acked(id)), ms);
    return ids.filter((id) => !this.acked(id));
  }

  /**
   * Sends data one message at a time, each once the previous one reached
   * the server, a watchdog period apart, until one arrives on `channel`
   * (bounded by `ms`). Returns every id sent and whether one got there.
   */
  async sendUntilOn(
    channel: Channel,
    ms = dcSoon(this.#ctx, 1),
  ): Promise<{ ids: string[]; reached: boolean }> {
    const deadline = performance.now() + ms;
    const ids: string[] = [];
    while (performance.now() < deadline) {
      const id = await this.sendData();
      ids.push(id);
      const where = await this.untilArrived(
        id,
        Math.max(1, deadline - performance.now()),
      );
      if (where === channel) return { ids, reached: true };
      if (where === undefined) break;
      await this.#ctx.observe(this.#ctx.timing.watchdogPeriodMs);
    }
    return { ids, reached: false };
  }

  /**
   * Sends `count` data messages a watchdog period apart and waits until each
   * reached the server; returns the ids and those that went over `channel`.
   */
  async sendSome(
    count: number,
    channel: Channel,
  ): Promise<{ ids: string[]; on: string[]; missing: string[] }> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) await this.#ctx.observe(this.#ctx.timing.watchdogPeriodMs);
      ids.push(await this.sendData());
    }
    await this.#ctx.until(
      () => ids.every((id) => this.arrivals(id).length > 0),
      dcSoon(this.#ctx, 1),
    );
    return {
      ids,
      on: ids.filter((id) => this.arrivals(id).includes(channel)),
      missing: ids.filter((id) => this.arrivals(id).length === 0),
    };
  }

  /** Evidence lines, each with its channel as the source. */
  evidence(
    predicate: (event: JournalEvent) => boolean = traffic,
    since = 0,
    limit = 24,
  ): Evidence[] {
    const events = this.events(predicate, since);
    return events.slice(-limit).flatMap((e) =>
      this.#ctx.evidence(String(e.channel ?? "server"), [e])
    );
  }
}

/** Connections, closes, data frames, data ACKs and faults: the default evidence. */
export function traffic(event: JournalEvent): boolean {
  if (event.type === "frame_in") return frameOf(event).type === "data";
  if (event.type === "ack_sent") return event.reply === "ack";
  return ["connected", "closed", "faults_changed", "ack_dropped"].includes(
    event.type,
  );
}

/** The default evidence and watchdogs. */
export function trafficAndWatchdogs(event: JournalEvent): boolean {
  return traffic(event) ||
    (event.type === "frame_in" && frameOf(event).type === "watchdog");
}
