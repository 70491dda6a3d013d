import assert from "node:assert/strict";
import { Journal, type JournalEvent } from "../core/journal/journal.ts";
import { checkExpectations } from "../lab/expectations.ts";
import { analyseFailovers } from "../lab/figures.ts";
import { type LabRunReport, startLabRun } from "../lab/lab_run.ts";
import { resolvePlan } from "../lab/plan.ts";
import { parseTopology, type Topology } from "../lab/topology.ts";
import { trackerTopology } from "./_lab.ts";

/**
 * A reference tracker (primary -> secondary) and two reference agents on a
 * message store, with a seeded plan: the primary goes down for a while, the
 * store's front ml1 goes down for good.
 */
function topology(seed: number): Topology {
  return parseTopology(trackerTopology({
    name: "figures",
    seed,
    tracker: { reconnectDelayMs: 20 },
    servers: { store: { kind: "message-store" } },
    clients: {
      alice: { kind: "failover-agent", server: "store", to: "bob" },
      bob: {
        kind: "failover-agent",
        server: "store",
        fronts: ["ml2", "ml1"],
        to: "alice",
      },
    },
    plan: [
      {
        at: "200ms..500ms",
        server: "primary",
        faults: { down: {} },
        for: "600ms..900ms",
      },
      {
        at: "300ms..600ms",
        server: "store",
        listener: "ml1",
        faults: { down: {} },
      },
    ],
    expect: { failoverMs: { max: 5000 }, lost: 0, duplicated: { max: 50 } },
  }));
}

async function run(
  seed: number,
): Promise<{ report: LabRunReport; journals: Journal[] }> {
  const labRun = await startLabRun(topology(seed), {
    runMs: 2000,
    anyPort: true,
    port: 0,
  });
  const report = await labRun.finished;
  // The rings still hold every event of so short a run.
  return { report, journals: labRun.lab.journals() };
}

function all(journals: Journal[]): JournalEvent[] {
  return journals.flatMap((j) => j.events()).sort((a, b) => a.time - b.time);
}

/** The record ids a server ACKed, with when, from raw `ack_sent` events. */
function acksOf(events: JournalEvent[], conns: Set<string>) {
  return events.filter((e) =>
    e.type === "ack_sent" && e.reply !== "echo" &&
    conns.has(`${e.server}#${e.conn}`)
  );
}

/** Connections (`server#conn`) whose hello named this client. */
function connsOf(events: JournalEvent[], name: string): Set<string> {
  return new Set(
    events.filter((e) => {
      const frame = e.frame as Record<string, unknown> | undefined;
      return e.type === "frame_in" && frame?.type === "hello" &&
        (frame.device === name || frame.agent === name);
    }).map((e) => `${e.server}#${e.conn}`),
  );
}

