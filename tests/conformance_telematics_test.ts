/**
 * The two-servers (TS) and failover (FO) suites: the reference tracker passes
 * every check, in this process and as a process, and the Python example
 * passes the two-servers suite. The wrong trackers are in
 * `conformance_wrong_trackers_test.ts` (a file of their own, so the two run
 * side by side).
 */
import assert from "node:assert/strict";
import { behavioursOf, type SuiteName } from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import { referenceClients } from "../conformance/reference.ts";
import {
  type ConformanceResult,
  runConformance,
} from "../conformance/runner.ts";
import {
  DENO,
  ENDPOINTS,
  SEED,
  TIMING,
  TIMING_FLAGS,
} from "./_tracker_commands.ts";

function verdicts(result: ConformanceResult): string {
  return result.results.map((r) =>
    `${r.status.toUpperCase()} ${r.id} ${r.summary}${
      r.stderr ? `\n  stderr: ${r.stderr.slice(-400)}` : ""
    }`
  ).join("\n");
}

function assertAllPass(result: ConformanceResult, suite: SuiteName): void {
  const ids = behavioursOf(suite).map((b) => b.id);
  assert.deepEqual(result.results.map((r) => r.id), ids);
  assert.equal(
    result.results.every((r) => r.status === "pass"),
    true,
    `expected every ${suite} check to pass:\n${verdicts(result)}`,
  );
  assert.equal(result.exitCode, 0);
}

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

Deno.test("Python example tracker passes every two-servers check", async () => {
  try {
    await new Deno.Command("python3", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
  } catch (error) {
    throw new Error(
      `Cannot run examples/python/tracker.py: python3 is not on PATH (${
        (error as Error).message
      }); install Python 3.8 or later to run this test`,
    );
  }
  const result = await runConformance({
    suite: "two-servers",
    client: processClient(
      `python3 examples/python/tracker.py ${ENDPOINTS} --ack-timeout {ackTimeoutMs}ms --reconnect-delay {reconnectDelayMs}ms --connect-timeout {connectTimeoutMs}ms`,
    ),
    seed: SEED,
    timing: TIMING,
  });
  assertAllPass(result, "two-servers");
});
