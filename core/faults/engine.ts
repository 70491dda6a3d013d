/**
 * The fault engine: holds the faults in force, runs their windows (counts,
 * durations, schedules), and calls each fault's hooks at its stage. It knows
 * no fault by name: what a fault does is in its own file (see
 * {@linkcode FAULT_DEFINITIONS}).
 *
 * @module
 */
import type { Journal } from "../journal.ts";
import type { SeededRandom } from "../random.ts";
import type {
  ByteSink,
  CloseCall,
  FaultConnection,
  FaultDefinition,
  FaultHooks,
  FaultTools,
  FrameInCall,
  ListenPlan,
  ReplyCall,
} from "./fault.ts";
import {
  FAULT_DEFINITIONS,
  FAULT_KINDS,
  type FaultKind,
  type Faults,
  type FaultsPatch,
  FaultsPatchSchema,
  FaultsSchema,
} from "./registry.ts";
import {
  type Direction,
  type FaultRule,
  type FaultSchedule,
  type FaultSubject,
  type ScheduleSpan,
  targets,
} from "./rule.ts";

/** What a fault decision is about: a connection, and the record's id when there is one. */
export interface FaultContext extends FaultSubject {
  /** The record, message or frame id, when there is one. */
  id?: string;
}

/** Where a scheduled fault is in its schedule. */
export interface ScheduleStatus {
  /** The fault's kind. */
  fault: FaultKind;
  /** In force (`on`) or not (`off`) now. */
  state: "on" | "off";
  /** Whether the schedule is paused (the state holds until resumed or forced). */
  paused: boolean;
  /** Milliseconds until the next transition (left, when paused). */
  nextMs: number;
  /** The length of the current period as drawn, in ms. */
  periodMs: number;
  /** How many transitions so far (entering the start state counts as the first). */
  transitions: number;
  /** The schedule. */
  schedule: FaultSchedule;
}

/** Why a scheduled fault changed state. */
export type TransitionReason = "start" | "schedule" | "force";

/** Options for {@linkcode FaultEngine}. */
export interface FaultEngineOptions {
  /** The stream every decision draws from (one derived stream per kind and connection). */
  random: SeededRandom;
  /** Where decisions and changes are journalled. */
  journal: Journal;
  /** Faults in force from the start. */
  faults?: Faults;
  /**
   * The stream a schedule draws its periods from (default: derived from
   * `random` as `schedule/<kind>/<on|off>`).
   */
  scheduleRandom?: (kind: FaultKind, state: "on" | "off") => SeededRandom;
  /**
   * Resolves once a change of faults is in force (the TCP base: once the
   * listener matches). A schedule's period starts then, not before.
   */
  settled?: () => Promise<void>;
}

type AnyDefinition = FaultDefinition<FaultKind, unknown>;
type Hooked<H extends keyof FaultHooks<unknown>> = {
  rule: FaultRule;
  tools: FaultTools;
  hook: NonNullable<FaultHooks<unknown>[H]>;
}[];

interface Schedule {
  schedule: FaultSchedule;
  /** A schedule run as an operation: this rule is set while on, removed while off. */
  run?: { rule: unknown };
  on: boolean;
  paused: boolean;
  timer?: ReturnType<typeof setTimeout>;
  dueAt: number;
  leftMs: number;
  periodMs: number;
  transitions: number;
  random: { on: SeededRandom; off: SeededRandom };
}

const NO_STEP: ByteSink[] = [];

/**
 * Holds the faults in force and calls their hooks, stage by stage; decides,
 * event by event, whether a probabilistic fault fires.
 *
 * @example Usage
 * ```ts
 * import { FaultEngine } from "./engine.ts";
 * import { Journal } from "../journal.ts";
 * import { SeededRandom } from "../random.ts";
 * const faults = new FaultEngine({
 *   random: new SeededRandom(7),
 *   journal: new Journal(),
 *   faults: { dropAck: { probability: 0.3 } },
 * });
 * faults.decide("dropAck", { conn: 1, peer: "127.0.0.1:5000", peerHost: "127.0.0.1", id: "r1" });
 * ```
 */
