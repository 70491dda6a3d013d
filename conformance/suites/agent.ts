/**
 * Scenarios of the agent suite (QA-1..QA-9): a messaging agent with a
 * primary and alternate servers over one shared message store. Each starts
 * a message-store server with named fronts (`ml1`, `ml2`, ...) on port 0,
 * gives the agent `{servers}` (primary first) and `{agent}`, and judges from
 * the store's journal (connections per front, hello, push, messages stored,
 * delivered and ACKed) and the agent's events.
 *
 * QA-2 and QA-3 start the agent with `-fr` and `-fd` of their own, through
 * the `{failoverRetries}` and `{failoverDelayMs}` placeholders: QA-2 with
 * `-fr 0` (the default), QA-3 with the run's `-fr`, or 2 when that is 0.
 *
 * @module
 */
import type { JournalEvent } from "../../core/journal/journal.ts";
import type { MessageFronts } from "../message_fronts.ts";
import type { Scenario, ScenarioContext, Verdict } from "../scenario.ts";
import { numberedScenarios } from "../scenario.ts";
import { verdictOf } from "./_checks.ts";
import {
  AGENT,
  agentAcks,
  AT_ONCE_MS,
  attempts,
  clientEventsOf,
  dropAgent,
  hellos,
  PEER,
  runsText,
  sendAcks,
  sendMessages,
  soon,
  startAgent,
  STARTUP_MS,
  storedFromAgent,
  storeEvents,
  storeEvidence,
  trafficEvidence,
  turnFront,
  untilDeleted,
  untilEach,
  untilWelcome,
  welcomedAt,
  welcomes,
} from "./_messaging.ts";

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

/** The fronts of a walk, before (and including) `last`. */
function walkUntil(
  ctx: ScenarioContext,
  last: JournalEvent | undefined,
): JournalEvent[] {
  return attempts(ctx).filter((e) => !last || e.time <= last.time);
}

/** When the front reset or closed the connection of an attempt. */
function closedAt(ctx: ScenarioContext, attempt: JournalEvent): number {
  const closed = storeEvents(
    ctx,
    "closed",
    (e) => e.conn === attempt.conn,
  )[0];
  return closed?.time ?? attempt.time;
}

async function qa1(ctx: ScenarioContext): Promise<Verdict> {
  // The primary is neither the first front started nor the first by name.
  const { order } = await startAgent(ctx, {
    fronts: ["ml1", "ml2", "ml3"],
    order: ["ml2", "ml3", "ml1"],
  });
  const primary = order[0];
  await untilWelcome(ctx);
  const evidence = storeEvidence(ctx, [...attempts(ctx), ...hellos(ctx)]);
  const first = attempts(ctx)[0];
  const list = order.join(",");
  if (!first) {
    return ctx.fail(
      `a connection to ${primary}, the first of the list ${list}`,
      "the agent connected to no server",
      evidence,
    );
  }
  if (first.front !== primary) {
    return ctx.fail(
      `the first connection to go to ${primary}, the first of the list ${list}`,
      `it went to ${first.front}`,
      evidence,
    );
  }
  const said = hellos(ctx);
  if (said.length === 0) {
    return ctx.fail(
      `a hello naming the agent and its primary ${primary}`,
      "the agent sent no hello",
      evidence,
    );
  }
  for (const hello of said) {
    const frame = hello.frame as { agent?: string; primary?: string };
    if (frame.agent !== AGENT) {
      return ctx.fail(
        `each hello to name the agent "${AGENT}" (its {agent})`,
        `its hello to ${hello.front} named "${frame.agent}"`,
        evidence,
      );
    }
    if (frame.primary !== primary) {
      return ctx.fail(
        `each hello to name ${primary}, the first of the list ${list}, as the primary`,
        `its hello to ${hello.front} named ${
          frame.primary === undefined ? "no primary" : `"${frame.primary}"`
        }`,
        evidence,
      );
    }
  }
  return ctx.pass(
    `with the list ${list} the agent connected to ${primary} first and named it its primary`,
    evidence,
  );
}

