/**
 * Scenarios of the two-servers suite (TS-1..TS-8): a tracker in mirror mode,
 * IP1 a primary that ACKs, IP2 a secondary that only mirrors. Start the
 * client in mirror mode ("Two servers" ticked).
 *
 * @module
 */
import type { TcpServer } from "../../core/server/tcp_server.ts";
import type { Scenario, ScenarioContext, Verdict } from "../scenario.ts";
import { numberedScenarios } from "../scenario.ts";
import { verdictOf } from "./_checks.ts";
import {
  acked,
  codecExpressesPacket,
  everyAcked,
  failUnlessAcked,
  failUnlessDeletedAfterAck,
  isDeviceCodec,
  received,
  sendRecords,
  soon,
  startTelematics,
  untilAcked,
  untilConnected,
} from "./_telematics.ts";

const IDS = ["r1", "r2", "r3"];

function deletedIds(ctx: ScenarioContext): string[] {
  return ctx.clientEvents((e) => e.event === "deleted").map((e) =>
    String(e.id)
  );
}

async function ts1(ctx: ScenarioContext): Promise<Verdict> {
  const { endpoints } = await startTelematics(ctx);
  await ctx.startClient(endpoints);
  await untilConnected(ctx);
  await sendRecords(ctx, IDS);
  const all = (label: string) =>
    IDS.every((id) => received(ctx, label, "record", id).length > 0);
  await ctx.until(() => all("ip1") && all("ip2"), soon(ctx));
  const evidence = [
    ...ctx.evidence("ip1", received(ctx, "ip1")),
    ...ctx.evidence("ip2", received(ctx, "ip2")),
  ];
  const missing = IDS.filter((id) =>
    received(ctx, "ip1", "record", id).length === 0 ||
    received(ctx, "ip2", "record", id).length === 0
  );
  return missing.length === 0
    ? ctx.pass("IP1 and IP2 each received r1, r2 and r3", evidence)
    : ctx.fail(
      "every record at IP1 and at IP2",
      `${missing.join(", ")} did not reach both servers`,
      evidence,
    );
}

async function ts2(ctx: ScenarioContext): Promise<Verdict> {
  // IP1 holds its ACK for half the ACK timeout: a window in which a deletion
  // before the ACK would show.
  const { endpoints } = await startTelematics(ctx, {
    ip1Faults: { delayAck: { ms: Math.round(ctx.timing.ackTimeoutMs / 2) } },
  });
  await ctx.startClient(endpoints);
  await untilConnected(ctx);
  await sendRecords(ctx, IDS);
  await untilAcked(ctx, "ip1", IDS);
  await ctx.until(() => deletedIds(ctx).length >= IDS.length, soon(ctx, 1));
  await ctx.observe(ctx.timing.ackTimeoutMs * 2);
  const evidence = [
    ...ctx.evidence(
      "ip1",
      ctx.events("ip1", (e) => e.type === "frame_in" || e.type === "ack_sent"),
    ),
    ...ctx.evidence("ip2", received(ctx, "ip2")),
    ...ctx.clientEvidence(ctx.clientEvents((e) => e.event === "deleted")),
  ];
  for (const id of IDS) {
    const ack = acked(ctx, "ip1", id)[0];
    if (!ack) {
      return ctx.fail(`IP1 to ACK ${id}`, `it never received ${id}`, evidence);
    }
    const after = [
      ...received(ctx, "ip1", "record", id),
      ...received(ctx, "ip2", "record", id),
    ].filter((e) => e.time > ack.time);
    if (after.length > 0) {
      return ctx.fail(
        `${id} never sent again after IP1's ACK`,
        `it was sent ${after.length} more time(s) after the ACK`,
        evidence,
      );
    }
  }
  const deleted = ctx.clientEvents((e) => e.event === "deleted");
  if (deleted.length === 0) {
    return ctx.notObservable(
      'the client printed no {"event":"deleted"}, so when records left its memory is unknown (none was sent again after its ACK)',
      evidence,
    );
  }
  const early = failUnlessDeletedAfterAck(
    ctx,
    IDS,
    (id) => ({ label: "ip1", event: acked(ctx, "ip1", id)[0] }),
    { after: "IP1's ACK", before: "IP1 sent the ACK" },
    evidence,
  );
  return early ?? ctx.pass(
    "each record was deleted after IP1's ACK and never sent again",
    evidence,
  );
}

