/**
 * Test helper: what the agent suite's PostgreSQL test files share (the
 * reference agent with the fronts' store on PostgreSQL, its fronts in the
 * runner's process or each in a process of its own, and the wrong agents
 * with the fronts in processes): the timing, the agent's flags and a run of
 * the suite over `FT_POSTGRES_URL`. Three files, so that
 * `deno test --parallel` runs them side by side.
 *
 * @module
 */
import type { ConformanceResult } from "../conformance/runner.ts";
import type { FrontsIn, Timing } from "../conformance/scenario.ts";
import { POSTGRES_URL } from "./_postgres.ts";
import {
  assertReferencePasses,
  DENO,
  runReference,
} from "./_tracker_suites.ts";

/** Short timing, so each file stays fast. */
export const TIMING: Partial<Timing> = {
  ackTimeoutMs: 400,
  connectTimeoutMs: 800,
  failoverDelayMs: 200,
  failoverRetries: 0,
};
/** The agent's flags, as placeholders. */
export const FLAGS =
  "--servers {servers} --agent {agent} -fr {failoverRetries} -fd {failoverDelayMs}ms --connect-timeout {connectTimeoutMs}ms --ack-timeout {ackTimeoutMs}ms";

/** Runs the agent suite (or `only` some checks) against `command` (seed 11), the store on PostgreSQL. */
export function runOnPostgres(
  command: string,
  frontsIn: FrontsIn,
  only?: string[],
): Promise<ConformanceResult> {
  return runReference({
    suite: "agent",
    ...(only ? { only } : {}),
    command,
    seed: 11,
    timing: TIMING,
    store: POSTGRES_URL!,
    frontsIn,
  });
}

/**
 * Asserts the reference agent, as a process, passes every agent check (all
 * of them run, in order) with the fronts in `frontsIn`.
 */
export function referencePasses(frontsIn: FrontsIn): Promise<void> {
  return assertReferencePasses({
    suite: "agent",
    command: `${DENO} run -A clients/failover_agent.ts --quiet ${FLAGS}`,
    seed: 11,
    timing: TIMING,
    store: POSTGRES_URL!,
    frontsIn,
  });
}