async function qa2(ctx: ScenarioContext): Promise<Verdict> {
  // -fr 0 is the default; a long -fd shows any wait before the alternate.
  const fd = Math.max(ctx.timing.failoverDelayMs, AT_ONCE_MS * 4);
  const timing = { failoverRetries: 0, failoverDelayMs: fd };
  await startAgent(ctx, {
    faults: { ml1: { reset: {} } },
    note:
      `ml1 (the primary) resets every connection; the agent runs with -fr 0 -fd ${fd}ms`,
    placeholders: { failoverRetries: "0", failoverDelayMs: String(fd) },
  });
  await untilWelcome(
    ctx,
    "ml2",
    -Infinity,
    soon(ctx, 4, timing) + STARTUP_MS,
  );
  const alternate = attempts(ctx, "ml2")[0];
  const walk = walkUntil(ctx, alternate);
  const evidence = storeEvidence(
    ctx,
    storeEvents(ctx, ["connected", "closed"]),
  );
  if (!alternate) {
    return ctx.fail(
      "the alternate ml2 tried once the primary ml1 failed",
      `the agent never connected to ml2 (${runsText(attempts(ctx))})`,
      evidence,
    );
  }
  const tries = walk.filter((e) => e.front === "ml1");
  if (tries.length === 0) {
    return ctx.fail(
      "a try of the primary ml1 before the alternate",
      "the agent went straight to ml2",
      evidence,
    );
  }
  if (tries.length > 1) {
    return ctx.fail(
      "the alternate right after the primary's first failure (-fr 0, the default)",
      `the agent tried ml1 ${tries.length} times first (${runsText(walk)})`,
      evidence,
    );
  }
  const gap = alternate.time - closedAt(ctx, tries[0]);
  if (gap > AT_ONCE_MS) {
    return ctx.fail(
      `the alternate ml2 tried at once (within ${AT_ONCE_MS} ms) after ml1 failed`,
      `its connection to ml2 came ${ms(gap)} later`,
      evidence,
    );
  }
  return ctx.pass(
    `ml1 failed once and the agent was at ml2 ${ms(Math.max(gap, 0))} later`,
    evidence,
  );
}

async function qa3(ctx: ScenarioContext): Promise<Verdict> {
  const retries = ctx.timing.failoverRetries > 0
    ? ctx.timing.failoverRetries
    : 2;
  const fd = ctx.timing.failoverDelayMs;
  await startAgent(ctx, {
    fronts: ["ml1", "ml2", "ml3"],
    faults: { ml1: { reset: {} }, ml2: { reset: {} } },
    note:
      `ml1 (the primary) and ml2 reset every connection; ml3 is up; the agent runs with -fr ${retries} -fd ${fd}ms`,
    placeholders: {
      failoverRetries: String(retries),
      failoverDelayMs: String(fd),
    },
  });
  await untilWelcome(
    ctx,
    "ml3",
    -Infinity,
    soon(ctx, 4, { failoverRetries: retries }) + STARTUP_MS,
  );
  const last = attempts(ctx, "ml3")[0];
  const walk = walkUntil(ctx, last);
  const evidence = storeEvidence(ctx, walk, 24);
  if (!last) {
    return ctx.fail(
      `the agent at ml3 once ml1 (${retries + 1} tries) and ml2 had failed`,
      `it never connected to ml3 (${runsText(walk)})`,
      evidence,
    );
  }
  const tries = walk.filter((e) => e.front === "ml1");
  const firstAlternate = walk.findIndex((e) => e.front !== "ml1");
  if (
    tries.length !== retries + 1 ||
    walk.slice(firstAlternate).some((e) => e.front === "ml1")
  ) {
    return ctx.fail(
      `${
        retries + 1
      } tries of the primary ml1 (-fr ${retries}) before an alternate`,
      `the agent went ${runsText(walk)}`,
      evidence,
    );
  }
  const gaps = tries.slice(1).map((e, i) => e.time - tries[i].time);
  const short = gaps.findIndex((gap) => gap < fd * 0.8);
  if (short !== -1) {
    return ctx.fail(
      `the retries of ml1 -fd ${fd} ms apart`,
      `retry ${short + 1} came ${ms(gaps[short])} after the try before it`,
      evidence,
    );
  }
  const alternate = walk.filter((e) => e.front === "ml2");
  if (alternate.length !== 1) {
    return ctx.fail(
      "the alternate ml2 tried once (-fr applies to the primary only)",
      `it was tried ${alternate.length} times (${runsText(walk)})`,
      evidence,
    );
  }
  return ctx.pass(
    `the agent went ${runsText(walk)}, its retries of ml1 ${
      gaps.length ? `${ms(Math.min(...gaps))} or more` : "none"
    } apart`,
    evidence,
  );
}