Deno.test("analyseFailovers: a seeded plan's figures match an independent count from the journals (tracker and agent)", async () => {
  const { report, journals } = await run(41);
  const events = all(journals);
  const origin = report.figures.origin;
  const ms = (e: JournalEvent) => e.time - origin;

  // The tracker: primary down, then up again.
  const down = events.find((e) =>
    e.server === "primary" && e.type === "faults_changed" &&
    (e.faults as Record<string, unknown>).down !== undefined
  )!;
  const up = events.find((e) =>
    e.server === "primary" && e.type === "faults_changed" &&
    e.seq > down.seq
  )!;
  const tracker = connsOf(events, "tracker");
  const acks = acksOf(events, tracker);
  const firstOnSecondary = acks.find((e) =>
    e.server === "secondary" && e.time > down.time
  )!;
  const connectedOnSecondary = events.find((e) =>
    e.server === "secondary" && e.type === "connected" &&
    e.time > down.time
  )!;
  const lastAckBefore = acks.findLast((e) => e.time <= down.time)!;
  const queued = events.filter((e) =>
    e.server === "tracker" && e.type === "queued" &&
    e.time > lastAckBefore.time && e.time <= up.time
  ).map((e) => e.id as string);
  const ackCount = (id: string) => acks.filter((e) => e.id === id).length;
  const latestAcked = events.findLast((e) =>
    e.server === "tracker" && e.type === "queued" &&
    ackCount(e.id as string) > 0
  )!;
  const lost = queued.filter((id) =>
    ackCount(id) === 0 &&
    events.find((e) => e.server === "tracker" && e.id === id)!.time <
      latestAcked.time
  );
  const duplicated = events.filter((e) =>
    e.server === "tracker" && e.type === "queued" && e.time <= up.time &&
    ackCount(e.id as string) > 1 &&
    acks.some((a) => a.id === e.id && a.time > down.time)
  ).map((e) => e.id as string);

  const transition = report.figures.transitions.find((t) =>
    t.source === "primary" && t.change === "set"
  )!;
  assert.equal(transition.cause, "plan[0]");
  assert.equal(transition.faults.join(), "down");
  assert.equal(transition.atMs, Math.round(ms(down)));
  assert.equal(transition.clearedMs, Math.round(ms(up)));
  const figures = transition.clients.find((c) => c.client === "tracker")!;
  assert.ok(figures, "the tracker is among the clients the fault moved");
  assert.equal(figures.to, "secondary");
  const near = (got: number | null, want: number, what: string) =>
    assert.ok(
      got !== null && Math.abs(got - want) <= 1,
      `${what}: figures say ${got}, the journals ${want.toFixed(1)}`,
    );
  near(
    figures.switchMs,
    connectedOnSecondary.time - down.time,
    "time to connect to secondary",
  );
  near(
    figures.acceptedMs,
    firstOnSecondary.time - down.time,
    "time to the first ACK on secondary",
  );
  assert.equal(figures.failoverMs, figures.acceptedMs);
  assert.deepEqual(figures.lostIds, lost.slice(0, 20));
  assert.equal(figures.lost, lost.length);
  assert.deepEqual(figures.duplicatedIds, duplicated.slice(0, 20));

  // The agent alice: front ml1 down for good, she moves to ml2.
  const ml1Down = events.find((e) =>
    e.server === "store" && e.type === "faults_changed" && e.front === "ml1"
  )!;
  const alice = connsOf(events, "alice");
  const aliceOnMl2 = acksOf(events, alice).find((e) =>
    e.front === "ml2" && e.time > ml1Down.time
  )!;
  const storeTransition = report.figures.transitions.find((t) =>
    t.source === "store/ml1" && t.change === "set"
  )!;
  assert.equal(storeTransition.cause, "plan[1]");
  assert.equal(storeTransition.clearedMs, null);
  const aliceFigures = storeTransition.clients.find((c) =>
    c.client === "alice"
  )!;
  assert.equal(aliceFigures.to, "store/ml2");
  near(
    aliceFigures.failoverMs,
    aliceOnMl2.time - ml1Down.time,
    "alice's first ACK on ml2",
  );
  // bob was on ml2 all along: the fault did not move him.
  assert.equal(
    storeTransition.clients.some((c) => c.client === "bob"),
    false,
  );

  // Totals, and the expectations of the file.
  assert.equal(report.figures.totals.lost, lost.length);
  assert.equal(report.exitCode, lost.length === 0 ? 0 : 1);
  assert.equal(report.incomplete, false);
  assert.deepEqual(
    report.plan.map((s) => s.atMs),
    resolvePlan(topology(41).plan!, 41).map((s) => s.atMs),
  );
});

Deno.test("analyseFailovers over a server's own journals: a library call on servers a test started", async () => {
  const { report, journals } = await run(42);
  const primary = journals.find((j) => j.server === "primary")!;
  const secondary = journals.find((j) => j.server === "secondary")!;
  const own = analyseFailovers([primary, secondary], {
    origin: report.figures.origin,
  });
  const fromLab = report.figures.transitions.find((t) =>
    t.source === "primary" && t.change === "set"
  )!.clients.find((c) => c.client === "tracker")!;
  const fromOwn = own.transitions.find((t) =>
    t.source === "primary" && t.change === "set"
  )!.clients.find((c) => c.client === "tracker")!;
  assert.equal(fromOwn.switchMs, fromLab.switchMs);
  assert.equal(fromOwn.acceptedMs, fromLab.acceptedMs);
  // Without the client's journal, only what reached a server counts.
  assert.ok(fromOwn.lost <= fromLab.lost);
  assert.deepEqual(own.sources.map((s) => s.source).sort(), [
    "primary",
    "secondary",
  ]);
});

