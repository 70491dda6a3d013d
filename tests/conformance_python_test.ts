/**
 * The Python example tracker (`examples/python/tracker.py`) passes every
 * two-servers check: the contract works for a client in another language.
 */
import { processClient } from "../conformance/client.ts";
import { runConformance } from "../conformance/runner.ts";
import { assertAllPass, ENDPOINTS, SEED, TIMING } from "./_tracker_suites.ts";

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
