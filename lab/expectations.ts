/**
 * Expectations of a topology file (`"expect"`): limits on the failover
 * figures that gate CI. Each is checked against {@linkcode analyseFailovers}'s
 * figures and passes or fails with the journal lines behind it.
 *
 * @example In a topology file
 * ```json
 * "expect": { "failoverMs": { "max": 2000 }, "lost": 0, "duplicated": { "max": 5 } }
 * ```
 *
 * @module
 */
import { z } from "zod";
import { parseDuration } from "../core/units/units.ts";
import type { ClientFigures, FailoverAnalysis } from "./figures.ts";

/** A limit: a number is the maximum. */
export interface Limit {
  /** The greatest value that passes. */
  max: number;
}

/** What a run must show. */
export interface Expectations {
  /** Every client a fault moved reached another server within this (ms from the fault to its first frame accepted there; raw bytes: its first connection). */
  failoverMs?: Limit;
  /** Every client came back to its server within this after the fault (ms from the fault). */
  returnMs?: Limit;
  /** No ACK gap of any client around a fault is longer than this (ms). */
  longestAckGapMs?: Limit;
  /** Records or messages lost around faults, all clients together. */
  lost?: Limit;
  /** Records or messages ACKed more than once around faults, all clients together. */
  duplicated?: Limit;
  /** Connections opened per second by any client during an outage (a retry storm). */
  connectionsPerSecond?: Limit;
}

/** The verdict on one expectation. */
export interface ExpectationResult {
  /** Its name (`failoverMs`). */
  name: keyof Expectations;
  /** The limit. */
  max: number;
  /** Whether it held; `not_observable` when a run stopped early measured nothing to judge. */
  status: "pass" | "fail" | "not_observable";
  /** One sentence: what was expected and what the run showed. */
  summary: string;
  /** The journal lines that decided it. */
  evidence: string[];
}

