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

/** One record frame a server received, with the server's label. */
export interface TrailEntry {
  /** `ip1` or `ip2`. */
  label: string;
  /** Its `frame_in` journal event. */
  event: JournalEvent;
}

/**
 * Every record frame (of `id`, or all) that IP1 or IP2 received, oldest
 * first: the path records took between the two servers.
 */
export function recordTrail(ctx: ScenarioContext, id?: string): TrailEntry[] {
  return ["ip1", "ip2"]
    .flatMap((label) =>
      received(ctx, label, "record", id).map((event) => ({ label, event }))
    )
    .sort((a, b) => a.event.time - b.event.time);
}

/** A run of consecutive frames at the same server. */
export interface TrailRun {
  /** `ip1` or `ip2`. */
  label: string;
  /** How many frames in a row. */
  count: number;
}

/** Collapses a trail into runs: ip1, ip1, ip2, ip1 -> ip1 x2, ip2 x1, ip1 x1. */
export function runsOf(trail: TrailEntry[]): TrailRun[] {
  const runs: TrailRun[] = [];
  for (const { label } of trail) {
    const last = runs.at(-1);
    if (last?.label === label) last.count++;
    else runs.push({ label, count: 1 });
  }
  return runs;
}

/** Runs as text: `ip1 x2 -> ip2 x1`. */
export function runsText(runs: TrailRun[]): string {
  return runs.map((r) => `${r.label} x${r.count}`).join(" -> ") || "nowhere";
}

/** The first ACK of `id` that IP1 or IP2 sent, with the server's label. */
export function firstAck(
  ctx: ScenarioContext,
  id: string,
): TrailEntry | undefined {
  return ["ip1", "ip2"]
    .flatMap((label) =>
      acked(ctx, label, id).map((event) => ({ label, event }))
    )
    .sort((a, b) => a.event.time - b.event.time)[0];
}

/** Evidence of both servers' record frames, ACKs and dropped ACKs. */
export function trafficEvidence(
  ctx: ScenarioContext,
  limit = 16,
): ReturnType<ScenarioContext["evidence"]> {
  const traffic = (e: JournalEvent) =>
    ["frame_in", "ack_sent", "ack_dropped", "ack_delayed", "connected"]
      .includes(e.type);
  return ["ip1", "ip2"]
    .flatMap((label) => ctx.evidence(label, ctx.events(label, traffic), limit))
    .sort((a, b) => a.at - b.at);
}

/**
 * Waits (bounded by `soon(ctx, 1)`) until the client is connected to each of
 * these servers, as their journals show. A mirror-mode client connects IP2
 * only once IP1 is connected; a record sent before IP2 is up may be ACKed by
 * IP1 first and rightly never copied (TS-7), so checks about copies wait for
 * both. Returns whether they all connected.
 */
export async function untilConnected(
  ctx: ScenarioContext,
  labels: string[] = ["ip1", "ip2"],
): Promise<boolean> {
  const connected = () =>
    labels.every((label) =>
      ctx.events(label, (e) => e.type === "connected").length > 0
    );
  const ok = await ctx.until(connected, soon(ctx, 1));
  ctx.note(
    "runner",
    ok
      ? `the client is connected to ${labels.join(" and ")}`
      : `the client did not connect to ${
        labels.join(" and ")
      } in time; going on`,
  );
  return ok;
}