async function ts3(ctx: ScenarioContext): Promise<Verdict> {
  const { endpoints } = await startTelematics(ctx, {
    ip1Faults: { dropAck: { window: { first: 2 } } },
  });
  await ctx.startClient(endpoints);
  await sendRecords(ctx, ["r1"]);
  await ctx.until(() => acked(ctx, "ip1", "r1").length > 0, soon(ctx, 6));
  const sends = received(ctx, "ip1", "record", "r1");
  const evidence = ctx.evidence(
    "ip1",
    ctx.events(
      "ip1",
      (e) => ["frame_in", "ack_sent", "ack_dropped"].includes(e.type),
    ),
  );
  if (sends.length < 3) {
    return ctx.fail(
      "r1 sent to IP1 again after each missing ACK (IP1 dropped the first two)",
      `IP1 received r1 ${sends.length} time(s)${
        acked(ctx, "ip1", "r1").length ? "" : " and never got to ACK it"
      }`,
      evidence,
    );
  }
  return ctx.pass(
    `r1 was resent until IP1 ACKed it (${sends.length} sends)`,
    evidence,
  );
}

async function ts4(ctx: ScenarioContext): Promise<Verdict> {
  const { endpoints } = await startTelematics(ctx, {
    ip1Faults: { dropAck: { window: { first: 2 } } },
  });
  await ctx.startClient(endpoints);
  await untilConnected(ctx);
  await sendRecords(ctx, IDS);
  await untilAcked(ctx, "ip1", IDS, soon(ctx, 6));
  await ctx.observe(ctx.timing.ackTimeoutMs * 3);
  const evidence = [
    ...ctx.evidence(
      "ip1",
      ctx.events("ip1", (e) => ["frame_in", "ack_dropped"].includes(e.type)),
    ),
    ...ctx.evidence("ip2", received(ctx, "ip2")),
  ];
  const repeated = IDS.filter((id) =>
    received(ctx, "ip2", "record", id).length > 1
  );
  const resent = IDS.some((id) =>
    received(ctx, "ip1", "record", id).length > 1
  );
  return verdictOf(ctx, evidence, [{
    failed: repeated.length > 0,
    expected:
      "IP2 to receive each record at most once (IP2 never ACKs; IP1 dropped two ACKs)",
    observed: () =>
      `IP2 received ${
        repeated.map((id) =>
          `${id} x${received(ctx, "ip2", "record", id).length}`
        ).join(", ")
      }`,
  }, {
    failed: !resent,
    expected: "a resend to IP1 after the dropped ACKs",
    observed:
      "IP1 never received a record twice, so the check could not provoke a resend",
  }], "IP2 received each record once, though IP1 got resends");
}

async function ts5(ctx: ScenarioContext): Promise<Verdict> {
  const kinds = ["transparent", "tachograph", "sdcard", "garmin"];
  const inexpressible = kinds.filter((k) => !codecExpressesPacket(ctx, k));
  if (inexpressible.length > 0) {
    return ctx.notObservable(
      `the ${ctx.codec} codec cannot carry packets of kind ${
        inexpressible.join(", ")
      }, so whether such packets stay off IP2 cannot be seen over it (run TS-5 over line-json)`,
    );
  }
  const { endpoints } = await startTelematics(ctx);
  await ctx.startClient(endpoints);
  await sendRecords(ctx, ["r1"]);
  for (const kind of kinds) await sendRecords(ctx, [`p-${kind}`], kind);
  await sendRecords(ctx, ["r2"]);
  const wanted = ["r1", ...kinds.map((k) => `p-${k}`), "r2"];
  await untilAcked(ctx, "ip1", wanted);
  await ctx.observe(ctx.timing.ackTimeoutMs);
  const evidence = [
    ...ctx.evidence("ip1", received(ctx, "ip1", ["record", "packet"])),
    ...ctx.evidence("ip2", received(ctx, "ip2", ["record", "packet"])),
  ];
  const packetsAtIp2 = received(ctx, "ip2", "packet");
  return verdictOf(ctx, evidence, [
    {
      failed: packetsAtIp2.length > 0,
      expected: "only records at IP2",
      observed: `IP2 received ${packetsAtIp2.length} packet(s) of other kinds`,
    },
    everyAcked(ctx, "ip1", wanted, {
      expected: "every record and packet at IP1",
      observed: (missing) => `IP1 never got ${missing}`,
    }),
  ], "packets went to IP1 only; records to both");
}

async function ts6(ctx: ScenarioContext): Promise<Verdict> {
  const { ip1, endpoints } = await startTelematics(ctx, {
    ip1Faults: { refuse: {} },
  });
  await ip1.settled();
  await ctx.startClient(endpoints);
  await sendRecords(ctx, ["r1"]);
  await ctx.observe(soon(ctx, 1));
  ctx.note("runner", "IP1 comes up");
  ip1.up();
  await ip1.settled();
  await ctx.until(() => acked(ctx, "ip1", "r1").length > 0, soon(ctx));
  const firstIp1 = ctx.events("ip1", (e) => e.type === "connected")[0];
  const ip2Connections = ctx.events("ip2", (e) => e.type === "connected");
  const early = ip2Connections.filter((e) =>
    !firstIp1 || e.time < firstIp1.time
  );
  const evidence = [
    ...ctx.evidence(
      "ip1",
      ctx.events(
        "ip1",
        (e) => ["connected", "listening", "stopped_listening"].includes(e.type),
      ),
    ),
    ...ctx.evidence("ip2", ip2Connections),
  ];
  return verdictOf(ctx, evidence, [{
    failed: early.length > 0,
    expected: "no connection to IP2 while IP1 cannot be reached",
    observed:
      `the client connected to IP2 ${early.length} time(s) before its first connection to IP1`,
  }, {
    failed: !firstIp1,
    expected: "a connection to IP1 once it came up",
    observed: "none came",
  }], "no connection to IP2 before the first connection to IP1");
}

