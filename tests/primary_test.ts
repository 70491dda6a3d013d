import assert from "node:assert/strict";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { Frame } from "../core/codecs/frame.ts";
import { type PrimaryServer, startPrimaryServer } from "../servers/primary.ts";
import { spawnServer } from "./_cli.ts";
import { connectPeer, type TestPeer } from "./_net.ts";

/**
 * Sends one record from each peer (its id given beside it) and waits until
 * `primary` has delayed the ACK of each.
 */
async function sendDelayed(
  primary: PrimaryServer,
  sends: [TestPeer, string][],
  signal: AbortSignal,
): Promise<void> {
  for (const [peer, id] of sends) peer.send({ type: "record", id });
  for (const [, id] of sends) {
    await primary.journal.waitFor(
      (e) => e.type === "ack_delayed" && e.id === id,
      { signal },
    );
  }
}

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

Deno.test("startPrimaryServer drops ACKs by the seed, record for record, near the rate over 10 000 records", async () => {
  const run = async (seed: number) => {
    await using primary = await startPrimaryServer({
      port: 0,
      dropAck: 0.3,
      seed,
    });
    const dropped: string[] = [];
    primary.journal.subscribe((e) => {
      if (e.type === "ack_dropped") dropped.push(e.id as string);
    });
    await using peer = await connectPeer(primary.addr);
    const lines = Array.from(
      { length: 10_000 },
      (_, i) => `{"type":"record","id":"r${i}"}\n`,
    );
    peer.write(lines.join(""));
    await primary.journal.waitFor(
      (e) => e.type === "fault" && e.id === "r9999",
      { signal: AbortSignal.timeout(20_000) },
    );
    return dropped;
  };
  const first = await run(7);
  assert.deepEqual(first, await run(7));
  assert.notDeepEqual(first, await run(8));
  assert.ok(
    first.length > 2800 && first.length < 3200,
    `dropped ${first.length} of 10000`,
  );
});

Deno.test("primary CLI prints its line and stops cleanly on SIGTERM", async () => {
  await using cli = await spawnServer(
    "servers/primary.ts",
    "--drop-ack 30% --seed 7",
    {
      line:
        /^primary tcp=127\.0\.0\.1:\d+ admin=http:\/\/127\.0\.0\.1:\d+ seed=7 codec=line-json$/,
    },
  );
  const response = await fetch(`${cli.fields.admin}/faults`);
  assert.deepEqual(await response.json(), { dropAck: { probability: 0.3 } });
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("delayed ACKs of every connection wait in the server's one queue; a connection that closes takes its own out", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 1,
    delayAck: 60_000,
  });
  const signal = AbortSignal.timeout(5000);
  const a = await connectPeer(primary.addr);
  await using b = await connectPeer(primary.addr);
  await sendDelayed(primary, [[a, "a1"], [b, "b1"]], signal);
  const delayed = primary.journal.query({ type: "ack_delayed", id: "a1" })[0];
  await a.close();
  await primary.journal.waitFor(
    (e) => e.type === "closed" && e.conn === delayed.conn,
    { signal },
  );
  // b1 still waits; closing the server drops it. A delayed ACK left in the
  // queue would leave its timer armed, which fails this test (sanitizer).
  assert.equal(primary.journal.query({ type: "ack_sent" }).length, 0);
});

Deno.test("a delayed reply that cannot be sent is journalled as an error and the others in its batch still go out", async () => {
  const lineJson = createCodec("line-json");
  // Fails to encode one ACK, as a broken codec would.
  const codec = {
    ...lineJson,
    encodeText: undefined,
    encode(frame: Frame) {
      if (frame.id === "bad") throw new Error("cannot encode bad");
      return lineJson.encode(frame);
    },
  };
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 1,
    codec,
    delayAck: 50,
  });
  const signal = AbortSignal.timeout(5000);
  await using peer = await connectPeer(primary.addr);
  // One write: the two records are read together, delayed together and
  // fall due in the same batch, "bad" first.
  peer.write(
    '{"type":"record","id":"bad"}\n{"type":"record","id":"good"}\n',
  );
  const error = await primary.journal.waitFor(
    (e) => e.type === "error" && e.id === "bad",
    { signal },
  );
  assert.match(
    String(error.message),
    /Cannot send a delayed reply: cannot encode bad/,
  );
  await primary.journal.waitFor(
    (e) => e.type === "ack_sent" && e.id === "good",
    { signal },
  );
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "good" });
});
