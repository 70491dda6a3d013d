import assert from "node:assert/strict";
import { connect } from "node:net";
import { startPrimaryServer } from "../servers/primary.ts";
import { connectPeer } from "./_net.ts";

const timeout = () => AbortSignal.timeout(5000);

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.on(
      "error",
      (error: Error & { code?: string }) => resolve(error.code ?? "error"),
    );
  });
}

Deno.test("TcpServer goes down, refuses connections, and comes back up on the same port", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const port = primary.addr.port;
  const peer = await connectPeer(primary.addr);
  primary.down();
  await primary.settled();
  assert.equal(await peer.ended, "fin");
  assert.equal(primary.listening, false);
  assert.equal(await connectOutcome(port), "ECONNREFUSED");
  primary.up();
  await primary.settled();
  assert.equal(primary.addr.port, port);
  await using again = await connectPeer(primary.addr);
  again.send({ type: "record", id: "r1" });
  assert.deepEqual(await again.next(timeout()), { type: "ack", id: "r1" });
  const types = primary.journal.query({
    type: ["listening", "stopped_listening"],
  })
    .map((e) => e.type);
  assert.deepEqual(types, ["listening", "stopped_listening", "listening"]);
});

Deno.test("TcpServer refuse fault keeps open connections and refuses new ones", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using peer = await connectPeer(primary.addr);
  primary.faults.patch({ refuse: {} });
  await primary.settled();
  assert.equal(await connectOutcome(primary.addr.port), "ECONNREFUSED");
  peer.send({ type: "record", id: "r1" });
  assert.deepEqual(await peer.next(timeout()), { type: "ack", id: "r1" });
});

Deno.test("TcpServer reset fault resets new connections with RST", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    faults: { reset: {} },
  });
  const outcome = await new Promise<string>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: primary.addr.port });
    socket.on(
      "error",
      (error: Error & { code?: string }) => resolve(error.code ?? "error"),
    );
    socket.on("close", () => resolve("closed without error"));
  });
  assert.equal(outcome, "ECONNRESET");
  const closed = await primary.journal.waitFor((e) => e.type === "closed", {
    signal: timeout(),
  });
  assert.equal(closed.how, "rst");
  assert.equal(closed.reason, "fault:reset");
});

Deno.test("TcpServer black-hole reads and never answers", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    faults: { blackHole: {} },
  });
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  peer.write("not json\n");
  await primary.journal.waitFor((e) => e.type === "bad_input", {
    signal: timeout(),
  });
  primary.faults.clear("blackHole");
  peer.send({ type: "record", id: "r2" });
  assert.deepEqual(await peer.next(timeout()), { type: "ack", id: "r2" });
  assert.equal(peer.received.length, 1);
  assert.equal(primary.journal.query({ type: "frame_in" }).length, 2);
});

Deno.test("TcpServer closes a connection by FIN, RST or half-close", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  for (const how of ["fin", "rst"] as const) {
    const peer = await connectPeer(primary.addr);
    const event = await primary.journal.waitFor(
      (e) =>
        e.type === "connected" && !primary.connection(e.conn!)?.closed &&
        primary.connection(e.conn!)?.info().framesIn === 0,
      { signal: timeout(), since: primary.journal.lastSeq - 1 },
    );
    primary.connection(event.conn!)!.close(how);
    assert.equal(await peer.ended, how);
  }
  await using peer = await connectPeer(primary.addr);
  const [info] = primary.connectionInfos();
  primary.connection(info.id)!.close("half-close");
  await primary.journal.waitFor((e) => e.type === "half_closed", {
    signal: timeout(),
  });
  peer.send({ type: "record", id: "late" });
  await primary.journal.waitFor(
    (e) => e.type === "frame_in" && e.conn === info.id,
    { signal: timeout() },
  );
});

Deno.test("TcpServer delays, duplicates and corrupts ACKs as the faults say", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 3,
    faults: {
      delayAck: { ms: 20 },
      duplicateAck: { window: { first: 1 } },
      corruptAck: { window: { after: 1, first: 1 } },
    },
  });
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  peer.send({ type: "record", id: "r2" });
  peer.send({ type: "record", id: "r3" });
  const got = [
    await peer.next(timeout()),
    await peer.next(timeout()),
    await peer.next(timeout()),
    await peer.next(timeout()),
  ];
  assert.deepEqual(got.map((f) => f.id), ["r1", "r1", "corrupt-r2", "r3"]);
  const events = primary.journal.query({ type: ["ack_delayed", "ack_sent"] })
    .map((e) => `${e.type}:${e.id}`);
  assert.deepEqual(events.slice(0, 3), [
    "ack_delayed:r1",
    "ack_delayed:r2",
    "ack_delayed:r3",
  ]);
  assert.deepEqual(
    primary.journal.query({ type: "ack_delayed" }).map((e) => e.ms),
    [20, 20, 20],
  );
});

