/**
 * Test helper: spawns a CLI with `Deno.execPath()`, waits for its announced
 * line, and stops it with SIGTERM (`core/cli/server_process.ts`); runs a
 * script to its end, or once per set of bad flags. Every wait is bounded.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  announcedFields,
  type ServerProcess,
  startServerProcess,
} from "../core/cli/server_process.ts";
import { checked } from "./_lifetime.ts";

/** A spawned CLI process. */
export type SpawnedCli = ServerProcess;

/** Parses `name key=value key=value` into its pairs. */
export const lineFields: (line: string) => Record<string, string> =
  announcedFields;

/** Runs a script to completion and returns its exit code and output. */
export async function runScript(
  script: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: options.env,
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/**
 * Runs `script` once for each case, all at once, and asserts that each exits
 * with status 2 and says its message on stderr. A case's flags are written as
 * on a command line (split at spaces).
 */
export async function assertFlagsRefused(
  script: string,
  cases: [flags: string, message: RegExp][],
  options: { env?: Record<string, string> } = {},
): Promise<void> {
  const results = await Promise.all(
    cases.map(([flags]) => runScript(script, flags.split(" "), options)),
  );
  for (const [i, [flags, message]] of cases.entries()) {
    assert.equal(results[i].code, 2, `${flags}: ${results[i].stderr}`);
    assert.match(results[i].stderr, message, flags);
  }
}

/** Spawns `deno run -A <script> <args>` and waits for its first line. */
export function spawnCli(
  script: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<SpawnedCli> {
  return startServerProcess(script, args, options);
}

/**
 * Spawns a server's CLI on a free TCP port and a free admin port, with more
 * `flags` written as on a command line (split at spaces) and then `more`
 * arguments as they are (for values that may hold a space). With `line`,
 * asserts that the line it announced matches.
 */
export async function spawnServer(
  script: string,
  flags: string,
  options: { more?: string[]; timeoutMs?: number; line?: RegExp } = {},
): Promise<SpawnedCli> {
  const cli = await spawnCli(script, [
    "--port",
    "0",
    "--admin-port",
    "0",
    ...flags.split(" ").filter((flag) => flag !== ""),
    ...options.more ?? [],
  ], { timeoutMs: options.timeoutMs });
  return checked(cli, () => {
    if (options.line) assert.match(cli.line, options.line);
  });
}

/** The TCP address a server's CLI announced as `tcp=host:port`. */
export function announcedTcp(
  cli: SpawnedCli,
): { hostname: string; port: number } {
  const [hostname, port] = cli.fields.tcp.split(":");
  return { hostname, port: Number(port) };
}
