/**
 * What a fault is, and the stages it can act at: the contract between a
 * fault file, the engine, and whoever calls the stages (the TCP server base,
 * a connection, a proxy link).
 *
 * A fault file exports one {@linkcode FaultDefinition}: its kind, the stage
 * it acts at, its zod schema (with descriptions: the OpenAPI document,
 * `--help` and `docs/faults.md` come from them), its command-line flags, and
 * its effect as one or more stage hooks. The registry lists every file.
 *
 * Stages, in the order one connection meets them, and who calls them:
 *
 * | stage      | called by                 | once per             | hook signature (see the types)          |
 * | ---------- | ------------------------- | -------------------- | --------------------------------------- |
 * | `listen`   | TCP base                  | fault change         | `listen(rule, plan)`: edit the plan     |
 * | `accept`   | TCP base / proxy link     | new connection       | `accept(rule, tools, conn)`             |
 * | `bytesIn`  | connection / proxy link   | chunk read           | `bytesIn(rule, tools, setup)`: a step   |
 * | `frameIn`  | connection                | decoded frame        | `frameIn(rule, tools, call)`            |
 * | `reply`    | connection (`sendReply`)    | ACK-like reply       | `reply(rule, tools, call)`              |
 * | `bytesOut` | connection / proxy link   | write (gate); chunk  | `gate(...)`: let it out?; `bytesOut(rule, tools, setup)`: a step |
 * | `close`    | connection / proxy link   | close by the server  | `close(rule, tools, call)`: edit how    |
 *
 * Byte stages are pipes, as Toxiproxy's toxics: the engine builds, per
 * connection and direction, a chain of {@linkcode ByteSink} steps (one per
 * byte fault in force and aimed there: faults by kind, then named instances
 * such as a proxy's toxics, in the order added) ending at the real write.
 * Chunks and the source's FIN pass through it in order. A step may pass a
 * chunk on at once, later (order kept, see {@linkcode DelayQueue}), in
 * slices, or not at all, reports the bytes it holds (for backpressure), and
 * may close the link (FIN or RST). With no byte fault in force the chain is the real write
 * itself: the per-chunk cost is one integer comparison.
 *
 * @module
 */
import type { Frame } from "../codecs/frame.ts";
import { parseRate } from "../units/units.ts";
import type { Journal } from "../journal/journal.ts";
import { z } from "zod";
import {
  type Direction,
  type FaultCloseHow,
  type FaultRule,
  type FaultSubject,
  RULE_SHAPE,
  STATE_RULE_SHAPE,
  type StateRule,
  TARGETED_STATE_RULE_SHAPE,
  type TargetedStateRule,
} from "./rule.ts";

/** The stages a fault can act at; see the module doc for who calls each. */
export type Stage =
  | "listen"
  | "accept"
  | "bytesIn"
  | "frameIn"
  | "reply"
  | "bytesOut"
  | "close";

/** Every stage, in the order a connection meets them. */
export const STAGES: readonly Stage[] = [
  "listen",
  "accept",
  "bytesIn",
  "frameIn",
  "reply",
  "bytesOut",
  "close",
];

/** How a connection can be closed: FIN, RST, or half-close (FIN, keep reading). */
export type CloseHow = FaultCloseHow | "half-close";

/**
 * What a fault may do to one connection (or proxy link). `Connection`
 * implements it; so does the proxy's link.
 */
export interface FaultConnection extends FaultSubject {
  /** Whether it is gone or closing. */
  readonly closing: boolean;
  /** Frames decoded so far (0 for a proxy link). */
  readonly framesIn: number;
  /** Whether it forwards bytes to a server behind (a proxy link) rather than answering itself. */
  readonly forwards: boolean;
  /** Per-connection state of faults, by kind: made by a hook, dropped with the connection. */
  readonly faultState: Map<string, unknown>;
  /** Closes it: FIN, RST, or half-close. `reason` goes in the journal (`fault:reset`). */
  close(how: CloseHow, reason: string): void;
  /** Stops reading: the peer's writes fill the TCP window. */
  pauseReading(): void;
  /** Reads again. */
  resumeReading(): void;
  /** Writes raw bytes to the peer, through the bytes-out stage. Returns whether they went out. */
  writeBytes(bytes: Uint8Array): boolean;
  /** Runs `fn` every `ms` until the connection is gone (timers die with it). */
  every(ms: number, fn: () => void): void;
  /** Runs `fn` once after `ms`, unless the connection is gone first. */
  after(ms: number, fn: () => void): void;
}

