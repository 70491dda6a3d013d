import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { FaultEngine, MAX_TIMER_MS } from "../core/faults/mod.ts";
import { Journal } from "../core/journal/journal.ts";
import { SeededRandom } from "../core/faults/random.ts";
import { TcpServer } from "../core/server/tcp_server.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { startSilentServer } from "../servers/silent.ts";
import { journalled } from "./_journal.ts";
import { connectPeer } from "./_net.ts";

const timeout = () => AbortSignal.timeout(10_000);
const jsonBody = (method: string, body: unknown) => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

function rawSocket(addr: { hostname: string; port: number }): Promise<{
  socket: Socket;
  ended: Promise<"fin" | "rst">;
  received: Uint8Array[];
}> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: addr.hostname, port: addr.port });
    const received: Uint8Array[] = [];
    let how: "fin" | "rst" = "fin";
    socket.on("data", (chunk: Uint8Array) => received.push(chunk));
    socket.on("error", (error: Error & { code?: string }) => {
      if (error.code === "ECONNRESET") how = "rst";
    });
    const ended = new Promise<"fin" | "rst">((done) =>
      socket.on("close", () => done(how))
    );
    socket.once("error", reject);
    socket.once("connect", () => resolve({ socket, ended, received }));
  });
}

Deno.test("FaultEngine rejects a window longer than the runtime's timers, naming the maximum (issue 13 #8)", async () => {
  const faults = new FaultEngine({
    random: new SeededRandom(1),
    journal: new Journal(),
  });
  assert.throws(
    () => faults.set({ down: { window: { forMs: 30 * 86_400_000 } } }),
    new RegExp(String(MAX_TIMER_MS)),
  );
  assert.deepEqual(faults.get(), {});
  faults.dispose();
  await using primary = await startPrimaryServer({ port: 0 });
  const response = await primary.adminApp().request(
    "/faults",
    jsonBody("PUT", { down: { window: { forMs: 2 ** 31 } } }),
  );
  assert.equal(response.status, 400);
  assert.match((await response.json()).message, /2147483647 ms/);
  assert.equal(primary.listening, true);
});

Deno.test('rates are taken as the CLI takes them: 0.3 or "30%", and a bad one says how to write it (issue 15)', async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const app = primary.adminApp();
  let response = await app.request(
    "/faults",
    jsonBody("PUT", {
      dropAck: { probability: "30%" },
      reset: { probability: "0.5" },
    }),
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    dropAck: { probability: 0.3 },
    reset: { probability: 0.5 },
  });
  response = await app.request(
    "/faults",
    jsonBody("PATCH", { dropAck: { probability: "lots" } }),
  );
  assert.equal(response.status, 400);
  assert.match((await response.json()).message, /such as 0\.3 or "30%"/);
  assert.deepEqual(primary.faults.get().dropAck, { probability: 0.3 });
});

Deno.test("Connection journals a frame cut short by the peer's RST as truncated (issue 13)", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const signal = timeout();
  const { socket, ended } = await rawSocket(primary.addr);
  socket.write('{"type":"record","id":"r1"}\n{"type":"record","id":"r2"');
  await journalled(primary, "ack_sent", { id: "r1" }, signal);
  await primary.journal.waitFor((e) => e.type === "frame_in", { signal });
  socket.resetAndDestroy();
  await ended;
  const bad = await primary.journal.waitFor(
    (e) => e.type === "bad_input" && e.code === "truncated",
    { signal },
  );
  const closed = await primary.journal.waitFor((e) => e.type === "closed", {
    signal,
  });
  assert.equal(closed.how, "rst");
  assert.equal(bad.conn, closed.conn);
});

Deno.test("resetAfter resets a connection after N bytes in, the bytes before the limit still read (issues 11, 15)", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    faults: { resetAfter: { bytes: 40 } },
  });
  const signal = timeout();
  const { socket, ended } = await rawSocket(primary.addr);
  // 28 bytes, then 28 more: the limit falls in the second record.
  socket.write('{"type":"record","id":"r1"}\n');
  await journalled(primary, "ack_sent", { id: "r1" }, signal);
  socket.write('{"type":"record","id":"r2"}\n');
  assert.equal(await ended, "rst");
  const fired = await primary.journal.waitFor(
    (e) => e.type === "fault" && e.fault === "resetAfter",
    { signal },
  );
  assert.equal(fired.after, "bytes");
  const closed = await primary.journal.waitFor((e) => e.type === "closed", {
    signal,
  });
  assert.equal(closed.reason, "fault:resetAfter");
  assert.equal(primary.journal.query({ type: "frame_in" }).length, 1);
});

Deno.test("resetAfter resets a connection N ms after accept, on any server", async () => {
  await using silent = await startSilentServer({
    port: 0,
    faults: { resetAfter: { ms: 30 } },
  });
  const signal = timeout();
  const { ended } = await rawSocket(silent.addr);
  assert.equal(await ended, "rst");
  const closed = await silent.journal.waitFor((e) => e.type === "closed", {
    signal,
  });
  assert.equal(closed.reason, "fault:resetAfter");
  assert.ok((closed.ms as number) >= 25, `closed after ${closed.ms} ms`);
});

Deno.test("silent modes are faults any server can use: noRead and trickle on a primary", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    faults: {
      noRead: { target: { conn: 1 } },
      trickle: { everyMs: 10, target: { conn: 1 } },
    },
  });
  const signal = timeout();
  const { socket, received } = await rawSocket(primary.addr);
  socket.write('{"type":"record","id":"r1"}\n');
  await primary.journal.waitFor(
    (e) => e.type === "trickle" && e.bytes === 3,
    { signal },
  );
  // Connection 2 is read and ACKed; connection 1 never was.
  await using other = await connectPeer(primary.addr);
  other.send({ type: "record", id: "r2" });
  assert.deepEqual(await other.next(signal), { type: "ack", id: "r2" });
  assert.equal(primary.connection(1)?.info().bytesIn, 0);
  assert.ok(
    received.flatMap((chunk) => [...chunk]).every((byte) => byte === 0x20),
  );
  socket.destroy();
});

