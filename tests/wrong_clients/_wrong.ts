/**
 * What the wrong clients share: the shape of a running wrong client and of
 * its options, the check of the break asked for, and their command lines' end.
 *
 * @module
 */
import { printEvent, serveContract } from "../../clients/_contract.ts";
import type {
  ContractEvent,
  RestartCommand,
  SendCommand,
} from "../../clients/contract.ts";

/** Long enough never to happen within a scenario. */
export const NEVER_MS = 3_600_000;

/** A running wrong client, driven by the contract. */
export interface WrongClient {
  /** Handles a `send` or `restart` command. */
  command(command: SendCommand | RestartCommand): Promise<void>;
  /** Closes it. */
  close(): Promise<void>;
}

/** A reference client's options, and the behaviour to break. */
export type WithBreak<Options> = Options & {
  /** One of the wrong client's `BREAKS` names. */
  break: string;
};

/** Returns `broken`; throws a RangeError unless it names one of `breaks`. */
export function checkBreak(
  broken: string,
  breaks: Readonly<Record<string, string>>,
): string {
  if (!(broken in breaks)) {
    throw new RangeError(
      `Cannot break "${broken}": expected one of ${
        Object.keys(breaks).join(", ")
      }`,
    );
  }
  return broken;
}

/**
 * Says on stderr which behaviour `client` breaks, drives it by the contract
 * until `{"cmd":"stop"}`, then closes it.
 */
export async function serveWrongClient(
  label: string,
  why: string,
  client: WrongClient,
): Promise<void> {
  console.error(`${label}: ${why}`);
  try {
    await serveContract({
      send: (command) => client.command({ ...command, cmd: "send" }),
      restart: () => client.command({ cmd: "restart" }),
    });
  } finally {
    await client.close();
  }
}

/**
 * The end of a wrong client's command line: exits 2 naming what is missing
 * unless `--break` and every `required` flag were given, throws a RangeError
 * unless the break is one of `breaks`; otherwise starts the client for it (its contract events printed), says which behaviour
 * it breaks, and drives it by the contract until `{"cmd":"stop"}`.
 */
export async function runWrongClient(
  label: string,
  breaks: Readonly<Record<string, string>>,
  values: { break?: string; [flag: string]: unknown },
  required: string[],
  start: (
    broken: string,
    emit: (event: ContractEvent) => void,
  ) => Promise<WrongClient>,
): Promise<void> {
  const broken = values.break;
  if (!broken || required.some((name) => !values[name])) {
    const flags = required.map((name) => `--${name}`);
    console.error(
      `error: expected --break ID (${Object.keys(breaks).join(", ")}), ${
        flags.slice(0, -1).join(", ")
      } and ${flags.at(-1)}`,
    );
    Deno.exit(2);
  }
  checkBreak(broken, breaks);
  const client = await start(broken, (event) => printEvent(event));
  await serveWrongClient(label, `${broken}: ${breaks[broken]}`, client);
}
