/**
 * What the two-servers and failover scenarios share: IP1 (a primary) and IP2
 * (a secondary) on port 0, in the run's codec, the placeholders for the
 * client, the record data a scenario sends, and journal queries over what
 * each server received, by the scenario's record ids.
 *
 * Over a device protocol (`ruptela`, `teltonika`) the servers do not see the
 * scenario's ids: they name a record `<imei>:<first timestamp>:<count>`. So
 * every record is sent with the scenario's IMEI and a timestamp of its own,
 * and {@linkcode scenarioId} maps the servers' ids back; every comparison of
 * ids goes through it.
 *
 * @module
 */
import { createCodec } from "../../core/codecs/create_codec.ts";
import type { JournalEvent } from "../../core/journal/journal.ts";
import type { Faults } from "../../core/faults/mod.ts";
import { startPrimaryServer } from "../../servers/primary.ts";
import { startSecondaryServer } from "../../servers/secondary.ts";
import type { Evidence, ScenarioContext, Verdict } from "../scenario.ts";
import { type Check, failOf } from "./_checks.ts";

/** Options for {@linkcode startTelematics}. */
export interface TelematicsSetup {
  /** Faults of IP1 from the start. */
  ip1Faults?: Faults;
  /** Faults of IP2 from the start. */
  ip2Faults?: Faults;
  /** Whether IP2 ACKs (a failover target) or only mirrors (default). */
  ip2Acks?: boolean;
}

/** Where IP1 listens in a telematics scenario (the first network). */
const IP1_HOST = "127.0.1.1";
/** Where IP2 listens in a telematics scenario (the second network). */
const IP2_HOST = "127.0.2.1";

/** Starts IP1 and IP2 for a scenario and returns them with the placeholders. */
export async function startTelematics(
  ctx: ScenarioContext,
  setup: TelematicsSetup = {},
) {
  /**
   * What both servers share: port 0, the run's seed and codec; each on a
   * loopback address of its own (two networks), never 127.0.0.1. A port
   * that IP1 stops listening on (refuse, down) is then out of reach of
   * everything else on the machine: another program's port-0 listener on
   * 127.0.0.1 cannot take the connection, and a client retrying a closed
   * port cannot connect to itself (its source address is 127.0.0.1).
   */
  const common = (name: string, hostname: string) => ({
    name,
    hostname,
    port: 0,
    seed: ctx.seed,
    codec: ctx.codec,
  });
  const ip1 = ctx.use(
    "ip1",
    await startPrimaryServer({
      ...common("ip1", IP1_HOST),
      faults: setup.ip1Faults,
    }),
  );
  const ip2 = ctx.use(
    "ip2",
    await startSecondaryServer({
      ...common("ip2", IP2_HOST),
      ack: setup.ip2Acks ?? false,
      faults: setup.ip2Faults,
    }),
  );
  const endpoints = {
    ip1: ip1.addr.hostname,
    port1: String(ip1.addr.port),
    ip2: ip2.addr.hostname,
    port2: String(ip2.addr.port),
    imei: SCENARIO_IMEI,
  };
  return { ip1, ip2, endpoints };
}

/**
 * The device's IMEI in every telematics scenario: in each record's `data`,
 * and the `{imei}` placeholder (a Teltonika device logs in with it).
 */
export const SCENARIO_IMEI = "356307042441013";

/** The first record timestamp, in seconds since the epoch (2023-11-14). */
const FIRST_TIMESTAMP_S = 1_700_000_000;

/**
 * The device protocols whose servers name records by
 * `<imei>:<first timestamp>:<count>`, and their timestamp unit (ms per unit).
 */
const DEVICE_TIMESTAMP_UNIT_MS: Readonly<Record<string, number>> = {
  ruptela: 1000, // seconds
  teltonika: 1, // milliseconds
};

/** Per scenario: the scenario's record ids by the id the servers know them by. */
const scenarioIds = new WeakMap<ScenarioContext, Map<string, string>>();
/** Per scenario: the record data given to each scenario id. */
const recordsData = new WeakMap<ScenarioContext, Map<string, RecordData>>();

/** The `data` of a record a scenario sends. */
export interface RecordData {
  /** The scenario's id, for a reader of the servers' journals. */
  n: string;
  /** The device's IMEI ({@linkcode SCENARIO_IMEI}). */
  imei: string;
  /**
   * A timestamp of this record's own, one minute after the previous
   * record's: seconds since the epoch, milliseconds over `teltonika`.
   */
  timestamp: number;
}