Deno.test("the same seed gives the same plan times and the same figures within timing noise", async () => {
  const first = (await run(43)).report;
  const second = (await run(43)).report;
  assert.deepEqual(second.plan, first.plan);
  const shape = (report: LabRunReport) =>
    report.figures.transitions.map((t) => ({
      source: t.source,
      change: t.change,
      faults: t.faults,
      cause: t.cause,
      clients: t.clients.map((c) => `${c.client}->${c.to}`),
    }));
  assert.deepEqual(shape(second), shape(first));
  for (const [i, t] of first.figures.transitions.entries()) {
    const other = second.figures.transitions[i];
    assert.ok(
      Math.abs(other.atMs - t.atMs) < 150,
      `${t.source} ${t.change} at ${t.atMs} ms, then at ${other.atMs} ms`,
    );
    for (const [j, c] of t.clients.entries()) {
      const d = other.clients[j];
      assert.ok(
        Math.abs((d.failoverMs ?? 0) - (c.failoverMs ?? 0)) < 500,
        `${c.client}: failover ${c.failoverMs} ms, then ${d.failoverMs} ms`,
      );
      assert.equal(d.lost, c.lost);
    }
  }
  // A different seed draws different times.
  assert.notDeepEqual(
    resolvePlan(topology(44).plan!, 44).map((s) => s.atMs),
    first.plan.map((s) => s.atMs),
  );
});

