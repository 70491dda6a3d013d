/**
 * The fault engine. A fault is a rule: what (drop an ACK, delay it, ...) x
 * probability x window (first N, after N, for a duration) x target (every
 * connection, one connection, one peer). Each decision is drawn once from a
 * seeded stream of its own and journalled, fired or not.
 *
 * The same object shape is used by the library, the command line (`--faults`),
 * the admin API (`PUT /faults`) and lab files.
 *
 * @module
 */
import { z } from "zod";
import type { Journal } from "./journal.ts";
import type { SeededRandom } from "./random.ts";

/** When a fault is in force: counted in eligible events, or in time. */
export interface FaultWindow {
  /** Skip this many eligible events first. */
  after?: number;
  /** Then apply to this many eligible events, and stop. */
  first?: number;
  /** Remove the fault this many milliseconds after it was set. */
  forMs?: number;
}

/** Which connections a fault applies to (all when absent). */
export interface FaultTarget {
  /** Only this connection id. */
  conn?: number;
  /** Only connections from this peer host (or `host:port`). */
  peer?: string;
}

/** The fields every probabilistic fault takes. */
export interface FaultRule {
  /** Chance that the fault fires for each eligible event, 0 to 1 (default 1). */
  probability?: number;
  /** When it is in force. */
  window?: FaultWindow;
  /** Which connections it applies to. */
  target?: FaultTarget;
}

/** How a connection is closed by a fault: FIN (orderly) or RST (reset). */
export type FaultCloseHow = "fin" | "rst";

/** Every fault, by kind. Absent means not in force. See `docs/faults.md`. */
export interface Faults {
  /** Do not send the ACK. */
  dropAck?: FaultRule;
  /** Send the ACK `ms` (+ 0..`jitterMs`) late. */
  delayAck?: FaultRule & { ms: number; jitterMs?: number };
  /** Send the ACK twice. */
  duplicateAck?: FaultRule;
  /** Send a wrong ACK instead (a wrong id; a wrong CRC or count in device protocols). */
  corruptAck?: FaultRule;
  /** Send a NACK instead of the ACK (device protocols only). */
  nackAck?: FaultRule;
  /** Reject a device's login (Teltonika). */
  rejectLogin?: FaultRule;
  /** Stop listening: new connections are refused; open ones go on. */
  refuse?: { window?: Pick<FaultWindow, "forMs"> };
  /** Accept new connections, then reset them (RST). */
  reset?: FaultRule;
  /** Keep reading, never answer. */
  blackHole?: { window?: Pick<FaultWindow, "forMs">; target?: FaultTarget };
  /** Stop listening and close every connection; removing it comes back up. */
  down?: { how?: FaultCloseHow; window?: Pick<FaultWindow, "forMs"> };
  /** Close a connection once it has sent `frames` frames. */
  closeAfter?: { frames: number; how?: FaultCloseHow; target?: FaultTarget };
}

/** The name of one kind of fault. */
export type FaultKind = keyof Faults;

/** A change to the faults: a kind set to `null` is removed. */
export type FaultsPatch = { [K in FaultKind]?: Faults[K] | null };

const probability = z.number().min(0).max(1).describe(
  "Chance that the fault fires for each eligible event, 0 to 1",
);

/** The zod schema of {@linkcode FaultWindow}. */
export const WindowSchema: z.ZodType<FaultWindow> = z.object({
  after: z.number().int().min(0).optional().describe(
    "Skip this many eligible events first",
  ),
  first: z.number().int().min(1).optional().describe(
    "Then apply to this many eligible events, and stop",
  ),
  forMs: z.number().positive().optional().describe(
    "Remove the fault this many milliseconds after it was set",
  ),
}).strict();

/** The zod schema of {@linkcode FaultTarget}. */
export const TargetSchema: z.ZodType<FaultTarget> = z.object({
  conn: z.number().int().min(1).optional().describe("Only this connection id"),
  peer: z.string().min(1).optional().describe(
    "Only connections from this peer host (or host:port)",
  ),
}).strict();

