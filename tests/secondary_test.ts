import assert from "node:assert/strict";
import { startSecondaryServer } from "../servers/secondary.ts";
import { announcedTcp, spawnServer } from "./_cli.ts";
import { connectPeer } from "./_net.ts";

const json = { "content-type": "application/json" };

Deno.test("startSecondaryServer records every record and sends no ACK (TS-4, TS-7)", async () => {
  await using secondary = await startSecondaryServer({ port: 0, seed: 1 });
  await using peer = await connectPeer(secondary.addr);
  const signal = AbortSignal.timeout(5000);
  peer.send({ type: "hello", device: "dev-1" });
  peer.send({ type: "record", id: "r1", data: { lat: 1 } });
  peer.send({ type: "record", id: "r2" });
  peer.send({ type: "packet", kind: "garmin", id: "p1", data: {} });
  // A bad line gets an error frame back: it is the first frame to come, so
  // nothing (no ACK) was sent before it.
  peer.write("not json\n");
  const first = await peer.next(signal);
  assert.equal(first.type, "error");
  assert.equal(first.code, "invalid_json");
  assert.deepEqual(
    secondary.received().map((e) => [e.id, e.kind, e.count, e.device]),
    [
      ["r1", "record", 1, "dev-1"],
      ["r2", "record", 1, "dev-1"],
      ["p1", "garmin", 1, "dev-1"],
    ],
  );
  assert.equal(secondary.journal.query({ type: "ack_sent" }).length, 0);
  assert.deepEqual(secondary.recordCounts().byKind, { record: 2, garmin: 1 });
  const [entry] = secondary.received({ id: "r1" });
  assert.equal(entry.conn, 1);
  assert.match(entry.peer, /^127\.0\.0\.1:\d+$/);
  assert.ok(entry.time > 0 && entry.wall > 0);
});

Deno.test("startSecondaryServer with ack ACKs like the primary, through the ACK faults (FO-2, FO-3)", async () => {
  await using secondary = await startSecondaryServer({
    port: 0,
    ack: true,
    faults: { dropAck: { window: { first: 1 } } },
    seed: 1,
  });
  await using peer = await connectPeer(secondary.addr);
  const signal = AbortSignal.timeout(5000);
  peer.send({ type: "record", id: "r1" });
  peer.send({ type: "record", id: "r2" });
  peer.send({ type: "packet", kind: "sdcard", id: "p1" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "r2" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "p1" });
  assert.deepEqual(
    secondary.journal.query({ type: "ack_dropped" }).map((e) => e.id),
    ["r1"],
  );
  assert.deepEqual(secondary.countsById(), { r1: 1, r2: 1, p1: 1 });
  assert.equal(secondary.state().ack, true);
});

Deno.test("SecondaryServer counts each id over every connection and lists the duplicates (TS-4)", async () => {
  await using secondary = await startSecondaryServer({ port: 0, seed: 1 });
  const signal = AbortSignal.timeout(5000);
  {
    await using a = await connectPeer(secondary.addr);
    a.send({ type: "record", id: "r1" });
    a.send({ type: "record", id: "r2" });
    await secondary.journal.waitFor(
      (e) => e.type === "frame_in" && (e.frame as { id?: string }).id === "r2",
      { signal },
    );
  }
  await using b = await connectPeer(secondary.addr);
  b.send({ type: "record", id: "r1" });
  b.send({ type: "record", id: "r3" });
  b.send({ type: "record", id: "r1" });
  await secondary.journal.waitFor(
    (e) => e.type === "record_repeated" && e.count === 3,
    { signal },
  );
  assert.deepEqual(secondary.countsById(), { r1: 3, r2: 1, r3: 1 });
  assert.deepEqual(secondary.duplicates(), ["r1"]);
  assert.deepEqual(
    secondary.received({ id: "r1" }).map((e) => [e.conn, e.count]),
    [[1, 1], [2, 2], [2, 3]],
  );
  assert.deepEqual(
    secondary.journal.query({ type: "record_repeated" }).map((e) => [
      e.conn,
      e.id,
      e.count,
    ]),
    [[2, "r1", 2], [2, "r1", 3]],
  );
  assert.deepEqual(secondary.received({ conn: 2, limit: 1 })[0].id, "r1");
  const counts = secondary.recordCounts();
  assert.equal(counts.total, 5);
  assert.equal(counts.distinct, 3);
  assert.equal(secondary.clearReceived(), 5);
  assert.deepEqual(secondary.duplicates(), []);
  assert.deepEqual(secondary.received(), []);
});

Deno.test("SecondaryServer record log keeps the newest entries, counts keep every id", async () => {
  await using secondary = await startSecondaryServer({
    port: 0,
    logCapacity: 2,
    seed: 1,
  });
  await using peer = await connectPeer(secondary.addr);
  for (const id of ["r1", "r2", "r3", "r1"]) {
    peer.send({ type: "record", id });
  }
  await secondary.journal.waitFor((e) => e.type === "record_repeated", {
    signal: AbortSignal.timeout(5000),
  });
  assert.deepEqual(secondary.received().map((e) => [e.n, e.id]), [
    [3, "r3"],
    [4, "r1"],
  ]);
  assert.deepEqual(secondary.countsById(), { r1: 2, r2: 1, r3: 1 });
  assert.throws(
    () => startSecondaryServer({ logCapacity: 0 }),
    /Cannot keep a record log of 0 entries/,
  );
});

