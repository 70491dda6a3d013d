import assert from "node:assert/strict";
import {
  CliError,
  COMMON_FLAGS,
  commonOptions,
  denoCommand,
  FAULT_FLAGS,
  faultsFromFlags,
  parseFlags,
} from "../core/cli/cli.ts";
import { assertFlagsRefused, runScript } from "./_cli.ts";
import { within } from "./_raw_peer.ts";
import { standIn } from "./_stand_in.ts";

const FLAGS = { ...COMMON_FLAGS, ...FAULT_FLAGS };

/** The message parseFlags, then the flag's own parser, gives for `args`. */
function cliError(args: string[]): string {
  try {
    const values = parseFlags(args, FLAGS);
    commonOptions(values, { port: 7000, adminPort: 7001 });
    faultsFromFlags(values);
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error.message;
  }
  assert.fail(`${args.join(" ")} was accepted`);
}

Deno.test("parseFlags takes a negative value as the flag's value, so its parser names the flag, the value and what is accepted", () => {
  assert.equal(
    cliError(["--port", "-1"]),
    'Invalid --port "-1": expected a whole number from 0 to 65535',
  );
  assert.match(
    cliError(["--drop-ack", "-0.1"]),
    /^Invalid --drop-ack "-0\.1": Cannot parse rate "-0\.1": expected 0%\.\.100% or 0\.\.1$/,
  );
  assert.match(
    cliError(["--delay-ack", "-5ms"]),
    /^Invalid --delay-ack "-5ms": Cannot parse duration "-5ms"/,
  );
  assert.match(
    cliError(["--seed", "-.5"]),
    /^Invalid --seed "-\.5": expected a whole number/,
  );
  // The `=` form says the same.
  assert.equal(cliError(["--port=-1"]), cliError(["--port", "-1"]));
});

Deno.test("parseFlags names a flag whose value is missing, an unknown flag and a switch given a value", () => {
  assert.equal(
    cliError(["--port"]),
    "Missing value for --port: it takes a value (PORT)",
  );
  assert.equal(
    cliError(["--port", "--seed", "1"]),
    "Missing value for --port: it takes a value (PORT)",
  );
  assert.equal(
    cliError(["--ports", "1"]),
    "Unknown flag --ports: this command has no such flag",
  );
  assert.equal(
    cliError(["--refuse=yes"]),
    "Invalid --refuse: it is a switch and takes no value",
  );
  assert.equal(
    cliError(["7000"]),
    'Unexpected argument "7000": every option is a --flag',
  );
});

Deno.test("parseFlags still reads positive values and switches", () => {
  const values = parseFlags(
    ["--port", "0", "--drop-ack", "30%", "--refuse"],
    FLAGS,
  );
  assert.equal(values.port, "0");
  assert.equal(values["drop-ack"], "30%");
  assert.equal(values.refuse, true);
});

Deno.test("a server CLI exits with status 2 and the same clear message for --port -1 as for --port x", async () => {
  await assertFlagsRefused("servers/primary.ts", [
    [
      "--port -1",
      /^error: Invalid --port "-1": expected a whole number from 0 to 65535$/m,
    ],
    ["--port x", /^error: Invalid --port "x": expected a whole/m],
  ]);
});

Deno.test("--help shows the command as it works here (npx -y deno@..., not a bare deno unless deno is installed)", async () => {
  const help = await runScript("servers/primary.ts", ["--help"]);
  assert.equal(help.code, 0);
  const usage = help.stdout.split("\n")[0];
  assert.equal(
    usage,
    `Usage: ${denoCommand()} run -A servers/primary.ts [flags]`,
  );
  if (Deno.execPath().includes("/_npx/")) {
    assert.match(usage, /^Usage: npx -y deno@\d+\.\d+\.\d+ run -A /);
  }
  const client = await runScript("clients/two_servers.ts", ["--help"]);
  assert.equal(
    client.stdout.split("\n")[0],
    `Usage: ${denoCommand()} run -A clients/two_servers.ts [flags]`,
  );
});

Deno.test("startServerProcess: stop() reads a grandchild's hold on the pipes only for drainMs after the process exited, and says it cut them", async () => {
  const { startServerProcess } = await import("../core/cli/server_process.ts");
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  let grandchild: number | undefined;
  try {
    // The grandchild inherits the process's standard output and error, and
    // outlives it: they stay open after the process exits.
    await Deno.writeTextFile(
      script,
      `const sleeper = new Deno.Command("sleep", {
  args: ["30"], stdin: "null", stdout: "inherit", stderr: "inherit",
}).spawn();
sleeper.unref();
console.log(\`parent tcp=127.0.0.1:1 grandchild=\${sleeper.pid}\`);
setInterval(() => {}, 1000);
`,
    );
    const server = await startServerProcess(script, [], { drainMs: 50 });
    grandchild = Number(server.fields.grandchild);
    assert.ok(grandchild > 0, server.line);
    const stopped = await Promise.race([
      server.stop(),
      new Promise<never>((_, reject) => {
        const deadline = AbortSignal.timeout(10_000);
        deadline.addEventListener("abort", () => reject(deadline.reason));
      }),
    ]);
    assert.deepEqual(stopped.cut, ["stdout", "stderr"]);
    assert.match(
      stopped.stderr,
      /standard output and standard error still open 50 ms after .* exited/,
    );
  } finally {
    if (grandchild) {
      try {
        Deno.kill(grandchild, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await Deno.remove(script);
  }
});

Deno.test("startServerProcess: stop() kills a process that ignores SIGTERM (after 10 s), so it never waits forever", async () => {
  const { startServerProcess } = await import("../core/cli/server_process.ts");
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `Deno.addSignalListener("SIGTERM", () => {});
console.log("stubborn tcp=127.0.0.1:1");
setInterval(() => {}, 1000);
`,
    );
    const server = await startServerProcess(script, []);
    assert.equal(server.fields.tcp, "127.0.0.1:1");
    const { code } = await server.stop();
    assert.notEqual(code, 0);
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("startServerProcess: an abort before the process announces kills it and rejects at once with the abort's reason", async () => {
  const { startServerProcess } = await import("../core/cli/server_process.ts");
  const { fileURLToPath } = await import("node:url");
  const never = await standIn({ announce: [] });
  const controller = new AbortController();
  const starting = startServerProcess(fileURLToPath(never.script), [], {
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  try {
    const process = await never.next(AbortSignal.timeout(30_000));
    controller.abort(new Error("Scenario ran out of time (5 ms)"));
    const settled = AbortSignal.timeout(5_000);
    await assert.rejects(
      within(starting, settled),
      /printed no line: Error: Scenario ran out of time \(5 ms\)/,
    );
    await within(process.ended, settled);
  } finally {
    await never[Symbol.asyncDispose]();
    await starting.catch(() => {});
  }
});

Deno.test("startServerProcess: with its signal already aborted, it starts nothing and rejects with the abort's reason", async () => {
  const { startServerProcess } = await import("../core/cli/server_process.ts");
  const { fileURLToPath } = await import("node:url");
  await using never = await standIn({ announce: [] });
  const reason = new Error("Scenario ran out of time (5 ms)");
  await assert.rejects(
    startServerProcess(fileURLToPath(never.script), [], {
      timeoutMs: 5_000,
      signal: AbortSignal.abort(reason),
    }),
    (error) => error === reason,
  );
});
