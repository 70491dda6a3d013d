/**
 * A server's command line run as a process of its own, as a user runs it:
 * `deno run -A <script> <args>` with this Deno, its announced line
 * (`<name> tcp=... admin=http://... seed=N codec=NAME`, see `server_cli.ts`)
 * read and split into its `key=value` fields, and stopped with SIGTERM.
 * Every wait is bounded, and so is the standard error kept: once the
 * process has exited, its standard output and error are read for a short
 * while more (a process it started may hold them open), then cut off.
 *
 * @module
 */
import { TextLineStream } from "../codecs/text_line_stream.ts";

/** The most standard error a {@linkcode ServerProcess} keeps: its last 64 KiB. */
export const SERVER_PROCESS_STDERR_CHARS = 64 * 1024;

/** What {@linkcode ServerProcess.stop} resolves with. */
export interface ServerProcessExit {
  /** The exit code. */
  code: number;
  /**
   * The last {@linkcode SERVER_PROCESS_STDERR_CHARS} of standard error,
   * ending with a line that says what was cut, if anything was.
   */
  stderr: string;
  /**
   * The streams still open `drainMs` after the process exited (held by a
   * process it started), whose reading was stopped; empty if none.
   */
  cut: ("stdout" | "stderr")[];
}

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
   * Sends SIGTERM (once; SIGKILL 10 s later if it is still there), reads
   * what is left of standard output and error (for at most `drainMs` once
   * it exited), and resolves with the exit status and the last
   * {@linkcode SERVER_PROCESS_STDERR_CHARS} of standard error.
   */
  stop(): Promise<ServerProcessExit>;
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
  /**
   * How long its standard output and error are still read once it exited
   * (default 2000 ms): a process it started that inherited them can hold
   * them open for ever. Then they are cut off, and the result says so.
   */
  drainMs?: number;
}

/** How long standard output and error are read after the exit, by default. */
const DRAIN_MS = 2_000;

/** The names of the standard streams, in what is said when they are cut. */
const STREAM_NAMES = {
  stdout: "standard output",
  stderr: "standard error",
} as const;

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

/**
 * Keeps the last `limit` characters of a text stream, handing each line to
 * `onLine` if given, until the stream ends (`closed`) or `signal` cuts it.
 */
async function tail(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  signal: AbortSignal,
  onLine?: (line: string) => void,
): Promise<{ text: string; closed: boolean }> {
  let text = "";
  const chunks = stream.pipeThrough(new TextDecoderStream(), { signal });
  try {
    if (onLine) {
      for await (const line of chunks.pipeThrough(new TextLineStream())) {
        text = (text + line + "\n").slice(-limit);
        onLine(line);
      }
    } else {
      for await (const chunk of chunks) {
        text = (text + chunk).slice(-limit);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    return { text, closed: false };
  }
  return { text, closed: true };
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
  const drainMs = options.drainMs ?? DRAIN_MS;
  if (!(drainMs >= 0)) {
    throw new RangeError(
      `Cannot start ${script} with drainMs ${drainMs}: expected 0 or more`,
    );
  }
  const child = new Deno.Command(options.deno ?? Deno.execPath(), {
    args: ["run", "-A", ...options.denoFlags ?? [], script, ...args],
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const cutOff = new AbortController();
  const stderrText = tail(
    child.stderr,
    SERVER_PROCESS_STDERR_CHARS,
    cutOff.signal,
    options.onStderrLine,
  );
  const lines = child.stdout
    .pipeThrough(new TextDecoderStream(), { signal: cutOff.signal })
    .pipeThrough(new TextLineStream())[Symbol.asyncIterator]();
  /**
   * Once the process has exited: reads standard output (its lines dropped)
   * and error to their end, or for `drainMs`, then cuts them off.
   */
  const drain = async (): Promise<Omit<ServerProcessExit, "code">> => {
    const timer = setTimeout(() => cutOff.abort(), drainMs);
    const [out, err] = await Promise.allSettled([
      (async () => {
        while (!(await lines.next()).done) { /* drain */ }
      })(),
      stderrText,
    ]).finally(() => clearTimeout(timer));
    const cut: ServerProcessExit["cut"] = [];
    if (out.status === "rejected") {
      if (!cutOff.signal.aborted) throw out.reason;
      cut.push("stdout");
    }
    if (err.status === "rejected") throw err.reason;
    if (!err.value.closed) cut.push("stderr");
    let stderr = err.value.text;
    if (cut.length > 0) {
      stderr += `${stderr === "" || stderr.endsWith("\n") ? "" : "\n"}${
        cut.map((name) => STREAM_NAMES[name]).join(" and ")
      } still open ${drainMs} ms after ${script} exited, held by a process it started: stopped reading them\n`;
    }
    return { stderr, cut };
  };
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
    const { stderr } = await drain();
    throw new Error(`${script} printed no line: ${error}\n${stderr}`);
  });
  if (first.done) {
    const status = await child.status;
    const { stderr } = await drain();
    throw new Error(
      `${script} exited with ${status.code} before printing a line:\n${stderr}`,
    );
  }
  let stopped: Promise<ServerProcessExit> | undefined;
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
      // Drain stdout and stderr so their resources are released.
      return { code: status.code, ...await drain() };
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
