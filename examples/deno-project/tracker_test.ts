import assert from "node:assert/strict";
// The toolkit, by its package name: a workspace member (see deno.json).
import { startPrimaryServer } from "@failover-toolkit/toolkit";
import { sendRecords } from "./tracker.ts";

Deno.test("the tracker sends a record again until the primary ACKs it, when ACKs are dropped", async () => {
  const signal = AbortSignal.timeout(20_000);
  // A primary that drops about half of its ACKs, the same ones every run.
  await using primary = await startPrimaryServer({
    port: 0,
    dropAck: 0.5,
    seed: 7,
  });
  const ids = ["r1", "r2", "r3", "r4", "r5", "r6"];
  const { sends } = await sendRecords(ids, {
    ...primary.addr,
    ackTimeoutMs: 100,
    signal,
  });
  const events = primary.journal.events();
  const dropped = events.filter((e) => e.type === "ack_dropped").length;
  assert.ok(dropped > 0, "the primary dropped some ACKs");
  // Every record was ACKed at last, and each dropped ACK cost one more send.
  for (const id of ids) {
    assert.ok(
      events.some((e) => e.type === "ack_sent" && e.id === id),
      `${id} was ACKed`,
    );
  }
  assert.ok(
    sends >= ids.length + dropped,
    `${sends} sends, ${dropped} dropped`,
  );
});
