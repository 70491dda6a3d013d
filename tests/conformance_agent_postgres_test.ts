/**
 * The agent suite (QA) with the fronts' shared store on PostgreSQL
 * (FT_POSTGRES_URL, from `.ci/postgres.sh`): the reference agent, as a
 * process, passes every check with the fronts in the runner's process and
 * with each front a `servers/message_store.ts` process of its own
 * (`--fronts-in processes`); wrong agents are still caught with the fronts
 * in processes. Each scenario's store is a database of its own. Skipped
 * without a URL, except in CI, where that fails; the refusal of
 * `--fronts-in processes` without a PostgreSQL store needs no database.
 */
import assert from "node:assert/strict";
import { behavioursOf } from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import {
  type ConformanceResult,
  runConformance,
} from "../conformance/runner.ts";
import type { FrontsIn, Timing } from "../conformance/scenario.ts";
import { runScript } from "./_cli.ts";
import { NO_POSTGRES, POSTGRES_URL, requirePostgres } from "./_postgres.ts";

requirePostgres("conformance_agent_postgres_test.ts");

const TIMING: Partial<Timing> = {
  ackTimeoutMs: 400,
  connectTimeoutMs: 800,
  failoverDelayMs: 200,
  failoverRetries: 0,
};
const DENO = `'${Deno.execPath()}'`;
const FLAGS =
  "--servers {servers} --agent {agent} -fr {failoverRetries} -fd {failoverDelayMs}ms --connect-timeout {connectTimeoutMs}ms --ack-timeout {ackTimeoutMs}ms";

function verdicts(result: ConformanceResult): string {
  return result.results.map((r) =>
    `${r.status.toUpperCase()} ${r.id} ${r.summary}`
  ).join("\n");
}

async function referencePasses(frontsIn: FrontsIn): Promise<void> {
  const result = await runConformance({
    suite: "agent",
    client: processClient(
      `${DENO} run -A clients/failover_agent.ts --quiet ${FLAGS}`,
    ),
    seed: 11,
    timing: TIMING,
    store: POSTGRES_URL!,
    frontsIn,
  });
  assert.deepEqual(
    result.results.map((r) => r.id),
    behavioursOf("agent").map((b) => b.id),
  );
  assert.ok(
    result.results.every((r) => r.status === "pass"),
    `expected every agent check to pass:\n${verdicts(result)}`,
  );
}

Deno.test({
  name:
    "reference agent passes every agent check with the store on PostgreSQL (QA-1..QA-9)",
  ignore: NO_POSTGRES,
  fn: () => referencePasses("runner"),
});

Deno.test({
  name:
    "reference agent passes every agent check with each front a process of its own over PostgreSQL (--fronts-in processes, QA-1..QA-9)",
  ignore: NO_POSTGRES,
  fn: () => referencePasses("processes"),
});

/**
 * Wrong agents (`tests/wrong_clients/wrong_agent.ts`) whose fault only shows
 * across the fronts' processes: a push from an alternate (QA-6), a send
 * counted delivered while the store is down at every process (QA-7), a
 * connection the runner closes through a front's admin API (QA-9).
 */
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
      const result = await runConformance({
        suite: "agent",
        only: [name],
        client: processClient(
          `${DENO} run -A tests/wrong_clients/wrong_agent.ts --break ${name} ${FLAGS}`,
        ),
        seed: 11,
        timing: TIMING,
        store: POSTGRES_URL!,
        frontsIn: "processes",
      });
      const [verdict] = result.results;
      assert.equal(verdict.status, "fail", `${name}:\n${verdicts(result)}`);
      assert.match(verdict.summary, expected, name);
    }
  },
});

Deno.test("runConformance and the CLI refuse fronts in processes without a PostgreSQL store", async () => {
  const client = processClient("true");
  await assert.rejects(
    runConformance({ suite: "agent", client, frontsIn: "processes" }),
    /Cannot run the fronts in processes over the memory store: processes share only a PostgreSQL store/,
  );
  await assert.rejects(
    runConformance({
      suite: "agent",
      client,
      frontsIn: "hosts" as FrontsIn,
    }),
    /Cannot run the fronts in "hosts": expected runner or processes/,
  );
  const { code, stderr } = await runScript("conformance/runner.ts", [
    "--suite",
    "agent",
    "--client",
    "true",
    "--fronts-in",
    "processes",
  ]);
  assert.equal(code, 3, stderr);
  assert.match(
    stderr,
    /Invalid --fronts-in: Cannot run the fronts in processes over the memory store.*give a postgres:\/\/ URL/,
  );
});
