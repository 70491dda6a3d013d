/**
 * Scenarios and verdicts: one scenario per behaviour ID starts its own
 * servers on port 0, drives the client, and judges from the servers'
 * journals and the client's events, with the evidence that decided it.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Journal, JournalEvent } from "../core/journal/journal.ts";
import type { Behaviour } from "./catalogue.ts";
import type {
  ClientCommand,
  ClientEvent,
  ClientSession,
  ClientUnderTest,
  Endpoints,
} from "./client.ts";

/** The client's timing parameters that the checks need, in milliseconds. */
export interface Timing {
  /** How long the client waits for an ACK before resending (TS, FO). */
  ackTimeoutMs: number;
  /** Resends to the server in use before switching (FO). */
  resends: number;
  /** How long the client waits before reconnecting. */
  reconnectDelayMs: number;
  /** Watchdog period (DC). */
  watchdogPeriodMs: number;
  /** Watchdog timeout: no echo within it means the channel failed (DC). */
  watchdogTimeoutMs: number;
  /** Retry period for a broken channel (DC). */
  retryMs: number;
  /** `-fr`: retries of the primary before an alternate (QA). */
  failoverRetries: number;
  /** `-fd`: delay between retries of the primary (QA). */
  failoverDelayMs: number;
  /** How long the client waits for a connection. */
  connectTimeoutMs: number;
}

/** The defaults, short enough for fast runs; pass the client's own values. */
export const DEFAULT_TIMING: Timing = {
  ackTimeoutMs: 300,
  resends: 0,
  reconnectDelayMs: 100,
  watchdogPeriodMs: 100,
  watchdogTimeoutMs: 400,
  retryMs: 200,
  failoverRetries: 0,
  failoverDelayMs: 100,
  connectTimeoutMs: 500,
};

/**
 * Where the agent suite's message-store fronts run: in the runner's process
 * (`runner`, the default), or each in a `servers/message_store.ts` process
 * of its own over one PostgreSQL database (`processes`).
 */
export type FrontsIn = "runner" | "processes";

/** Every {@linkcode FrontsIn}. */
export const FRONTS_IN: readonly FrontsIn[] = ["runner", "processes"];

/** A verdict. */
export type Status = "pass" | "fail" | "not_observable";

/** One piece of evidence: what was seen, where, when. */
export interface Evidence {
  /** Milliseconds since the scenario started. */
  at: number;
  /** Where: a server's label (`ip1`), `client`, or `runner`. */
  source: string;
  /** What, in a line. */
  text: string;
}

/** The verdict of one scenario. */
export interface Verdict {
  /** pass, fail or not observable. */
  status: Status;
  /** One sentence: for a fail, what was expected and what happened. */
  summary: string;
  /** The journal excerpt or client events that decided it. */
  evidence: Evidence[];
}

/** One entry of a scenario's timeline (for the HTML sequence diagram). */
export interface TimelineEntry {
  /** Milliseconds since the scenario started. */
  at: number;
  /** The lane it happened on: `client` or a server label. */
  lane: string;
  /** For an arrow: the lane it goes to. */
  to?: string;
  /** `frame`, `ack`, `drop`, `connect`, `close`, `fault`, `event`. */
  kind: string;
  /** A short label. */
  label: string;
}

/**
 * What a scenario reads of a server's journal: its events, and news of new
 * ones. A {@linkcode Journal}, or the merged events of servers in other
 * processes.
 */
export type ObservedJournal = Pick<Journal, "events" | "subscribe">;

interface Observed {
  label: string;
  journal: ObservedJournal;
  close(): Promise<void>;
  lane?: (event: JournalEvent) => string | undefined;
}

