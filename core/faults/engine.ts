/**
 * The fault engine: holds the faults in force, runs their windows (counts,
 * durations, schedules), and calls each fault's hooks at its stage. It knows
 * no fault by name: what a fault does is in its own file (see
 * {@linkcode FAULT_DEFINITIONS}).
 *
 * @module
 */
import type { Journal } from "../journal/journal.ts";
import type { SeededRandom } from "./random.ts";
import type {
  ByteSink,
  CloseCall,
  FaultConnection,
  FaultDefinition,
  FaultHooks,
  FaultTools,
  FrameInCall,
  ListenPlan,
  PipeSetup,
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
  /**
   * The stream a named instance draws from for one connection (its
   * toxicity, then its own draws); default: derived from `random` as
   * `instance/<name>/conn-<conn>`.
   */
  instanceRandom?: (name: string, subject: FaultSubject) => SeededRandom;
}

/**
 * A named instance of a byte fault, as a Toxiproxy toxic is: several per
 * kind, each aimed at one direction, in force on a connection when its
 * toxicity, drawn once per connection from the seeded stream of the instance
 * and connection, says so. Instances of a direction act in the order added
 * (Toxiproxy's order), after the byte faults set by kind.
 */
export interface FaultInstance {
  /** Its name, unique in the engine. */
  name: string;
  /** Its fault: a definition with a `bytesIn` and a `bytesOut` hook. */
  definition: FaultDefinition<string, unknown>;
  /** The direction it acts on. */
  direction: Direction;
  /** The chance, 0 to 1, that it is in force on a connection. */
  toxicity: number;
  /** Its rule (the hooks' `rule`); changed in place by {@linkcode FaultEngine.updateInstance}. */
  rule: Record<string, unknown>;
  /** Skip the first `after` connections, then act on `first` of them. */
  window?: { after?: number; first?: number };
  /** Fields added to every journal event of the instance (`toxic`, `stream`). */
  fields?: Record<string, unknown>;
}

/** @internal An instance as the engine holds it. */
export interface HeldInstance {
  readonly spec: FaultInstance;
  readonly tools: FaultTools;
  /** Bumped when the toxicity changes: every connection draws again. */
  draw: number;
  /** Bumped when the rule changes: steps get `updated()`. */
  ruleVersion: number;
  met: number;
  streams: Map<number, SeededRandom>;
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
/** A pipe's slots while it has none (shared, never written to). */
const NO_SLOT: Slot[] = [];
/** A pipe's instances before its first sync. */
const NO_INSTANCE: readonly HeldInstance[] = [];

/**
 * Holds the faults in force and calls their hooks, stage by stage; decides,
 * event by event, whether a probabilistic fault fires.
 *
 * @example Usage
 * ```ts
 * import { FaultEngine } from "./engine.ts";
 * import { Journal } from "../journal/journal.ts";
 * import { SeededRandom } from "./random.ts";
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
  #instanceRandom?: FaultEngineOptions["instanceRandom"];
  #instances: HeldInstance[] = [];
  #pipes = new Set<FaultPipe>();

  /** Makes an engine; `options.faults` are in force at once. */
  constructor(options: FaultEngineOptions) {
    this.#random = options.random;
    this.#journal = options.journal;
    this.#scheduleRandom = options.scheduleRandom;
    this.#settled = options.settled;
    this.#instanceRandom = options.instanceRandom;
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

  // ---- named instances ----

  /**
   * Adds a named instance (a toxic) after the others of its direction; it
   * acts on open pipes at once. Throws a `RangeError` when the name is taken.
   */
  addInstance(spec: FaultInstance): void {
    if (this.#instances.some((held) => held.spec.name === spec.name)) {
      throw new RangeError(
        `Cannot add fault instance ${spec.name}: the name is taken`,
      );
    }
    const held: HeldInstance = {
      spec,
      tools: this.#instanceTools(spec, () => held),
      draw: 0,
      ruleVersion: 0,
      met: 0,
      streams: new Map(),
    };
    this.#instances = [...this.#instances, held];
    this.#syncPipes();
  }

  /**
   * Changes an instance: a new rule is copied over the one in force (steps
   * get `updated()`), a new toxicity is drawn again on every open pipe.
   * Returns false when there is no such instance.
   */
  updateInstance(
    name: string,
    change: { rule?: Record<string, unknown>; toxicity?: number },
  ): boolean {
    const held = this.#instances.find((h) => h.spec.name === name);
    if (!held) return false;
    if (change.rule) {
      Object.assign(held.spec.rule, change.rule);
      held.ruleVersion++;
    }
    if (
      change.toxicity !== undefined && change.toxicity !== held.spec.toxicity
    ) {
      held.spec.toxicity = change.toxicity;
      held.draw++;
      held.streams.clear();
    }
    // A new list: every pipe syncs.
    this.#instances = [...this.#instances];
    this.#syncPipes();
    return true;
  }

  /** Removes an instance; its steps pass on what they hold. Returns false without one. */
  removeInstance(name: string): boolean {
    const before = this.#instances.length;
    this.#instances = this.#instances.filter((h) => h.spec.name !== name);
    if (this.#instances.length === before) return false;
    this.#syncPipes();
    return true;
  }

  /** The named instances, in the order added. */
  instances(): readonly FaultInstance[] {
    return this.#instances.map((held) => held.spec);
  }

  /** @internal The instances held now (a new array after every change). */
  get heldInstances(): readonly HeldInstance[] {
    return this.#instances;
  }

  /**
   * @internal Draws once whether an instance is in force on a connection
   * (counted against its window, journalled as a `fault` event).
   */
  drawInstance(held: HeldInstance, subject: FaultSubject): boolean {
    const { spec } = held;
    const met = ++held.met;
    const after = spec.window?.after ?? 0;
    const inWindow = met > after &&
      met <= after + (spec.window?.first ?? Infinity);
    const fired = inWindow &&
      this.#instanceStream(held, subject).chance(spec.toxicity);
    this.#journal.append("fault", {
      ...(inWindow ? {} : { outside: "window" }),
      fault: spec.definition.kind,
      ...spec.fields,
      toxicity: spec.toxicity,
      fired,
      conn: subject.conn,
    });
    return fired;
  }