async function qa4(ctx: ScenarioContext): Promise<Verdict> {
  const fronts = ["ml1", "ml2", "ml3"];
  await startAgent(ctx, {
    fronts,
    faults: Object.fromEntries(fronts.map((f) => [f, { reset: {} }])),
    note: "ml1, ml2 and ml3 reset every connection",
  });
  const errorAfterLast = () => {
    const last = attempts(ctx, "ml3")[0];
    return last !== undefined &&
      clientEventsOf(ctx, "error").some((e) => e.time >= last.time);
  };
  await ctx.until(errorAfterLast, soon(ctx) + STARTUP_MS);
  // The first walk: up to the primary's first try after an alternate.
  const all = attempts(ctx);
  const next = all.findIndex((e, i) =>
    e.front === "ml1" && all.slice(0, i).some((p) => p.front !== "ml1")
  );
  const walk = next === -1 ? all : all.slice(0, next);
  const errors = clientEventsOf(ctx, "error");
  const evidence = [
    ...storeEvidence(ctx, walk, 24),
    ...ctx.clientEvidence(errors, 4),
  ];
  if (walk.length === 0) {
    return ctx.fail(
      "a try of ml1, then of ml2 and ml3",
      "the agent tried no server",
      evidence,
    );
  }
  const alternates = walk.filter((e) => e.front !== "ml1").map((e) =>
    String(e.front)
  );
  if (
    walk[0].front !== "ml1" || alternates.join(",") !== "ml2,ml3"
  ) {
    return ctx.fail(
      "the primary ml1, then each alternate once, in list order (ml2, ml3)",
      `the agent's first walk went ${runsText(walk)}`,
      evidence,
    );
  }
  if (errors.length === 0) {
    return ctx.notObservable(
      `the agent printed no {"event":"error"}, so whether it reported that no server could be reached is unknown (it did go ${
        runsText(walk)
      })`,
      evidence,
    );
  }
  const lastTry = walk.at(-1)!;
  const reported = errors.find((e) => e.time >= lastTry.time);
  if (!reported) {
    return ctx.fail(
      "an error reported once ml3, the last alternate, had failed",
      `its ${errors.length} error event(s) all came before it tried ml3`,
      evidence,
    );
  }
  return ctx.pass(
    `the agent went ${runsText(walk)}, then reported an error: ${
      String(reported.message ?? "").slice(0, 120)
    }`,
    evidence,
  );
}