Deno.test("secondary admin app serves /records, /records/counts and DELETE /records", async () => {
  await using secondary = await startSecondaryServer({ port: 0, seed: 1 });
  await using peer = await connectPeer(secondary.addr);
  peer.send({ type: "record", id: "r1" });
  peer.send({ type: "record", id: "r2" });
  peer.send({ type: "record", id: "r1" });
  await secondary.journal.waitFor((e) => e.type === "record_repeated", {
    signal: AbortSignal.timeout(5000),
  });
  const app = secondary.adminApp();

  const all = await (await app.request("/records")).json();
  assert.equal(all.total, 3);
  assert.deepEqual(all.records.map((e: { id: string }) => e.id), [
    "r1",
    "r2",
    "r1",
  ]);
  const one = await (await app.request("/records?id=r1&limit=1")).json();
  assert.deepEqual(
    one.records.map((e: { id: string; count: number }) => [e.id, e.count]),
    [["r1", 2]],
  );

  const counts = await (await app.request("/records/counts")).json();
  assert.deepEqual(counts, {
    total: 3,
    distinct: 2,
    counts: { r1: 2, r2: 1 },
    duplicates: ["r1"],
    byKind: { record: 3 },
  });

  const bad = await app.request("/records?limit=0");
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error, "invalid_request");

  const state = await (await app.request("/state")).json();
  assert.equal(state.kind, "secondary");
  assert.deepEqual(state.records, { total: 3, distinct: 2, duplicates: 1 });

  const patched = await app.request("/faults", {
    method: "PATCH",
    headers: json,
    body: JSON.stringify({ blackHole: {} }),
  });
  assert.deepEqual(await patched.json(), { blackHole: {} });

  const cleared = await app.request("/records", { method: "DELETE" });
  assert.deepEqual(await cleared.json(), { cleared: 3 });
  const empty = await (await app.request("/records/counts")).json();
  assert.deepEqual(empty.duplicates, []);
  assert.equal(empty.total, 0);

  const doc = await (await app.request("/openapi.json")).json();
  assert.ok(doc.paths["/records/counts"]);
});

Deno.test("SecondaryServer keeps serving through bad input, and keeps what it got", async () => {
  await using secondary = await startSecondaryServer({ port: 0, seed: 1 });
  const signal = AbortSignal.timeout(10_000);
  await using peer = await connectPeer(secondary.addr);
  peer.send({ type: "record", id: "r1" });
  peer.write('{"type":"record","id":\n'); // malformed JSON
  peer.write(`{"type":"record","id":"big","data":"${"x".repeat(70_000)}"}\n`);
  peer.write(new Uint8Array([0xff, 0xfe, 0x00, 0x0a])); // garbage bytes
  peer.send({ type: "record" }); // fails the schema
  peer.send({ type: "record", id: "r2" });
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await peer.next(signal)).code);
  assert.deepEqual(codes, [
    "invalid_json",
    "line_too_long",
    "invalid_utf8",
    "invalid_frame",
  ]);
  await secondary.journal.waitFor(
    (e) => e.type === "frame_in" && (e.frame as { id?: string }).id === "r2",
    { signal },
  );

  // A client vanishing mid-line.
  {
    await using vanishing = await connectPeer(secondary.addr);
    vanishing.send({ type: "record", id: "r3" });
    vanishing.write('{"type":"record","id":"r4"');
    await secondary.journal.waitFor(
      (e) => e.type === "frame_in" && (e.frame as { id?: string }).id === "r3",
      { signal },
    );
  }
  await secondary.journal.waitFor(
    (e) => e.type === "bad_input" && e.code === "truncated",
    { signal },
  );

  // Still serving, on the old connection and on a new one.
  peer.send({ type: "record", id: "r5" });
  await using late = await connectPeer(secondary.addr);
  late.send({ type: "record", id: "r6" });
  await secondary.journal.waitFor(
    (e) => e.type === "frame_in" && (e.frame as { id?: string }).id === "r6",
    { signal },
  );
  await secondary.journal.waitFor(
    (e) => e.type === "frame_in" && (e.frame as { id?: string }).id === "r5",
    { signal },
  );
  assert.deepEqual(
    secondary.received().map((e) => e.id).sort(),
    ["r1", "r2", "r3", "r5", "r6"],
  );
  assert.deepEqual(secondary.duplicates(), []);
  assert.deepEqual(
    secondary.journal.query({ type: "bad_input" }).map((e) => e.code),
    [
      "invalid_json",
      "line_too_long",
      "invalid_utf8",
      "invalid_frame",
      "truncated",
    ],
  );
  assert.equal(secondary.listening, true);
});

Deno.test("secondary CLI prints its line, serves /records/counts and stops cleanly on SIGTERM", async () => {
  await using cli = await spawnServer("servers/secondary.ts", "--ack --seed 3");
  assert.match(
    cli.line,
    /^secondary tcp=127\.0\.0\.1:\d+ ack=true admin=http:\/\/127\.0\.0\.1:\d+ seed=3 codec=line-json$/,
  );
  const tcp = announcedTcp(cli);
  {
    await using peer = await connectPeer(tcp);
    peer.send({ type: "record", id: "r1" });
    peer.send({ type: "record", id: "r1" });
    const signal = AbortSignal.timeout(5000);
    assert.deepEqual(await peer.next(signal), { type: "ack", id: "r1" });
    assert.deepEqual(await peer.next(signal), { type: "ack", id: "r1" });
  }
  const response = await fetch(`${cli.fields.admin}/records/counts`);
  const counts = await response.json();
  assert.deepEqual(counts.duplicates, ["r1"]);
  const { code } = await cli.stop();
  assert.equal(code, 0);
});