/**
 * What a hook is given to decide and journal, bound to its own kind (made
 * once per kind and engine, not per call).
 */
export interface FaultTools {
  /** The kind these tools decide for. */
  readonly kind: string;
  /** The server's journal. */
  readonly journal: Journal;
  /**
   * Decides once whether the fault fires for one eligible event: counts it
   * against the window, draws from the stream of this kind and connection,
   * journals a `fault` event (fired or not) and returns the outcome.
   */
  decide(subject: FaultSubject, id?: string): boolean;
  /** A number in [min, max] from the stream of this kind and connection. */
  draw(subject: FaultSubject, min: number, max: number): number;
  /** Journals that the fault fired (`fault` event, `fired: true`) with extra fields. */
  fired(subject: FaultSubject, fields?: Record<string, unknown>): void;
  /**
   * Journals an event of the fault's effect on one connection (`type`, with
   * `conn`, the fields of a named instance, and `fields`).
   */
  note(
    subject: FaultSubject,
    type: string,
    fields?: Record<string, unknown>,
  ): void;
}

/** What the listener should be; listen hooks edit it. Starts as `accept`. */
export interface ListenPlan {
  /** `accept` (listening), `closed` (not listening) or `no-accept` (listening, never accepting). */
  mode: "accept" | "closed" | "no-accept";
  /** Why, when not `accept`: the fault's kind (`down`, `refuse`, `noAccept`). */
  reason: string;
  /** Close every open connection this way (for `down`). */
  closeOpen?: FaultCloseHow;
  /** `no-accept`: the listen backlog (Linux admits backlog + 1). */
  backlog: number;
  /** `no-accept`: fill the accept queue with the server's own connections. */
  fillQueue: boolean;
}

/** A frame just decoded, and the reply its protocol owes (a login answer). */
export interface FrameInCall {
  /** The connection it came on. */
  conn: FaultConnection;
  /** The frame. */
  frame: Frame;
  /** The reply the codec says the protocol owes, if any; a hook may change it. */
  owed?: Frame;
  /** Set by a hook: close the connection once the frame is handled. */
  close?: { how: FaultCloseHow; reason: string };
}

/**
 * One ACK-like reply on its way out. The connection keeps one of these and
 * resets it per reply (no allocation); reply hooks edit it in registry order.
 */
export interface ReplyCall {
  /** The connection. */
  conn: FaultConnection;
  /** The id the reply is about. */
  id: string;
  /** The reply as the handler gave it. */
  given: Frame;
  /** The reply to send; a hook may replace it (a NACK, a wrong id). */
  frame: Frame;
  /** Set by a hook: send nothing (journal `ack_dropped`). */
  drop: boolean;
  /** How many copies to send (a hook sets 2 to duplicate). */
  copies: number;
  /** Send it this many milliseconds late; negative: at once. */
  delayMs: number;
}

/** A server-side close about to happen; close hooks edit it. */
export interface CloseCall {
  /** The connection. */
  conn: FaultConnection;
  /** FIN or RST (a hook may turn FIN into RST). */
  how: FaultCloseHow;
  /** Wait this many milliseconds before closing (slow close). */
  delayMs: number;
}

/**
 * One step of a byte pipe, or where a step sends what it passes on. A step
 * gets every chunk (`write`) and the source's FIN (`end`) in order, and
 * passes them on to its `next` at once, later, in slices, or not at all.
 */