  /** @internal A pipe to keep in step with the instances, or to forget. */
  track(pipe: FaultPipe, on: boolean): void {
    if (on) this.#pipes.add(pipe);
    else this.#pipes.delete(pipe);
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
    this.#pipes.clear();
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
    // One decision per fault per record: no spreads, and in the common
    // case the journal's own fields as placeholders (see `Journal.add`).
    if (id !== undefined && inWindow) {
      this.#journal.add("fault", {
        fault: kind,
        fired,
        conn: subject.conn,
        id,
        seq: 0,
        time: 0,
        wall: 0,
        server: "",
        type: "",
      });
      return fired;
    }
    const event: Record<string, unknown> = {
      fault: kind,
      fired,
      conn: subject.conn,
    };
    if (id !== undefined) event.id = id;
    if (!inWindow) event.outside = "window";
    this.#journal.add("fault", event);
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

  #syncPipes(): void {
    for (const pipe of this.#pipes) pipe.sync();
  }

  #instanceStream(held: HeldInstance, subject: FaultSubject): SeededRandom {
    let stream = held.streams.get(subject.conn);
    if (!stream) {
      stream = this.#instanceRandom?.(held.spec.name, subject) ??
        this.#random.derive(`instance/${held.spec.name}/conn-${subject.conn}`);
      held.streams.set(subject.conn, stream);
    }
    return stream;
  }

  #instanceTools(spec: FaultInstance, held: () => HeldInstance): FaultTools {
    const journal = this.#journal;
    const kind = spec.definition.kind;
    return {
      kind,
      journal,
      decide: (subject) => this.drawInstance(held(), subject),
      draw: (subject, min, max) =>
        this.#instanceStream(held(), subject).between(min, max),
      fired: (subject, fields) =>
        journal.append("fault", {
          fault: kind,
          ...spec.fields,
          fired: true,
          conn: subject.conn,
          ...fields,
        }),
      note: (subject, type, fields) =>
        journal.append(type, {
          conn: subject.conn,
          ...spec.fields,
          ...fields,
        }),
    };
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
      note: (subject, type, fields) =>
        journal.append(type, { conn: subject.conn, ...fields }),
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

interface Slot {
  held: HeldInstance;
  draw: number;
  ruleVersion: number;
  step?: ByteSink;
  /** Whether it was drawn on this connection (fired or not). */
  drawn: boolean;
  /** What follows the slot now (the next slot's step, or the sink). */
  after: ByteSink;
  /** The slot's step's `next`: forwards to `after`, whatever it is now. */
  router: ByteSink;
}

/**
 * One direction of one connection's bytes, through the byte faults in
 * force: first the faults set by kind (rebuilt on the next chunk when they
 * change, the old steps stopped), then the named instances of that
 * direction in the order added (kept in step at once when they change; the
 * other instances' steps keep their state). The FIN passes through the same
 * chain, in order. Made by {@linkcode FaultEngine.pipe}.
 */
