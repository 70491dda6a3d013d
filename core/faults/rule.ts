/**
 * The parts every fault rule shares: probability (a rate), window (first N,
 * after N, for a duration, or a periodic schedule) and target (connection,
 * peer, channel, direction). One schema each, used by every fault file, the
 * admin API, `--faults` and lab files.
 *
 * @module
 */
import { z } from "zod";
import { parseDurationRange, parseRate } from "../units/units.ts";

/** The longest timer the runtime keeps: 2^31-1 ms (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A rate: a number from 0 to 1, or a percentage or fraction as text (`"30%"`,
 * `"0.3"`), as the command line takes it. Parsed to a number from 0 to 1.
 */
export const RateSchema: z.ZodType<number, number | string> = z.preprocess(
  (value, ctx) => {
    if (typeof value !== "string") return value;
    try {
      return parseRate(value);
    } catch {
      ctx.addIssue({
        code: "custom",
        message: `Cannot use rate ${
          JSON.stringify(value)
        }: write 0..1 or a percentage, such as 0.3 or "30%"`,
      });
      return z.NEVER;
    }
  },
  z.number().min(0).max(1),
).describe(
  'Chance that the fault fires for each eligible event: 0 to 1, or a percentage such as "30%"',
) as z.ZodType<number, number | string>;

/**
 * A length of time in a schedule: milliseconds, a duration (`"2s"`) or a
 * seeded range (`"2s..8s"`, `{ "min": 2000, "max": 8000 }`).
 */
export interface ScheduleSpan {
  /** The least length, in milliseconds. */
  min: number;
  /** The greatest length, in milliseconds (equal to `min` when fixed). */
  max: number;
}

