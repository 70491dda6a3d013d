/**
 * The client-under-test contract (`docs/protocol.md`, part 2), typed once:
 * the commands a runner writes to a client, one JSON object a line
 * (`{"cmd":"send","id":"r1"}`, `{"cmd":"restart"}`, `{"cmd":"stop"}`), and
 * the events a client prints (`{"event":"deleted","id":"r1"}`). The
 * reference clients, the conformance runner and the tests' wrong clients
 * all use these types.
 *
 * @example Parse a command line
 * ```ts
 * import { parseCommand } from "./contract.ts";
 * parseCommand('{"cmd":"send","id":"r1"}'); // { command: { cmd: "send", id: "r1" } }
 * ```
 *
 * @module
 */
import { z } from "zod";
import type { JournalEvent } from "../core/journal/journal.ts";

/** `{"cmd":"send",...}`: queue a record, packet or message and deliver it. */
export interface SendCommand {
  /** `send`. */
  cmd: "send";
  /** The id the client reports it by (1 to 256 characters). */
  id: string;
  /** Telematics: `record` (default) or a packet kind. */
  kind?: string;
  /** The payload. */
  data?: unknown;
  /** Messaging: the agent a message is for. */
  to?: string;
  /** Messaging: the message body. */
  body?: unknown;
  /** Fields a client may ignore. */
  [field: string]: unknown;
}

/** `{"cmd":"restart"}`: reboot (keep what is undelivered). */
export interface RestartCommand {
  /** `restart`. */
  cmd: "restart";
  /** Fields a client may ignore. */
  [field: string]: unknown;
}

/** `{"cmd":"stop"}`: close and exit. */
export interface StopCommand {
  /** `stop`. */
  cmd: "stop";
  /** Fields a client may ignore. */
  [field: string]: unknown;
}

/** A command of the contract: `send`, `restart` or `stop`. */
export type ContractCommand = SendCommand | RestartCommand | StopCommand;

const sendObject = z.looseObject({
  cmd: z.literal("send"),
  id: z.string().min(1).max(256),
  kind: z.string().min(1).optional(),
  data: z.unknown().optional(),
  to: z.string().min(1).optional(),
  body: z.unknown().optional(),
});

/** The schema of {@linkcode SendCommand}. */
export const SendCommandSchema: z.ZodType<SendCommand> = sendObject;

/** The schema of any {@linkcode ContractCommand}. */
export const ContractCommandSchema: z.ZodType<ContractCommand> = z
  .discriminatedUnion("cmd", [
    sendObject,
    z.looseObject({ cmd: z.literal("restart") }),
    z.looseObject({ cmd: z.literal("stop") }),
  ]);

/** An event a client prints: `{"event":"deleted","id":"r1"}`. */
export interface ContractEvent {
  /** `deleted`, `connected`, `active`, `received`, `push`, `error`, ... */
  event: string;
  /** The event's fields. */
  [field: string]: unknown;
}

/**
 * A client's mapping of its journal events to the contract events it prints:
 * the event a journal event becomes, or `undefined` if it prints none.
 */
export type ContractEventMapper = (
  event: JournalEvent,
) => ContractEvent | undefined;

/**
 * How a client's journal events become the contract events its command line
 * prints: for each journal event type it prints, the event printed. A type
 * the table does not name prints nothing.
 */
export type ContractEventTable = Readonly<
  Record<string, (event: JournalEvent) => ContractEvent>
>;

/**
 * A client's contract event mapper, made from its table: the contract event a
 * journal event becomes, or `undefined` for a type the table does not name.
 *
 * @example Usage
 * ```ts ignore
 * import { contractEvents } from "./contract.ts";
 * const printed = contractEvents({
 *   stored: (e) => ({ event: "deleted", id: e.id }),
 * });
 * printed(event);
 * ```
 */
export function contractEvents(
  table: ContractEventTable,
): ContractEventMapper {
  return (event) =>
    Object.hasOwn(table, event.type) ? table[event.type](event) : undefined;
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
