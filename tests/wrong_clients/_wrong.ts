/**
 * What the wrong clients share: the shape of a running wrong client, the
 * check of the break asked for, and the contract loop of their command lines.
 *
 * @module
 */
import { serveContract } from "../../clients/_contract.ts";
import type { RestartCommand, SendCommand } from "../../clients/contract.ts";

/** A running wrong client, driven by the contract. */
export interface WrongClient {
  /** Handles a `send` or `restart` command. */
  command(command: SendCommand | RestartCommand): Promise<void>;
  /** Closes it. */
  close(): Promise<void>;
}

/** Throws a RangeError unless `broken` names one of `breaks`. */
export function checkBreak(
  broken: string,
  breaks: Readonly<Record<string, string>>,
): void {
  if (!(broken in breaks)) {
    throw new RangeError(
      `Cannot break "${broken}": expected one of ${
        Object.keys(breaks).join(", ")
      }`,
    );
  }
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