const rule = {
  probability: probability.optional(),
  window: WindowSchema.optional(),
  target: TargetSchema.optional(),
};

const howSchema = z.enum(["fin", "rst"]).describe(
  "Close with FIN (orderly) or RST (reset)",
);

const forMsWindow = z.object({
  forMs: z.number().positive().optional().describe(
    "Remove the fault this many milliseconds after it was set",
  ),
}).strict();

const faultsShape = {
  dropAck: z.object(rule).strict().optional().describe("Do not send the ACK"),
  delayAck: z.object({
    ms: z.number().min(0).max(3_600_000).describe("Delay in milliseconds"),
    jitterMs: z.number().min(0).max(3_600_000).optional().describe(
      "Extra random delay, 0 to this many milliseconds",
    ),
    ...rule,
  }).strict().optional().describe("Send the ACK late"),
  duplicateAck: z.object(rule).strict().optional().describe(
    "Send the ACK twice",
  ),
  corruptAck: z.object(rule).strict().optional().describe(
    "Send an ACK with a wrong id instead of the right one (device protocols: a wrong CRC, Ruptela; a wrong record count, Teltonika)",
  ),
  nackAck: z.object(rule).strict().optional().describe(
    "Send a NACK instead of the ACK (device protocols only; line JSON and length-prefixed cannot express one: nothing is sent, journalled as unencodable)",
  ),
  rejectLogin: z.object(rule).strict().optional().describe(
    "Reject a device's login (Teltonika: answer 00 instead of 01)",
  ),
  refuse: z.object({ window: forMsWindow.optional() })
    .strict().optional().describe(
      "Stop listening: new connections are refused; open ones go on",
    ),
  reset: z.object(rule).strict().optional().describe(
    "Accept new connections, then reset them (RST)",
  ),
  blackHole: z.object({
    window: forMsWindow.optional(),
    target: TargetSchema.optional(),
  }).strict().optional().describe(
    "Keep reading, never answer: no ACK, echo or error goes out",
  ),
  down: z.object({
    how: howSchema.optional(),
    window: forMsWindow.optional(),
  }).strict().optional().describe(
    "Go down: stop listening and close every connection; removing it brings the server back up on the same port",
  ),
  closeAfter: z.object({
    frames: z.number().int().min(1).describe(
      "Close a connection once it has sent this many frames",
    ),
    how: howSchema.optional(),
    target: TargetSchema.optional(),
  }).strict().optional().describe("Close connections after N frames"),
};

/** The zod schema of {@linkcode Faults}: strict, every value range-checked. */
export const FaultsSchema: z.ZodType<Faults> = z.object(faultsShape).strict();

/** The names of every kind of fault. */
export const FAULT_KINDS: readonly FaultKind[] = Object.keys(
  faultsShape,
) as FaultKind[];

/** The zod schema of {@linkcode FaultsPatch}. */
export const FaultsPatchSchema: z.ZodType<FaultsPatch> = z.object(
  Object.fromEntries(
    Object.entries(faultsShape).map((
      [kind, schema],
    ) => [kind, schema.unwrap().nullable().optional()]),
  ),
).strict() as z.ZodType<FaultsPatch>;

/** What a fault decision is about. */
export interface FaultContext {
  /** The connection id. */
  conn: number;
  /** The peer's host. */
  peerHost: string;
  /** The peer's `host:port`. */
  peer: string;
  /** The record, message or frame id, when there is one. */
  id?: string;
}

/** Options for {@linkcode FaultEngine}. */
export interface FaultEngineOptions {
  /** The stream every decision draws from (one derived stream per kind and connection). */
  random: SeededRandom;
  /** Where decisions and changes are journalled. */
  journal: Journal;
  /** Faults in force from the start. */
  faults?: Faults;
}

