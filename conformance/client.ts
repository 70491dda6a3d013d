/**
 * The client under test, as the runner drives it: a process started from a
 * command template (any language), or an object in this process (the
 * reference clients, in a Deno test suite). Both speak the client-under-test
 * contract of `docs/protocol.md`: commands in, events out.
 *
 * @module
 */
import { TextLineStream } from "../core/codecs/text_line_stream.ts";
import type { ContractCommand, ContractEvent } from "../clients/contract.ts";

/** A command of the contract, sent to the client (the contract's own type). */
export type ClientCommand = ContractCommand;

/** An event the client printed, with the runner's monotonic time. */
export interface ClientEvent extends ContractEvent {
  /** When the runner read it (`performance.now()`). */
  time: number;
}

/** Placeholder values for one scenario: `ip1`, `port1`, `hostA`, `servers`, ... */
export type Endpoints = Record<string, string>;

/** A running client. */
export interface ClientSession {
  /** Every event so far, in order. */
  readonly events: ClientEvent[];
  /** Sends one command. */
  command(command: ClientCommand): Promise<void>;
  /** Resolves with the first event, kept or to come, that matches. */
  waitForEvent(
    predicate: (event: ClientEvent) => boolean,
    signal: AbortSignal,
  ): Promise<ClientEvent>;
  /** Calls `listener` with each event to come; returns the function that stops it. */
  subscribe(listener: (event: ClientEvent) => void): () => void;
  /** Stops the client (`stop`, then signals), returning how it ended. */
  stop(): Promise<ClientExit>;
  /** Whether it has exited on its own. */
  readonly exited: boolean;
}

/** How a client ended. */
export interface ClientExit {
  /** The exit code of a process (undefined in process, or when killed). */
  code?: number;
  /** Whether the runner had to kill it. */
  killed: boolean;
  /** Its standard error (the last 64 KiB). */
  stderr: string;
  /** Lines of standard output that were not events. */
  otherOutput: string[];
}

/** What the runner starts once per scenario. */
export interface ClientUnderTest {
  /** A name for reports. */
  readonly name: string;
  /**
   * True when each start spawns a process: the runner then runs fewer
   * scenarios at once by default (a process start costs CPU time that the
   * scenarios' timing must not wait for).
   */
  readonly startsProcess?: boolean;
  /** Starts the client with this scenario's addresses and timing. */
  start(endpoints: Endpoints, signal: AbortSignal): Promise<ClientSession>;
}

/** Turns a placeholder name into its environment variable: `hostA` -> `FT_HOST_A`. */
export function envName(placeholder: string): string {
  return "FT_" +
    placeholder.replace(/([a-z])([A-Z0-9])/g, "$1_$2").toUpperCase();
}

/** Replaces `{name}` placeholders; an unknown one is an error naming it. */
export function fillTemplate(template: string, endpoints: Endpoints): string {
  return template.replace(/\{([A-Za-z0-9]+)\}/g, (_, name: string) => {
    if (!(name in endpoints)) {
      throw new RangeError(
        `Cannot fill placeholder {${name}}: this suite gives ${
          Object.keys(endpoints).map((k) => `{${k}}`).join(" ")
        }`,
      );
    }
    return endpoints[name];
  });
}

class EventLog {
  readonly events: ClientEvent[] = [];
  #listeners = new Set<(event: ClientEvent) => void>();

