/**
 * A server's command line run as a process of its own, as a user runs it:
 * `deno run -A <script> <args>` with this Deno, its announced line
 * (`<name> tcp=... admin=http://... seed=N codec=NAME`, see `server_cli.ts`)
 * read and split into its `key=value` fields, and stopped with SIGTERM.
 * Every wait is bounded, and so is the standard error kept.
 *
 * @module
 */
import { TextLineStream } from "../codecs/text_line_stream.ts";

/** The most standard error a {@linkcode ServerProcess} keeps: its last 64 KiB. */
export const SERVER_PROCESS_STDERR_CHARS = 64 * 1024;

/** A server running as a process of its own. */
export interface ServerProcess extends AsyncDisposable {
  /** The process. */
  child: Deno.ChildProcess;
  /** The first line it printed on standard output: its announced line. */
  line: string;
  /** `key=value` pairs of that line (`tcp`, `admin`, `seed`, ...). */
  fields: Record<string, string>;
  /** Further standard output lines, as they come (read them, or they wait). */
  lines: AsyncIterator<string>;
  /**
   * Sends SIGTERM (once; SIGKILL 10 s later if it is still there) and
   * resolves with the exit status and the last
   * {@linkcode SERVER_PROCESS_STDERR_CHARS} of standard error.
   */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Options for {@linkcode startServerProcess}. */
export interface ServerProcessOptions {
  /** How long it may take to print its line (default 20 s); then it is killed. */
  timeoutMs?: number;
  /** Its working directory (default this process's). */
  cwd?: string;
  /** The Deno to run it with (default this one). */
  deno?: string;
  /** Flags of `deno run` before the script (such as `--inspect=127.0.0.1:0`). */
  denoFlags?: readonly string[];
  /** Called with each line it writes to standard error. */
  onStderrLine?: (line: string) => void;
  /**
   * Gives up the start: aborted before the process announces itself, it is
   * killed and the start rejects (with the reason, if aborted before the
   * process was spawned).
   */
  signal?: AbortSignal;
}

/**
 * Parses an announced line, `name key=value key=value`, into its pairs.
 *
 * @example Usage
 * ```ts
 * import { announcedFields } from "./server_process.ts";
 * announcedFields("primary tcp=127.0.0.1:7000 admin=http://127.0.0.1:7001");
 * // { tcp: "127.0.0.1:7000", admin: "http://127.0.0.1:7001" }
 * ```
 */
export function announcedFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of line.split(" ").slice(1)) {
    const at = part.indexOf("=");
    if (at > 0) fields[part.slice(0, at)] = part.slice(at + 1);
  }
  return fields;
}

/** Keeps the last `limit` characters of a text stream, handing each line to `onLine` if given. */
async function tail(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  onLine?: (line: string) => void,
) {
  let text = "";
  const chunks = stream.pipeThrough(new TextDecoderStream());
  if (onLine) {
    for await (const line of chunks.pipeThrough(new TextLineStream())) {
      text = (text + line + "\n").slice(-limit);
      onLine(line);
    }
    return text;
  }
  for await (const chunk of chunks) {
    text = (text + chunk).slice(-limit);
  }
  return text;
}

/**
 * Runs `deno run -A <script> <args>` and waits for its announced line. If it
 * exits first, or prints nothing in time (then it is killed), throws an error
 * with its standard error.
 *
 * @example Usage
 * ```ts ignore
 * import { startServerProcess } from "./server_process.ts";
 * await using server = await startServerProcess("servers/primary.ts", [
 *   "--port", "0", "--admin-port", "0",
 * ]);
 * console.log(server.fields.tcp, server.fields.admin);
 * ```
 */
export async function startServerProcess(
  script: string,
  args: string[],
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  options.signal?.throwIfAborted();
  const child = new Deno.Command(options.deno ?? Deno.execPath(), {
    args: ["run", "-A", ...options.denoFlags ?? [], script, ...args],
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderrText = tail(
    child.stderr,
    SERVER_PROCESS_STDERR_CHARS,
    options.onStderrLine,
  );
  const lines = child.stdout
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream())[Symbol.asyncIterator]();
  const timeout = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 20_000),
    ...options.signal ? [options.signal] : [],
  ]);
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
      // Bounded too: still there 10 s after SIGTERM, it is killed.
      const kill = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }, 10_000);
      const status = await child.status.finally(() => clearTimeout(kill));
      // Drain stdout so the stream's resources are released.
      while (!(await lines.next()).done) { /* drain */ }
      return { code: status.code, stderr: await stderrText };
    })();
  return {
    child,
    line: first.value,
    fields: announcedFields(first.value),
    lines,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
