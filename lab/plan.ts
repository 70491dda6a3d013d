/**
 * The chaos plan of a topology file: faults set on a server (or toxics added
 * to a proxy) at a fixed or seeded time, for a fixed or seeded while. The
 * same seed gives the same times. The lab runs it through each server's own
 * admin API (`PATCH /faults`), so anything the API takes can be planned.
 *
 * @example A plan
 * ```json
 * "plan": [
 *   { "at": "5s", "server": "primary", "faults": { "down": {} }, "for": "3s" },
 *   { "at": "12s..15s", "server": "primary", "faults": { "dropAck": { "probability": 0.5 } }, "for": "2s" }
 * ]
 * ```
 *
 * @module
 */
import { z } from "zod";
import { type Faults, FaultsSchema } from "../core/faults/mod.ts";
import { SeededRandom } from "../core/faults/random.ts";
import { type DurationRange, parseDurationRange } from "../core/units/units.ts";

/** The longest time a plan may name: one day. */
export const MAX_PLAN_MS = 86_400_000;

/** A toxic to add to a proxy (Toxiproxy's shape: `type`, `name`, `stream`, `toxicity`, `attributes`). */
export interface PlanToxic {
  /** The toxic's type (`latency`, `timeout`, `reset_peer`, ...). */
  type: string;
  /** Its name (default `<type>_<stream>`). */
  name?: string;
  /** `upstream` or `downstream` (default downstream). */
  stream?: "upstream" | "downstream";
  /** Chance it applies to a connection, 0 to 1 (default 1). */
  toxicity?: number;
  /** The toxic's own attributes (`latency`, `timeout`, ...). */
  attributes?: Record<string, unknown>;
}

/** One step of a chaos plan, as written in the file. */
export interface PlanStep {
  /** When, from the start of the run: a duration or a seeded range. */
  at: DurationRange;
  /** The server whose faults to set. */
  server?: string;
  /** Its listener (a channel `A`, a front `ml1`), for servers with several. */
  listener?: string;
  /** The faults to set (the body of `PATCH /faults`). */
  faults?: Faults;
  /** The proxy to add toxics to. */
  proxy?: string;
  /** The toxics to add. */
  toxics?: PlanToxic[];
  /** How long until they are removed (default: never). */
  for?: DurationRange;
}

/** One step with its times drawn from the seed. */
export interface ResolvedStep {
  /** Its index in the plan. */
  index: number;
  /** `plan[index]`. */
  label: string;
  /** When it applies, ms from the start of the run. */
  atMs: number;
  /** When it is undone, ms from the start (null: never). */
  untilMs: number | null;
  /** The server, if it sets faults. */
  server?: string;
  /** Its listener, if any. */
  listener?: string;
  /** The faults it sets. */
  faults?: Faults;
  /** The proxy, if it adds toxics. */
  proxy?: string;
  /** The toxics it adds. */
  toxics?: PlanToxic[];
}

const TimeSchema = z.union([z.number(), z.string()]).transform(
  (value, ctx): DurationRange => {
    let range: DurationRange;
    try {
      range = typeof value === "number"
        ? { min: value, max: value }
        : parseDurationRange(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
    if (!(range.min >= 0) || range.max > MAX_PLAN_MS) {
      ctx.addIssue({
        code: "custom",
        message: `Time ${
          JSON.stringify(value)
        } is out of range: expected 0 to 24h (ms, "5s" or a range "5s..9s")`,
      });
      return z.NEVER;
    }
    return range;
  },
).describe('Milliseconds, a duration ("5s") or a seeded range ("5s..9s")');

/** The schema of a toxic (zod): Toxiproxy's body of `POST /proxies/<name>/toxics`. */
export const ToxicSchema: z.ZodType<PlanToxic> = z.object({
  type: z.string().min(1),
  name: z.string().min(1).optional(),
  stream: z.enum(["upstream", "downstream"]).optional(),
  toxicity: z.number().min(0).max(1).optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
}).strict();

/** The schema of one plan step (zod). */
const PlanStepSchema: z.ZodType<PlanStep, unknown> = z.object({
  at: TimeSchema,
  server: z.string().min(1).optional().describe(
    "The server whose faults to set",
  ),
  listener: z.string().min(1).optional().describe(
    "Its channel or front, for servers with several",
  ),
  faults: FaultsSchema.optional().describe("The body of PATCH /faults"),
  proxy: z.string().min(1).optional().describe("The proxy to add toxics to"),
  toxics: z.array(ToxicSchema).min(1).optional(),
  for: TimeSchema.optional().describe(
    "How long until the faults or toxics are removed (default: never)",
  ),
}).strict().superRefine((step, ctx) => {
  if ((step.server === undefined) === (step.proxy === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: 'Invalid step: name either a "server" or a "proxy"',
    });
  } else if (step.server !== undefined && step.faults === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["faults"],
      message: 'Invalid step: a "server" step needs "faults"',
    });
  } else if (step.proxy !== undefined && step.toxics === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["toxics"],
      message: 'Invalid step: a "proxy" step needs "toxics"',
    });
  }
  if (step.server !== undefined && step.toxics !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["toxics"],
      message: 'Invalid step: toxics go on a "proxy"',
    });
  }
  if (step.for && step.for.min <= 0) {
    ctx.addIssue({
      code: "custom",
      path: ["for"],
      message: "Invalid duration: expected more than 0",
    });
  }
});

