/**
 * Test helper: spawns a CLI with `Deno.execPath()`, waits for its announced
 * line, and stops it with SIGTERM. Every wait is bounded.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TextLineStream } from "../core/codecs/text_line_stream.ts";
import { checked } from "./_lifetime.ts";

/** A spawned CLI process. */
export interface SpawnedCli extends AsyncDisposable {
  /** The process. */
  child: Deno.ChildProcess;
  /** The first line it printed on stdout. */
  line: string;
  /** `key=value` pairs of that line (`tcp`, `admin`, `seed`, ...). */
  fields: Record<string, string>;
  /** Further stdout lines, as they come. */
  lines: AsyncIterator<string>;
  /** Sends SIGTERM and resolves with the exit status and stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Parses `name key=value key=value` into its pairs. */
export function lineFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of line.split(" ").slice(1)) {
    const at = part.indexOf("=");
    if (at > 0) fields[part.slice(0, at)] = part.slice(at + 1);
  }
  return fields;
}

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
export async function spawnCli(
  script: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<SpawnedCli> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const lines = child.stdout
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream())[Symbol.asyncIterator]();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 20_000);
  const first = await Promise.race([
    lines.next(),
    new Promise<never>((_, reject) =>
      timeout.addEventListener("abort", () => reject(timeout.reason), {
        once: true,
      })
    ),
  ]).catch(async (error) => {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`${script} printed no line: ${error}\n${await stderrText}`);
  });
  if (first.done) {
    const status = await child.status;
    throw new Error(
      `${script} exited with ${status.code} before printing a line:\n${await stderrText}`,
    );
  }
  let stopped: Promise<{ code: number; stderr: string }> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const status = await child.status;
      // Drain stdout so the stream's resources are released.
      while (!(await lines.next()).done) { /* drain */ }
      return { code: status.code, stderr: await stderrText };
    })();
  return {
    child,
    line: first.value,
    fields: lineFields(first.value),
    lines,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
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
