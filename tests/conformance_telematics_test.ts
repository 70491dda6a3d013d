/**
 * The two-servers (TS) and failover (FO) suites: the reference tracker passes
 * every check, in this process and as a process. The Python example and the
 * wrong trackers are in `conformance_python_test.ts` and
 * `conformance_wrong_trackers_test.ts` (files of their own, so they run side
 * by side).
 */
import { processClient } from "../conformance/client.ts";
import { referenceClients } from "../conformance/reference.ts";
import { runConformance } from "../conformance/runner.ts";
import {
  assertAllPass,
  DENO,
  ENDPOINTS,
  SEED,
  TIMING,
  TIMING_FLAGS,
} from "./_tracker_suites.ts";

for (const suite of ["two-servers", "failover"] as const) {
  Deno.test(`reference tracker passes every ${suite} check in process`, async () => {
    const result = await runConformance({
      suite,
      clients: referenceClients(),
      seed: SEED,
      timing: TIMING,
    });
    assertAllPass(result, suite);
  });
}

Deno.test("reference tracker passes every two-servers check as a process", async () => {
  const result = await runConformance({
    suite: "two-servers",
    client: processClient(
      `${DENO} run -A clients/two_servers.ts --quiet --mirror ${ENDPOINTS} ${TIMING_FLAGS}`,
    ),
    seed: SEED,
    timing: TIMING,
  });
  assertAllPass(result, "two-servers");
});

Deno.test("reference tracker passes every failover check as a process, with one resend", async () => {
  const result = await runConformance({
    suite: "failover",
    client: processClient(
      `${DENO} run -A clients/two_servers.ts --quiet ${ENDPOINTS} ${TIMING_FLAGS}`,
    ),
    seed: SEED,
    timing: { ...TIMING, resends: 1 },
  });
  assertAllPass(result, "failover");
});