/** The schema of a plan (zod). */
export const PlanSchema: z.ZodType<PlanStep[], unknown> = z.array(
  PlanStepSchema,
);

/** One problem found in a plan, with its path below `plan`. */
export interface PlanIssue {
  /** The path, such as `[2, "at"]`. */
  path: (string | number)[];
  /** What is wrong. */
  message: string;
}

function format(range: DurationRange): string {
  const one = (ms: number) => ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
  return range.min === range.max
    ? one(range.min)
    : `${one(range.min)}..${one(range.max)}`;
}

/** The kinds a step touches on its target: fault kinds, or toxic names. */
function touched(step: PlanStep): string[] {
  if (step.faults) return Object.keys(step.faults);
  return (step.toxics ?? []).map((toxic) =>
    toxic.name ?? `${toxic.type}_${toxic.stream ?? "downstream"}`
  );
}

/**
 * Finds steps that may overlap: the same fault kind (or toxic) on the same
 * server (listener) or proxy while an earlier one may still be in force,
 * whatever the seed draws.
 */
export function planOverlaps(plan: readonly PlanStep[]): PlanIssue[] {
  const issues: PlanIssue[] = [];
  plan.forEach((step, i) => {
    for (let j = 0; j < i; j++) {
      const other = plan[j];
      const sameTarget = step.server !== undefined
        ? other.server === step.server && other.listener === step.listener
        : other.proxy === step.proxy;
      if (!sameTarget) continue;
      const shared = touched(step).filter((k) => touched(other).includes(k));
      if (shared.length === 0) continue;
      const aFrom = other.at.min;
      const aTo = other.for ? other.at.max + other.for.max : Infinity;
      const bFrom = step.at.min;
      const bTo = step.for ? step.at.max + step.for.max : Infinity;
      if (aFrom < bTo && bFrom < aTo) {
        issues.push({
          path: [i],
          message: `Overlaps plan[${j}]: both set ${shared.join(", ")} on ${
            step.server ?? step.proxy
          } (at ${format(step.at)} and at ${format(other.at)}${
            other.for ? ` for ${format(other.for)}` : ", never removed"
          })`,
        });
      }
    }
  });
  return issues;
}

/** Steps that start at or after the end of a run of `runMs`. */
export function planOutOfRun(
  plan: readonly PlanStep[],
  runMs: number,
): PlanIssue[] {
  return plan.flatMap((step, i) =>
    step.at.max >= runMs
      ? [{
        path: [i, "at"],
        message: `Time ${format(step.at)} is out of range: the run lasts ${
          format({ min: runMs, max: runMs })
        }`,
      }]
      : []
  );
}

/**
 * Draws each step's times from the seed: the same seed and plan give the
 * same times. Steps come back in time order.
 *
 * @example Usage
 * ```ts ignore
 * import { resolvePlan } from "./plan.ts";
 * const steps = resolvePlan(topology.plan ?? [], 7);
 * ```
 */
export function resolvePlan(
  plan: readonly PlanStep[],
  seed: number,
): ResolvedStep[] {
  const random = new SeededRandom(seed, "plan");
  const draw = (range: DurationRange, name: string) =>
    range.min === range.max
      ? range.min
      : Math.round(random.derive(name).between(range.min, range.max));
  return plan.map((step, index) => {
    const atMs = draw(step.at, `step-${index}/at`);
    const forMs = step.for ? draw(step.for, `step-${index}/for`) : undefined;
    return {
      index,
      label: `plan[${index}]`,
      atMs,
      untilMs: forMs === undefined ? null : atMs + forMs,
      ...(step.server !== undefined ? { server: step.server } : {}),
      ...(step.listener !== undefined ? { listener: step.listener } : {}),
      ...(step.faults !== undefined ? { faults: step.faults } : {}),
      ...(step.proxy !== undefined ? { proxy: step.proxy } : {}),
      ...(step.toxics !== undefined ? { toxics: step.toxics } : {}),
    };
  }).sort((a, b) => a.atMs - b.atMs || a.index - b.index);
}
