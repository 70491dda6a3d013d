/**
 * Wrong agents (`tests/wrong_clients/wrong_agent.ts`) whose fault only shows
 * across the fronts' processes (`--fronts-in processes`, over PostgreSQL:
 * FT_POSTGRES_URL from `.ci/postgres.sh`) are marked `fail` on the behaviour
 * they break: a push from an alternate (QA-6), a send counted delivered while
 * the store is down at every process (QA-7), a connection the runner closes
 * through a front's admin API (QA-9). Skipped without a URL, except in CI,
 * where that fails.
 */
import assert from "node:assert/strict";
import { NO_POSTGRES, requirePostgres } from "./_postgres.ts";
import { DENO, verdicts } from "./_tracker_suites.ts";
import { FLAGS, runOnPostgres } from "./_agent_postgres.ts";

requirePostgres("conformance_agent_processes_wrong_test.ts");

/** Why each wrong agent must fail: a piece of its fail summary. */
const WRONG: Record<string, RegExp> = {
  "QA-6": /no push while the agent is on the alternate ml2.*ml2 pushed to it/,
  "QA-7": /printed deleted a1 while it was down/,
  "QA-9": /after a lost connection to start at the primary ml1.*went to ml2/,
};

Deno.test({
  name:
    "wrong agents are marked fail with the fronts in processes (QA-6, QA-7, QA-9)",
  ignore: NO_POSTGRES,
  async fn() {
    for (const [name, expected] of Object.entries(WRONG)) {
      const result = await runOnPostgres(
        `${DENO} run -A tests/wrong_clients/wrong_agent.ts --break ${name} ${FLAGS}`,
        "processes",
        [name],
      );
      const [verdict] = result.results;
      assert.equal(verdict.status, "fail", `${name}:\n${verdicts(result)}`);
      assert.match(verdict.summary, expected, name);
    }
  },
});