/** Whether the run's codec is a device protocol, whose servers name records themselves. */
export function isDeviceCodec(ctx: ScenarioContext): boolean {
  return ctx.codec in DEVICE_TIMESTAMP_UNIT_MS;
}

/**
 * The data of record `id` in this scenario: the IMEI and a timestamp
 * distinct from every other id's (the same for the same id), registering the
 * id the servers will know it by.
 */
export function recordData(ctx: ScenarioContext, id: string): RecordData {
  let byId = recordsData.get(ctx);
  if (!byId) recordsData.set(ctx, byId = new Map());
  const known = byId.get(id);
  if (known) return known;
  const unitMs = DEVICE_TIMESTAMP_UNIT_MS[ctx.codec] ?? 1000;
  const seconds = FIRST_TIMESTAMP_S + 60 * byId.size;
  const record = {
    n: id,
    imei: SCENARIO_IMEI,
    timestamp: seconds * 1000 / unitMs,
  };
  byId.set(id, record);
  if (isDeviceCodec(ctx)) {
    let byServerId = scenarioIds.get(ctx);
    if (!byServerId) scenarioIds.set(ctx, byServerId = new Map());
    byServerId.set(`${record.imei}:${record.timestamp}:1`, id);
  }
  return record;
}

/**
 * The scenario's id of a record (or packet) id as a server journalled it:
 * over a device protocol `<imei>:<timestamp>:1` maps back to the id whose
 * data carried that timestamp; any other id is the scenario's own. Every
 * comparison of ids in the telematics scenarios goes through this.
 */
export function scenarioId(ctx: ScenarioContext, serverId: unknown): string {
  const id = String(serverId);
  return scenarioIds.get(ctx)?.get(id) ?? id;
}

/**
 * Whether the run's codec can carry a packet of this kind (`garmin`, ...)
 * from the client: device protocols have no such packets.
 */
export function codecExpressesPacket(
  ctx: ScenarioContext,
  kind: string,
): boolean {
  const frame = { type: "packet", kind, id: "probe", data: {} };
  try {
    return createCodec(ctx.codec, { role: "client" }).encode(frame) !==
      undefined;
  } catch {
    return false;
  }
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
      (id === undefined || scenarioId(ctx, frame.id) === id);
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
    (e) =>
      e.type === "ack_sent" &&
      (id === undefined || scenarioId(ctx, e.id) === id),
  );
}

/** The ids of `ids` that the server `label` has not ACKed (yet). */
function notAcked(
  ctx: ScenarioContext,
  label: string,
  ids: readonly string[],
): string[] {
  return ids.filter((id) => acked(ctx, label, id).length === 0);
}

/** What {@linkcode failUnlessAcked} says when some ids were not ACKed. */
export interface AckCheck {
  /** The verdict's expected text. */
  expected: string;
  /** The observed text, given the ids not ACKed (`r1, r2`). */
  observed(missing: string): string;
  /** The verdict's evidence. */
  evidence: Evidence[];
}

/**
 * A fail verdict unless the server `label` has ACKed every id of `ids`, or
 * undefined when it has: the fail of {@linkcode everyAcked}.
 */
export function failUnlessAcked(
  ctx: ScenarioContext,
  label: string,
  ids: readonly string[],
  check: AckCheck,
): Verdict | undefined {
  const acks = everyAcked(ctx, label, ids, check);
  return acks.failed ? failOf(ctx, acks, check.evidence) : undefined;
}

/**
 * The check, for `verdictOf`, that the server `label` has ACKed
 * every id of `ids`.
 */
export function everyAcked(
  ctx: ScenarioContext,
  label: string,
  ids: readonly string[],
  check: Omit<AckCheck, "evidence">,
): Check {
  const missing = notAcked(ctx, label, ids);
  return {
    failed: missing.length > 0,
    expected: check.expected,
    observed: () => check.observed(missing.join(", ")),
  };
}

/**
 * The check, for `verdictOf`, that none of `frames` (`frame_in` events a
 * server should not have had) exists; `observed` gets their ids as text
 * ({@linkcode idsText}).
 */
export function noneOf(
  ctx: ScenarioContext,
  frames: JournalEvent[],
  check: { expected: string; observed(ids: string): string },
): Check {
  return {
    failed: frames.length > 0,
    expected: check.expected,
    observed: () => check.observed(idsText(ctx, frames)),
  };
}