  push(event: ClientEvent): void {
    this.events.push(event);
    for (const listener of this.#listeners) listener(event);
  }

  subscribe(listener: (event: ClientEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async waitFor(
    predicate: (event: ClientEvent) => boolean,
    signal: AbortSignal,
  ): Promise<ClientEvent> {
    let seen = 0;
    while (true) {
      for (; seen < this.events.length; seen++) {
        if (predicate(this.events[seen])) return this.events[seen];
      }
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          unsubscribe();
          signal.removeEventListener("abort", wake);
          resolve();
        };
        const unsubscribe = this.subscribe(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }
}

const STDERR_LIMIT = 64 * 1024;

/** Whether `status` settles within `ms`; the timer is cleared either way. */
async function exitWithin(
  status: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      status.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options for {@linkcode processClient}. */
export interface ProcessClientOptions {
  /** How long `stop` waits for a clean exit before SIGTERM, then SIGKILL (default 2000 ms). */
  graceMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/**
 * A client run as a process from a command template, through `sh -c`, with
 * `{placeholders}` filled and the same values in `FT_*` environment variables.
 *
 * @example Usage
 * ```ts ignore
 * import { processClient } from "./client.ts";
 * const client = processClient(
 *   "python3 tracker.py --ip1 {ip1} --port1 {port1} --ip2 {ip2} --port2 {port2}",
 * );
 * ```
 */
export function processClient(
  template: string,
  options: ProcessClientOptions = {},
): ClientUnderTest {
  return {
    name: template,
    startsProcess: true,
    start(endpoints, signal) {
      const command = fillTemplate(template, endpoints);
      const env: Record<string, string> = { ...options.env };
      for (const [key, value] of Object.entries(endpoints)) {
        env[envName(key)] = value;
      }
      const child = new Deno.Command("sh", {
        args: ["-c", `exec ${command}`],
        env,
        cwd: options.cwd,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const log = new EventLog();
      const otherOutput: string[] = [];
      let stderr = "";
      let exited = false;
      const status = child.status.then((s) => {
        exited = true;
        return s;
      });
      const readOut = (async () => {
        const lines = child.stdout.pipeThrough(new TextDecoderStream())
          .pipeThrough(new TextLineStream());
        for await (const line of lines) {
          const time = performance.now();
          try {
            const value = JSON.parse(line);
            if (
              value && typeof value === "object" &&
              typeof value.event === "string"
            ) {
              log.push({ ...value, time });
              continue;
            }
          } catch {
            // Not JSON: kept as other output.
          }
          if (otherOutput.length < 1000) otherOutput.push(line);
        }
      })();
      const readErr = (async () => {
        for await (
          const chunk of child.stderr.pipeThrough(new TextDecoderStream())
        ) {
          stderr = (stderr + chunk).slice(-STDERR_LIMIT);
        }
      })();
      const writer = child.stdin.getWriter();
      const encoder = new TextEncoder();
      let stopping: Promise<ClientExit> | undefined;
      const kill = (sig: Deno.Signal) => {
        try {
          child.kill(sig);
        } catch {
          // Already gone.
        }
      };
      const stop = () =>
        stopping ??= (async () => {
          let killed = false;
          if (!exited) {
            await writer.write(encoder.encode('{"cmd":"stop"}\n')).catch(
              () => {},
            );
          }
          await writer.close().catch(() => {});
          const grace = options.graceMs ?? 2000;
          const waited = await exitWithin(status, grace);
          if (!waited) {
            killed = true;
            kill("SIGTERM");
            const termed = await exitWithin(status, 1000);
            if (!termed) kill("SIGKILL");
          }
          const final = await status;
          await Promise.all([readOut, readErr]).catch(() => {});
          return {
            code: killed ? undefined : final.code,
            killed,
            stderr,
            otherOutput,
          };
        })();
      signal.addEventListener("abort", () => void stop(), { once: true });
      return Promise.resolve({
        events: log.events,
        get exited() {
          return exited;
        },
        async command(command) {
          if (exited) return;
          await writer.write(encoder.encode(JSON.stringify(command) + "\n"))
            .catch(() => {});
        },
        waitForEvent: (predicate, waitSignal) =>
          log.waitFor(predicate, waitSignal),
        subscribe: (listener) => log.subscribe(listener),
        stop,
      });
    },
  };
}

/** What an in-process client object does with the contract. */
export interface InProcessClient {
  /** Handles a `send` or `restart` command. */
  command(command: ClientCommand): void | Promise<void>;
  /** Closes it (the `stop` command). */
  close(): Promise<void>;
}

/**
 * A client in this process: `factory` makes one per scenario, given the
 * scenario's endpoints and an `emit` function for contract events.
 *
 * @example Usage
 * ```ts ignore
 * import { inProcessClient } from "./client.ts";
 * const client = inProcessClient("mine", (endpoints, emit) => makeMyClient(endpoints, emit));
 * ```
 */
export function inProcessClient(
  name: string,
  factory: (
    endpoints: Endpoints,
    emit: (event: ContractEvent) => void,
    signal: AbortSignal,
  ) => Promise<InProcessClient>,
): ClientUnderTest {
  return {
    name,
    async start(endpoints, signal) {
      const log = new EventLog();
      let closed = false;
      let stopping: Promise<ClientExit> | undefined;
      const client = await factory(
        endpoints,
        (event) => {
          if (!closed) log.push({ ...event, time: performance.now() });
        },
        signal,
      );
      const errors: string[] = [];
      const stop = () =>
        stopping ??= (async () => {
          await client.close().catch((error) =>
            errors.push(String(error?.message ?? error))
          );
          closed = true;
          return { killed: false, stderr: errors.join("\n"), otherOutput: [] };
        })();
      signal.addEventListener("abort", () => void stop(), { once: true });
      return {
        events: log.events,
        get exited() {
          return closed;
        },
        async command(command) {
          if (closed) return;
          if (command.cmd === "stop") {
            await stop();
            return;
          }
          try {
            await client.command(command);
          } catch (error) {
            log.push({
              event: "error",
              message: String((error as Error)?.message ?? error),
              time: performance.now(),
            });
          }
        },
        waitForEvent: (predicate, waitSignal) =>
          log.waitFor(predicate, waitSignal),
        subscribe: (listener) => log.subscribe(listener),
        stop,
      };
    },
  };
}
