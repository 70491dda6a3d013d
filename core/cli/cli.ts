/**
 * Command-line flags shared by every server (`--host --port --admin-host
 * --admin-port --seed --codec --journal-file` and the fault flags), help
 * text, and the run loop of a server CLI: parse, start, print one line,
 * stop cleanly on SIGINT or SIGTERM.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { z } from "zod";
import { ADMIN_TOKEN_ENV } from "../admin/admin_guard.ts";
import { DEFAULT_MAX_DEPTH } from "../codecs/codec.ts";
import { CODEC_NAMES } from "../codecs/create_codec.ts";
import {
  DEFAULT_MAX_BACKLOG_BYTES,
  DEFAULT_MAX_BAD_RATE,
  DEFAULT_SHUTDOWN_MS,
} from "../server/tcp_server.ts";
import {
  FAULT_DEFINITIONS,
  FAULT_KINDS,
  type FaultFlag,
  type Faults,
  FaultsSchema,
  type FlagReader,
  MAX_TIMER_MS,
} from "../faults/mod.ts";
import { parseDuration, parseInteger } from "../units/units.ts";

export { parseInteger };

/** One flag: its type, default and help. */
export interface FlagDef {
  /** `string` flags take a value; `boolean` flags do not. */
  type: "string" | "boolean";
  /** What the flag does, for `--help`. */
  description: string;
  /** The default, shown in `--help`. */
  default?: string;
  /** The value's form, shown in `--help` (such as `RATE`). */
  value?: string;
  /** Whether it may be given more than once. */
  multiple?: boolean;
}

/** A table of flags by long name. */
export type FlagTable = Record<string, FlagDef>;

/** Parsed flag values by long name. */
export type FlagValues = Record<
  string,
  string | boolean | string[] | undefined
>;

/** An error in what the user typed: the CLI prints it and exits with 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** The flags every server takes (defaults for ports come from the server). */
export const COMMON_FLAGS: FlagTable = {
  host: {
    type: "string",
    value: "HOST",
    default: "127.0.0.1",
    description: "Host to listen on for TCP",
  },
  port: {
    type: "string",
    value: "PORT",
    description: "TCP port; 0 picks a free one",
  },
  "admin-host": {
    type: "string",
    value: "HOST",
    default: "127.0.0.1",
    description: "Host for the HTTP admin API",
  },
  "admin-port": {
    type: "string",
    value: "PORT",
    description: "HTTP admin API port; 0 picks a free one",
  },
  seed: {
    type: "string",
    value: "N",
    default: "random, printed",
    description:
      "Run seed (0..4294967295): the same seed gives the same faults",
  },
  codec: {
    type: "string",
    value: "NAME",
    default: "line-json",
    description: `Wire codec: ${CODEC_NAMES.join(", ")}`,
  },
  "journal-file": {
    type: "string",
    value: "PATH",
    description: "Also append every journal event to this JSON-lines file",
  },
  "max-frame": {
    type: "string",
    value: "BYTES",
    default: "65536",
    description: "Largest frame (line) accepted",
  },
  "max-bad-frames": {
    type: "string",
    value: "N",
    default: "100",
    description: "Close a connection after N bad frames in a row; 0 never",
  },
  "max-bad-rate": {
    type: "string",
    value: "N",
    default: `${DEFAULT_MAX_BAD_RATE}; 0 when --max-bad-frames is 0`,
    description:
      "Close a connection sending more than N bad frames a second, good ones between or not; 0 never",
  },
  "max-backlog": {
    type: "string",
    value: "BYTES",
    default: String(DEFAULT_MAX_BACKLOG_BYTES),
    description:
      "Reset a connection whose peer leaves more than this many bytes of replies unread; 0 never",
  },
  "max-connections": {
    type: "string",
    value: "N",
    default: "0, no limit",
    description: "Reset new connections past N open ones",
  },
  "idle-timeout": {
    type: "string",
    value: "DURATION",
    default: "0, never",
    description: "Close a connection with no traffic either way for this long",
  },
  "shutdown-timeout": {
    type: "string",
    value: "DURATION",
    default: `${DEFAULT_SHUTDOWN_MS / 1000}s`,
    description:
      "On SIGINT/SIGTERM, reset what is still open after this long, and exit 0",
  },
  "max-depth": {
    type: "string",
    value: "N",
    default: "64",
    description: "Deepest nesting of arrays and objects in a JSON frame",
  },
  "admin-token": {
    type: "string",
    value: "TOKEN",
    default:
      `$${ADMIN_TOKEN_ENV}; generated and printed when --admin-host is not loopback`,
    description:
      "Require this token on every admin request (Authorization: Bearer TOKEN)",
  },
  "admin-allow-host": {
    type: "string",
    value: "NAME",
    multiple: true,
    description:
      "Also answer admin requests for this Host name (default: the bound address, localhost, IP addresses)",
  },
  "admin-allow-origin": {
    type: "string",
    value: "ORIGIN",
    multiple: true,
    description:
      "Also answer admin requests from pages of this origin, with CORS headers (default: none, same origin only)",
  },
  help: { type: "boolean", description: "Show this help and exit" },
};

