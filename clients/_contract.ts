/**
 * Client plumbing: the client-under-test contract (wire protocol docs, part
 * 2) at a command line. Reads the runner's commands, one JSON object a line
 * on standard input, and prints events, one JSON object a line on standard
 * output. The contract's types are in `contract.ts`. Used by the reference
 * clients' command lines only; never re-exported.
 *
 * @module
 */
import {
  CliError,
  type FlagTable,
  type FlagValues,
  helpText,
  parseFlags,
  runCommand,
} from "../core/cli/cli.ts";
import { CODEC_NAMES } from "../core/codecs/create_codec.ts";
import type { Journal } from "../core/journal/journal.ts";
import {
  type ContractCommand,
  type ContractEvent,
  type ContractEventMapper,
  parseCommand,
  type SendCommand,
} from "./contract.ts";

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

/** The codecs a client can speak: all but `raw`, which decodes nothing. */
const CLIENT_CODEC_NAMES: readonly string[] = CODEC_NAMES.filter((
  name,
) => name !== "raw");

/** The flags every reference client's command line takes, after its own. */
export const CONTRACT_FLAGS: FlagTable = {
  codec: {
    type: "string",
    value: "NAME",
    default: "line-json",
    description: `Wire codec: ${CLIENT_CODEC_NAMES.join(", ")}`,
  },
  quiet: {
    type: "boolean",
    description: "Do not log every client event on standard error",
  },
  help: { type: "boolean", description: "Show this help and exit" },
};

/** Reads `--codec` (default `line-json`); throws CliError on an unknown name. */
export function codecFlag(values: FlagValues): string {
  const codec = (values.codec as string | undefined) ?? "line-json";
  if (codec === "raw") {
    throw new CliError(
      `Invalid --codec "raw": a client speaks a protocol, and raw decodes nothing (it is for servers); expected one of ${
        CLIENT_CODEC_NAMES.join(", ")
      }`,
    );
  }
  if (!CLIENT_CODEC_NAMES.includes(codec)) {
    throw new CliError(
      `Invalid --codec "${codec}": expected one of ${
        CLIENT_CODEC_NAMES.join(", ")
      }`,
    );
  }
  return codec;
}

/**
 * Reads a string flag, falling back to an environment variable (an empty one
 * is unset); the fallback is written into `values`, so that
 * {@linkcode flag} reads it too.
 */
export function flagOrEnv(
  values: FlagValues,
  name: string,
  variable: string,
): string | undefined {
  values[name] ??= Deno.env.get(variable) || undefined;
  return values[name] as string | undefined;
}

/** What {@linkcode runContractCli} needs to run one reference client. */
export interface ContractCliSpec<
  O,
  C extends { journal: Journal; close(): Promise<void> },
> {
  /** The script, for the usage line: `clients/two_servers.ts`. */
  script: string;
  /** What the client does, for `--help`. */
  summary: string;
  /** The client's own flags; {@linkcode CONTRACT_FLAGS} follow them. */
  flags: FlagTable;
  /** Reads the parsed flags into the client's options; throws CliError or RangeError. */
  options(values: FlagValues): O;
  /** Makes the client. */
  create(options: O): C;
  /** The contract event a journal event becomes, if any. */
  contractEvent: ContractEventMapper;
  /** Starts it (after the event printer is attached). */
  start(client: C): Promise<unknown> | void;
  /** How it handles `send` and `restart`. */
  commands(client: C): ContractClient;
  /**
   * Keep running when standard input ends, until stop or a signal (default
   * false: the end of input ends the client, which closes and exits 0).
   */
  stayOnAtEnd?: boolean;
}

/**
 * Runs a reference client's command line: flags (`--help`; exit 2 on a bad
 * one), the client (exit 1 if it cannot be made), its journal printed as
 * contract events on stdout (and, unless `--quiet`, as JSON lines on
 * stderr), then the contract until stop, a signal, or the end of input
 * (unless `stayOnAtEnd`). Returns the client once closed, or
 * `undefined` after `--help`.
 */
export async function runContractCli<
  O,
  C extends { journal: Journal; close(): Promise<void> },
>(args: string[], spec: ContractCliSpec<O, C>): Promise<C | undefined> {
  const flags = { ...spec.flags, ...CONTRACT_FLAGS };
  let options: O;
  let quiet: boolean;
  try {
    const values = parseFlags(args, flags);
    if (values.help) {
      console.log(
        helpText(`${runCommand(spec.script)} [flags]`, spec.summary, [[
          "Flags",
          flags,
        ]]),
      );
      return undefined;
    }
    options = spec.options(values);
    quiet = values.quiet === true;
  } catch (error) {
    if (error instanceof CliError || error instanceof RangeError) {
      console.error(`error: ${error.message}`);
      console.error("Run with --help to see every flag.");
      Deno.exit(2);
    }
    throw error;
  }
  let client: C;
  try {
    client = spec.create(options);
  } catch (error) {
    console.error(`error: Cannot start: ${(error as Error).message}`);
    Deno.exit(1);
  }
  client.journal.subscribe((event) => {
    const printed = spec.contractEvent(event);
    if (printed) printEvent(printed);
    if (!quiet) {
      const { seq: _seq, wall: _wall, time, server: _server, ...rest } = event;
      console.error(JSON.stringify({ t: Math.round(time), ...rest }));
    }
  });
  await spec.start(client);
  try {
    const end = await serveContract(spec.commands(client));
    // The end of standard input ends the client, as `stop` does, unless
    // it asked to stay on until a signal.
    if (end === "end" && spec.stayOnAtEnd === true) await untilSignal();
  } finally {
    await client.close();
  }
  return client;
}
