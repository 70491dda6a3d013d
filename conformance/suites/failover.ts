/**
 * Scenarios of the failover suite (FO-1..FO-6): a tracker in failover mode
 * ("Two servers" not ticked), IP1 a primary and IP2 a secondary that ACKs,
 * so either can be the server in use. Start the client without mirroring,
 * with the resends it is configured with (`--resends`, default 0).
 *
 * @module
 */
import type { JournalEvent } from "../../core/journal/journal.ts";
import type { Scenario, ScenarioContext, Verdict } from "../scenario.ts";
import { numberedScenarios } from "../scenario.ts";
import { verdictOf } from "./_checks.ts";
import {
  acked,
  everyAcked,
  failUnlessDeletedAfterAck,
  firstAck,
  noneOf,
  received,
  recordTrail,
  runsOf,
  runsText,
  sendRecords,
  soon,
  startTelematics,
  trafficEvidence,
  untilAcked,
  untilConnected,
} from "./_telematics.ts";

/** IP1 (or IP2) never ACKs. */
const NO_ACKS = { dropAck: {} };

/**
 * Waits until IP2 has ACKed `id` (the client switched to IP2 and is using
 * it); a fail verdict if it never did.
 */
async function failUnlessOnIp2(
  ctx: ScenarioContext,
  id: string,
): Promise<Verdict | undefined> {
  const on = await ctx.until(
    () => acked(ctx, "ip2", id).length > 0,
    soon(ctx, 6),
  );
  if (on) return undefined;
  return ctx.fail(
    `the client on IP2 after IP1 left ${id} without ACK`,
    `IP2 never ACKed ${id} (${id} went ${runsText(runsOf(recordTrail(ctx)))})`,
    trafficEvidence(ctx),
  );
}

/** The records the server `label` received after `time`. */
function recordsAfter(
  ctx: ScenarioContext,
  label: string,
  time: number,
): JournalEvent[] {
  return received(ctx, label, "record").filter((e) => e.time > time);
}

/**
 * Starts IP1, which never ACKs, and IP2, which ACKs, and the client, and
 * sends r1.
 */
async function startIp1Silent(
  ctx: ScenarioContext,
): Promise<Awaited<ReturnType<typeof startTelematics>>> {
  const started = await startTelematics(ctx, {
    ip2Acks: true,
    ip1Faults: NO_ACKS,
  });
  await ctx.startClient(started.endpoints);
  await sendRecords(ctx, ["r1"]);
  return started;
}

async function fo1(ctx: ScenarioContext): Promise<Verdict> {
  // IP1 ACKs every record, a little late: long enough for a client that
  // copies records to IP2 to show it.
  const { endpoints } = await startTelematics(ctx, {
    ip2Acks: true,
    ip1Faults: {
      delayAck: { ms: Math.round(ctx.timing.ackTimeoutMs / 3) },
    },
  });
  await ctx.startClient(endpoints);
  await untilConnected(ctx, ["ip1"]);
  const ids = ["r1", "r2", "r3", "r4"];
  await sendRecords(ctx, ids);
  await untilAcked(ctx, "ip1", ids);
  await ctx.observe(ctx.timing.ackTimeoutMs * 2);
  const evidence = trafficEvidence(ctx);
  const atIp2 = received(ctx, "ip2", ["record", "packet"]);
  const ip2Connections = ctx.events("ip2", (e) => e.type === "connected");
  const passed = `IP1 ACKed every record and IP2 received none${
    ip2Connections.length
      ? ` (the client did open ${ip2Connections.length} connection(s) to IP2)`
      : ""
  }`;
  return verdictOf(ctx, evidence, [
    noneOf(ctx, atIp2, {
      expected: "no record at IP2 while IP1 ACKs every one",
      observed: (ids) => `IP2 received ${atIp2.length} frame(s) (${ids})`,
    }),
    everyAcked(ctx, "ip1", ids, {
      expected: "every record delivered to IP1, which ACKs",
      observed: (missing) => `IP1 never received ${missing}`,
    }),
  ], passed);
}

