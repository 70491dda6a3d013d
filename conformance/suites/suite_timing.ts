/**
 * Which of the client's timing settings each suite's checks assume, so a
 * report lists only those: a dual-channel run has no ACK timeout, an agent
 * run no watchdog period.
 *
 * @module
 */
import type { SuiteName } from "../catalogue.ts";
import type { Timing } from "../scenario.ts";

/** The timing settings each suite's checks (and their waits) read. */
export const SUITE_TIMING: Readonly<
  Record<SuiteName, readonly (keyof Timing)[]>
> = {
  "two-servers": [
    "ackTimeoutMs",
    "resends",
    "reconnectDelayMs",
    "connectTimeoutMs",
  ],
  failover: ["ackTimeoutMs", "resends", "reconnectDelayMs", "connectTimeoutMs"],
  "dual-channel": [
    "watchdogPeriodMs",
    "watchdogTimeoutMs",
    "retryMs",
    "connectTimeoutMs",
  ],
  agent: [
    "failoverRetries",
    "failoverDelayMs",
    "connectTimeoutMs",
    "ackTimeoutMs",
  ],
};

/**
 * The settings of `timing` that apply to `suite` (every setting for `all`),
 * in the order of {@linkcode Timing}.
 *
 * @example Usage
 * ```ts ignore
 * import { suiteTiming } from "./suite_timing.ts";
 * suiteTiming("agent", result.timing); // { failoverRetries: 0, ... }
 * ```
 */
export function suiteTiming(
  suite: SuiteName | "all",
  timing: Timing,
): Partial<Timing> {
  if (suite === "all") return { ...timing };
  const keys = new Set<string>(SUITE_TIMING[suite]);
  return Object.fromEntries(
    Object.entries(timing).filter(([key]) => keys.has(key)),
  ) as Partial<Timing>;
}
