/**
 * The last checks of a scenario as a table: the verdict is the fail of the
 * first check that failed, else the pass. Private to the suites.
 *
 * @module
 */
import type { Evidence, ScenarioContext, Verdict } from "../scenario.ts";

/** One check: it failed when `failed`; `expected` and `observed` say how. */
export interface Check {
  /** Whether the check failed. */
  failed: boolean;
  /** The fail's expected text. */
  expected: string;
  /** The fail's observed text (a function when it reads what only a failed check has). */
  observed: string | (() => string);
}

/**
 * The fail of the first failed check of `checks`, else a pass that says
 * `passed`; either with `evidence`.
 */
export function verdictOf(
  ctx: ScenarioContext,
  evidence: Evidence[],
  checks: readonly Check[],
  passed: string,
): Verdict {
  const failed = checks.find((check) => check.failed);
  return failed ? failOf(ctx, failed, evidence) : ctx.pass(passed, evidence);
}

/** The fail that a failed `check` says, with `evidence`. */
export function failOf(
  ctx: ScenarioContext,
  check: Check,
  evidence: Evidence[],
): Verdict {
  const { expected, observed } = check;
  return ctx.fail(
    expected,
    typeof observed === "string" ? observed : observed(),
    evidence,
  );
}