function span(value: number | string | ScheduleSpan, ctx: z.RefinementCtx) {
  let range: ScheduleSpan;
  try {
    range = typeof value === "number"
      ? { min: value, max: value }
      : typeof value === "string"
      ? parseDurationRange(value)
      : { min: value.min, max: value.max };
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
  if (
    !(range.min >= 1 && range.max >= range.min && range.max <= MAX_TIMER_MS)
  ) {
    ctx.addIssue({
      code: "custom",
      message: `Cannot use period ${
        JSON.stringify(value)
      }: expected 1 ms to ${MAX_TIMER_MS} ms, and min at most max`,
    });
    return z.NEVER;
  }
  return range;
}

/** The zod schema of a {@linkcode ScheduleSpan}. */
export const ScheduleSpanSchema: z.ZodType<
  ScheduleSpan,
  number | string | ScheduleSpan
> = z.union([
  z.number(),
  z.string(),
  z.object({ min: z.number(), max: z.number() }).strict(),
]).transform(span).describe(
  'A period: milliseconds, a duration ("2s") or a seeded range ("2s..8s")',
);

/**
 * A periodic window: the fault is in force for an `on` period, then out of
 * force for an `off` period, and so on. Each period is fixed or drawn from a
 * seeded range. The flapping server is this with `on` = its down period.
 */
export interface FaultSchedule {
  /** How long each period in force lasts: ms, `"2s"`, `"1s..3s"` or a span (read back as a span). */
  on: ScheduleSpan | number | string;
  /** How long each period out of force lasts: ms, `"5s"`, `"2s..8s"` or a span (read back as a span). */
  off: ScheduleSpan | number | string;
  /** The state to start in (default `off`). */
  start?: "on" | "off";
  /** Start paused: the start state holds until resumed or forced (default false). */
  paused?: boolean;
}

/** The zod schema of {@linkcode FaultSchedule}. */
export const ScheduleSchema: z.ZodType<FaultSchedule, unknown> = z.object({
  on: ScheduleSpanSchema.describe(
    'Length of each period in force: fixed ("2s") or seeded ("1s..3s")',
  ),
  off: ScheduleSpanSchema.describe(
    'Length of each period out of force: fixed ("5s") or seeded ("2s..8s")',
  ),
  start: z.enum(["on", "off"]).optional().describe(
    "The state to start in (default off)",
  ),
  paused: z.boolean().optional().describe(
    "Start paused: the start state holds until resumed or forced",
  ),
}).strict();

/** When a fault is in force: counted in eligible events, in time, or on a schedule. */
export interface FaultWindow {
  /** Skip this many eligible events first. */
  after?: number;
  /** Then apply to this many eligible events, and stop. */
  first?: number;
  /** Remove the fault this many milliseconds after it was set (at most 2^31-1). */
  forMs?: number;
  /** In force periodically: on for a period, off for a period. */
  schedule?: FaultSchedule;
}

const forMs = z.number().positive().max(MAX_TIMER_MS, {
  message:
    `Cannot keep a fault longer than ${MAX_TIMER_MS} ms (about 24.8 days): the runtime's timers go no further; remove it yourself instead`,
}).describe(
  `Remove the fault this many milliseconds after it was set (at most ${MAX_TIMER_MS})`,
);

/** The zod schema of {@linkcode FaultWindow}. */
export const WindowSchema: z.ZodType<FaultWindow, unknown> = z.object({
  after: z.number().int().min(0).optional().describe(
    "Skip this many eligible events first",
  ),
  first: z.number().int().min(1).optional().describe(
    "Then apply to this many eligible events, and stop",
  ),
  forMs: forMs.optional(),
  schedule: ScheduleSchema.optional().describe(
    "In force periodically: on for a period, off for a period",
  ),
}).strict();

/** The window of state faults: a duration or a schedule, no counts. */
export type StateWindow = Pick<FaultWindow, "forMs" | "schedule">;

/** The zod schema of {@linkcode StateWindow}. */
export const StateWindowSchema: z.ZodType<StateWindow, unknown> = z.object({
  forMs: forMs.optional(),
  schedule: ScheduleSchema.optional().describe(
    "In force periodically: on for a period, off for a period",
  ),
}).strict();

/** Which way bytes flow: `in` from the client (upstream), `out` to it (downstream). */
export type Direction = "in" | "out";

/** Which connections (and which way) a fault applies to; all when absent. */
export interface FaultTarget {
  /** Only this connection id. */
  conn?: number;
  /** Only connections from this peer host (or `host:port`). */
  peer?: string;
  /** Only connections of this channel (listener label, such as watchdog-echo's `A` or `B`). */
  channel?: string;
  /** Byte faults: only bytes flowing this way (`in`: client to server, `out`: server to client). */
  direction?: Direction;
}

/** The zod schema of {@linkcode FaultTarget}. */
export const TargetSchema: z.ZodType<FaultTarget> = z.object({
  conn: z.number().int().min(1).optional().describe("Only this connection id"),
  peer: z.string().min(1).optional().describe(
    "Only connections from this peer host (or host:port)",
  ),
  channel: z.string().min(1).optional().describe(
    "Only connections of this channel (listener label, such as A or B)",
  ),
  direction: z.enum(["in", "out"]).optional().describe(
    "Byte faults: only bytes flowing this way (in: client to server, out: server to client)",
  ),
}).strict();

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

/** The zod schema of {@linkcode FaultCloseHow}. */
export const CloseHowSchema: z.ZodType<FaultCloseHow> = z.enum(["fin", "rst"])
  .describe("Close with FIN (orderly) or RST (reset)");

/** The shape of {@linkcode FaultRule}, to spread into a fault's own schema. */
export const RULE_SHAPE: {
  probability: z.ZodOptional<typeof RateSchema>;
  window: z.ZodOptional<typeof WindowSchema>;
  target: z.ZodOptional<typeof TargetSchema>;
} = {
  probability: RateSchema.optional(),
  window: WindowSchema.optional(),
  target: TargetSchema.optional(),
};

/** The rule of a state fault: a duration or schedule window. */
export interface StateRule {
  /** For how long, or on a schedule. */
  window?: StateWindow;
}

/** The shape of {@linkcode StateRule}, to spread into a fault's own schema. */
export const STATE_RULE_SHAPE: {
  window: z.ZodOptional<typeof StateWindowSchema>;
} = {
  window: StateWindowSchema.optional(),
};

/** The fields of a state fault that acts on some connections only. */
export interface TargetedStateRule extends StateRule {
  /** Which connections (and, for byte faults, which direction). */
  target?: FaultTarget;
}

/** The shape of {@linkcode TargetedStateRule}, to spread into a fault's own schema. */
export const TARGETED_STATE_RULE_SHAPE: typeof STATE_RULE_SHAPE & {
  target: z.ZodOptional<typeof TargetSchema>;
} = {
  ...STATE_RULE_SHAPE,
  target: TargetSchema.optional(),
};

/** Who a decision is about: one connection (or proxy link), and its channel. */
export interface FaultSubject {
  /** The connection id. */
  readonly conn: number;
  /** The peer's host. */
  readonly peerHost: string;
  /** The peer's `host:port`. */
  readonly peer: string;
  /** The channel (listener label), when the server has several. */
  readonly channel?: string;
}

/** Whether a rule's target takes in a subject (and a direction, for byte faults). */
export function targets(
  target: FaultTarget | undefined,
  subject: FaultSubject,
  direction?: Direction,
): boolean {
  if (!target) return true;
  if (target.conn !== undefined && target.conn !== subject.conn) return false;
  if (
    target.peer !== undefined && target.peer !== subject.peerHost &&
    target.peer !== subject.peer
  ) return false;
  if (target.channel !== undefined && target.channel !== subject.channel) {
    return false;
  }
  if (
    direction !== undefined && target.direction !== undefined &&
    target.direction !== direction
  ) return false;
  return true;
}