function flagDef(flag: FaultFlag): FlagDef {
  return {
    type: flag.type,
    ...(flag.value ? { value: flag.value } : {}),
    description: flag.description,
  };
}

/** The fault flags every server takes: each fault's own, from the registry, then `--faults`. */
export const FAULT_FLAGS: FlagTable = {
  ...Object.fromEntries(
    FAULT_DEFINITIONS.flatMap((definition) =>
      (definition.flags ?? []).map((flag) => [flag.name, flagDef(flag)])
    ),
  ),
  faults: {
    type: "string",
    value: "JSON",
    description:
      `Faults as JSON, the body of PUT /faults (fault flags override it); kinds: ${
        FAULT_KINDS.join(", ")
      } (see docs/faults.md)`,
  },
};

/**
 * The command that runs Deno the way this process was started: `npx -y
 * deno@<version>` when it came from the npm registry through npx (the
 * documented way, which works on a machine with only Node and npm), else
 * `deno`.
 *
 * @example Usage
 * ```ts
 * import { denoCommand } from "./cli.ts";
 * console.log(`${denoCommand()} task test`); // npx -y deno@2.9.6 task test
 * ```
 */
export function denoCommand(): string {
  let viaNpx = Deno.execPath().includes("/_npx/");
  try {
    viaNpx ||= Deno.env.get("npm_command") === "exec";
  } catch {
    // No permission to read the environment: the path decides.
  }
  return viaNpx ? `npx -y deno@${Deno.version.deno}` : "deno";
}

/**
 * A script's command line as it works here, for usage lines:
 * `npx -y deno@2.9.6 run -A servers/primary.ts`.
 */
export function runCommand(script: string): string {
  return `${denoCommand()} run -A ${script}`;
}

/** A value that starts with a dash but is no flag: `-1`, `-0.1`, `-5ms`, `-.5`. */
const DASHED_VALUE = /^-(\d|\.\d)/;

/**
 * Parses arguments against a flag table. Throws {@linkcode CliError} naming
 * the flag on anything unknown or missing its value. A value that starts with
 * a dash (`--port -1`) is taken as the flag's value, so that the flag's own
 * parser says what is wrong with it.
 */
export function parseFlags(args: string[], flags: FlagTable): FlagValues {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([^=]+)$/.exec(args[i])?.[1];
    const next = args[i + 1];
    if (
      name !== undefined && flags[name]?.type === "string" &&
      next !== undefined && DASHED_VALUE.test(next)
    ) {
      joined.push(`--${name}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  try {
    const { values, positionals } = parseArgs({
      args: joined,
      options: Object.fromEntries(
        Object.entries(flags).map((
          [name, flag],
        ) => [name, { type: flag.type, multiple: flag.multiple ?? false }]),
      ),
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new CliError(
        `Unexpected argument "${positionals[0]}": every option is a --flag`,
      );
    }
    return values as FlagValues;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = (error as Error).message.split("\n")[0];
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (unknown) {
      throw new CliError(
        `Unknown flag ${unknown[1]}: this command has no such flag`,
      );
    }
    const missing =
      /^Option '(--[^' ]+)[^']*' argument (?:missing|is ambiguous)/
        .exec(message);
    if (missing) {
      throw new CliError(
        `Missing value for ${missing[1]}: it takes a value (${
          flags[missing[1].slice(2)]?.value ?? "VALUE"
        })`,
      );
    }
    const boolean = /^Option '(--[^' ]+)[^']*' does not take an argument/
      .exec(message);
    if (boolean) {
      throw new CliError(
        `Invalid ${boolean[1]}: it is a switch and takes no value`,
      );
    }
    throw new CliError(message);
  }
}

/** Reads a string flag through a parser, naming the flag on error. */
export function flag<T>(
  values: FlagValues,
  name: string,
  parse: (text: string) => T,
): T | undefined {
  const value = values[name];
  if (value === undefined || typeof value === "boolean") return undefined;
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  try {
    return parse(text);
  } catch (error) {
    throw new CliError(
      `Invalid --${name} "${text}": ${(error as Error).message}`,
    );
  }
}

/**
 * Reads a flag whose value is JSON, checked by a schema; throws a
 * {@linkcode CliError} naming the flag and, for a value the schema refuses,
 * the path inside it (`Invalid --faults: dropAck.probability: ...`).
 */
export function jsonFlag<T>(
  name: string,
  text: string,
  schema: z.ZodType<T>,
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `Invalid --${name}: cannot parse JSON: ${(error as Error).message}`,
    );
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CliError(
      `Invalid --${name}: ${
        issue.path.join(".") || "(value)"
      }: ${issue.message}`,
    );
  }
  return result.data;
}

/** Parses a TCP port (0 picks a free one). */
export const parsePort: (text: string) => number = parseInteger(0, 65535);

/** Parses a duration a timer can wait: at most 2^31-1 ms (about 24.8 days). */
function parseTimerDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms > MAX_TIMER_MS) {
    throw new RangeError(
      `expected at most ${MAX_TIMER_MS} ms (about 24.8 days): the runtime's timers go no further`,
    );
  }
  return ms;
}

