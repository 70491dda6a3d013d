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

/** Options of {@linkcode startInspected}. */
export interface StartInspectedOptions {
  /**
   * How long to wait, once the server has announced its listening line, for
   * the inspector's `Debugger listening on ws://...` line on its standard
   * error (default 10 s); then the server is stopped and the start fails.
   */
  urlTimeoutMs?: number;
  /** The Deno to run it with (default this one). */
  deno?: string;
}

/**
 * Starts `deno run -A <script> <args>` in `root` with the V8 inspector on
 * (as {@linkcode startListeningProcess}) and opens its inspector. Throws,
 * with the server stopped, if the inspector's address does not come within
 * `urlTimeoutMs` or its WebSocket cannot be opened.
 */
export async function startInspected(
  script: string,
  args: string[],
  root: string,
  options: StartInspectedOptions = {},
): Promise<{ server: ListeningProcess; inspector: Inspector }> {
  const { urlTimeoutMs = 10_000, deno } = options;
  const url = Promise.withResolvers<string>();
  const server = await startListeningProcess(script, args, {
    cwd: root,
    deno,
    denoFlags: ["--inspect=127.0.0.1:0"],
    onStderrLine: (line) => {
      const found = line.match(/(ws:\/\/\S+)/)?.[1];
      if (found) url.resolve(found);
    },
  });
  const timer = setTimeout(() =>
    url.reject(
      new Error(
        `Cannot open the inspector of ${script}: it printed no "Debugger listening on ws://..." line on standard error within ${urlTimeoutMs} ms of its listening line`,
      ),
    ), urlTimeoutMs);
  try {
    const inspector = await Inspector.open(
      await url.promise.finally(() => clearTimeout(timer)),
    );
    return { server, inspector };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** A call sent and not yet answered. */
interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Talks to a V8 inspector over its WebSocket. A call rejects when the
 * inspector answers it with an error, and every call still waiting rejects
 * when the WebSocket closes or fails (as does any call made after).
 */
export class Inspector {
  #socket: WebSocket;
  #id = 0;
  #waiting = new Map<number, Pending>();
  #events = new Map<string, (params: unknown) => void>();
  /** Why no call can be answered any more, once the socket is gone. */
  #ended?: string;
  #closed = Promise.withResolvers<void>();

  private constructor(socket: WebSocket, url: string) {
    this.#socket = socket;
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data as string);
      if (data.id === undefined) {
        this.#events.get(data.method)?.(data.params);
        return;
      }
      const pending = this.#waiting.get(data.id);
      if (!pending) return;
      this.#waiting.delete(data.id);
      if (data.error) {
        pending.reject(
          new Error(
            `The inspector's "${pending.method}" failed: ${data.error.message}`,
          ),
        );
      } else pending.resolve(data.result);
    });
    socket.addEventListener("error", (event) => {
      const detail = (event as ErrorEvent).message;
      this.#end(`its WebSocket ${url} failed${detail ? `: ${detail}` : ""}`);
    });
    socket.addEventListener("close", (event) => {
      const reason = event.reason ? `: ${event.reason}` : "";
      this.#end(`its WebSocket ${url} closed (code ${event.code}${reason})`);
      this.#closed.resolve();
    });
  }

  /** Rejects every call still waiting, and any made from now on. */
  #end(why: string): void {
    this.#ended ??= why;
    for (const pending of this.#waiting.values()) {
      pending.reject(
        new Error(
          `Cannot finish the inspector's "${pending.method}": ${this.#ended}`,
        ),
      );
    }
    this.#waiting.clear();
  }

  /** Opens the inspector at a `ws://` address. */
  static async open(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`Cannot open ${url}`));
      socket.onclose = (event) =>
        reject(new Error(`Cannot open ${url}: closed (code ${event.code})`));
    });
    socket.onopen = socket.onerror = socket.onclose = null;
    return new Inspector(socket, url);
  }

  /** Calls a method; resolves with its result. */
  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    if (this.#ended) {
      return Promise.reject(
        new Error(`Cannot call the inspector's "${method}": ${this.#ended}`),
      );
    }
    const id = ++this.#id;
    const answer = Promise.withResolvers<unknown>();
    this.#waiting.set(id, { method, ...answer });
    this.#socket.send(JSON.stringify({ id, method, params }));
    return answer.promise;
  }

  /** Calls `handler` with the parameters of every event named `method`. */
  on(method: string, handler: (params: unknown) => void): void {
    this.#events.set(method, handler);
  }

  /** Closes the WebSocket (any call still waiting rejects). */
  async close(): Promise<void> {
    this.#socket.close();
    await this.#closed.promise;
  }
}
