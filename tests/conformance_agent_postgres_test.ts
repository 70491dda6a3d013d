/**
 * The agent suite (QA) with the fronts' shared store on PostgreSQL
 * (FT_POSTGRES_URL, from `.ci/postgres.sh`): the reference agent, as a
 * process, passes every check with the fronts in the runner's process; the
 * refusal of `--fronts-in processes` without a PostgreSQL store needs no
 * database. With each front a `servers/message_store.ts` process of its own
 * (`--fronts-in processes`): `conformance_agent_processes_test.ts` (the
 * reference agent) and `conformance_agent_processes_wrong_test.ts` (wrong
 * agents), files of their own so that they run alongside this one. Each
 * scenario's store is a database of its own. Skipped without a URL, except in
 * CI, where that fails.
 */
import assert from "node:assert/strict";
import { runConformance } from "../conformance/runner.ts";
import { processClient } from "../conformance/client.ts";
import type { FrontsIn } from "../conformance/scenario.ts";
import { runScript } from "./_cli.ts";
import { NO_POSTGRES, requirePostgres } from "./_postgres.ts";
import { referencePasses } from "./_agent_postgres.ts";

requirePostgres("conformance_agent_postgres_test.ts");

Deno.test({
  name:
    "reference agent passes every agent check with the store on PostgreSQL (QA-1..QA-9)",
  ignore: NO_POSTGRES,
  fn: () => referencePasses("runner"),
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