async function fo2(ctx: ScenarioContext): Promise<Verdict> {
  const { resends, ackTimeoutMs } = ctx.timing;
  await startIp1Silent(ctx);
  await ctx.until(
    () => received(ctx, "ip2", "record", "r1").length > 0,
    soon(ctx, 6),
  );
  const atIp2 = received(ctx, "ip2", "record", "r1")[0];
  if (!atIp2) {
    return ctx.fail(
      `r1 sent to IP2 once IP1 left it without ACK ${resends + 1} time(s)`,
      `IP2 never received it (r1 went ${runsText(runsOf(recordTrail(ctx)))})`,
      trafficEvidence(ctx),
    );
  }
  const before = received(ctx, "ip1", "record", "r1").filter((e) =>
    e.time < atIp2.time
  );
  if (before.length !== resends + 1) {
    return ctx.fail(
      `r1 sent to IP1 ${
        resends + 1
      } time(s) (once and ${resends} resend(s)) before switching to IP2`,
      `IP1 received it ${before.length} time(s) first`,
      trafficEvidence(ctx),
    );
  }
  const waited = atIp2.time - before.at(-1)!.time;
  if (waited < ackTimeoutMs * 0.8) {
    return ctx.fail(
      `the switch to IP2 no sooner than the ACK timeout (${ackTimeoutMs} ms) after the last send to IP1`,
      `r1 reached IP2 ${waited.toFixed(0)} ms after it`,
      trafficEvidence(ctx),
    );
  }
  ctx.note("runner", "r1 reached IP2: the client switched; sending r2, r3");
  const further = ["r2", "r3"];
  await sendRecords(ctx, further);
  await untilAcked(ctx, "ip2", further);
  await ctx.observe(ackTimeoutMs * 2);
  const evidence = trafficEvidence(ctx);
  const backAtIp1 = recordsAfter(ctx, "ip1", atIp2.time);
  const passed = `r1 went to IP1 ${resends + 1} time(s) without ACK, then, ${
    waited.toFixed(0)
  } ms after the last, to IP2; r2 and r3 went to IP2 only`;
  return verdictOf(ctx, evidence, [
    noneOf(ctx, backAtIp1, {
      expected: "every record after the switch at IP2 only",
      observed: (ids) => `IP1 still received ${ids}`,
    }),
    everyAcked(ctx, "ip2", further, {
      expected: "every record after the switch delivered to IP2",
      observed: (missing) => `IP2 never received ${missing}`,
    }),
  ], passed);
}

async function fo3(ctx: ScenarioContext): Promise<Verdict> {
  const { ip1 } = await startIp1Silent(ctx);
  const notOnIp2 = await failUnlessOnIp2(ctx, "r1");
  if (notOnIp2) return notOnIp2;
  const switched = received(ctx, "ip2", "record", "r1")[0];
  ctx.note("runner", "IP2 ACKed r1; IP1 recovers (its faults are cleared)");
  ip1.faults.clear();
  await ctx.observe(ctx.timing.reconnectDelayMs * 2);
  const further = ["r2", "r3", "r4"];
  for (const id of further) {
    await sendRecords(ctx, [id]);
    await ctx.until(
      () => acked(ctx, "ip1", id).length + acked(ctx, "ip2", id).length > 0,
      soon(ctx),
    );
  }
  await ctx.observe(ctx.timing.ackTimeoutMs * 2);
  const evidence = trafficEvidence(ctx);
  const backAtIp1 = recordsAfter(ctx, "ip1", switched.time);
  const reconnects = ctx.events(
    "ip1",
    (e) => e.type === "connected" && e.time > switched.time,
  );
  const passed = `after IP1 recovered, r2, r3 and r4 still went to IP2 only${
    reconnects.length
      ? ` (the client connected to IP1 ${reconnects.length} time(s) without sending records)`
      : ""
  }`;
  return verdictOf(ctx, evidence, [
    noneOf(ctx, backAtIp1, {
      expected: "the client to stay on IP2, which ACKs, after IP1 recovered",
      observed: (ids) =>
        `IP1 received ${ids} after the client had switched to IP2`,
    }),
    everyAcked(ctx, "ip2", further, {
      expected: "r2, r3 and r4 delivered to IP2 after IP1 recovered",
      observed: (missing) => `IP2 never ACKed ${missing}`,
    }),
  ], passed);
}

