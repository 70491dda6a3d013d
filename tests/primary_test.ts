import assert from "node:assert/strict";
import { startPrimaryServer } from "../servers/primary.ts";
import { spawnCli } from "./_cli.ts";
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

Deno.test("primary CLI prints its line and stops cleanly on SIGTERM", async () => {
  await using cli = await spawnCli("servers/primary.ts", [
    "--port",
    "0",
    "--admin-port",
    "0",
    "--drop-ack",
    "30%",
    "--seed",
    "7",
  ]);
  assert.match(
    cli.line,
    /^primary tcp=127\.0\.0\.1:\d+ admin=http:\/\/127\.0\.0\.1:\d+ seed=7 codec=line-json$/,
  );
  const response = await fetch(`${cli.fields.admin}/faults`);
  assert.deepEqual(await response.json(), { dropAck: { probability: 0.3 } });
  const { code } = await cli.stop();
  assert.equal(code, 0);
});
