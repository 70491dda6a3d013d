import assert from "node:assert/strict";
import { Journal } from "../core/journal/journal.ts";

Deno.test("Journal keeps the newest events in a bounded ring, in order", () => {
  const journal = new Journal({ server: "s", capacity: 3 });
  for (let i = 1; i <= 5; i++) journal.append("frame_in", { id: `r${i}` });
  assert.deepEqual(journal.events().map((e) => e.id), ["r3", "r4", "r5"]);
  assert.deepEqual(journal.events().map((e) => e.seq), [3, 4, 5]);
  assert.equal(journal.counts().frame_in, 5);
  const times = journal.events().map((e) => e.time);
  assert.deepEqual(times, [...times].sort((a, b) => a - b));
});

Deno.test("Journal.query filters by type, connection, id, seq and limit", () => {
  const journal = new Journal();
  journal.append("frame_in", { conn: 1, frame: { type: "record", id: "a" } });
  journal.append("ack_sent", { conn: 1, id: "a" });
  journal.append("frame_in", { conn: 2, frame: { type: "record", id: "b" } });
  assert.equal(journal.query({ type: "frame_in" }).length, 2);
  assert.equal(
    journal.query({ type: ["frame_in", "ack_sent"], conn: 1 }).length,
    2,
  );
  assert.deepEqual(journal.query({ id: "a" }).map((e) => e.type), [
    "frame_in",
    "ack_sent",
  ]);
  assert.deepEqual(journal.query({ since: 2 }).map((e) => e.seq), [3]);
  assert.deepEqual(journal.query({ limit: 1 }).map((e) => e.seq), [3]);
});

Deno.test("Journal.waitFor finds kept events and waits for new ones", async () => {
  const journal = new Journal();
  journal.append("listening");
  const signal = AbortSignal.timeout(2000);
  assert.equal(
    (await journal.waitFor((e) => e.type === "listening", { signal })).seq,
    1,
  );
  const later = journal.waitFor((e) => e.type === "closed", { signal });
  journal.append("closed");
  assert.equal((await later).seq, 2);
  const never = journal.waitFor((e) => e.type === "nothing", {
    signal: AbortSignal.timeout(10),
  });
  await assert.rejects(never, (e: Error) => e.name === "TimeoutError");
});

Deno.test("Journal.clear empties the ring and numbering goes on", () => {
  const journal = new Journal();
  journal.append("a");
  journal.clear();
  assert.equal(journal.size, 0);
  assert.equal(journal.append("b").seq, 2);
});

Deno.test("Journal file sink appends every event as a JSON line", async () => {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const journal = new Journal({ server: "s", file, capacity: 2 });
    for (let i = 0; i < 5; i++) journal.append("frame_in", { id: `r${i}` });
    await journal.close();
    const lines = (await Deno.readTextFile(file)).trim().split("\n");
    assert.deepEqual(lines.map((l) => JSON.parse(l).id), [
      "r0",
      "r1",
      "r2",
      "r3",
      "r4",
    ]);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("Journal.waitFor walks a wrapped ring oldest first", async () => {
  const journal = new Journal({ capacity: 3 });
  for (let i = 1; i <= 5; i++) journal.append("frame_in", { id: `r${i}` });
  const signal = AbortSignal.timeout(1000);
  const first = await journal.waitFor((e) => e.type === "frame_in", { signal });
  assert.equal(first.id, "r3");
  const after = await journal.waitFor((e) => e.type === "frame_in", {
    signal,
    since: 4,
  });
  assert.equal(after.id, "r5");
});

/** Waits until the monotonic clock moves on (it has a resolution). */
function tick(): void {
  const at = performance.now();
  while (performance.now() === at) {
    // Spin: a clock tick is a few microseconds at most.
  }
}

Deno.test("Journal.pinTime gives every event one time until unpinned, nested, and times never go back", () => {
  const journal = new Journal();
  const before = journal.append("a");
  tick();
  journal.pinTime();
  const pinned = journal.now();
  tick();
  const b = journal.append("b");
  journal.pinTime();
  tick();
  const c = journal.add("c", { x: 1 });
  journal.unpinTime();
  tick();
  const d = journal.append("d");
  journal.unpinTime();
  tick();
  const after = journal.append("e");
  assert.deepEqual([b.time, c.time, d.time], [pinned, pinned, pinned]);
  assert.ok(before.time < pinned && pinned < after.time);
  assert.equal(b.wall, Math.round(performance.timeOrigin + pinned));
});

Deno.test("Journal.add keeps the object it is given, fields in the order append writes them", () => {
  const journal = new Journal({ server: "s" });
  const appended = journal.append("ack_sent", { conn: 1, id: "r1" });
  const given = {
    conn: 1,
    id: "r2",
    seq: 0,
    time: 0,
    wall: 0,
    server: "",
    type: "",
  };
  const added = journal.add("ack_sent", given);
  assert.equal(added, given);
  assert.deepEqual(Object.keys(added), Object.keys(appended));
  assert.deepEqual(
    { ...added, time: 0, wall: 0 },
    {
      conn: 1,
      id: "r2",
      seq: 2,
      time: 0,
      wall: 0,
      server: "s",
      type: "ack_sent",
    },
  );
  // append copies: the caller's object is left alone.
  const fields = { conn: 2 };
  journal.append("closed", fields);
  assert.deepEqual(fields, { conn: 2 });
});

Deno.test("JournalView.add puts the view's fields before the journal's own, as append does", async () => {
  const { JournalView } = await import("../core/journal/journal_view.ts");
  const view = new JournalView(new Journal({ server: "s" }), { channel: "A" });
  const keys = (event: object) => Object.keys(event).join(",");
  const appended = view.append("frame_in", { conn: 1 });
  const added = view.add("frame_in", {
    conn: 1,
    seq: 0,
    time: 0,
    wall: 0,
    server: "",
    type: "",
  });
  assert.equal(keys(appended), "conn,channel,seq,time,wall,server,type");
  assert.equal(keys(added), keys(appended));
  assert.equal(added.type, "frame_in");
});
