/**
 * Test helper: spawns a CLI with `Deno.execPath()`, waits for its announced
 * line, and stops it with SIGTERM (`core/cli/server_process.ts`); runs a
 * script to its end. Every wait is bounded.
 *
 * @module
 */
import {
  announcedFields,
  type ServerProcess,
  startServerProcess,
} from "../core/cli/server_process.ts";

/** A spawned CLI process. */
export type SpawnedCli = ServerProcess;

/** Parses `name key=value key=value` into its pairs. */
export const lineFields: (line: string) => Record<string, string> =
  announcedFields;

/** Runs a script to completion and returns its exit code and output. */
export async function runScript(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** Spawns `deno run -A <script> <args>` and waits for its first line. */
export function spawnCli(
  script: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<SpawnedCli> {
  return startServerProcess(script, args, options);
}
