/**
 * What the two-servers and failover scenarios share: IP1 (a primary) and IP2
 * (a secondary) on port 0, the placeholders for the client, and journal
 * queries over what each server received.
 *
 * @module
 */
import type { JournalEvent } from "../../core/journal.ts";
import type { Faults } from "../../core/faults.ts";
import { startPrimaryServer } from "../../servers/primary.ts";
import { startSecondaryServer } from "../../servers/secondary.ts";
import type { ScenarioContext } from "../scenario.ts";

/** Options for {@linkcode startTelematics}. */
export interface TelematicsSetup {
  /** Faults of IP1 from the start. */
  ip1Faults?: Faults;
  /** Faults of IP2 from the start. */
  ip2Faults?: Faults;
  /** Whether IP2 ACKs (a failover target) or only mirrors (default). */
  ip2Acks?: boolean;
}

/** Starts IP1 and IP2 for a scenario and returns them with the placeholders. */
export async function startTelematics(
  ctx: ScenarioContext,
  setup: TelematicsSetup = {},
) {
  const ip1 = ctx.use(
    "ip1",
    await startPrimaryServer({
      name: "ip1",
      port: 0,
      seed: ctx.seed,
      faults: setup.ip1Faults,
    }),
  );
  const ip2 = ctx.use(
    "ip2",
    await startSecondaryServer({
      name: "ip2",
      port: 0,
      seed: ctx.seed,
      ack: setup.ip2Acks ?? false,
      faults: setup.ip2Faults,
    }),
  );
  const endpoints = {
    ip1: ip1.addr.hostname,
    port1: String(ip1.addr.port),
    ip2: ip2.addr.hostname,
    port2: String(ip2.addr.port),
  };
  return { ip1, ip2, endpoints };
}

/** Frames of a type (and id) a server received, from its journal events. */
export function received(
  ctx: ScenarioContext,
  label: string,
  type: string | string[] = "record",
  id?: string,
): JournalEvent[] {
  const types = Array.isArray(type) ? type : [type];
  return ctx.events(label, (e) => {
    if (e.type !== "frame_in") return false;
    const frame = e.frame as { type?: string; id?: string };
    return types.includes(frame.type ?? "") &&
      (id === undefined || frame.id === id);
  });
}

/** ACKs a server sent (for an id). */
export function acked(
  ctx: ScenarioContext,
  label: string,
  id?: string,
): JournalEvent[] {
  return ctx.events(
    label,
    (e) => e.type === "ack_sent" && (id === undefined || e.id === id),
  );
}

/** Sends records `ids` to the client. */
export async function sendRecords(
  ctx: ScenarioContext,
  ids: string[],
  kind = "record",
): Promise<void> {
  for (const id of ids) {
    await ctx.send({ cmd: "send", id, kind, data: { n: id } });
  }
}

/** How long a scenario waits for something that should come soon. */
export function soon(ctx: ScenarioContext, factor = 4): number {
  const t = ctx.timing;
  return (t.ackTimeoutMs * (t.resends + 1) + t.connectTimeoutMs +
        t.reconnectDelayMs) * factor + 1000;
}
