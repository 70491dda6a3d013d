import assert from "node:assert/strict";
import { type FaultContext, FaultEngine } from "../core/faults/mod.ts";
import { Journal } from "../core/journal/journal.ts";
import { SeededRandom } from "../core/faults/random.ts";

const at = (conn: number, id?: string, peer = "127.0.0.1"): FaultContext => ({
  conn,
  id,
  peer: `${peer}:5000`,
  peerHost: peer,
});

function engine(seed = 7) {
  const journal = new Journal();
  return {
    journal,
    faults: new FaultEngine({ random: new SeededRandom(seed), journal }),
  };
}

Deno.test("FaultEngine drops near the asked rate over 10 000 records, the same for the same seed", () => {
  const run = (seed: number) => {
    const { faults } = engine(seed);
    faults.set({ dropAck: { probability: 0.3 } });
    return Array.from(
      { length: 10_000 },
      (_, i) => faults.decide("dropAck", at(1, `r${i}`)),
    );
  };
  const a = run(7);
  assert.deepEqual(a, run(7));
  assert.notDeepEqual(a, run(8));
  const dropped = a.filter(Boolean).length;
  assert.ok(dropped > 2800 && dropped < 3200, `dropped ${dropped} of 10000`);
});

Deno.test("FaultEngine windows count eligible events: after N, then first N", () => {
  const { faults } = engine();
  faults.set({ dropAck: { window: { after: 2, first: 3 } } });
  const fired = Array.from(
    { length: 8 },
    (_, i) => faults.decide("dropAck", at(1, `r${i}`)),
  );
  assert.deepEqual(fired, [
    false,
    false,
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
});

Deno.test("FaultEngine targets one connection or one peer", () => {
  const { faults } = engine();
  faults.set({
    dropAck: { target: { conn: 2 } },
    corruptAck: { target: { peer: "127.0.0.2" } },
  });
  assert.equal(faults.decide("dropAck", at(1)), false);
  assert.equal(faults.decide("dropAck", at(2)), true);
  assert.equal(faults.decide("corruptAck", at(1)), false);
  assert.equal(
    faults.decide("corruptAck", at(1, undefined, "127.0.0.2")),
    true,
  );
});

Deno.test("FaultEngine journals every decision, fired or not", () => {
  const { faults, journal } = engine();
  faults.set({ dropAck: { probability: 0.5 } });
  for (let i = 0; i < 20; i++) faults.decide("dropAck", at(1, `r${i}`));
  const decisions = journal.query({ type: "fault" });
  assert.equal(decisions.length, 20);
  assert.ok(decisions.some((e) => e.fired) && decisions.some((e) => !e.fired));
  assert.equal(faults.decide("delayAck", at(1)), false);
  assert.equal(journal.query({ type: "fault" }).length, 20);
});

Deno.test("FaultEngine.patch adds, replaces and removes kinds; bad values change nothing", () => {
  const { faults } = engine();
  faults.set({ dropAck: { probability: 0.3 } });
  faults.patch({ delayAck: { ms: 10 }, dropAck: null });
  assert.deepEqual(faults.get(), { delayAck: { ms: 10 } });
  assert.throws(() => faults.patch({ dropAck: { probability: 2 } }));
  assert.throws(() => faults.set({ nope: {} } as never));
  assert.deepEqual(faults.get(), { delayAck: { ms: 10 } });
  faults.clear();
  assert.deepEqual(faults.get(), {});
});

Deno.test("FaultEngine removes a fault set for a duration when it expires", async () => {
  const { faults, journal } = engine();
  faults.set({ refuse: { window: { forMs: 5 } } });
  assert.equal(faults.active("refuse"), true);
  await journal.waitFor((e) => e.type === "fault_expired", {
    signal: AbortSignal.timeout(2000),
  });
  assert.equal(faults.active("refuse"), false);
  faults.dispose();
});

Deno.test("FaultEngine restarts a kind's streams when that kind is set again, not another's", () => {
  const { faults } = engine();
  const draw = (kind: "dropAck" | "duplicateAck", conn: number) =>
    Array.from(
      { length: 50 },
      (_, i) => faults.decide(kind, at(conn, `r${i}`)),
    );
  faults.set({
    dropAck: { probability: 0.5 },
    duplicateAck: { probability: 0.5 },
  });
  const drop1 = draw("dropAck", 1);
  const drop2 = draw("dropAck", 2);
  const duplicate = draw("duplicateAck", 1);
  faults.patch({ dropAck: { probability: 0.5 } });
  assert.deepEqual(draw("dropAck", 1), drop1);
  assert.deepEqual(draw("dropAck", 2), drop2);
  assert.notDeepEqual(draw("duplicateAck", 1), duplicate);
});
