/**
 * The Python example tracker (`examples/python/tracker.py`) passes every
 * two-servers check: the contract works for a client in another language.
 */
import { assertReferencePasses, ENDPOINTS } from "./_tracker_suites.ts";

Deno.test("Python example tracker passes every two-servers check", async () => {
  // Resolve the interpreter once: `python3` may be a version manager's shim
  // (pyenv's takes over a second to start on a busy machine), and every
  // scenario starts the client anew, on its clock.
  let python: string;
  try {
    const { stdout } = await new Deno.Command("python3", {
      args: ["-c", "import sys; print(sys.executable)"],
      stderr: "null",
    }).output();
    python = new TextDecoder().decode(stdout).trim();
  } catch (error) {
    throw new Error(
      `Cannot run examples/python/tracker.py: python3 is not on PATH (${
        (error as Error).message
      }); install Python 3.8 or later to run this test`,
    );
  }
  await assertReferencePasses({
    suite: "two-servers",
    command:
      `'${python}' examples/python/tracker.py ${ENDPOINTS} --ack-timeout {ackTimeoutMs}ms --reconnect-delay {reconnectDelayMs}ms --connect-timeout {connectTimeoutMs}ms`,
  });
});