export interface ByteSink {
  /** Takes one chunk. It is not copied: do not change it after. */
  write(chunk: Uint8Array): void;
  /**
   * The source sent its FIN: pass it on (`next.end()`) after every chunk
   * taken before it, now or later, or hold it.
   */
  end(): void;
  /** Bytes the step holds now; the link stops reading its source while the pipe holds too many. */
  readonly held?: number;
  /**
   * The step is removed (the faults changed): pass on at once, in order,
   * what it holds (or drop it), and stop its timers.
   */
  stop?(): void;
  /**
   * The connection is gone: stop the timers, write nothing more (default:
   * `stop`).
   */
  dispose?(): void;
  /**
   * The rule of its named instance changed in place (Toxiproxy restarts a
   * toxic on update: timers restart).
   */
  updated?(): void;
}

/** What a byte hook gets to build its step of one connection's pipe. */
export interface PipeSetup {
  /** The connection (or link). */
  conn: FaultConnection;
  /** Which way the bytes flow. */
  direction: Direction;
  /** The next step (ends at the real write). */
  next: ByteSink;
}

/** The hooks a fault may act through, each at its stage. */
export interface FaultHooks<R> {
  /** Listen stage: edit the plan of the listener. */
  listen?(rule: R, plan: ListenPlan): void;
  /** Accept stage: act on a new connection (reset it, stop reading, start a timer). */
  accept?(rule: R, tools: FaultTools, conn: FaultConnection): void;
  /** Bytes-in stage: make this fault's step of an input pipe. */
  bytesIn?(rule: R, tools: FaultTools, setup: PipeSetup): ByteSink;
  /** Frame-in stage: act on a decoded frame (close after N, reject a login). */
  frameIn?(rule: R, tools: FaultTools, call: FrameInCall): void;
  /** Reply stage: edit an ACK-like reply (drop, delay, duplicate, corrupt, NACK). */
  reply?(rule: R, tools: FaultTools, call: ReplyCall): void;
  /**
   * Bytes-out stage, gate: called once per write (a frame, named by its
   * type, or `"bytes"`), before it is journalled or encoded. False keeps it
   * in (a hook journals why).
   */
  gate?(
    rule: R,
    tools: FaultTools,
    conn: FaultConnection,
    what: string,
    id: string | undefined,
    bytes: number,
  ): boolean;
  /** Bytes-out stage: make this fault's step of an output pipe. */
  bytesOut?(rule: R, tools: FaultTools, setup: PipeSetup): ByteSink;
  /** Close stage: edit a close the server is about to make. */
  close?(rule: R, tools: FaultTools, call: CloseCall): void;
}

/** One command-line flag of a fault, as `--help` lists it. */
export interface FaultFlag {
  /** The flag's name, without `--`. */
  name: string;
  /** `string` takes a value; `boolean` is a switch. */
  type: "string" | "boolean";
  /** The value's placeholder in `--help` (`RATE`, `DURATION`). */
  value?: string;
  /** What it does. */
  description: string;
}

/**
 * What the engine needs of a fault's zod schema (a `z.object(...)` with
 * descriptions): to parse a rule, and to be made optional or nullable in the
 * schema of all faults.
 */
export interface RuleSchema<R> {
  /** Parses a rule; throws a `ZodError` on a bad one. */
  parse(input: unknown): R;
  /** The schema, optional. */
  optional(): unknown;
  /** The schema, nullable. */
  nullable(): unknown;
  /** What the fault does. */
  readonly description?: string;
}

/** How a fault reads its command-line flags (the CLI implements it). */
export interface FlagReader {
  /** A string flag through a parser, or `undefined` when absent; a parse error names the flag. */
  value<T>(name: string, parse: (text: string) => T): T | undefined;
  /** Whether a boolean flag is on. */
  on(name: string): boolean;
  /** Fails naming a flag: `Invalid --name: why`. */
  fail(name: string, why: string): never;
}