/** The options that the common flags give. */
export interface CommonOptions {
  /** TCP host. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Admin host. */
  adminHostname: string;
  /** Admin port. */
  adminPort: number;
  /** Run seed, if given. */
  seed?: number;
  /** Codec name. */
  codec: string;
  /** Journal file, if given. */
  journalFile?: string;
  /** Largest frame. */
  maxFrameBytes: number;
  /** Bad frames in a row before closing. */
  maxBadFrames: number;
  /** Deepest nesting of a JSON frame. */
  maxDepth: number;
  /** Bad frames a second before closing (unset: the server's default). */
  maxBadRate?: number;
  /** Unread reply bytes before resetting (unset: the server's default). */
  maxBacklogBytes?: number;
  /** Open connections before refusing (0: no limit). */
  maxConnections?: number;
  /** Silence before closing, ms (0: never). */
  idleTimeoutMs?: number;
  /** Longest wait for connections on close, ms (unset: the default). */
  shutdownMs?: number;
  /** The admin token (flag, else environment), if any. */
  adminToken?: string;
  /** More names the admin API answers to. */
  adminAllowHosts: string[];
  /** Origins allowed to call the admin API, with CORS headers. */
  adminAllowOrigins: string[];
}

/** A repeatable flag's values, each also split at commas. */
function list(values: FlagValues, name: string): string[] {
  const value = values[name];
  const items = Array.isArray(value)
    ? value
    : typeof value === "string"
    ? [value]
    : [];
  return items.flatMap((item) => item.split(",")).map((item) => item.trim())
    .filter((item) => item !== "");
}

/** The admin token from the environment, when it may be read. */
function tokenFromEnv(): string | undefined {
  try {
    return Deno.env.get(ADMIN_TOKEN_ENV) || undefined;
  } catch {
    return undefined;
  }
}

/** A server's defaults for the common flags. */
export interface CommonDefaults {
  /** The TCP port. */
  port: number;
  /** The admin port. */
  adminPort: number;
  /** Bad frames in a row before closing (default 100). */
  maxBadFrames?: number;
}

/** Reads the common flags, with a server's defaults. */
export function commonOptions(
  values: FlagValues,
  defaults: CommonDefaults,
): CommonOptions {
  const codec = (values.codec as string | undefined) ?? "line-json";
  if (!CODEC_NAMES.includes(codec)) {
    throw new CliError(
      `Invalid --codec "${codec}": expected one of ${CODEC_NAMES.join(", ")}`,
    );
  }
  return {
    hostname: (values.host as string | undefined) ?? "127.0.0.1",
    port: flag(values, "port", parsePort) ?? defaults.port,
    adminHostname: (values["admin-host"] as string | undefined) ?? "127.0.0.1",
    adminPort: flag(values, "admin-port", parsePort) ?? defaults.adminPort,
    seed: flag(values, "seed", parseInteger(0, 0xffffffff)),
    codec,
    journalFile: values["journal-file"] as string | undefined,
    maxFrameBytes: flag(values, "max-frame", parseInteger(16, 1 << 30)) ??
      65536,
    maxBadFrames: flag(values, "max-bad-frames", parseInteger(0, 1e9)) ??
      defaults.maxBadFrames ?? 100,
    maxDepth: flag(values, "max-depth", parseInteger(1, 10_000)) ??
      DEFAULT_MAX_DEPTH,
    maxBadRate: flag(values, "max-bad-rate", parseInteger(0, 1e9)),
    maxBacklogBytes: flag(values, "max-backlog", parseInteger(0, 2 ** 40)),
    maxConnections: flag(values, "max-connections", parseInteger(0, 1e9)),
    idleTimeoutMs: flag(values, "idle-timeout", parseTimerDuration),
    shutdownMs: flag(values, "shutdown-timeout", parseTimerDuration),
    adminToken: (values["admin-token"] as string | undefined) ??
      tokenFromEnv(),
    adminAllowHosts: list(values, "admin-allow-host"),
    adminAllowOrigins: list(values, "admin-allow-origin"),
  };
}

