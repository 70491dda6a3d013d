/**
 * The two-servers (TS) and failover (FO) suites: the reference tracker passes
 * every check, in this process and as a process. The Python example and the
 * wrong trackers are in `conformance_python_test.ts` and
 * `conformance_wrong_trackers_test.ts` (files of their own, so they run side
 * by side).
 */
import {
  assertReferencePasses,
  DENO,
  ENDPOINTS,
  TIMING,
  TIMING_FLAGS,
} from "./_tracker_suites.ts";

for (const suite of ["two-servers", "failover"] as const) {
  Deno.test(`reference tracker passes every ${suite} check in process`, async () => {
    await assertReferencePasses({
      suite,
    });
  });
}

Deno.test("reference tracker passes every two-servers check as a process", async () => {
  await assertReferencePasses({
    suite: "two-servers",
    command:
      `${DENO} run -A clients/two_servers.ts --quiet --mirror ${ENDPOINTS} ${TIMING_FLAGS}`,
  });
});

Deno.test("reference tracker passes every failover check as a process, with one resend", async () => {
  await assertReferencePasses({
    suite: "failover",
    command:
      `${DENO} run -A clients/two_servers.ts --quiet ${ENDPOINTS} ${TIMING_FLAGS}`,
    timing: { ...TIMING, resends: 1 },
  });
});