async function qa5(ctx: ScenarioContext): Promise<Verdict> {
  const ids = ["m1", "m2", "m3"];
  await startAgent(ctx, {
    faults: { ml1: { refuse: {} } },
    waiting: ids,
    note:
      "m1, m2 and m3 wait for the agent; ml1 (the primary) refuses connections",
  });
  const welcome = await untilWelcome(ctx, "ml2");
  await untilEach(ctx, ids, (id) => agentAcks(ctx, id), soon(ctx));
  const evidence = [
    ...trafficEvidence(ctx),
    ...ctx.clientEvidence(clientEventsOf(ctx, "received")),
  ];
  const missing = ids.filter((id) =>
    agentAcks(ctx, id).length === 0 &&
    clientEventsOf(ctx, "received", id).length === 0
  );
  const printed = clientEventsOf(ctx, "received").length > 0;
  return verdictOf(
    ctx,
    evidence,
    [
      welcomedAt(
        welcome,
        "ml2",
        "the agent on the alternate ml2 while the primary ml1 refuses connections",
      ),
      {
        failed: missing.length > 0,
        expected:
          "every message waiting for the agent (m1, m2, m3) taken by it through the alternate ml2",
        observed: () => {
          const delivered = storeEvents(
            ctx,
            "message_delivered",
            (e) => e.agent === AGENT && missing.includes(String(e.id)),
          );
          return `${missing.join(", ")} ${
            delivered.length
              ? `went out to it ${delivered.length} time(s) but ${
                missing.length > 1 ? "were" : "was"
              }`
              : missing.length > 1
              ? "were"
              : "was"
          } never ACKed or printed as received`;
        },
      },
    ],
    `m1, m2 and m3 reached the agent through the alternate ml2 (ACKed${
      printed ? " and printed as received" : ""
    })`,
  );
}

/**
 * Starts the store and the agent and waits for it at its primary ml1: the
 * fronts, or a fail verdict if the agent never got there.
 */
async function startOnPrimary(
  ctx: ScenarioContext,
): Promise<
  { fronts: MessageFronts; fail?: undefined } | { fail: Verdict }
> {
  const { fronts } = await startAgent(ctx);
  if (await untilWelcome(ctx, "ml1")) return { fronts };
  return {
    fail: ctx.fail(
      "the agent connected to its primary ml1",
      "it never was",
      trafficEvidence(ctx),
    ),
  };
}

async function qa6(ctx: ScenarioContext): Promise<Verdict> {
  const started = await startOnPrimary(ctx);
  if (started.fail) return started.fail;
  const { fronts } = started;
  await fronts.inject({ to: AGENT, from: PEER, id: "m1", body: { n: 1 } });
  ctx.note("runner", "m1 stored for the agent while it is on ml1");
  await ctx.until(() => agentAcks(ctx, "m1").length > 0, soon(ctx));
  const downAt = await turnFront(ctx, fronts, {
    name: "ml1",
    up: false,
    note: "ml1 goes down; the agent sends a1",
  });
  await sendMessages(ctx, ["a1"]);
  const onAlternate = await untilWelcome(ctx, "ml2", downAt);
  if (onAlternate) {
    await fronts.inject({ to: AGENT, from: PEER, id: "m2", body: { n: 2 } });
    ctx.note("runner", "m2 stored for the agent while it is on ml2");
    await ctx.observe(Math.max(ctx.timing.ackTimeoutMs, 300));
  }
  const pushes = storeEvents(
    ctx,
    ["push_sent", "push_withheld"],
    (e) => e.agent === AGENT,
  );
  const evidence = [
    ...storeEvidence(ctx, [...welcomes(ctx), ...pushes]),
    ...ctx.clientEvidence(clientEventsOf(ctx, "push")),
  ];
  const atPrimary = pushes.filter((e) =>
    e.type === "push_sent" && e.front === "ml1"
  );
  const elsewhere = pushes.filter((e) =>
    e.type === "push_sent" && e.front !== "ml1"
  );
  const printed = onAlternate
    ? clientEventsOf(ctx, "push").filter((e) => e.time > onAlternate.time)
    : [];
  return verdictOf(
    ctx,
    evidence,
    [
      {
        failed: atPrimary.length === 0,
        expected: "a push through its primary ml1 when m1 arrived",
        observed: () => {
          const withheld = pushes.find((e) => e.front === "ml1");
          return `ml1 withheld it${
            withheld
              ? `: the agent's hello there named ${
                withheld.primary === null
                  ? "no primary"
                  : `"${withheld.primary}"`
              } as its primary`
              : ""
          }`;
        },
      },
      welcomedAt(
        onAlternate,
        "ml2",
        "the agent on the alternate ml2 once ml1 went down and it sent a1",
      ),
      {
        failed: elsewhere.length > 0,
        expected: "no push while the agent is on the alternate ml2",
        observed: () =>
          `${elsewhere[0].front} pushed to it: its hello there named ${
            elsewhere[0].front
          } as its primary`,
      },
      {
        failed: printed.length > 0,
        expected: "no push reaching the agent while it is on the alternate ml2",
        observed: () =>
          `it printed ${printed.length} push event(s) while on ml2`,
      },
      {
        failed: agentAcks(ctx, "m1").length === 0,
        expected: "the agent to fetch m1 after ml1's push",
        observed: "it never ACKed m1",
      },
    ],
    "ml1 pushed when m1 arrived and the agent fetched it; on ml2 the push for m2 was withheld",
  );
}

