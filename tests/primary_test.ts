import assert from "node:assert/strict";
import { startPrimaryServer } from "../servers/primary.ts";
import { connectPeer } from "./_net.ts";

Deno.test("startPrimaryServer ACKs every record and packet", async () => {
  await using primary = await startPrimaryServer({ port: 0, seed: 1 });
  await using peer = await connectPeer(primary.addr);
  const signal = AbortSignal.timeout(5000);
  peer.send({ type: "hello", device: "dev-1" });
  peer.send({ type: "record", id: "r1", data: { lat: 1 } });
  peer.send({ type: "packet", kind: "garmin", id: "p1", data: {} });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "r1" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "p1" });
  const [info] = primary.connectionInfos();
  assert.equal(info.tags.device, "dev-1");
});

Deno.test("startPrimaryServer drops ACKs by the seed, record for record", async () => {
  const run = async () => {
    await using primary = await startPrimaryServer({
      port: 0,
      dropAck: 0.3,
      seed: 7,
    });
    await using peer = await connectPeer(primary.addr);
    for (let i = 0; i < 200; i++) peer.send({ type: "record", id: `r${i}` });
    const signal = AbortSignal.timeout(5000);
    await primary.journal.waitFor(
      (e) => e.type === "fault" && e.id === "r199",
      { signal },
    );
    return primary.journal.query({ type: "ack_dropped" }).map((e) => e.id);
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(first, second);
  assert.ok(first.length > 30 && first.length < 90, `dropped ${first.length}`);
});