async function fo4(ctx: ScenarioContext): Promise<Verdict> {
  const { endpoints } = await startTelematics(ctx, {
    ip2Acks: true,
    ip1Faults: NO_ACKS,
    ip2Faults: NO_ACKS,
  });
  await ctx.startClient(endpoints);
  await sendRecords(ctx, ["r1"]);
  // ip1, ip2, ip1, ip2: back to IP1, and on again to IP2.
  await ctx.until(
    () => runsOf(recordTrail(ctx, "r1")).length >= 4,
    soon(ctx, 10),
  );
  const runs = runsOf(recordTrail(ctx, "r1"));
  const evidence = trafficEvidence(ctx, 24);
  if (runs[0]?.label !== "ip1") {
    return ctx.fail(
      "r1 sent to IP1 first",
      `it went ${runsText(runs)}`,
      evidence,
    );
  }
  if (runs.length < 2) {
    return ctx.fail(
      "r1 sent to IP2 once IP1 did not ACK it",
      `it went ${runsText(runs)}`,
      evidence,
    );
  }
  if (runs.length < 4) {
    return ctx.fail(
      "the client to try IP1 again when IP2 did not ACK either, and so on, alternating",
      `r1 went ${runsText(runs)}`,
      evidence,
    );
  }
  return ctx.pass(
    `with neither server ACKing, r1 went ${runsText(runs)}`,
    evidence,
  );
}

async function fo5(ctx: ScenarioContext): Promise<Verdict> {
  const { ackTimeoutMs } = ctx.timing;
  const { ip1, ip2 } = await startIp1Silent(ctx);
  const notOnIp2 = await failUnlessOnIp2(ctx, "r1");
  if (notOnIp2) return notOnIp2;
  // IP2 still ACKs, but late (within the ACK timeout): a client that stays
  // on IP2 has every reason to; only the restart sends it back to IP1. Half
  // the timeout leaves the same slack both ways: for a right client to act on
  // the restart before IP2's ACK of r2 arrives, and for IP2's ACK to reach a
  // client that ignores the restart before its own ACK timeout would move it.
  ctx.note(
    "runner",
    "the client is on IP2; IP1 recovers, IP2 delays its ACKs, r2 is sent",
  );
  ip1.faults.clear();
  ip2.faults.set({ delayAck: { ms: Math.round(ackTimeoutMs * 0.5) } });
  await sendRecords(ctx, ["r2"]);
  if (
    !await ctx.until(
      () => received(ctx, "ip2", "record", "r2").length > 0,
      soon(ctx),
    )
  ) {
    return ctx.fail(
      "r2 sent to IP2, the server in use",
      `IP2 never received it (records went ${
        runsText(runsOf(recordTrail(ctx)))
      })`,
      trafficEvidence(ctx),
    );
  }
  const restartedAt = performance.now();
  await ctx.send({ cmd: "restart" });
  await sendRecords(ctx, ["r3"]);
  await untilAcked(ctx, "ip1", ["r2", "r3"]);
  await ctx.observe(ackTimeoutMs * 2);
  const evidence = trafficEvidence(ctx, 24);
  const earlyAck = acked(ctx, "ip2", "r2").find((e) => e.time < restartedAt);
  const after = (label: string, type: string) =>
    ctx.events(label, (e) => e.type === type && e.time > restartedAt);
  const firstIp1 = after("ip1", "connected")[0];
  const ip2First = after("ip2", "connected").find((e) =>
    !firstIp1 || e.time < firstIp1.time
  );
  const toIp2 = recordsAfter(ctx, "ip2", restartedAt);
  const lateAck = acked(ctx, "ip2", "r2")[0];
  return verdictOf(
    ctx,
    evidence,
    [
      {
        failed: earlyAck !== undefined,
        expected: "r2 still unacknowledged when the restart was sent",
        observed:
          "IP2's delayed ACK of r2 came first, so the scenario could not check that it survives",
      },
      {
        failed: ip2First !== undefined,
        expected: "the first connection after the restart to IP1",
        observed: "the client connected to IP2 first",
      },
      noneOf(ctx, toIp2, {
        expected: "records after the restart to go to IP1, which ACKs",
        observed: (ids) => `IP2 received ${ids} after the restart`,
      }),
      {
        failed: acked(ctx, "ip1", "r2").length === 0,
        expected:
          "r2, unacknowledged at the restart, delivered to IP1 after it",
        observed: () =>
          `IP1 never received r2: it did not survive the restart${
            lateAck
              ? ` (IP2's delayed ACK of r2 went out ${
                (lateAck.time - restartedAt).toFixed(0)
              } ms after the restart command)`
              : ""
          }`,
      },
      {
        failed: acked(ctx, "ip1", "r3").length === 0,
        expected: "r3, sent after the restart, delivered to IP1",
        observed: "IP1 never received it",
      },
    ],
    "after the restart the client went back to IP1, which got r2 (unacknowledged at the restart) and r3",
  );
}