export class FaultEngine {
  #faults: Faults = {};
  #random: SeededRandom;
  #journal: Journal;
  #scheduleRandom?: FaultEngineOptions["scheduleRandom"];
  #settled?: () => Promise<void>;
  /** Decision streams by kind, then connection. */
  #streams = new Map<FaultKind, Map<number, SeededRandom>>();
  #counts = new Map<FaultKind, number>();
  #timers = new Map<FaultKind, ReturnType<typeof setTimeout>>();
  #schedules = new Map<FaultKind, Schedule>();
  #runs = new Map<FaultKind, Schedule>();
  #listeners = new Set<(faults: Faults) => void>();
  #transitionListeners = new Set<
    (status: ScheduleStatus, reason: TransitionReason) => void
  >();
  #tools = new Map<FaultKind, FaultTools>();
  #version = 0;
  #accept: Hooked<"accept"> = [];
  #bytesIn: Hooked<"bytesIn"> = [];
  #frameIn: Hooked<"frameIn"> = [];
  #reply: Hooked<"reply"> = [];
  #gate: Hooked<"gate"> = [];
  #bytesOut: Hooked<"bytesOut"> = [];
  #close: Hooked<"close"> = [];
  #listen: Hooked<"listen"> = [];

  /** Makes an engine; `options.faults` are in force at once. */
  constructor(options: FaultEngineOptions) {
    this.#random = options.random;
    this.#journal = options.journal;
    this.#scheduleRandom = options.scheduleRandom;
    this.#settled = options.settled;
    if (options.faults) this.set(options.faults);
  }

