/**
 * The agent suite (QA) with the fronts' shared store on PostgreSQL
 * (FT_POSTGRES_URL, from `.ci/postgres.sh`): the reference agent, as a
 * process, passes every check; each scenario's store is a database of its
 * own. Skipped without a URL, except in CI, where that fails.
 */
import assert from "node:assert/strict";
import { behavioursOf } from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import { runConformance } from "../conformance/runner.ts";
import type { Timing } from "../conformance/scenario.ts";
import { NO_POSTGRES, POSTGRES_URL, requirePostgres } from "./_postgres.ts";

requirePostgres("conformance_agent_postgres_test.ts");

const TIMING: Partial<Timing> = {
  ackTimeoutMs: 400,
  connectTimeoutMs: 800,
  failoverDelayMs: 200,
  failoverRetries: 0,
};
const FLAGS =
  "--servers {servers} --agent {agent} -fr {failoverRetries} -fd {failoverDelayMs}ms --connect-timeout {connectTimeoutMs}ms --ack-timeout {ackTimeoutMs}ms";

Deno.test({
  name:
    "reference agent passes every agent check with the store on PostgreSQL (QA-1..QA-9)",
  ignore: NO_POSTGRES,
  async fn() {
    {
      const result = await runConformance({
        suite: "agent",
        client: processClient(
          `'${Deno.execPath()}' run -A clients/failover_agent.ts --quiet ${FLAGS}`,
        ),
        seed: 11,
        timing: TIMING,
        store: POSTGRES_URL!,
      });
      assert.deepEqual(
        result.results.map((r) => r.id),
        behavioursOf("agent").map((b) => b.id),
      );
      const verdicts = result.results.map((r) =>
        `${r.status.toUpperCase()} ${r.id} ${r.summary}`
      ).join("\n");
      assert.ok(
        result.results.every((r) => r.status === "pass"),
        `expected every agent check to pass:\n${verdicts}`,
      );
    }
  },
});