async function ts7(ctx: ScenarioContext): Promise<Verdict> {
  const { endpoints } = await startTelematics(ctx, {
    ip2Faults: { refuse: {} },
  });
  await ctx.startClient(endpoints);
  await sendRecords(ctx, IDS);
  await untilAcked(ctx, "ip1", IDS);
  await ctx.until(() => deletedIds(ctx).length >= IDS.length, soon(ctx, 1));
  const evidence = [
    ...ctx.evidence(
      "ip1",
      ctx.events("ip1", (e) => ["frame_in", "ack_sent"].includes(e.type)),
    ),
    ...ctx.clientEvidence(ctx.clientEvents((e) => e.event === "deleted")),
  ];
  const blocked = failUnlessAcked(ctx, "ip1", IDS, {
    expected: "delivery to IP1 to go on while IP2 is down",
    observed: (missing) => `IP1 never ACKed ${missing}: delivery was blocked`,
    evidence,
  });
  if (blocked) return blocked;
  const deleted = deletedIds(ctx);
  if (deleted.length === 0) {
    return ctx.notObservable(
      'the client printed no {"event":"deleted"} (IP1 did get and ACK every record with IP2 down)',
      evidence,
    );
  }
  const kept = IDS.filter((id) => !deleted.includes(id));
  return kept.length === 0
    ? ctx.pass("every record was deleted on IP1's ACK with IP2 down", evidence)
    : ctx.fail(
      "each record deleted on IP1's ACK though IP2 is down",
      `${kept.join(", ")} stayed in memory`,
      evidence,
    );
}

/**
 * The bytes a server read from the client on every connection, open or
 * closed (its connection counters: device packets, logins, anything).
 */
function bytesIn(
  ctx: ScenarioContext,
  label: string,
  server: TcpServer,
): number {
  const live = new Map(server.connectionInfos().map((c) => [c.id, c.bytesIn]));
  for (const e of ctx.events(label, (e) => e.type === "closed")) {
    live.set(e.conn as number, Number(e.bytesIn ?? 0));
  }
  return [...live.values()].reduce((sum, n) => sum + n, 0);
}

async function ts8(ctx: ScenarioContext): Promise<Verdict> {
  const { ip1: server1, ip2: server2, endpoints } = await startTelematics(ctx);
  await ctx.startClient(endpoints);
  await untilConnected(ctx);
  const ids = Array.from({ length: 20 }, (_, i) => `r${i + 1}`);
  await sendRecords(ctx, ids);
  await ctx.until(
    () =>
      ids.every((id) =>
        acked(ctx, "ip1", id).length > 0 &&
        received(ctx, "ip2", "record", id).length > 0
      ),
    soon(ctx),
  );
  // Over a device protocol, the JSON of a decoded frame says nothing about
  // its size on the wire: count the bytes the servers read instead.
  const device = isDeviceCodec(ctx);
  const measured = device
    ? `bytes read from the client (${ctx.codec} packets and logins)`
    : "record bytes";
  const bytes = (label: string, server: TcpServer) =>
    device ? bytesIn(ctx, label, server) : received(ctx, label).reduce(
      (sum, e) => sum + JSON.stringify(e.frame).length + 1,
      0,
    );
  const ip1 = bytes("ip1", server1);
  const ip2 = bytes("ip2", server2);
  const ratio = ip1 > 0 ? (ip1 + ip2) / ip1 : 0;
  const evidence = [{
    at: ctx.now(),
    source: "runner",
    text: `${measured}: IP1 ${ip1}, IP2 ${ip2}, (IP1+IP2)/IP1 = ${
      ratio.toFixed(2)
    }`,
  }];
  return ratio >= 1.7 && ratio <= 2.3
    ? ctx.pass(
      device
        ? `the bytes the client sent to IP1 and IP2 were ${
          ratio.toFixed(2)
        }x those to IP1 alone`
        : `records on the wire were ${ratio.toFixed(2)}x those to IP1 alone`,
      evidence,
    )
    : ctx.fail(
      `about twice the ${measured} of IP1 alone (1.7x to 2.3x)`,
      `it was ${ratio.toFixed(2)}x`,
      evidence,
    );
}

/** The scenarios of the two-servers suite. */
export const TWO_SERVERS_SCENARIOS: readonly Scenario[] = numberedScenarios(
  "TS",
  [ts1, ts2, ts3, ts4, ts5, ts6, ts7, ts8],
);