async function qa7(ctx: ScenarioContext): Promise<Verdict> {
  const started = await startOnPrimary(ctx);
  if (started.fail) return started.fail;
  const { fronts } = started;
  await fronts.storeDown();
  ctx.note("runner", "the shared store goes down; the agent sends a1");
  const downAt = performance.now();
  await sendMessages(ctx, ["a1"]);
  const refused = () =>
    storeEvents(ctx, "store_unavailable", (e) => e.agent === AGENT);
  await ctx.until(() => refused().length > 0, soon(ctx, 1));
  await ctx.observe(
    Math.max(ctx.timing.ackTimeoutMs, ctx.timing.connectTimeoutMs) * 2,
  );
  const upAt = performance.now();
  const whileDown = clientEventsOf(ctx, "deleted").filter((e) =>
    e.time >= downAt
  );
  if (whileDown.length > 0) {
    return ctx.fail(
      "no message counted as delivered while the shared store is down",
      `the agent printed deleted ${
        whileDown.map((e) => e.id).join(", ")
      } while it was down, when no server could store or ACK it`,
      [
        ...trafficEvidence(ctx, 30),
        ...ctx.clientEvidence(
          ctx.clientEvents((e) => ["deleted", "error"].includes(e.event)),
        ),
      ],
    );
  }
  await fronts.storeUp();
  ctx.note("runner", "the shared store is back; the agent sends a2");
  await sendMessages(ctx, ["a2"]);
  const ids = ["a1", "a2"];
  await untilEach(ctx, ids, (id) => storedFromAgent(ctx, id), soon(ctx));
  await untilDeleted(ctx, ids);
  const errors = clientEventsOf(ctx, "error").filter((e) =>
    e.time >= downAt && e.time < upAt
  );
  const evidence = [
    ...trafficEvidence(ctx, 30),
    ...ctx.clientEvidence(
      ctx.clientEvents((e) => ["deleted", "error"].includes(e.event)),
    ),
  ];
  if (refused().length === 0) {
    return ctx.fail(
      "a1 sent while the store was down (and refused with store_unavailable)",
      "no front saw a request from the agent while the store was down",
      evidence,
    );
  }
  const lost = ids.filter((id) => storedFromAgent(ctx, id).length === 0);
  if (lost.length > 0) {
    return ctx.fail(
      "a1 kept by the agent while the store was down and delivered once it was back",
      `${lost.join(" and ")} never reached the shared store`,
      evidence,
    );
  }
  if (clientEventsOf(ctx, "deleted").length === 0) {
    return ctx.notObservable(
      'the agent printed no {"event":"deleted"}, so whether it counted a1 delivered while the store was down is unknown (a1 did reach the store once it was back)',
      evidence,
    );
  }
  const refusedAt = new Set(refused().map((e) => e.front));
  return ctx.pass(
    `while the store was down ${refused().length} request(s) of the agent were refused (at ${
      [...refusedAt].join(", ")
    }) and it counted nothing delivered${
      errors.length ? ", reporting an error" : ""
    }; a1 and a2 were stored once it was back`,
    evidence,
  );
}