async function fo6(ctx: ScenarioContext): Promise<Verdict> {
  // Records go both ways: IP1 leaves the first record without ACK (the
  // client moves to IP2), IP2 ACKs three and leaves the fourth without ACK
  // (back to IP1), so both servers' ACKs delete records.
  const tries = ctx.timing.resends + 1;
  const { endpoints } = await startTelematics(ctx, {
    ip2Acks: true,
    ip1Faults: { dropAck: { window: { first: tries } } },
    ip2Faults: { dropAck: { window: { after: 3, first: tries } } },
  });
  await ctx.startClient(endpoints);
  const ids = Array.from({ length: 8 }, (_, i) => `r${i + 1}`);
  await sendRecords(ctx, ids);
  await ctx.until(
    () => ids.every((id) => firstAck(ctx, id) !== undefined),
    soon(ctx, 12),
  );
  await ctx.until(
    () => ctx.clientEvents((e) => e.event === "deleted").length >= ids.length,
    soon(ctx, 1),
  );
  await ctx.observe(ctx.timing.ackTimeoutMs * 3);
  const evidence = [
    ...trafficEvidence(ctx, 24),
    ...ctx.clientEvidence(ctx.clientEvents((e) => e.event === "deleted")),
  ];
  const lost = ids.filter((id) => !firstAck(ctx, id));
  if (lost.length > 0) {
    return ctx.fail(
      "every record ACKed at least once, by IP1 or IP2",
      `${lost.join(", ")} never was`,
      evidence,
    );
  }
  for (const id of ids) {
    const ack = firstAck(ctx, id)!;
    const again = recordTrail(ctx, id).filter((e) =>
      e.event.time > ack.event.time
    );
    if (again.length > 0) {
      return ctx.fail(
        `${id} never sent again after ${ack.label.toUpperCase()} ACKed it`,
        `it was sent ${again.length} more time(s) (to ${
          again.map((e) => e.label.toUpperCase()).join(", ")
        })`,
        evidence,
      );
    }
  }
  const byIp2 = ids.filter((id) => firstAck(ctx, id)!.label === "ip2");
  const summary =
    `every record was ACKed and none was sent again after its ACK (${byIp2.length} of ${ids.length} by IP2)`;
  const deleted = ctx.clientEvents((e) => e.event === "deleted");
  if (deleted.length === 0) {
    return ctx.notObservable(
      `the client printed no {"event":"deleted"}, so whether an ACK deleted the record is unknown (on the wire, ${summary})`,
      evidence,
    );
  }
  const early = failUnlessDeletedAfterAck(
    ctx,
    ids,
    (id) => firstAck(ctx, id)!,
    { after: "an ACK", before: "the first ACK" },
    evidence,
  );
  return early ?? ctx.pass(summary, evidence);
}

/** The scenarios of the failover suite. */
export const FAILOVER_SCENARIOS: readonly Scenario[] = numberedScenarios(
  "FO",
  [fo1, fo2, fo3, fo4, fo5, fo6],
);