/**
 * Waits (bounded by `ms`, by default {@linkcode soon}) until the server
 * `label` has ACKed every id of `ids`; whether it has.
 */
export async function untilAcked(
  ctx: ScenarioContext,
  label: string,
  ids: readonly string[],
  ms: number = soon(ctx),
): Promise<boolean> {
  return await ctx.until(() => notAcked(ctx, label, ids).length === 0, ms);
}

/**
 * Sends records (or packets of `kind`) `ids` to the client, each with its
 * {@linkcode recordData}.
 */
export async function sendRecords(
  ctx: ScenarioContext,
  ids: string[],
  kind = "record",
): Promise<void> {
  for (const id of ids) {
    await ctx.send({ cmd: "send", id, kind, data: recordData(ctx, id) });
  }
}

/** The scenario's ids of the frames in these `frame_in` events, as text: `r1, r2`. */
export function idsText(ctx: ScenarioContext, events: JournalEvent[]): string {
  return events.map((e) => scenarioId(ctx, (e.frame as { id?: string }).id))
    .join(", ");
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

/** How {@linkcode failUnlessDeletedAfterAck} names the ACK a deletion must follow. */
export interface DeletionWords {
  /** What the deletion must come after: `IP1's ACK`, `an ACK`. */
  after: string;
  /** What an early deletion came before: `IP1 sent the ACK`, `the first ACK`. */
  before: string;
}

/**
 * The fail of the first of `ids` that the client did not print as deleted
 * once `ackOf(id)` ACKed it, or printed as deleted before that ACK;
 * `undefined` when each was deleted after its ACK.
 */
export function failUnlessDeletedAfterAck(
  ctx: ScenarioContext,
  ids: readonly string[],
  ackOf: (id: string) => TrailEntry,
  words: DeletionWords,
  evidence: Evidence[],
): Verdict | undefined {
  const deleted = ctx.clientEvents((e) => e.event === "deleted");
  for (const id of ids) {
    const del = deleted.find((e) => e.id === id);
    const ack = ackOf(id);
    if (!del) {
      return ctx.fail(
        `${id} deleted once ${ack.label.toUpperCase()} ACKed it`,
        `no deleted event for ${id}`,
        evidence,
      );
    }
    if (del.time < ack.event.time) {
      return ctx.fail(
        `${id} deleted only after ${words.after}`,
        `it was deleted ${
          (ack.event.time - del.time).toFixed(0)
        } ms before ${words.before}`,
        evidence,
      );
    }
  }
  return undefined;
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
 * How long to wait for a client's own `connected` events once the servers
 * saw its connections, when it has printed none yet (a client need not print
 * them).
 */
const SAYS_CONNECTED_MS = 250;

/**
 * Waits (bounded by `soon(ctx, 1)`) until the client is connected to each of
 * these servers, as their journals show and, for a client that prints
 * `connected` events, as it says itself: a server accepts a connection
 * before the client learns of it, and on a loaded machine a record sent in
 * between would find IP2 not yet connected on the client's side. A
 * mirror-mode client connects IP2 only once IP1 is connected; a record sent
 * before IP2 is up may be ACKed by IP1 first and rightly never copied
 * (TS-7), so checks about copies wait for both. Returns whether they all
 * connected.
 */
export async function untilConnected(
  ctx: ScenarioContext,
  labels: string[] = ["ip1", "ip2"],
): Promise<boolean> {
  const said = () => ctx.clientEvents((e) => e.event === "connected");
  const saysConnected = () => {
    const events = said();
    return labels.every((label) => events.some((e) => e.server === label));
  };
  // Teltonika: a device logs in (its IMEI) before it may send records, so
  // it is connected once the server has its login.
  const login = ctx.codec === "teltonika";
  const connected = () =>
    labels.every((label) =>
      ctx.events(label, (e) => e.type === "connected").length > 0 &&
      (!login || ctx.events(label, (e) =>
            e.type === "frame_in" &&
            (e.frame as { type?: string }).type === "hello").length > 0)
    );
  const ok = await ctx.until(connected, soon(ctx, 1));
  if (ok && !saysConnected()) {
    await ctx.until(
      saysConnected,
      said().length > 0 ? soon(ctx, 1) : SAYS_CONNECTED_MS,
    );
  }
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