async function qa8(ctx: ScenarioContext): Promise<Verdict> {
  const first = ["m1", "m2"];
  const before = ["a1", "a2"];
  const incoming = [...first, "m3"];
  const outgoing = [...before, "a3"];
  const { fronts } = await startAgent(ctx, {
    faults: { ml1: { dropAck: { window: { first: 1 } } } },
    waiting: first,
    note:
      "m1 and m2 wait for the agent; ml1 drops the ACK of the first message the agent sends",
  });
  const welcome = await untilWelcome(ctx, "ml1");
  await untilEach(ctx, first, (id) => agentAcks(ctx, id), soon(ctx, 1));
  await sendMessages(ctx, ["a1"]);
  const dropped = () => storeEvents(ctx, "ack_dropped", (e) => e.id === "a1");
  await ctx.until(() => dropped().length > 0, soon(ctx, 1));
  // A new transmission must carry a1 again: it is still unacknowledged.
  await dropAgent(ctx, fronts, "ml1");
  await sendMessages(ctx, ["a2"]);
  await untilEach(ctx, before, (id) => sendAcks(ctx, id), soon(ctx));
  await untilDeleted(ctx, before);
  // After the reconnect, one more whole transmission: m3 comes in (a push
  // from the primary) and a3 goes out and is ACKed. An agent that stores
  // what it ACKs prints m3 as received, which shows that it reports what it
  // stores: if it then never printed m1 or m2, which it ACKed before the
  // connection was lost, it lost them (a silent agent prints no received at
  // all, and stays not observable).
  await fronts.inject({ to: AGENT, from: PEER, id: "m3", body: { n: "m3" } });
  ctx.note("runner", "m3 waits for the agent (after the reconnect)");
  await ctx.until(
    () =>
      agentAcks(ctx, "m3").length > 0 ||
      clientEventsOf(ctx, "received", "m3").length > 0,
    soon(ctx, 1),
  );
  await sendMessages(ctx, ["a3"]);
  await ctx.until(() => sendAcks(ctx, "a3").length > 0, soon(ctx, 1));
  await ctx.until(
    () => clientEventsOf(ctx, "received", "m3").length > 0,
    soon(ctx, 1),
  );
  const evidence = [
    ...trafficEvidence(ctx, 30),
    ...ctx.clientEvidence(
      ctx.clientEvents((e) => ["deleted", "received"].includes(e.event)),
    ),
  ];
  if (!welcome) {
    return ctx.fail(
      "the agent connected to its primary ml1",
      "it never was",
      evidence,
    );
  }
  if (dropped().length === 0) {
    return ctx.fail(
      "a1 sent to ml1 (which drops its ACK)",
      "ml1 never received a1",
      evidence,
    );
  }
  for (const id of outgoing) {
    if (sendAcks(ctx, id).length > 0) continue;
    const sends = storeEvents(
      ctx,
      "frame_in",
      (e) =>
        (e.frame as { type?: string; id?: string }).type === "send" &&
        (e.frame as { id?: string }).id === id,
    );
    return ctx.fail(
      `${id} kept in the client store and sent again until a server ACKed it`,
      id === "a1"
        ? `ml1 dropped a1's ACK and the agent never sent a1 again (${sends.length} send(s) in all)`
        : `no server ever ACKed ${id} (${sends.length} send(s))`,
      evidence,
    );
  }
  for (const deleted of clientEventsOf(ctx, "deleted")) {
    const id = String(deleted.id);
    if (!outgoing.includes(id)) continue;
    const ack = sendAcks(ctx, id)[0];
    if (deleted.time < ack.time) {
      return ctx.fail(
        `${id} to leave the client store only once a server ACKed it`,
        `it was deleted ${ms(ack.time - deleted.time)} before the first ACK`,
        evidence,
      );
    }
  }
  const received = clientEventsOf(ctx, "received");
  if (received.length > 0) {
    const unstored = incoming.filter((id) =>
      agentAcks(ctx, id).length > 0 &&
      clientEventsOf(ctx, "received", id).length === 0
    );
    if (unstored.length > 0) {
      return ctx.fail(
        "each message the agent ACKs stored in its client store first",
        `it ACKed ${
          unstored.join(", ")
        } (which left the shared store) but never printed ${
          unstored.length > 1 ? "them" : "it"
        } as received, though it printed ${
          [...new Set(received.map((e) => String(e.id)))].join(", ")
        } as received`,
        evidence,
      );
    }
  }
  if (clientEventsOf(ctx, "deleted").length === 0 || received.length === 0) {
    return ctx.notObservable(
      `the agent printed no {"event":"${
        received.length === 0 ? "received" : "deleted"
      }"}, so ${
        received.length === 0
          ? "whether it stored what it ACKed"
          : "when messages left its client store"
      } is unknown (a1 was sent again after its lost ACK, and a server ACKed a1, a2 and a3)`,
      evidence,
    );
  }
  return ctx.pass(
    "a1 was sent again after its ACK was lost and left the client store only once ACKed; m1, m2 and m3 were stored before the agent ACKed them",
    evidence,
  );
}

