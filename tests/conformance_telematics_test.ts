/**
 * The two-servers (TS) and failover (FO) suites: the reference tracker passes
 * every check, in this process and as a process; the Python example passes
 * the two-servers suite; and each deliberately wrong tracker
 * (`tests/wrong_clients/wrong_tracker.ts`) is marked `fail` on the
 * behaviour it breaks, for the reason it breaks it.
 */
import assert from "node:assert/strict";
import { behavioursOf, type SuiteName } from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import { referenceClients } from "../conformance/reference.ts";
import {
  type ConformanceResult,
  runConformance,
} from "../conformance/runner.ts";
import type { Timing } from "../conformance/scenario.ts";
import { assertWrongClientsFail } from "./_wrong_clients.ts";
import { BREAKS } from "./wrong_clients/wrong_tracker.ts";

/**
 * Short timing, so the whole file stays fast, with room for a loaded
 * machine: a client whose event loop stalls longer than the ACK timeout
 * would resend for real.
 */
const TIMING: Partial<Timing> = {
  ackTimeoutMs: 400,
  reconnectDelayMs: 100,
  connectTimeoutMs: 500,
};
const SEED = 11;
const DENO = `'${Deno.execPath()}'`;
const ENDPOINTS = "--ip1 {ip1} --port1 {port1} --ip2 {ip2} --port2 {port2}";
const TIMING_FLAGS =
  "--ack-timeout {ackTimeoutMs}ms --resends {resends} --reconnect-delay {reconnectDelayMs}ms --connect-timeout {connectTimeoutMs}ms";

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

/** Why each wrong tracker must fail: a piece of its fail summary. */
const EXPECTED: Record<string, RegExp> = {
  "TS-1": /did not reach both servers/,
  "TS-2": /deleted \d+ ms before IP1 sent the ACK/,
  "TS-2/resend-after-ack": /sent \d+ more time\(s\) after the ACK/,
  "TS-3": /IP1 received r1 1 time\(s\)/,
  "TS-4": /IP2 received r1 x[2-9]/,
  "TS-5": /IP2 received \d+ packet\(s\)/,
  "TS-6": /connected to IP2 \d+ time\(s\) before its first connection to IP1/,
  "TS-7": /delivery was blocked/,
  "TS-8": /but it was \d+\.\d+x/,
  "FO-1": /IP2 received \d+ frame\(s\)/,
  "FO-2": /IP2 never received it \(r1 went ip1 x\d+\)/,
  "FO-3": /IP1 received (r\d, )*r2.* after the client had switched to IP2/,
  "FO-4": /try IP1 again.*r1 went ip1 x1 -> ip2 x\d+$/,
  "FO-5": /IP2 received (r\d, )*r3 after the restart/,
  "FO-5/forget": /IP1 never received r2: it did not survive the restart/,
  "FO-6": /r\d never sent again after IP\d ACKed it, but it was sent 1 more/,
  "FO-6/early-delete": /deleted \d+ ms before the first ACK/,
};

Deno.test("each wrong tracker is marked fail on the behaviour it breaks", async () => {
  await assertWrongClientsFail({
    suites: ["two-servers", "failover"],
    breaks: Object.keys(BREAKS),
    expected: EXPECTED,
    command: (name, suite) =>
      `${DENO} run -A tests/wrong_clients/wrong_tracker.ts --break ${name} ${
        suite === "two-servers" ? "--mirror" : ""
      } ${ENDPOINTS} ${TIMING_FLAGS}`,
    timing: TIMING,
    seed: SEED,
    parallel: 3,
  });
});