Deno.test("TcpServer survives bad input and loses nothing it already received", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "before" });
  peer.write("{not json\n");
  peer.write("x".repeat(70_000) + "\n");
  peer.write(new Uint8Array([0xff, 0x00, 0xfe, 0x0a]));
  peer.write('{"type":"record"}\n');
  peer.write('{"type":"teleport","id":"t"}\n');
  peer.send({ type: "record", id: "after" });
  const codes = [];
  for (let i = 0; i < 7; i++) {
    const frame = await peer.next(timeout());
    codes.push(
      frame.type === "error" ? frame.code : `${frame.type}:${frame.id}`,
    );
  }
  assert.deepEqual(codes, [
    "ack:before",
    "invalid_json",
    "line_too_long",
    "invalid_utf8",
    "invalid_frame",
    "unknown_type",
    "ack:after",
  ]);
  assert.equal(primary.journal.query({ type: "bad_input" }).length, 5);
  // A client that vanishes mid-line: the partial line is journalled as truncated.
  const vanishing = await connectPeer(primary.addr);
  vanishing.write('{"type":"record","id":"half');
  vanishing.socket.end();
  await primary.journal.waitFor(
    (e) => e.type === "bad_input" && e.code === "truncated",
    { signal: timeout() },
  );
  assert.deepEqual(
    primary.journal.query({ type: "frame_in" }).map((e) =>
      (e.frame as { id?: string }).id
    ),
    ["before", undefined, "t", "after"],
  );
  peer.send({ type: "record", id: "still" });
  assert.deepEqual(await peer.next(timeout()), { type: "ack", id: "still" });
});

Deno.test("TcpServer journals each reply with its connection, id and frame", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  assert.deepEqual(await peer.next(timeout()), { type: "ack", id: "r1" });
  peer.write("not json\n");
  assert.equal((await peer.next(timeout())).type, "error");
  const [conn] = primary.connections().map((c) => c.id);
  const [ack] = primary.journal.query({ type: "ack_sent" });
  assert.equal(ack.conn, conn);
  assert.equal(ack.id, "r1");
  assert.deepEqual(ack.frame, { type: "ack", id: "r1" });
  const [error] = primary.journal.query({ type: "frame_out" });
  assert.equal(error.conn, conn);
  assert.equal((error.frame as { type: string }).type, "error");
});

Deno.test("TcpServer closes a connection after too many bad frames in a row", async () => {
  await using primary = await startPrimaryServer({ port: 0, maxBadFrames: 3 });
  const peer = await connectPeer(primary.addr);
  peer.write("a\nb\nc\nd\n");
  assert.equal(await peer.ended, "fin");
  const closed = await primary.journal.waitFor((e) => e.type === "closed", {
    signal: timeout(),
  });
  assert.equal(closed.reason, "3 bad frames in a row");
});

Deno.test("TcpServer closeAfter fault closes after N frames", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    faults: { closeAfter: { frames: 2, how: "rst" } },
  });
  const peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  peer.send({ type: "record", id: "r2" });
  assert.equal(await peer.ended, "rst");
  // The Nth frame is still handled (journalled as ACKed) before the close.
  assert.equal(primary.journal.query({ type: "ack_sent", id: "r2" }).length, 1);
});

Deno.test("TcpServer writes the journal to a file with --journal-file", async () => {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    {
      await using primary = await startPrimaryServer({
        port: 0,
        journalFile: file,
      });
      await using peer = await connectPeer(primary.addr);
      peer.send({ type: "record", id: "r1" });
      await peer.next(timeout());
    }
    const types = (await Deno.readTextFile(file)).trim().split("\n").map((l) =>
      JSON.parse(l).type
    );
    assert.ok(
      types.includes("frame_in") && types.includes("ack_sent") &&
        types.includes("closed"),
      types.join(),
    );
  } finally {
    await Deno.remove(file);
  }
});
