/**
 * The agent suite (QA) with each message-store front a
 * `servers/message_store.ts` process of its own over PostgreSQL
 * (`--fronts-in processes`, FT_POSTGRES_URL from `.ci/postgres.sh`): the
 * reference agent, as a process, passes every check. Skipped without a URL,
 * except in CI, where that fails.
 */
import { NO_POSTGRES, requirePostgres } from "./_postgres.ts";
import { referencePasses } from "./_agent_postgres.ts";

requirePostgres("conformance_agent_processes_test.ts");

Deno.test({
  name:
    "reference agent passes every agent check with each front a process of its own over PostgreSQL (--fronts-in processes, QA-1..QA-9)",
  ignore: NO_POSTGRES,
  fn: () => referencePasses("processes"),
});