/** Reads the fault flags into a {@linkcode Faults} object. */
export function faultsFromFlags(values: FlagValues): Faults {
  const faults: Record<string, unknown> = {};
  if (typeof values.faults === "string") {
    Object.assign(faults, jsonFlag("faults", values.faults, FaultsSchema));
  }
  const reader: FlagReader = {
    value: (name, parse) => flag(values, name, parse),
    on: (name) => values[name] === true,
    fail: (name, why) => {
      throw new CliError(`Invalid --${name}: ${why}`);
    },
  };
  for (const definition of FAULT_DEFINITIONS) {
    const rule = definition.fromFlags?.(reader);
    if (rule !== undefined) faults[definition.kind] = rule;
  }
  return faults as Faults;
}

/** Formats help text: usage, a summary, then every flag with its default. */
export function helpText(
  usage: string,
  summary: string,
  sections: [string, FlagTable][],
): string {
  const lines = [`Usage: ${usage}`, "", summary];
  for (const [title, flags] of sections) {
    lines.push("", `${title}:`);
    for (const [name, def] of Object.entries(flags)) {
      const left = `  --${name}${def.value ? ` ${def.value}` : ""}`;
      const right = def.description +
        (def.default !== undefined ? ` (default: ${def.default})` : "") +
        (def.multiple ? " (repeatable)" : "");
      lines.push(left.padEnd(30) + " " + right);
    }
  }
  return lines.join("\n");
}

/** What a server CLI's `start` gives back to {@linkcode runCli}. */
export interface RunningService {
  /** The one stable line to print once started. */
  line: string;
  /** Stops everything. */
  close(): Promise<void>;
  /** Resolves if the service ends by itself. */
  finished?: Promise<void>;
  /**
   * How long `close` may take, in ms (default 5000): past it (plus a second
   * of grace) the process says so and exits 0 anyway.
   */
  shutdownMs?: number;
}

/** What {@linkcode runCli} needs to run one command. */
export interface CliSpec {
  /** The usage line. */
  usage: string;
  /** What the command does. */
  summary: string;
  /** The flag sections, in help order. */
  sections: [string, FlagTable][];
  /** Starts the service from the parsed flags. */
  start(values: FlagValues): Promise<RunningService>;
}

/**
 * Runs a command: `--help`, parse errors (exit 2, naming the flag), start,
 * print one line, then stop cleanly on SIGINT or SIGTERM (exit 0).
 */
export async function runCli(args: string[], spec: CliSpec): Promise<void> {
  const flags = Object.assign({}, ...spec.sections.map(([, table]) => table));
  let service: RunningService;
  try {
    const values = parseFlags(args, flags);
    if (values.help) {
      console.log(helpText(spec.usage, spec.summary, spec.sections));
      return;
    }
    service = await spec.start(values);
  } catch (error) {
    if (error instanceof CliError || error instanceof RangeError) {
      console.error(`error: ${error.message}`);
      console.error("Run with --help to see every flag.");
      Deno.exit(2);
    }
    const code = (error as { code?: string }).code;
    console.error(
      `error: Cannot start: ${(error as Error).message}${
        code === "EADDRINUSE" || error instanceof Deno.errors.AddrInUse
          ? " (pick another port, or 0 for a free one)"
          : ""
      }`,
    );
    Deno.exit(1);
  }
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  // Listen for signals before announcing: whoever reads the line may stop us at once.
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  console.log(service.line);
  await Promise.race([
    stopped.promise,
    service.finished ?? new Promise(() => {}),
  ]);
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  const bound = (service.shutdownMs ?? DEFAULT_SHUTDOWN_MS) + 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), bound);
  });
  let outcome: "late" | void;
  try {
    outcome = await Promise.race([service.close(), late]);
  } catch (error) {
    console.error(`error: Cannot stop cleanly: ${(error as Error).message}`);
    Deno.exit(1);
  }
  clearTimeout(timer);
  if (outcome === "late") {
    console.error(
      `warning: Stopping took longer than ${bound} ms: exiting without waiting`,
    );
    Deno.exit(0);
  }
}
