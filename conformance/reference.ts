/**
 * The reference clients as in-process clients under test, one per suite.
 *
 * @module
 */
import type { SuiteName } from "./catalogue.ts";
import type { ClientUnderTest } from "./client.ts";

/** The reference client of each suite, run in this process. */
export function referenceClients(): Partial<
  Record<SuiteName, ClientUnderTest>
> {
  return {};
}