/** What a scenario gets to work with. */
export class ScenarioContext {
  /** The behaviour under check. */
  readonly behaviour: Behaviour;
  /** The run seed. */
  readonly seed: number;
  /** The client's timing. */
  readonly timing: Timing;
  /** Aborted when the scenario runs out of time. */
  readonly signal: AbortSignal;
  /**
   * The servers' wire codec (`line-json` unless the run asks for another,
   * two-servers and failover suites only); also the `{codec}` placeholder.
   */
  readonly codec: string;
  /**
   * The agent suite's shared message store: `memory`, or a PostgreSQL URL
   * (each scenario gets a scratch database on that server).
   */
  readonly store: string;
  /**
   * Where the agent suite's fronts run: in the runner's process, or each in
   * a process of its own (with a PostgreSQL `store` only).
   */
  readonly frontsIn: FrontsIn;
  /** `performance.now()` at the start. */
  readonly startedAt: number = performance.now();
  #client: ClientUnderTest;
  #observed: Observed[] = [];
  #session?: ClientSession;
  #notes: Evidence[] = [];

  /** Made by the runner. */
  constructor(
    behaviour: Behaviour,
    client: ClientUnderTest,
    options: {
      seed: number;
      timing: Timing;
      signal: AbortSignal;
      codec?: string;
      store?: string;
      frontsIn?: FrontsIn;
    },
  ) {
    this.behaviour = behaviour;
    this.#client = client;
    this.seed = options.seed;
    this.timing = options.timing;
    this.signal = options.signal;
    this.codec = options.codec ?? "line-json";
    this.store = options.store ?? "memory";
    this.frontsIn = options.frontsIn ?? "runner";
  }

