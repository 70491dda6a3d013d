/**
 * Client plumbing: the client-under-test contract (wire protocol docs, part
 * 2). Reads the runner's commands, one JSON object a line on standard input,
 * and prints events, one JSON object a line on standard output. Used by the
 * reference clients' command lines only; never re-exported.
 *
 * @module
 */
import { z } from "zod";

/** `{"cmd":"send",...}`: queue a record, packet or message and deliver it. */
export const SendCommandSchema = z.looseObject({
  cmd: z.literal("send"),
  id: z.string().min(1).max(256),
  /** Telematics: `record` (default) or a packet kind. */
  kind: z.string().min(1).optional(),
  data: z.unknown().optional(),
  /** Messaging: the agent a message is for. */
  to: z.string().min(1).optional(),
  body: z.unknown().optional(),
});

/** Any command of the contract. */
export const ContractCommandSchema = z.discriminatedUnion("cmd", [
  SendCommandSchema,
  z.looseObject({ cmd: z.literal("restart") }),
  z.looseObject({ cmd: z.literal("stop") }),
]);

/** A command of the contract: `send`, `restart` or `stop`. */
export type ContractCommand = z.infer<typeof ContractCommandSchema>;
/** The `send` command. */
export type SendCommand = z.infer<typeof SendCommandSchema>;

/** An event a client prints: `{"event":"deleted","id":"r1"}`. */
export interface ContractEvent {
  /** `deleted`, `connected`, `active`, `received`, `push`, `error`, ... */
  event: string;
  /** The event's fields. */
  [field: string]: unknown;
}

/**
 * Parses one line of standard input into a command. Returns the command, or
 * an error message saying what was wrong (`undefined` for a blank line).
 */
export function parseCommand(
  line: string,
): { command: ContractCommand; error?: undefined } | {
  command?: undefined;
  error: string;
} | undefined {
  const text = line.trim();
  if (text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      error: `Cannot parse command as JSON: ${(error as Error).message}`,
    };
  }
  const result = ContractCommandSchema.safeParse(value);
  if (result.success) return { command: result.data };
  const issue = result.error.issues[0];
  return {
    error: `Cannot use command: ${
      issue.path.join(".") || "cmd"
    }: ${issue.message}`,
  };
}

const encoder = new TextEncoder();

/** Prints one event as a JSON line on standard output (or `output`). */
export function printEvent(
  event: ContractEvent,
  output: { writeSync(bytes: Uint8Array): number } = Deno.stdout,
): void {
  const bytes = encoder.encode(JSON.stringify(event) + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += output.writeSync(bytes.subarray(written));
  }
}

/** Options for {@linkcode readCommands}. */
export interface ReadCommandsOptions {
  /** Where commands come from (default standard input). */
  input?: ReadableStream<Uint8Array>;
  /** Called with each bad line's error (default: prints an `error` event). */
  onError?: (message: string) => void;
  /** Stops reading. */
  signal?: AbortSignal;
}

/**
 * Reads commands, one JSON object a line, until the input ends or the signal
 * aborts. Bad lines are reported through `onError` and skipped.
 *
 * @example Usage
 * ```ts ignore
 * import { readCommands } from "./_contract.ts";
 * for await (const command of readCommands()) {
 *   if (command.cmd === "stop") break;
 * }
 * ```
 */
export async function* readCommands(
  options: ReadCommandsOptions = {},
): AsyncGenerator<ContractCommand> {
  const onError = options.onError ??
    ((message: string) => printEvent({ event: "error", message }));
  const reader = (options.input ?? Deno.stdin.readable)
    .pipeThrough(new TextDecoderStream())
    .getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let buffer = "";
  try {
    while (!options.signal?.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline = buffer.indexOf("\n");
      while (newline !== -1) {
        const parsed = parseCommand(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
        if (parsed?.command) yield parsed.command;
        else if (parsed) onError(parsed.error);
      }
    }
    const last = options.signal?.aborted ? undefined : parseCommand(buffer);
    if (last?.command) yield last.command;
    else if (last) onError(last.error);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** What {@linkcode serveContract} drives: a reference client. */
export interface ContractClient {
  /** Handles a `send` command; a thrown error becomes an `error` event. */
  send(command: SendCommand): void | Promise<void>;
  /** Handles a `restart` command. */
  restart(): void | Promise<void>;
}

/** Why {@linkcode serveContract} returned. */
export type ContractEnd = "stop" | "end" | "signal";

/**
 * Drives a client by the contract until `{"cmd":"stop"}` (returns `stop`),
 * the end of the input (`end`), or SIGINT, SIGTERM or the signal (`signal`).
 * The caller closes the client afterwards.
 *
 * @example Usage
 * ```ts ignore
 * import { serveContract } from "./_contract.ts";
 * await serveContract({ send: (c) => console.error(c.id), restart() {} });
 * ```
 */
export async function serveContract(
  client: ContractClient,
  options: Omit<ReadCommandsOptions, "onError"> = {},
): Promise<ContractEnd> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const signal = options.signal
    ? AbortSignal.any([options.signal, stop.signal])
    : stop.signal;
  try {
    for await (const command of readCommands({ ...options, signal })) {
      if (command.cmd === "stop") return "stop";
      try {
        if (command.cmd === "send") await client.send(command);
        else await client.restart();
      } catch (error) {
        printEvent({ event: "error", message: (error as Error).message });
      }
    }
    return signal.aborted ? "signal" : "end";
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

/** Resolves on SIGINT or SIGTERM (or when the signal aborts). */
export function untilSignal(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      Deno.removeSignalListener("SIGINT", done);
      Deno.removeSignalListener("SIGTERM", done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    Deno.addSignalListener("SIGINT", done);
    Deno.addSignalListener("SIGTERM", done);
    signal?.addEventListener("abort", done, { once: true });
    if (signal?.aborted) done();
  });
}
