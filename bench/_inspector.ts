/**
 * A V8 inspector client for the benchmark's tools (`profile.ts`,
 * `memory.ts`): a server process started with `--inspect=127.0.0.1:0`
 * prints its WebSocket address on standard error; this talks to it.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionDescriptor } from "node:util";
import { type ListeningProcess, startListeningProcess } from "./_process.ts";

/** The tools' `--root` option: the checkout whose server runs (default this one). */
const ROOT_OPTION = {
  type: "string",
  default: new URL("..", import.meta.url).pathname,
} as const;

/**
 * Parses an inspector tool's command line: its own options, beside the
 * `--root` and `--top N` both tools take; what follows `--` goes to the
 * server.
 */
export function parseToolArgs<
  T extends Record<string, ParseArgsOptionDescriptor>,
>(options: T) {
  return parseArgs({
    args: Deno.args,
    options: {
      root: ROOT_OPTION,
      top: { type: "string", default: "25" },
      ...options,
    },
    allowPositionals: true,
  });
}

/**
 * Starts `deno run -A <script> <args>` in `root` with the V8 inspector on
 * (as {@linkcode startListeningProcess}) and opens its inspector.
 */
export async function startInspected(
  script: string,
  args: string[],
  root: string,
): Promise<{ server: ListeningProcess; inspector: Inspector }> {
  const url = Promise.withResolvers<string>();
  const server = await startListeningProcess(script, args, {
    cwd: root,
    denoFlags: ["--inspect=127.0.0.1:0"],
    onStderrLine: (line) => {
      const found = line.match(/(ws:\/\/\S+)/)?.[1];
      if (found) url.resolve(found);
    },
  });
  return { server, inspector: await Inspector.open(await url.promise) };
}

/** Talks to a V8 inspector over its WebSocket, one call at a time. */
export class Inspector {
  #socket: WebSocket;
  #id = 0;
  #waiting = new Map<number, (result: unknown) => void>();
  #events = new Map<string, (params: unknown) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data as string);
      if (data.id !== undefined) this.#waiting.get(data.id)?.(data.result);
      else this.#events.get(data.method)?.(data.params);
    };
  }

  /** Opens the inspector at a `ws://` address. */
  static async open(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`Cannot open ${url}`));
    });
    return new Inspector(socket);
  }

  /** Calls a method; resolves with its result. */
  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#id;
    this.#socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  /** Calls `handler` with the parameters of every event named `method`. */
  on(method: string, handler: (params: unknown) => void): void {
    this.#events.set(method, handler);
  }

  /** Closes the WebSocket. */
  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.#socket.onclose = resolve);
    this.#socket.close();
    await closed;
  }
}