  /**
   * Registers a server: its journal goes into the evidence and timeline, and
   * it is closed at the end. `options.lane` gives the timeline lane of each
   * of its events (default, or `undefined`: the label), for a server with
   * several listeners over one journal (the message store's fronts:
   * `(event) => event.front`).
   */
  use<T extends { journal: ObservedJournal; close(): Promise<void> }>(
    label: string,
    server: T,
    options: { lane?: (event: JournalEvent) => string | undefined } = {},
  ): T {
    this.#observed.push({
      label,
      journal: server.journal,
      close: () => server.close(),
      lane: options.lane,
    });
    return server;
  }

  /** The client session, once started. */
  get client(): ClientSession {
    if (!this.#session) {
      throw new Error("Cannot use the client before startClient()");
    }
    return this.#session;
  }

  /** Starts the client with the scenario's addresses and the timing and `{codec}` placeholders. */
  async startClient(endpoints: Endpoints): Promise<ClientSession> {
    const timing = Object.fromEntries(
      Object.entries(this.timing).map(([key, value]) => [key, String(value)]),
    );
    this.#session = await this.#client.start(
      { ...timing, codec: this.codec, ...endpoints },
      this.signal,
    );
    this.note("runner", `client started: ${this.#client.name}`);
    return this.#session;
  }

  /** Sends a command to the client (noted in the evidence). */
  async send(command: ClientCommand): Promise<void> {
    this.note("runner", `stdin ${JSON.stringify(command)}`);
    await this.client.command(command);
  }

  /** Milliseconds since the start. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** Adds a line of evidence. */
  note(source: string, text: string): void {
    this.#notes.push({ at: this.now(), source, text });
  }

  /**
   * Waits until `predicate` holds, re-checking whenever any observed journal
   * or the client writes something; false if `ms` passes first.
   */
  async until(predicate: () => boolean, ms: number): Promise<boolean> {
    const deadline = AbortSignal.any([this.signal, AbortSignal.timeout(ms)]);
    while (!predicate()) {
      if (deadline.aborted) {
        this.signal.throwIfAborted();
        return false;
      }
      await new Promise<void>((resolve) => {
        const stops: (() => void)[] = [];
        const wake = () => {
          for (const stop of stops) stop();
          resolve();
        };
        for (const observed of this.#observed) {
          stops.push(observed.journal.subscribe(wake));
        }
        if (this.#session) stops.push(this.#session.subscribe(wake));
        deadline.addEventListener("abort", wake, { once: true });
        stops.push(() => deadline.removeEventListener("abort", wake));
      });
    }
    return true;
  }

  /**
   * Watches for `ms` to see that something does NOT happen (absence can only
   * be observed over time). Bounded; aborted with the scenario.
   */
  async observe(ms: number): Promise<void> {
    await delay(ms, undefined, { signal: this.signal });
  }

  /** The events of an observed server's journal that match. */
  events(
    label: string,
    predicate: (event: JournalEvent) => boolean = () => true,
  ): JournalEvent[] {
    const observed = this.#observed.find((o) => o.label === label);
    if (!observed) {
      throw new Error(`Cannot find server "${label}" in this scenario`);
    }
    return observed.journal.events().filter(predicate);
  }

  /** The client's events that match. */
  clientEvents(
    predicate: (event: ClientEvent) => boolean = () => true,
  ): ClientEvent[] {
    return this.#session?.events.filter(predicate) ?? [];
  }

  /** Evidence lines for journal events of a server. */
  evidence(label: string, events: JournalEvent[], limit = 12): Evidence[] {
    return events.slice(0, limit).map((event) => ({
      at: event.time - this.startedAt,
      source: label,
      text: describeEvent(event),
    }));
  }

  /** Evidence lines for client events. */
  clientEvidence(events: ClientEvent[], limit = 12): Evidence[] {
    return events.slice(0, limit).map(({ time, ...rest }) => ({
      at: time - this.startedAt,
      source: "client",
      text: JSON.stringify(rest),
    }));
  }

  /** A pass. */
  pass(summary: string, evidence: Evidence[] = []): Verdict {
    return { status: "pass", summary, evidence: this.#with(evidence) };
  }

  /** A fail: what was expected, and what happened. */
  fail(expected: string, observed: string, evidence: Evidence[] = []): Verdict {
    return {
      status: "fail",
      summary: `Expected ${expected}, but ${observed}`,
      evidence: this.#with(evidence),
    };
  }

  /** Not observable: the client never printed what the check needs. */
  notObservable(missing: string, evidence: Evidence[] = []): Verdict {
    return {
      status: "not_observable",
      summary: `Cannot judge: ${missing}`,
      evidence: this.#with(evidence),
    };
  }

  /** Stops the client and closes every server (the runner calls this). */
  async finish(): Promise<
    {
      stderr: string;
      otherOutput: string[];
      exitCode?: number;
      killed: boolean;
    }
  > {
    const exit = await this.#session?.stop();
    for (const observed of this.#observed.reverse()) {
      await observed.close().catch(() => {});
    }
    return {
      stderr: exit?.stderr ?? "",
      otherOutput: exit?.otherOutput ?? [],
      exitCode: exit?.code,
      killed: exit?.killed ?? false,
    };
  }

  /** The scenario's timeline: frames as arrows, faults and client events as marks. */
  timeline(limit = 400): TimelineEntry[] {
    const entries: TimelineEntry[] = [];
    for (const { label, journal, lane } of this.#observed) {
      for (const event of journal.events()) {
        const entry = timelineEntry(
          lane?.(event) ?? label,
          event,
          this.startedAt,
        );
        if (entry) entries.push(entry);
      }
    }
    for (const { time, event, ...rest } of this.#session?.events ?? []) {
      entries.push({
        at: time - this.startedAt,
        lane: "client",
        kind: "event",
        label: `${event}${rest.id ? ` ${rest.id}` : ""}${
          rest.channel ? ` ${rest.channel}` : ""
        }${rest.server ? ` ${rest.server}` : ""}`,
      });
    }
    for (const note of this.#notes) {
      if (note.source === "runner" && note.text.startsWith("stdin")) {
        entries.push({
          at: note.at,
          lane: "client",
          kind: "stdin",
          label: note.text.slice(6),
        });
      }
    }
    entries.sort((a, b) => a.at - b.at);
    return entries.slice(0, limit);
  }

  #with(evidence: Evidence[]): Evidence[] {
    return [...this.#notes, ...evidence].sort((a, b) => a.at - b.at);
  }
}

function frameLabel(frame: unknown): string {
  const f = frame as {
    type?: string;
    id?: string;
    seq?: number;
    kind?: string;
  };
  return [
    f?.type,
    f?.kind,
    f?.id ?? (f?.seq !== undefined ? `#${f.seq}` : undefined),
  ]
    .filter(Boolean).join(" ");
}

/** One line for a journal event. */
export function describeEvent(event: JournalEvent): string {
  const conn = event.conn !== undefined ? ` conn ${event.conn}` : "";
  switch (event.type) {
    case "frame_in":
      return `received ${frameLabel(event.frame)}${conn}`;
    case "frame_out":
    case "ack_sent":
      return `sent ${frameLabel(event.frame)}${conn}`;
    case "ack_dropped":
      return `dropped ACK ${event.id}${conn}`;
    case "connected":
      return `connection${conn} from ${event.peer}${
        event.listener ? ` on ${event.listener}` : ""
      }`;
    case "closed":
      return `closed${conn} (${event.how}, by ${event.by}: ${event.reason})`;
    case "fault":
      return `fault ${event.fault} ${event.fired ? "fired" : "not fired"}${
        event.id ? ` for ${event.id}` : ""
      }${conn}`;
    case "faults_changed":
      return `faults set: ${JSON.stringify(event.faults)}`;
    default: {
      const { seq: _s, time: _t, wall: _w, server: _v, type, ...rest } = event;
      return `${type} ${JSON.stringify(rest)}`;
    }
  }
}

function timelineEntry(
  label: string,
  event: JournalEvent,
  start: number,
): TimelineEntry | undefined {
  const at = event.time - start;
  switch (event.type) {
    case "frame_in":
      return {
        at,
        lane: "client",
        to: label,
        kind: "frame",
        label: frameLabel(event.frame),
      };
    case "frame_out":
    case "ack_sent":
      return {
        at,
        lane: label,
        to: "client",
        kind: "ack",
        label: frameLabel(event.frame),
      };
    case "ack_dropped":
      return { at, lane: label, kind: "drop", label: `drop ACK ${event.id}` };
    case "connected":
      return {
        at,
        lane: label,
        kind: "connect",
        label: `connect #${event.conn}`,
      };
    case "closed":
      return {
        at,
        lane: label,
        kind: "close",
        label: `close #${event.conn} ${event.how}`,
      };
    case "faults_changed":
      return {
        at,
        lane: label,
        kind: "fault",
        label: Object.keys(event.faults as object).join(", ") || "no faults",
      };
    case "store_down":
    case "store_up":
      return { at, lane: label, kind: "fault", label: event.type };
    case "stopped_listening":
    case "listening":
      return {
        at,
        lane: label,
        kind: "fault",
        label: event.type === "listening" ? "up" : `down (${event.reason})`,
      };
    default:
      return undefined;
  }
}

/** One scenario: which behaviour, and how to check it. */
export interface Scenario {
  /** The behaviour ID. */
  id: string;
  /**
   * What this scenario holds that another might also use (a fixed port, a
   * file, an outside server), by name: the runner never runs two scenarios
   * naming the same thing at once. The built-in ones start their own servers
   * on port 0 and share nothing.
   */
  shares?: readonly string[];
  /** Sets up servers and faults, drives the client, and judges. */
  run(ctx: ScenarioContext): Promise<Verdict>;
}

/**
 * The scenarios of a suite whose behaviour IDs are `prefix` and a number
 * from 1, in order: `numberedScenarios("TS", [ts1, ts2])` is TS-1 (run by
 * `ts1`) and TS-2 (run by `ts2`).
 */
export function numberedScenarios(
  prefix: string,
  runs: readonly Scenario["run"][],
): readonly Scenario[] {
  return runs.map((run, i) => ({ id: `${prefix}-${i + 1}`, run }));
}