/** A fault: its kind, stage, schema, flags and effect. One per fault file. */
export interface FaultDefinition<K extends string = string, R = FaultRule> {
  /** The kind, as in `{ "dropAck": {...} }`. */
  kind: K;
  /** The stage it acts at (docs and `--help` show it). */
  stage: Stage;
  /** One line: what happens, for docs and `--help`. */
  summary: string;
  /** Its rule's zod schema, with a description on every field. */
  schema: RuleSchema<R>;
  /**
   * Its place among the faults acting at the same stage, lower first
   * (default 0, then registry order): the reply stage decides drop, NACK,
   * corrupt, duplicate, delay, in that order.
   */
  order?: number;
  /** Its command-line flags (`--drop-ack 30%`), if any. */
  flags?: FaultFlag[];
  /** Reads its flags into a rule; `undefined` when none of them was given. */
  fromFlags?(flags: FlagReader): R | undefined;
  /** Its effect: one hook per stage it acts at. */
  hooks: FaultHooks<R>;
}

/** Declares a fault (a typed identity: keeps the kind's literal type). */
export function defineFault<K extends string, R>(
  definition: FaultDefinition<K, R>,
): FaultDefinition<K, R> {
  return definition;
}

/**
 * The command line of a fault that takes a rate: one flag (`--drop-ack 30%`)
 * read into `{ probability }`. Spread it into a fault's definition.
 */
export function rateFlag(name: string, description: string): {
  flags: FaultFlag[];
  fromFlags(flags: FlagReader): FaultRule | undefined;
} {
  return {
    flags: [{ name, type: "string", value: "RATE", description }],
    fromFlags(flags) {
      const probability = flags.value(name, parseRate);
      return probability === undefined ? undefined : { probability };
    },
  };
}

/**
 * The schema and command line of a fault whose rule is the common one
 * ({@linkcode FaultRule}: a rate, a window, a target): `description` says
 * what it does, and one flag (`--drop-ack 30%`) reads the rate. Spread it
 * into a fault's definition.
 */
export function rateRule(
  description: string,
  flag: string,
  flagDescription: string,
): {
  schema: RuleSchema<FaultRule>;
  flags: FaultFlag[];
  fromFlags(flags: FlagReader): FaultRule | undefined;
} {
  return {
    schema: z.object(RULE_SHAPE).strict().describe(description),
    ...rateFlag(flag, flagDescription),
  };
}

/**
 * The reply-stage hooks of a fault decided by a seeded rate: each ACK-like
 * reply is decided once ({@linkcode FaultTools.decide}: counted against the
 * window, drawn from the seeded stream, journalled), and `fire` edits the
 * replies the fault fires for (drop, NACK, corrupt, duplicate).
 */
export function decidedReply(
  fire: (call: ReplyCall) => void,
): FaultHooks<FaultRule> {
  return {
    reply(_rule, tools, call) {
      if (tools.decide(call.conn, call.id)) fire(call);
    },
  };
}

/**
 * The schema of a state fault whose rule is only a window (for how long, or
 * on a schedule): `description` says what it does.
 */
export function stateRule(description: string): RuleSchema<StateRule> {
  return z.object(STATE_RULE_SHAPE).strict().describe(description);
}

/**
 * The schema of a state fault whose rule is a window and a target
 * ({@linkcode TargetedStateRule}): `description` says what it does.
 */
export function targetedStateRule(
  description: string,
): RuleSchema<TargetedStateRule> {
  return z.object(TARGETED_STATE_RULE_SHAPE).strict().describe(description);
}

/**
 * The command line of a state fault started by a switch (`--black-hole`):
 * one boolean flag, read into an empty rule (in force, no window). Spread it
 * into a fault's definition.
 */
export function switchFlag(name: string, description: string): {
  flags: FaultFlag[];
  fromFlags(flags: FlagReader): Record<never, never> | undefined;
} {
  return {
    flags: [{ name, type: "boolean", description }],
    fromFlags: (flags) => flags.on(name) ? {} : undefined,
  };
}