  /** The faults set now (a copy), scheduled ones whether on or off. */
  get(): Faults {
    return structuredClone(this.#faults);
  }

  /** The rule of one kind set now, if any. */
  rule<K extends FaultKind>(kind: K): Faults[K] | undefined {
    return this.#faults[kind];
  }

  /** Replaces every fault. Throws a `ZodError` on a bad value, changing nothing. */
  set(faults: Faults): void {
    const parsed = FaultsSchema.parse(faults);
    this.#apply(parsed, new Set(FAULT_KINDS));
  }

  /** Changes some faults; a kind set to `null` is removed. */
  patch(patch: FaultsPatch): void {
    const parsed = FaultsPatchSchema.parse(patch);
    const next: Record<string, unknown> = { ...this.#faults };
    for (const [kind, value] of Object.entries(parsed)) {
      if (value === null) delete next[kind];
      else if (value !== undefined) next[kind] = value;
    }
    this.#apply(next as Faults, new Set(Object.keys(parsed) as FaultKind[]));
  }

  /** Removes one kind of fault, or every fault. */
  clear(kind?: FaultKind): void {
    if (kind) this.patch({ [kind]: null });
    else this.set({});
  }

  /** Calls `listener` after every change (and every scheduled transition); returns the unsubscribe function. */
  onChange(listener: (faults: Faults) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` on every transition of a scheduled fault; returns the unsubscribe function. */
  onTransition(
    listener: (status: ScheduleStatus, reason: TransitionReason) => void,
  ): () => void {
    this.#transitionListeners.add(listener);
    return () => this.#transitionListeners.delete(listener);
  }

  /**
   * Whether a fault is in force (set, and on if scheduled), for a connection
   * when one is given.
   */
  active(kind: FaultKind, context?: FaultSubject): boolean {
    const rule = this.#faults[kind] as FaultRule | undefined;
    if (!rule || !this.#inForce(kind)) return false;
    return !context || targets(rule.target, context);
  }

  /**
   * Decides once whether a fault fires for one event, drawing from the
   * stream of this kind and connection, and journals the decision. Returns
   * false, journalling nothing, when the fault is not in force or not aimed
   * at this connection.
   */
  decide(kind: FaultKind, context: FaultContext): boolean {
    const rule = this.#faults[kind] as FaultRule | undefined;
    if (!rule || !this.#inForce(kind) || !targets(rule.target, context)) {
      return false;
    }
    return this.#decide(kind, rule, context, context.id);
  }

  /** A number in [min, max] from the stream of this kind and connection. */
  draw(kind: FaultKind, conn: number, min: number, max: number): number {
    return this.#stream(kind, conn).between(min, max);
  }

  // ---- stages ----

  /** Listen stage: what the listener should be now. */
  listenPlan(): ListenPlan {
    const plan: ListenPlan = {
      mode: "accept",
      reason: "",
      backlog: 511,
      fillQueue: false,
    };
    for (const { rule, hook } of this.#listen) hook(rule, plan);
    return plan;
  }

  /** Accept stage: once per new connection. Returns whether it is still open. */
  accept(conn: FaultConnection): boolean {
    const list = this.#accept;
    for (let i = 0; i < list.length && !conn.closing; i++) {
      const { rule, tools, hook } = list[i];
      if (targets(rule.target, conn)) hook(rule, tools, conn);
    }
    return !conn.closing;
  }

  /** Frame-in stage: once per decoded frame. */
  frameIn(call: FrameInCall): void {
    const list = this.#frameIn;
    for (let i = 0; i < list.length; i++) {
      const { rule, tools, hook } = list[i];
      if (targets(rule.target, call.conn)) hook(rule, tools, call);
    }
  }

  /** Reply stage: once per ACK-like reply; stops at a drop. */
  reply(call: ReplyCall): void {
    const list = this.#reply;
    for (let i = 0; i < list.length && !call.drop; i++) {
      const { rule, tools, hook } = list[i];
      if (targets(rule.target, call.conn)) hook(rule, tools, call);
    }
  }

  /**
   * Bytes-out stage, gate: once per write (`what` is the frame's type, or
   * `"bytes"`). False: it is kept in (and journalled by the fault).
   */
  gate(
    conn: FaultConnection,
    what: string,
    id: string | undefined,
    bytes: number,
  ): boolean {
    const list = this.#gate;
    for (let i = 0; i < list.length; i++) {
      const { rule, tools, hook } = list[i];
      if (
        targets(rule.target, conn, "out") &&
        !hook(rule, tools, conn, what, id, bytes)
      ) return false;
    }
    return true;
  }

  /** Close stage: once per close the server makes; hooks edit `call`. */
  closing(call: CloseCall): void {
    const list = this.#close;
    for (let i = 0; i < list.length; i++) {
      const { rule, tools, hook } = list[i];
      if (targets(rule.target, call.conn)) hook(rule, tools, call);
    }
  }

  /** Whether any close hook is in force (so a caller can skip building a call). */
  get closeHooks(): boolean {
    return this.#close.length > 0;
  }

  /**
   * Bytes stages: a pipe for one connection and direction, ending at
   * `sink`. Its `write` runs the byte faults in force (rebuilt when they
   * change); with none, it writes straight to `sink`.
   */
  pipe(conn: FaultConnection, direction: Direction, sink: ByteSink): FaultPipe {
    return new FaultPipe(this, conn, direction, sink);
  }

  /** @internal The version of the hook lists, bumped on every change. */
  get version(): number {
    return this.#version;
  }

  /**
   * The steps of a pipe for one connection and direction, ending at `sink`;
   * each step made is pushed to `made`. Returns the head.
   *
   * @internal
   */
  steps(
    conn: FaultConnection,
    direction: Direction,
    sink: ByteSink,
    made: ByteSink[],
  ): ByteSink {
    const list = direction === "in" ? this.#bytesIn : this.#bytesOut;
    let next = sink;
    for (let i = list.length - 1; i >= 0; i--) {
      const { rule, tools, hook } = list[i];
      if (targets(rule.target, conn, direction)) {
        const step = hook(rule, tools, { conn, direction, next });
        if (step !== next) made.push(next = step);
      }
    }
    return next;
  }

  // ---- schedules ----

  /** Where a scheduled fault is in its schedule; undefined when it has none. */
  scheduleStatus(kind: FaultKind): ScheduleStatus | undefined {
    const s = this.#scheduleOf(kind);
    if (!s) return undefined;
    const nextMs = s.paused || s.timer === undefined
      ? s.leftMs
      : Math.max(0, Math.round(s.dueAt - performance.now()));
    return {
      fault: kind,
      state: s.on ? "on" : "off",
      paused: s.paused,
      nextMs,
      periodMs: s.periodMs,
      transitions: s.transitions,
      schedule: structuredClone(s.schedule),
    };
  }

  /** Pauses a schedule: its state holds until resumed or forced. Returns false without one. */
  pauseSchedule(kind: FaultKind): boolean {
    const s = this.#scheduleOf(kind);
    if (!s) return false;
    if (s.paused) return true;
    s.paused = true;
    if (s.timer !== undefined) {
      s.leftMs = Math.max(0, Math.round(s.dueAt - performance.now()));
      clearTimeout(s.timer);
      s.timer = undefined;
    }
    return true;
  }

  /** Resumes a schedule for what was left of its period. Returns false without one. */
  resumeSchedule(kind: FaultKind): boolean {
    const s = this.#scheduleOf(kind);
    if (!s) return false;
    if (!s.paused) return true;
    s.paused = false;
    if (s.timer === undefined) this.#arm(kind, s, s.leftMs);
    return true;
  }

  /**
   * Puts a scheduled fault on or off now and starts a new period of that
   * state (a paused schedule stays paused). Returns false without one.
   */
  forceSchedule(kind: FaultKind, state: "on" | "off"): boolean {
    const s = this.#scheduleOf(kind);
    if (!s) return false;
    this.#enter(kind, s, state === "on", "force");
    return true;
  }

  /**
   * Runs a schedule as an operation (a preset, as the flapping server's):
   * `rule` is set as the fault of `kind` for each on period and removed for
   * each off period, so the faults in force read as plain rules. Enters the
   * start state at once (journalled through {@linkcode FaultEngine.onTransition}
   * listeners as reason `start`). Replaces a schedule run for the same kind.
   */
  runSchedule(
    kind: FaultKind,
    options: {
      schedule: FaultSchedule;
      rule?: unknown;
      random?: { on: SeededRandom; off: SeededRandom };
    },
  ): void {
    this.stopSchedule(kind);
    const s = this.#newSchedule(kind, options.schedule, options.random);
    s.run = { rule: options.rule ?? {} };
    this.#runs.set(kind, s);
    this.#enter(kind, s, s.on, "start");
  }

  /** Stops a schedule run by {@linkcode FaultEngine.runSchedule} (the fault stays as it is). */
  stopSchedule(kind: FaultKind): void {
    const s = this.#runs.get(kind);
    if (!s) return;
    clearTimeout(s.timer);
    this.#runs.delete(kind);
  }

  /** Stops every timer (durations, schedules). */
  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const s of this.#schedules.values()) clearTimeout(s.timer);
    this.#schedules.clear();
    for (const s of this.#runs.values()) clearTimeout(s.timer);
    this.#runs.clear();
    this.#listeners.clear();
    this.#transitionListeners.clear();
  }

  // ---- private ----

  #newSchedule(
    kind: FaultKind,
    schedule: FaultSchedule,
    random?: { on: SeededRandom; off: SeededRandom },
  ): Schedule {
    const stream = this.#scheduleRandom ??
      ((k: FaultKind, state: "on" | "off") =>
        this.#random.derive(`schedule/${k}/${state}`));
    return {
      schedule,
      on: schedule.start === "on",
      paused: schedule.paused ?? false,
      dueAt: 0,
      leftMs: 0,
      periodMs: 0,
      transitions: 0,
      random: random ?? { on: stream(kind, "on"), off: stream(kind, "off") },
    };
  }

  #scheduleOf(kind: FaultKind): Schedule | undefined {
    return this.#runs.get(kind) ?? this.#schedules.get(kind);
  }

  #inForce(kind: FaultKind): boolean {
    const s = this.#schedules.get(kind);
    return !s || s.on;
  }

  #decide(
    kind: FaultKind,
    rule: FaultRule,
    subject: FaultSubject,
    id: string | undefined,
  ): boolean {
    const count = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, count);
    const after = rule.window?.after ?? 0;
    const first = rule.window?.first ?? Infinity;
    const inWindow = count > after && count <= after + first;
    const fired = inWindow &&
      this.#stream(kind, subject.conn).chance(rule.probability ?? 1);
    this.#journal.append("fault", {
      fault: kind,
      fired,
      conn: subject.conn,
      ...(id !== undefined ? { id } : {}),
      ...(inWindow ? {} : { outside: "window" }),
    });
    return fired;
  }

  #stream(kind: FaultKind, conn: number): SeededRandom {
    let streams = this.#streams.get(kind);
    if (!streams) this.#streams.set(kind, streams = new Map());
    let stream = streams.get(conn);
    if (!stream) {
      stream = this.#random.derive(`${kind}/conn-${conn}`);
      streams.set(conn, stream);
    }
    return stream;
  }

  #toolsOf(kind: FaultKind): FaultTools {
    let tools = this.#tools.get(kind);
    if (tools) return tools;
    const journal = this.#journal;
    tools = {
      kind,
      journal,
      decide: (subject, id) =>
        this.#decide(
          kind,
          this.#faults[kind] as FaultRule,
          subject,
          id,
        ),
      draw: (subject, min, max) =>
        this.#stream(kind, subject.conn).between(min, max),
      fired: (subject, fields) =>
        journal.append("fault", {
          fault: kind,
          fired: true,
          conn: subject.conn,
          ...fields,
        }),
    };
    this.#tools.set(kind, tools);
    return tools;
  }

  #apply(next: Faults, touched: Set<FaultKind>): void {
    for (const kind of touched) {
      this.#counts.delete(kind);
      this.#streams.delete(kind);
      const timer = this.#timers.get(kind);
      if (timer !== undefined) clearTimeout(timer);
      this.#timers.delete(kind);
      const old = this.#schedules.get(kind);
      if (old) clearTimeout(old.timer);
      this.#schedules.delete(kind);
      const window = (next[kind] as FaultRule | undefined)?.window;
      if (window?.forMs !== undefined) {
        this.#timers.set(
          kind,
          setTimeout(() => {
            this.#timers.delete(kind);
            this.#journal.append("fault_expired", { fault: kind });
            this.patch({ [kind]: null });
          }, window.forMs),
        );
      }
      if (window?.schedule) {
        this.#schedules.set(kind, this.#newSchedule(kind, window.schedule));
      }
    }
    this.#faults = next;
    this.#rebuild();
    this.#journal.append("faults_changed", { faults: this.get() });
    for (const listener of this.#listeners) listener(this.get());
    for (const kind of touched) {
      const s = this.#schedules.get(kind);
      if (s) this.#enter(kind, s, s.on, "start");
    }
  }

  #enter(
    kind: FaultKind,
    s: Schedule,
    on: boolean,
    reason: TransitionReason,
  ): void {
    const changed = s.on !== on;
    s.on = on;
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    // Parsed by the schema (or given as spans by runSchedule).
    const span = (on ? s.schedule.on : s.schedule.off) as ScheduleSpan;
    const stream = on ? s.random.on : s.random.off;
    s.periodMs = span.min === span.max
      ? span.min
      : Math.round(stream.between(span.min, span.max));
    s.leftMs = s.periodMs;
    const transition = ++s.transitions;
    if (s.run) {
      if ((this.#faults[kind] !== undefined) !== on) {
        this.patch({ [kind]: on ? s.run.rule : null } as FaultsPatch);
      }
    } else if (changed) {
      this.#rebuild();
      for (const listener of this.#listeners) listener(this.get());
    }
    const status = this.scheduleStatus(kind)!;
    for (const listener of this.#transitionListeners) listener(status, reason);
    if (s.paused) return;
    if (!this.#settled) return this.#arm(kind, s, s.periodMs);
    // The period starts once the state is in force.
    void this.#settled().then(() => {
      if (
        s.transitions === transition && !s.paused && s.timer === undefined &&
        this.#scheduleOf(kind) === s
      ) this.#arm(kind, s, s.periodMs);
    });
  }

  #arm(kind: FaultKind, s: Schedule, ms: number): void {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.dueAt = performance.now() + ms;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.leftMs = 0;
      this.#enter(kind, s, !s.on, "schedule");
    }, ms);
  }

  #rebuild(): void {
    this.#version++;
    const lists = {
      listen: [] as Hooked<"listen">,
      accept: [] as Hooked<"accept">,
      bytesIn: [] as Hooked<"bytesIn">,
      frameIn: [] as Hooked<"frameIn">,
      reply: [] as Hooked<"reply">,
      gate: [] as Hooked<"gate">,
      bytesOut: [] as Hooked<"bytesOut">,
      close: [] as Hooked<"close">,
    };
    const defs = [...(FAULT_DEFINITIONS as readonly AnyDefinition[])].sort(
      (a, b) => (a.order ?? 0) - (b.order ?? 0),
    );
    for (const def of defs) {
      const rule = this.#faults[def.kind] as FaultRule | undefined;
      if (!rule || !this.#inForce(def.kind)) continue;
      const tools = this.#toolsOf(def.kind);
      for (const [name, hook] of Object.entries(def.hooks)) {
        (lists[name as keyof typeof lists] as unknown[]).push({
          rule,
          tools,
          hook,
        });
      }
    }
    this.#listen = lists.listen;
    this.#accept = lists.accept;
    this.#bytesIn = lists.bytesIn;
    this.#frameIn = lists.frameIn;
    this.#reply = lists.reply;
    this.#gate = lists.gate;
    this.#bytesOut = lists.bytesOut;
    this.#close = lists.close;
  }
}

/**
 * One direction of one connection's bytes, through the byte faults in
 * force. Made by {@linkcode FaultEngine.pipe}; the chain is rebuilt (and the
 * old steps stopped, passing on what they held) when the faults change.
 */
export class FaultPipe implements ByteSink {
  #engine: FaultEngine;
  #conn: FaultConnection;
  #direction: Direction;
  #sink: ByteSink;
  #head: ByteSink;
  #steps: ByteSink[] = NO_STEP;
  #version = -1;

  /** Use {@linkcode FaultEngine.pipe}. */
  constructor(
    engine: FaultEngine,
    conn: FaultConnection,
    direction: Direction,
    sink: ByteSink,
  ) {
    this.#engine = engine;
    this.#conn = conn;
    this.#direction = direction;
    this.#sink = sink;
    this.#head = sink;
  }

  /** Sends a chunk through the faults in force to the sink. */
  write(chunk: Uint8Array): void {
    if (this.#version !== this.#engine.version) this.#build();
    this.#head.write(chunk);
  }

  /** Stops every step (passing on what they hold). */
  stop(): void {
    for (const step of this.#steps) step.stop?.();
    this.#steps = NO_STEP;
    this.#head = this.#sink;
  }

  #build(): void {
    this.stop();
    this.#version = this.#engine.version;
    const steps: ByteSink[] = [];
    this.#head = this.#engine.steps(
      this.#conn,
      this.#direction,
      this.#sink,
      steps,
    );
    this.#steps = steps.length === 0 ? NO_STEP : steps;
  }
}