Deno.test("a rule's window.schedule puts it on and off; pause, resume and force are every server's", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 3,
    faults: {
      dropAck: {
        window: { schedule: { on: "1h", off: "1h", paused: true } },
      },
    },
  });
  const signal = timeout();
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "r1" });
  assert.equal(primary.scheduleOf("dropAck")?.state, "off");
  await primary.forceSchedule("dropAck", "on");
  peer.send({ type: "record", id: "r2" });
  await primary.journal.waitFor(
    (e) => e.type === "ack_dropped" && e.id === "r2",
    { signal },
  );
  const status = primary.scheduleOf("dropAck")!;
  assert.equal(status.state, "on");
  assert.equal(status.paused, true);
  assert.equal(status.nextMs, 3_600_000);
  assert.equal(primary.resumeSchedule("dropAck"), true);
  assert.equal(primary.scheduleOf("dropAck")?.paused, false);
  assert.equal(primary.pauseSchedule("dropAck"), true);
  await primary.forceSchedule("dropAck", "off");
  peer.send({ type: "record", id: "r3" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "r3" });
  assert.deepEqual(
    primary.journal.query({ type: "transition" }).map((e) =>
      `${e.state}:${e.reason}`
    ),
    ["off:start", "on:force", "off:force"],
  );
  // The rule reads as it was set, on or off.
  assert.deepEqual(Object.keys(primary.faults.get()), ["dropAck"]);
});

Deno.test("a seeded schedule draws the same periods for the same seed", () => {
  const periods = (seed: number) => {
    const faults = new FaultEngine({
      random: new SeededRandom(seed),
      journal: new Journal(),
    });
    const seen: number[] = [];
    faults.onTransition((status) => seen.push(status.periodMs));
    faults.set({
      blackHole: {
        window: { schedule: { on: "1s..3s", off: "2s..8s", paused: true } },
      },
    });
    for (let i = 0; i < 6; i++) {
      faults.forceSchedule("blackHole", i % 2 ? "off" : "on");
    }
    faults.dispose();
    return seen;
  };
  const a = periods(7);
  assert.deepEqual(a, periods(7));
  assert.notDeepEqual(a, periods(8));
  assert.ok(a.every((ms, i) => i % 2 ? ms >= 1000 && ms <= 3000 : ms >= 1000));
});

Deno.test("a target's channel aims a fault at one listener's connections", async () => {
  const run = async (channel: string) => {
    await using server = new TcpServer("echo", {
      port: 0,
      label: "A",
      faults: { reset: { target: { channel } } },
    });
    await server.start();
    const signal = timeout();
    const socket = connect({
      host: server.addr.hostname,
      port: server.addr.port,
    });
    socket.on("error", () => {});
    const gone = new Promise((resolve) => socket.on("close", resolve));
    const connected = await server.journal.waitFor(
      (e) => e.type === "connected",
      { signal },
    );
    if (channel === "A") {
      const closed = await server.journal.waitFor(
        (e) => e.type === "closed",
        { signal },
      );
      assert.equal(closed.reason, "fault:reset");
    }
    socket.destroy();
    await gone;
    return server.journal.query({ type: "fault" }).filter((e) =>
      e.conn === connected.conn
    ).length;
  };
  assert.equal(await run("A"), 1);
  assert.equal(await run("B"), 0);
});

Deno.test("SilentServer counts a binary client's wait from its last whole frame, not its leftover bytes (issue 15)", async () => {
  // An MQTT CONNECT and a PostgreSQL StartupMessage: no line, no frame.
  const peers = {
    mqtt: Uint8Array.of(
      0x10,
      0x10,
      0x00,
      0x04,
      0x4d,
      0x51,
      0x54,
      0x54,
      0x04,
      0x02,
      0x00,
      0x3c,
      0x00,
      0x04,
      0x74,
      0x65,
      0x73,
      0x74,
    ),
    postgres: Uint8Array.of(
      0x00,
      0x00,
      0x00,
      0x17,
      0x00,
      0x03,
      0x00,
      0x00,
      0x75,
      0x73,
      0x65,
      0x72,
      0x00,
      0x61,
      0x6c,
      0x69,
      0x63,
      0x65,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
    ),
  };
  await using silent = await startSilentServer({
    port: 0,
    mode: "trickle",
    trickleEveryMs: 15,
  });
  const signal = timeout();
  for (const [name, bytes] of Object.entries(peers)) {
    const { socket, ended } = await rawSocket(silent.addr);
    const connected = await silent.journal.waitFor(
      (e) =>
        e.type === "connected" &&
        !silent.waits().some((w) => w.conn === e.conn),
      { signal },
    );
    socket.write(bytes);
    // The client waits for an answer: three trickled bytes, at least 45 ms.
    await silent.journal.waitFor(
      (e) => e.type === "trickle" && e.conn === connected.conn && e.bytes === 3,
      { signal },
    );
    socket.end();
    await ended;
    const ended_ = await silent.journal.waitFor(
      (e) => e.type === "wait_ended" && e.conn === connected.conn,
      { signal },
    );
    assert.ok(
      (ended_.waitedMs as number) >= 40,
      `${name}: waited ${ended_.waitedMs} ms of ${ended_.ms}`,
    );
  }
  assert.equal(
    silent.journal.query({ type: "bad_input" }).filter((e) =>
      e.code === "truncated"
    ).length,
    2,
  );
});
