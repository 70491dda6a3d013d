/**
 * Processes for the benchmark: a server started as a user starts it (its
 * announced line read for its ports), and a load generator run to its end.
 *
 * @module
 */
import { TextLineStream } from "../core/codecs/text_line_stream.ts";
import {
  type ServerProcessOptions,
  startServerProcess as startCoreProcess,
} from "../core/cli/server_process.ts";
import type { LoadResult } from "./load.ts";

/** Runs this Deno with these arguments, standard output and error piped. */
function spawnDeno(args: string[], cwd?: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A process that listens, started by {@linkcode startListeningProcess}. */
export interface ListeningProcess extends AsyncDisposable {
  /** Its process id. */
  pid: number;
  /** Its TCP port. */
  port: number;
  /** Its admin base URL, if it announced one. */
  admin?: string;
  /** The line it announced. */
  line: string;
  /** Stops it (SIGTERM) and waits. */
  stop(): Promise<void>;
}

/** A server process under test: one that announced its admin URL too. */
export interface ServerProcess extends ListeningProcess {
  /** Its admin base URL. */
  admin: string;
}

/** Where and how {@linkcode startListeningProcess} runs a script. */
export type ListeningProcessOptions = Pick<
  ServerProcessOptions,
  "cwd" | "deno" | "denoFlags" | "onStderrLine"
>;

/**
 * Runs `deno run -A <script> <args>` (`core/cli/server_process.ts`) and
 * waits for the line it prints once it listens (`<name> tcp=HOST:PORT
 * [admin=URL] ...`), up to 60 s. Stopping it sends SIGTERM, then SIGKILL if
 * it is still there 10 s later.
 */
export async function startListeningProcess(
  script: string,
  args: string[],
  options: ListeningProcessOptions = {},
): Promise<ListeningProcess> {
  const { cwd = Deno.cwd() } = options;
  const server = await startCoreProcess(script, args, {
    ...options,
    cwd,
    timeoutMs: 60_000,
  });
  // Keep reading, so a chatty server never blocks on a full pipe.
  const rest = (async () => {
    while (!(await server.lines.next()).done) {
      // Nothing to keep.
    }
  })();
  const { line } = server;
  const port = server.fields.tcp?.match(/:(\d+)$/)?.[1];
  const { admin } = server.fields;
  const stop = async () => {
    await server.stop();
    await rest;
  };
  if (!port) {
    const { stderr } = await server.stop();
    throw new Error(
      `Cannot start ${script} in ${cwd}: it printed "${line}" instead of its addresses${
        stderr ? `: ${stderr.trim()}` : ""
      }`,
    );
  }
  return {
    pid: server.child.pid,
    port: Number(port),
    admin,
    line,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Runs `deno run -A <script> <args>` in `cwd` and waits for the line it
 * prints once it listens (`<name> tcp=HOST:PORT admin=URL ...`).
 */
export async function startServerProcess(
  script: string,
  args: string[],
  cwd: string,
): Promise<ServerProcess> {
  const server = await startListeningProcess(script, args, { cwd });
  const admin = server.admin;
  if (!admin) {
    await server.stop();
    throw new Error(
      `Cannot start ${script} in ${cwd}: it printed "${server.line}" without its admin URL`,
    );
  }
  return { ...server, admin };
}

/** A process started to run to its end; resolves with what it printed. */
export async function runProcess(
  args: string[],
  options: { cwd?: string; onLine?: (line: string) => void } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnDeno(args, options.cwd);
  let stdout = "";
  const out = (async () => {
    const lines = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(new TextLineStream());
    for await (const line of lines) {
      stdout += line + "\n";
      options.onLine?.(line);
    }
  })();
  const err = new Response(child.stderr).text();
  const { code } = await child.status;
  await out;
  return { code, stdout, stderr: await err };
}

/** Runs the load generator (`bench/load.ts`) against a server. */
export async function runLoadProcess(
  args: string[],
  onLine?: (line: string) => void,
): Promise<LoadResult> {
  const script = new URL("./load.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await runProcess(
    ["run", "-A", script, ...args],
    { onLine },
  );
  const last = stdout.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !last.startsWith("{")) {
    throw new Error(
      `Cannot run the load (${args.join(" ")}): exit ${code}: ${stderr.trim()}`,
    );
  }
  return JSON.parse(last) as LoadResult;
}
