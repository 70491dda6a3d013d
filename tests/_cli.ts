/**
 * Test helper: spawns a CLI with `Deno.execPath()`, waits for its announced
 * line, and stops it with SIGTERM. Every wait is bounded.
 *
 * @module
 */
import { TextLineStream } from "../core/codecs/text_line_stream.ts";

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