async function qa9(ctx: ScenarioContext): Promise<Verdict> {
  const { fronts } = await startAgent(ctx, {
    faults: { ml1: { refuse: {} } },
    note: "ml1 (the primary) refuses connections",
  });
  const first = await untilWelcome(ctx, "ml2");
  const fail = (expected: string, observed: string): Verdict =>
    ctx.fail(expected, observed, trafficEvidence(ctx, 30));
  if (!first) {
    return fail(
      "the agent on the alternate ml2 while its primary ml1 refuses connections",
      "it never connected to ml2",
    );
  }
  /**
   * Waits for the agent to connect after `since`: a fail verdict unless it
   * tried again (`attempted`), starting at the primary ml1 (`atPrimary`).
   */
  const notFromPrimary = async (
    since: number,
    expected: { attempted: string; atPrimary: string },
  ): Promise<Verdict | undefined> => {
    await untilWelcome(ctx, undefined, since);
    const after = attempts(ctx).filter((e) => e.time > since);
    if (after.length === 0) {
      return fail(expected.attempted, "the agent made none");
    }
    if (after[0].front !== "ml1") {
      return fail(
        expected.atPrimary,
        `it went to ${after[0].front} (${runsText(after)})`,
      );
    }
    return undefined;
  };
  // 1. A lost connection: the next transmission starts from the primary.
  const lostAt = await turnFront(ctx, fronts, {
    name: "ml1",
    up: true,
    note: "ml1 is back up",
  });
  await dropAgent(ctx, fronts, "ml2");
  await sendMessages(ctx, ["a1"]);
  const afterLoss = await notFromPrimary(lostAt, {
    attempted:
      "a new connection attempt once ml2 closed the agent's connection and a1 was sent",
    atPrimary:
      "the next attempt after a lost connection to start at the primary ml1 (up again)",
  });
  if (afterLoss) return afterLoss;
  // 2. A restart while on an alternate: it starts from the primary too.
  const downAt = await turnFront(ctx, fronts, {
    name: "ml1",
    up: false,
    note: "ml1 goes down; the agent sends a2",
  });
  await sendMessages(ctx, ["a2"]);
  if (!await untilWelcome(ctx, "ml2", downAt)) {
    return fail(
      "the agent back on ml2 once ml1 went down and it sent a2",
      "it never connected to ml2",
    );
  }
  const restartAt = await turnFront(ctx, fronts, {
    name: "ml1",
    up: true,
    note: "ml1 is back up; the agent restarts",
  });
  await ctx.send({ cmd: "restart" });
  const afterRestart = await notFromPrimary(restartAt, {
    attempted: "a new connection attempt after the restart",
    atPrimary: "the first attempt after a restart to go to the primary ml1",
  });
  if (afterRestart) return afterRestart;
  return ctx.pass(
    "after a lost connection and after a restart, the agent's next attempt went to its primary ml1",
    trafficEvidence(ctx, 30),
  );
}

/** The scenarios of the agent suite. */
export const AGENT_SCENARIOS: readonly Scenario[] = numberedScenarios(
  "QA",
  [qa1, qa2, qa3, qa4, qa5, qa6, qa7, qa8, qa9],
);