export class FaultPipe implements ByteSink {
  #engine: FaultEngine;
  #conn: FaultConnection;
  #direction: Direction;
  #sink: ByteSink;
  #head: ByteSink;
  #steps: ByteSink[] = NO_STEP;
  #version = -1;
  #slots: Slot[] = NO_SLOT;
  #instances: readonly HeldInstance[] = NO_INSTANCE;
  /** The first instance step, or the sink. */
  #entry: ByteSink;
  /** What the steps of faults set by kind write to: made at the first of them. */
  #toEntry?: ByteSink;
  #gone = false;

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
    this.#entry = sink;
    engine.track(this, true);
    this.sync();
  }

  /** Sends a chunk through the faults in force to the sink. */
  write(chunk: Uint8Array): void {
    if (this.#version !== this.#engine.version) this.#build();
    this.#head.write(chunk);
  }

  /** Sends the source's FIN through the faults in force, after what came before. */
  end(): void {
    if (this.#version !== this.#engine.version) this.#build();
    this.#head.end();
  }

  /** Bytes held by its steps now. */
  get held(): number {
    if (this.#head === this.#sink) return 0;
    let held = 0;
    for (const step of this.#steps) held += step.held ?? 0;
    for (const slot of this.#slots) held += slot.step?.held ?? 0;
    return held;
  }

  /** The names of the named instances in force on it, in order. */
  names(): string[] {
    const names: string[] = [];
    for (const slot of this.#slots) {
      if (slot.step) names.push(slot.held.spec.name);
    }
    return names;
  }

  /**
   * The connection is gone: every step stops (those set by kind pass on or
   * drop what they hold; instances drop theirs), and the engine forgets it.
   */
  stop(): void {
    this.#gone = true;
    this.#engine.track(this, false);
    this.#stopKinds();
    for (const slot of this.#slots) {
      const step = slot.step;
      slot.step = undefined;
      if (step?.dispose) step.dispose();
      else step?.stop?.();
    }
    this.#slots = NO_SLOT;
    this.#entry = this.#sink;
    this.#head = this.#sink;
  }

  /**
   * Brings the instance steps in line with the engine's instances: removed
   * ones stop (passing on what they hold), new ones and ones whose toxicity
   * changed are drawn for this connection, changed rules reach `updated()`.
   *
   * @internal
   */
  sync(): void {
    const list = this.#engine.heldInstances;
    if (this.#gone || list === this.#instances) return;
    this.#instances = list;
    // None held and none to hold: nothing to make (most connections).
    if (list.length === 0 && this.#slots.length === 0) return;
    const old = new Map(this.#slots.map((slot) => [slot.held, slot]));
    const slots: Slot[] = [];
    for (const held of list) {
      if (held.spec.direction !== this.#direction) continue;
      const slot = old.get(held);
      old.delete(held);
      if (slot) slots.push(slot);
      else slots.push(this.#slot(held));
    }
    for (const slot of old.values()) this.#remove(slot);
    this.#slots = slots;
    this.#link();
    for (const slot of slots) {
      if (this.#gone || this.#conn.closing) break;
      if (slot.draw !== slot.held.draw) {
        this.#remove(slot);
        slot.draw = slot.held.draw;
        slot.ruleVersion = slot.held.ruleVersion;
        this.#make(slot);
      } else if (slot.ruleVersion !== slot.held.ruleVersion) {
        slot.ruleVersion = slot.held.ruleVersion;
        slot.step?.updated?.();
      } else if (slot.step === undefined && !slot.drawn) {
        this.#make(slot);
      }
    }
    this.#link();
  }

  #slot(held: HeldInstance): Slot {
    const slot: Slot = {
      held,
      draw: held.draw,
      ruleVersion: held.ruleVersion,
      after: this.#sink,
      router: undefined as unknown as ByteSink,
      drawn: false,
    };
    slot.router = {
      write: (chunk) => slot.after.write(chunk),
      end: () => slot.after.end(),
    };
    return slot;
  }

  #make(slot: Slot): void {
    slot.drawn = true;
    if (!this.#engine.drawInstance(slot.held, this.#conn)) return;
    const { definition, rule } = slot.held.spec;
    const hook = this.#direction === "in"
      ? definition.hooks.bytesIn
      : definition.hooks.bytesOut;
    if (!hook) return;
    const setup: PipeSetup = {
      conn: this.#conn,
      direction: this.#direction,
      next: slot.router,
    };
    const step = hook(rule, slot.held.tools, setup);
    if (step !== slot.router) slot.step = step;
  }

  #remove(slot: Slot): void {
    const step = slot.step;
    slot.step = undefined;
    step?.stop?.();
  }

  /** Points each slot at the one after it, and the entry at the first. */
  #link(): void {
    let next: ByteSink = this.#sink;
    for (let i = this.#slots.length - 1; i >= 0; i--) {
      const slot = this.#slots[i];
      slot.after = next;
      if (slot.step) next = slot.step;
    }
    this.#entry = next;
    if (this.#steps === NO_STEP) this.#head = next;
  }

  #stopKinds(): void {
    for (const step of this.#steps) step.stop?.();
    this.#steps = NO_STEP;
    this.#head = this.#entry;
  }

  #build(): void {
    this.#stopKinds();
    this.#version = this.#engine.version;
    const steps: ByteSink[] = [];
    const toEntry = this.#toEntry ?? {
      write: (chunk) => this.#entry.write(chunk),
      end: () => this.#entry.end(),
    };
    const head = this.#engine.steps(
      this.#conn,
      this.#direction,
      toEntry,
      steps,
    );
    if (steps.length === 0) return;
    this.#toEntry = toEntry;
    this.#steps = steps;
    this.#head = head;
  }
}
