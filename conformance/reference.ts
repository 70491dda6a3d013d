/**
 * The reference clients as in-process clients under test, one per suite.
 *
 * @module
 */
import type { JournalEvent } from "../core/journal.ts";
import { type ItemKind, TwoServersClient } from "../clients/two_servers.ts";
import type { SuiteName } from "./catalogue.ts";
import { type ClientUnderTest, inProcessClient } from "./client.ts";

/** The contract events of the tracker's journal: `deleted` and `connected`. */
function trackerEvent(
  event: JournalEvent,
): { event: string; [field: string]: unknown } | undefined {
  if (event.type === "deleted") return { event: "deleted", id: event.id };
  if (event.type === "connected") {
    return { event: "connected", server: event.link };
  }
  return undefined;
}

/**
 * The reference tracker (`clients/two_servers.ts`) in this process: mirror
 * mode ("Two servers" ticked) for the two-servers suite, failover mode for
 * the failover suite. Its timing comes from the scenario's timing.
 */
export function referenceTracker(mirror: boolean): ClientUnderTest {
  return inProcessClient(
    `reference TwoServersClient (${mirror ? "mirror" : "failover"} mode)`,
    async (endpoints, emit, signal) => {
      const client = new TwoServersClient({
        ip1: endpoints.ip1,
        port1: Number(endpoints.port1),
        ip2: endpoints.ip2,
        port2: Number(endpoints.port2),
        twoServers: mirror,
        ackTimeoutMs: Number(endpoints.ackTimeoutMs),
        resends: Number(endpoints.resends),
        reconnectDelayMs: Number(endpoints.reconnectDelayMs),
        connectTimeoutMs: Number(endpoints.connectTimeoutMs),
        signal,
      });
      const unsubscribe = client.journal.subscribe((event) => {
        const printed = trackerEvent(event);
        if (printed) emit(printed);
      });
      await client.start();
      return {
        async command(command) {
          if (command.cmd === "send") {
            client.send({
              id: command.id,
              kind: (command.kind ?? "record") as ItemKind,
              data: command.data,
            });
          } else if (command.cmd === "restart") {
            await client.restart();
          }
        },
        async close() {
          await client.close();
          unsubscribe();
        },
      };
    },
  );
}

/** The reference client of each suite, run in this process. */
export function referenceClients(): Partial<
  Record<SuiteName, ClientUnderTest>
> {
  return {
    "two-servers": referenceTracker(true),
    failover: referenceTracker(false),
  };
}