Deno.test("analyseFailovers counts records never ACKed as lost and records ACKed by two servers as duplicated", () => {
  // Journals written by hand, event by event, as two servers would.
  const a = new Journal({ server: "a" });
  const b = new Journal({ server: "b" });
  const hello = { type: "hello", device: "dev" };
  const record = (id: string) => ({ type: "record", id });
  a.append("listening", { addr: "127.0.0.1:1" });
  b.append("listening", { addr: "127.0.0.1:2" });
  a.append("connected", { conn: 1, peer: "127.0.0.1:5000" });
  a.append("frame_in", { conn: 1, frame: hello });
  a.append("frame_in", { conn: 1, frame: record("r1") });
  a.append("ack_sent", { conn: 1, id: "r1" });
  a.append("frame_in", { conn: 1, frame: record("r2") });
  a.append("ack_sent", { conn: 1, id: "r2" }); // its ACK never arrives...
  a.append("frame_in", { conn: 1, frame: record("r3") }); // ...and r3 is lost
  a.append("faults_changed", { faults: { down: {} } });
  a.append("closed", { conn: 1, bytesIn: 90, bytesOut: 40 });
  b.append("connected", { conn: 1, peer: "127.0.0.1:5001" });
  b.append("frame_in", { conn: 1, frame: hello });
  b.append("frame_in", { conn: 1, frame: record("r2") }); // resent
  b.append("ack_sent", { conn: 1, id: "r2" });
  b.append("frame_in", { conn: 1, frame: record("r4") });
  b.append("ack_sent", { conn: 1, id: "r4" });
  b.append("frame_in", { conn: 1, frame: record("r5") }); // not ACKed yet
  a.append("faults_changed", { faults: {} });
  const figures = analyseFailovers([a, b]);
  const [set, cleared] = figures.transitions;
  assert.equal(set.change, "set");
  assert.equal(set.outage, true);
  assert.equal(cleared.change, "cleared");
  assert.equal(set.clearedMs, cleared.atMs);
  const [dev] = set.clients;
  assert.equal(dev.client, "dev");
  assert.equal(dev.from, "a");
  assert.equal(dev.to, "b");
  assert.deepEqual(dev.lostIds, ["r3"]); // r4, after it, was ACKed
  assert.equal(dev.pending, 1); // r5: nothing after it was ACKed
  assert.deepEqual(dev.duplicatedIds, ["r2"]);
  assert.equal(dev.returnMs, null);
  assert.deepEqual(dev.bytesByPath, { a: 130, b: 0 });
  assert.deepEqual(figures.switches.map((s) => `${s.from}->${s.to}`), [
    "a->b",
  ]);
  assert.deepEqual(figures.totals, { lost: 1, duplicated: 1, transitions: 2 });

  // The expectations judge these figures, naming what broke them.
  const verdicts = checkExpectations(figures, {
    lost: { max: 0 },
    duplicated: { max: 1 },
    returnMs: { max: 1000 },
  });
  assert.deepEqual(verdicts.map((v) => `${v.name} ${v.status}`), [
    "returnMs fail",
    "lost fail",
    "duplicated pass",
  ]);
  assert.match(verdicts[0].summary, /dev after down on a at \d+ ms never did/);
  assert.match(verdicts[1].summary, /^1 record\(s\) lost .*: r3$/);
  assert.match(verdicts[1].evidence[0], /ms a #\d+ faults_changed/);
});

Deno.test("analyseFailovers: a flapping server's schedule flips are transitions too", async () => {
  const labRun = await startLabRun(
    parseTopology(trackerTopology({
      seed: 4,
      servers: {
        flapping: {
          kind: "flapping",
          up: "800ms",
          down: "600ms",
          downMode: "refuse",
        },
      },
      tracker: { ip1: "flapping", reconnectDelayMs: 20 },
    })),
    { runMs: 2000, anyPort: true, port: 0 },
  );
  const report = await labRun.finished;
  const flips = labRun.lab.journals().flatMap((j) =>
    j.events().filter((e) =>
      e.server === "flapping" && e.type === "faults_changed"
    )
  );
  const transitions = report.figures.transitions.filter((t) =>
    t.source === "flapping"
  );
  assert.deepEqual(
    transitions.map((t) => t.atMs),
    flips.map((e) => Math.round(e.time - report.figures.origin)),
  );
  // Down at 800 ms, up 600 ms later (and down again, on a slow machine).
  assert.deepEqual(
    transitions.slice(0, 2).map((t) => `${t.change} ${t.cause}`),
    ["set schedule", "cleared schedule"],
  );
  const [moved] = transitions[0].clients;
  assert.equal(moved.client, "tracker");
  assert.equal(moved.to, "secondary");
});

Deno.test("analyseFailovers: raw bytes (the raw codec) get connection-level figures, not lost or duplicated", () => {
  const a = new Journal({ server: "a" });
  const b = new Journal({ server: "b" });
  const chunk = (bytes: number) => ({ type: "raw", bytes, hex: "" });
  a.append("connected", { conn: 1, peer: "127.0.0.9:4000" });
  a.append("frame_in", { conn: 1, frame: chunk(40) });
  a.append("faults_changed", { faults: { blackHole: {} } });
  a.append("closed", { conn: 1, bytesIn: 40, bytesOut: 0 });
  b.append("connected", { conn: 1, peer: "127.0.0.9:4001" });
  b.append("connected", { conn: 2, peer: "127.0.0.9:4002" });
  b.append("frame_in", { conn: 2, frame: chunk(25) });
  const figures = analyseFailovers([a, b]);
  const [set] = figures.transitions;
  const [client] = set.clients;
  assert.equal(client.client, "127.0.0.9", "named by its host");
  assert.equal(client.decoded, false);
  assert.equal(client.to, "b");
  assert.equal(client.connectionsOpened, 2);
  assert.equal(client.lost, 0);
  assert.equal(client.longestAckGapMs, null);
  // Accepted when b first read its bytes, on its second connection.
  const firstChunk = b.query({ type: "frame_in" })[0];
  const fault = a.query({ type: "faults_changed" })[0];
  assert.equal(client.acceptedMs, Math.round(firstChunk.time - fault.time));
  assert.equal(client.failoverMs, client.switchMs);
  const series = figures.sources.find((s) => s.source === "b")!;
  assert.equal(series.decoded, false);
  assert.equal(series.bytesPerSecond.reduce((x, y) => x + y, 0) > 0, true);
});