const msLimit = z.union([
  z.number().min(0),
  z.string(),
  z.object({ max: z.union([z.number().min(0), z.string()]) }).strict(),
]).transform((value, ctx): Limit => {
  const raw = typeof value === "object" ? value.max : value;
  try {
    return { max: typeof raw === "number" ? raw : parseDuration(raw) };
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const countLimit = z.union([
  z.number().int().min(0),
  z.object({ max: z.number().min(0) }).strict(),
]).transform((value): Limit =>
  typeof value === "number" ? { max: value } : value
);

/** The schema of `"expect"` (zod): a number is a maximum, ms limits take `"2s"` too. */
export const ExpectationsSchema: z.ZodType<Expectations, unknown> = z.object({
  failoverMs: msLimit.optional(),
  returnMs: msLimit.optional(),
  longestAckGapMs: msLimit.optional(),
  lost: countLimit.optional(),
  duplicated: countLimit.optional(),
  connectionsPerSecond: z.union([
    z.number().min(0),
    z.object({ max: z.number().min(0) }).strict(),
  ]).transform((value): Limit =>
    typeof value === "number" ? { max: value } : value
  ).optional(),
}).strict();

interface Row {
  atMs: number;
  source: string;
  faults: string[];
  figures: ClientFigures;
}

function rows(analysis: FailoverAnalysis): Row[] {
  return analysis.transitions.flatMap((t) =>
    t.clients.map((figures) => ({
      atMs: t.atMs,
      source: t.source,
      faults: t.faults,
      figures,
    }))
  );
}

function where(row: Row): string {
  return `${row.figures.client} after ${
    row.faults.join("+")
  } on ${row.source} at ${row.atMs} ms`;
}

/**
 * Checks expectations against figures. A time limit with no client moved by
 * any fault fails: nothing was measured, so nothing is proven (not
 * observable, with `incomplete`: the run was stopped before).
 *
 * @example Usage
 * ```ts ignore
 * import { checkExpectations } from "./expectations.ts";
 * const results = checkExpectations(analysis, { lost: { max: 0 } });
 * const ok = results.every((r) => r.status === "pass");
 * ```
 */
export function checkExpectations(
  analysis: FailoverAnalysis,
  expect: Expectations,
  options: { incomplete?: boolean } = {},
): ExpectationResult[] {
  const all = rows(analysis);
  const results: ExpectationResult[] = [];
  const timed = (
    name: "failoverMs" | "returnMs" | "longestAckGapMs",
    pick: (f: ClientFigures) => number | null,
    what: string,
    pass: (worst: number) => string,
    applies: (row: Row) => boolean = () => true,
  ) => {
    const limit = expect[name];
    if (!limit) return;
    const judged = all.filter(applies);
    if (judged.length === 0) {
      results.push({
        name,
        max: limit.max,
        status: options.incomplete ? "not_observable" : "fail",
        summary:
          `Expected ${what} within ${limit.max} ms: no fault moved any client${
            options.incomplete ? " before the run was stopped" : ""
          }, so nothing was measured`,
        evidence: analysis.transitions.slice(0, 5).map((t) => t.line),
      });
      return;
    }
    const bad = judged.filter((row) => {
      const value = pick(row.figures);
      return value === null || value > limit.max;
    });
    const worst = Math.max(...judged.map((r) => pick(r.figures) ?? Infinity));
    results.push({
      name,
      max: limit.max,
      status: bad.length === 0 ? "pass" : "fail",
      summary: bad.length === 0
        ? `${judged.length} client failover(s) measured: ${
          pass(worst)
        } (at most ${limit.max} ms)`
        : `Expected ${what} within ${limit.max} ms: ${
          bad.map((row) => {
            const value = pick(row.figures);
            return `${where(row)} ${
              value === null ? "never did" : `took ${value} ms`
            }`;
          }).join("; ")
        }`,
      evidence: (bad.length ? bad : judged).slice(0, 3).flatMap((row) =>
        row.figures.evidence
      ),
    });
  };
  timed(
    "failoverMs",
    (f) => f.failoverMs,
    "every client to reach another server",
    (worst) => `the slowest reached another server in ${worst} ms`,
  );
  timed(
    "returnMs",
    (f) => f.returnMs,
    "every client to come back",
    (worst) => `the slowest came back after ${worst} ms`,
  );
  timed(
    "longestAckGapMs",
    (f) => f.longestAckGapMs,
    "every ACK gap to close",
    (worst) => `the longest ACK gap was ${worst} ms`,
    (row) => row.figures.decoded,
  );
  const counted = (
    name: "lost" | "duplicated",
    pick: (f: ClientFigures) => string[],
  ) => {
    const limit = expect[name];
    if (!limit) return;
    const total = analysis.totals[name];
    const offending = all.filter((row) => pick(row.figures).length > 0);
    results.push({
      name,
      max: limit.max,
      status: total <= limit.max ? "pass" : "fail",
      summary: `${total} record(s) ${name} (at most ${limit.max} expected)${
        offending.length
          ? `: ${
            offending.slice(0, 5).map((row) =>
              `${where(row)}: ${pick(row.figures).join(", ")}`
            ).join("; ")
          }`
          : ""
      }`,
      evidence: offending.slice(0, 3).flatMap((row) => row.figures.evidence),
    });
  };
  counted("lost", (f) => f.lostIds);
  counted("duplicated", (f) => f.duplicatedIds);
  const storm = expect.connectionsPerSecond;
  if (storm) {
    const bad = all.filter((row) =>
      row.figures.connectionsPerSecond > storm.max
    );
    const worst = Math.max(
      0,
      ...all.map((r) => r.figures.connectionsPerSecond),
    );
    results.push({
      name: "connectionsPerSecond",
      max: storm.max,
      status: bad.length === 0 ? "pass" : "fail",
      summary: bad.length === 0
        ? `At most ${worst} connections/s during a fault (limit ${storm.max})`
        : `Expected at most ${storm.max} connections/s during a fault: ${
          bad.map((row) =>
            `${where(row)} opened ${row.figures.connectionsPerSecond}/s`
          ).join("; ")
        }`,
      evidence: bad.slice(0, 3).flatMap((row) => row.figures.evidence),
    });
  }
  return results;
}
