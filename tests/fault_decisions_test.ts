/**
 * Pins the fault decisions of a fixed seed and workload, recorded before the
 * fault engine was split into one file per fault (issue 10): the same seed
 * must keep giving the same decisions, record for record.
 *
 * Re-record (only when a change of decisions is intended) with
 * `PIN_RECORD=1 deno test -A tests/fault_decisions_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import type { JournalEvent } from "../core/journal/journal.ts";
import { startPrimaryServer } from "../servers/primary.ts";

const FIXTURE = new URL("./fixtures/fault_decisions.json", import.meta.url);
const CONNECTIONS = 6;
const RECORDS = 70;

/** One decision as the journal tells it, in a stable, compact form. */
function decision(event: JournalEvent): string | undefined {
  if (event.type === "fault") {
    return [
      event.fault,
      event.fired ? "fired" : "not",
      `c${event.conn}`,
      event.id ?? "-",
      event.outside ?? "",
    ].join(" ").trimEnd();
  }
  if (event.type === "ack_delayed") {
    return `delayed c${event.conn} ${event.id} ${
      (event.ms as number).toFixed(6)
    }`;
  }
  if (event.type === "closed") return `closed c${event.conn} ${event.how}`;
  return undefined;
}

async function run(): Promise<string[]> {
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 4242,
    faults: {
      dropAck: { probability: 0.25, window: { after: 10, first: 300 } },
      delayAck: { ms: 1, jitterMs: 4, probability: 0.3 },
      duplicateAck: { probability: 0.2, target: { conn: 4 } },
      corruptAck: { probability: 0.1 },
      nackAck: { probability: 0.05 },
      reset: { probability: 0.3 },
    },
  });
  const decisions: string[] = [];
  primary.journal.subscribe((event) => {
    const line = decision(event);
    if (line) decisions.push(line);
  });
  const signal = AbortSignal.timeout(20_000);
  for (let c = 0; c < CONNECTIONS; c++) {
    const socket = connect({
      host: primary.addr.hostname,
      port: primary.addr.port,
    });
    socket.on("error", () => {});
    socket.on("data", () => {});
    const gone = new Promise((resolve) => socket.on("close", resolve));
    const connected = await primary.journal.waitFor(
      (e) =>
        e.type === "connected" && e.local !== undefined &&
        !decisions.some((d) => d.startsWith(`closed c${e.conn} `)),
      { signal },
    );
    const conn = connected.conn as number;
    const reset = await primary.journal.waitFor(
      (e) => e.type === "fault" && e.fault === "reset" && e.conn === conn,
      { signal },
    );
    if (!reset.fired) {
      const lines = Array.from(
        { length: RECORDS },
        (_, i) => `{"type":"record","id":"c${c}r${i}","data":{"n":${i}}}\n`,
      );
      socket.end(lines.join(""));
    }
    await primary.journal.waitFor(
      (e) => e.type === "closed" && e.conn === conn,
      { signal },
    );
    socket.destroy();
    await gone;
  }
  return decisions;
}

Deno.test("fault decisions for seed 4242 and a fixed workload are the ones recorded before the engine refactor", async () => {
  const decisions = await run();
  if (Deno.env.get("PIN_RECORD") === "1") {
    await Deno.writeTextFile(
      FIXTURE,
      JSON.stringify(decisions, null, 1) + "\n",
    );
  }
  const pinned = JSON.parse(await Deno.readTextFile(FIXTURE)) as string[];
  assert.ok(pinned.length > 500, `only ${pinned.length} decisions pinned`);
  assert.deepEqual(decisions, pinned);
});