/**
 * Holds the faults in force and decides, event by event, whether one fires.
 *
 * @example Usage
 * ```ts
 * import { FaultEngine } from "./faults.ts";
 * import { Journal } from "./journal.ts";
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
  /** Decision streams by kind, then connection. */
  #streams = new Map<FaultKind, Map<number, SeededRandom>>();
  #counts = new Map<FaultKind, number>();
  #timers = new Map<FaultKind, ReturnType<typeof setTimeout>>();
  #listeners = new Set<(faults: Faults) => void>();

  /** Makes an engine; `options.faults` are in force at once. */
  constructor(options: FaultEngineOptions) {
    this.#random = options.random;
    this.#journal = options.journal;
    if (options.faults) this.set(options.faults);
  }

  /** The faults in force now (a copy). */
  get(): Faults {
    return structuredClone(this.#faults);
  }

  /** The rule of one kind in force now, if any. */
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
    this.#apply(
      next as Faults,
      new Set(Object.keys(parsed) as FaultKind[]),
    );
  }

  /** Removes one kind of fault, or every fault. */
  clear(kind?: FaultKind): void {
    if (kind) this.patch({ [kind]: null });
    else this.set({});
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: (faults: Faults) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Whether a state fault (refuse, down, blackHole) is in force, for a
   * connection when one is given.
   */
  active(kind: FaultKind, context?: FaultContext): boolean {
    const rule = this.#faults[kind] as FaultRule | undefined;
    if (!rule) return false;
    return !context || targets(rule, context);
  }

  /**
   * Decides once whether a fault fires for one event, drawing from the
   * stream of this kind and connection, and journals the decision. Returns
   * false, journalling nothing, when the fault is not set or not aimed at
   * this connection.
   */
  decide(kind: FaultKind, context: FaultContext): boolean {
    const rule = this.#faults[kind] as FaultRule | undefined;
    if (!rule || !targets(rule, context)) return false;
    const count = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, count);
    const after = rule.window?.after ?? 0;
    const first = rule.window?.first ?? Infinity;
    const inWindow = count > after && count <= after + first;
    const fired = inWindow &&
      this.#stream(kind, context.conn).chance(rule.probability ?? 1);
    this.#journal.append("fault", {
      fault: kind,
      fired,
      conn: context.conn,
      ...(context.id !== undefined ? { id: context.id } : {}),
      ...(inWindow ? {} : { outside: "window" }),
    });
    return fired;
  }

  /** A number in [min, max] from the stream of this kind and connection. */
  draw(kind: FaultKind, conn: number, min: number, max: number): number {
    return this.#stream(kind, conn).between(min, max);
  }

  /** Stops the timers of faults set for a duration. */
  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#listeners.clear();
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

  #apply(next: Faults, touched: Set<FaultKind>): void {
    for (const kind of touched) {
      this.#counts.delete(kind);
      this.#streams.delete(kind);
      const timer = this.#timers.get(kind);
      if (timer !== undefined) clearTimeout(timer);
      this.#timers.delete(kind);
      const forMs = (next[kind] as FaultRule | undefined)?.window?.forMs;
      if (forMs !== undefined) {
        this.#timers.set(
          kind,
          setTimeout(() => {
            this.#timers.delete(kind);
            this.#journal.append("fault_expired", { fault: kind });
            this.patch({ [kind]: null });
          }, forMs),
        );
      }
    }
    this.#faults = next;
    this.#journal.append("faults_changed", { faults: this.get() });
    for (const listener of this.#listeners) listener(this.get());
  }
}

function targets(rule: FaultRule, context: FaultContext): boolean {
  const target = rule.target;
  if (!target) return true;
  if (target.conn !== undefined && target.conn !== context.conn) return false;
  if (
    target.peer !== undefined && target.peer !== context.peerHost &&
    target.peer !== context.peer
  ) return false;
  return true;
}
