/**
 * What the agent suite's fronts in processes rest on, without PostgreSQL: a
 * server's events read over its admin API's `/events` (EventTap), and the
 * events of several processes merged into one journal on this process's
 * clock (MergedJournal).
 */
import assert from "node:assert/strict";
import { EventTap } from "../core/admin/event_tap.ts";
import { serveAdmin } from "../core/admin/admin_server.ts";
import type { JournalEvent } from "../core/journal/journal.ts";
import { MergedJournal } from "../conformance/merged_journal.ts";
import { SeededRandom } from "../core/faults/random.ts";
import { startMessageStoreServer } from "../servers/message_store.ts";

/** An event as another process wrote it: its clock starts `origin` ms after ours. */
function remote(
  origin: number,
  time: number,
  type: string,
  fields: Record<string, unknown> = {},
): JournalEvent {
  return {
    seq: 0,
    time,
    wall: Math.round(performance.timeOrigin + origin + time),
    server: "message-store",
    type,
    ...fields,
  };
}

Deno.test("MergedJournal puts several processes' events in one time order on this clock, each connection numbered once", () => {
  const merged = new MergedJournal();
  const seen: string[] = [];
  const stop = merged.subscribe((e) => seen.push(e.type));
  const one = merged.source();
  const two = merged.source();
  // Process two started 1000 ms after process one.
  one.add(remote(0, 1000, "a", { conn: 1 }));
  two.add(remote(1000, 50, "c", { conn: 1 })); // at 1050 on one's clock
  one.add(remote(0, 1020, "b", { conn: 1 })); // arrives late, came before c
  two.add(remote(1000, 60, "d", { conn: 2 }));
  stop();
  one.add(remote(0, 2000, "e"));
  const events = merged.events();
  assert.deepEqual(events.map((e) => e.type), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(events.map((e) => e.conn), [1, 1, 2, 3, undefined]);
  assert.ok(Math.abs(events[2].time - 1050) <= 1, String(events[2].time));
  assert.equal(events[1].time - events[0].time, 20);
  assert.deepEqual(seen, ["a", "c", "b", "d"]);
});

Deno.test("MergedJournal keeps at most its capacity, the oldest going first", () => {
  const merged = new MergedJournal({ capacity: 3 });
  const source = merged.source();
  for (let i = 1; i <= 5; i++) source.add(remote(0, i, `e${i}`));
  assert.deepEqual(merged.events().map((e) => e.type), ["e3", "e4", "e5"]);
});

Deno.test("MergedJournal gives every event to its subscribers, also one older than all it keeps when full, which it does not keep", () => {
  const merged = new MergedJournal({ capacity: 3 });
  const seen: string[] = [];
  merged.subscribe((e) => seen.push(e.type));
  const source = merged.source();
  for (const [time, type] of [[10, "a"], [20, "b"], [30, "c"]] as const) {
    source.add(remote(0, time, type));
  }
  source.add(remote(0, 5, "older")); // older than all three: goes at once
  source.add(remote(0, 25, "late")); // between b and c: a goes
  source.add(remote(0, 30, "tie")); // the same time as c: after it
  assert.deepEqual(merged.events().map((e) => e.type), ["late", "c", "tie"]);
  assert.deepEqual(seen, ["a", "b", "c", "older", "late", "tie"]);
});

Deno.test("MergedJournal keeps, across many wrap-arounds, the newest capacity events in time order, ties in arrival order", () => {
  const random = new SeededRandom(7, "merged-journal");
  for (const capacity of [1, 2, 3, 5, 8]) {
    const merged = new MergedJournal({ capacity });
    const source = merged.source();
    const all: { type: string; time: number }[] = [];
    for (let i = 0; i < 40 * capacity; i++) {
      // Mostly in order; often late by up to twice the capacity, with ties.
      const late = random.chance(0.4)
        ? Math.floor(random.between(0, 2 * capacity + 1))
        : 0;
      const event = { type: `e${i}`, time: 1000 + i - late };
      all.push(event);
      source.add(remote(0, event.time, event.type));
      // Array.prototype.sort is stable: equal times keep arrival order.
      const expected = all.toSorted((a, b) => a.time - b.time)
        .slice(-capacity).map((e) => e.type);
      assert.deepEqual(
        merged.events().map((e) => e.type),
        expected,
        `capacity ${capacity}, after ${event.type} at ${event.time}`,
      );
    }
  }
});

Deno.test("MergedJournal of capacity 0 keeps nothing, and refuses a capacity that is not a whole number", () => {
  const merged = new MergedJournal({ capacity: 0 });
  const seen: string[] = [];
  merged.subscribe((e) => seen.push(e.type));
  merged.source().add(remote(0, 1, "a"));
  assert.deepEqual(merged.events(), []);
  assert.deepEqual(seen, ["a"]);
  assert.throws(() => new MergedJournal({ capacity: 2.5 }), RangeError);
  assert.throws(() => new MergedJournal({ capacity: -1 }), RangeError);
});

Deno.test("EventTap reads a server's kept and new events over /events, of the types asked for", async () => {
  await using server = await startMessageStoreServer({
    fronts: [{ name: "ml1", port: 0 }],
    seed: 1,
  });
  await using admin = await serveAdmin(server.adminApp(), { port: 0 });
  server.journal.append("store_down", { reason: "before" });
  const events: JournalEvent[] = [];
  let wake = () => {};
  const tap = new EventTap(admin.url, {
    types: ["store_down", "store_up"],
    onEvent: (event) => {
      events.push(event);
      wake();
    },
  });
  try {
    await tap.ready;
    server.journal.append("frame_in", { frame: { type: "hello" } });
    server.journal.append("store_up", { reason: "after" });
    const signal = AbortSignal.timeout(10_000);
    while (events.length < 2 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.reason}`),
      ["store_down before", "store_up after"],
    );
    assert.equal(tap.error, undefined);
  } finally {
    await tap.close();
  }
});

Deno.test("EventTap's ready rejects when the admin API answers with an error", async () => {
  await using server = await startMessageStoreServer({
    fronts: [{ name: "ml1", port: 0 }],
    seed: 1,
  });
  await using admin = await serveAdmin(server.adminApp(), { port: 0 });
  const tap = new EventTap(admin.url, {
    query: { front: "nope" },
    onEvent: () => {},
  });
  await assert.rejects(tap.ready, /GET \/events answered 404/);
  await tap.close();
  assert.match(String(tap.error), /answered 404/);
});
