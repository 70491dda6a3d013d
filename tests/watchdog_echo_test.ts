import assert from "node:assert/strict";
import {
  type Channel,
  startWatchdogEchoServer,
  WatchdogEchoServer,
} from "../servers/watchdog_echo.ts";
import { assertFlagsRefused, spawnServer } from "./_cli.ts";
import { connectPeer, type TestPeer } from "./_net.ts";
import { owning } from "./_lifetime.ts";
import { within } from "./_raw_peer.ts";

/**
 * A server (as {@linkcode start} makes it), a peer on channel A and one on B,
 * and a 5 s signal for the waits; all closed on dispose.
 */
async function startWithPeers() {
  await using stack = new AsyncDisposableStack();
  const server = stack.use(await start());
  const a = stack.use(await connectPeer(server.addr.A));
  const b = stack.use(await connectPeer(server.addr.B));
  return owning(stack, { server, a, b, signal: AbortSignal.timeout(5000) });
}

/** Sends a watchdog on `peer` and asserts it comes back unchanged. */
async function assertEchoes(
  peer: TestPeer,
  seq: number,
  signal: AbortSignal,
): Promise<void> {
  peer.send({ type: "watchdog", seq });
  assert.deepEqual(await peer.next(signal), { type: "watchdog", seq });
}

function start(
  options: Parameters<typeof startWatchdogEchoServer>[0] = {},
): Promise<WatchdogEchoServer> {
  return startWatchdogEchoServer({
    seed: 1,
    ...options,
    channels: {
      A: { port: 0, ...options.channels?.A },
      B: { port: 0, ...options.channels?.B },
    },
  });
}

Deno.test("watchdog-echo echoes watchdogs unchanged and ACKs data on both channels", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  for (const channel of ["A", "B"] as Channel[]) {
    await using peer = await connectPeer(server.addr[channel]);
    peer.send({ type: "hello", client: "c1", channel });
    peer.send({ type: "watchdog", seq: 4, extra: { keep: [1, 2] } });
    peer.send({ type: "data", id: `d-${channel}`, data: { v: 1 } });
    assert.deepEqual(await peer.next(signal), {
      type: "watchdog",
      seq: 4,
      extra: { keep: [1, 2] },
    });
    assert.deepEqual(await peer.next(signal), {
      type: "ack",
      id: `d-${channel}`,
    });
    assert.equal(server.channel(channel).connections()[0].tags.client, "c1");
  }
  assert.equal(server.addr.A.hostname, "127.0.1.1");
  assert.equal(server.addr.B.hostname, "127.0.2.1");
  for (const channel of ["A", "B"] as Channel[]) {
    assert.deepEqual(
      server.framesOn(channel).map((e) => (e.frame as { type: string }).type),
      ["hello", "watchdog", "data"],
    );
    assert.deepEqual(
      server.repliesOn(channel).map((e) => [e.reply, e.id]),
      [["echo", "wd-4"], ["ack", `d-${channel}`]],
    );
  }
  assert.deepEqual(server.framesOn("A", "data").map((e) => e.channel), ["A"]);
  const kept = server.journal.events();
  assert.ok(kept.length > 0);
  assert.ok(
    kept.every((e) => e.channel === "A" || e.channel === "B"),
    "every event names its channel",
  );
  const ids = server.journal.query({ type: "connected" }).map((e) => e.conn);
  assert.deepEqual(ids, [1, 2], "connection ids are shared by both channels");
});

Deno.test("watchdog-echo cut closes one channel's connections and refuses new ones; the other goes on", async () => {
  await using rig = await startWithPeers();
  const { server, signal, a, b } = rig;
  await server.cut("A");
  assert.equal(await within(a.ended, signal), "fin");
  await assert.rejects(
    connectPeer(server.addr.A),
    (error: Error & { code?: string }) => error.code === "ECONNREFUSED",
  );
  await assertEchoes(b, 1, signal);
  assert.equal(server.channel("B").listening, true);
  const closed = server.journal.query({ type: "closed" });
  assert.deepEqual(closed.map((e) => [e.channel, e.by]), [["A", "server"]]);

  await server.restore("A");
  await using again = await connectPeer(server.addr.A);
  await assertEchoes(again, 2, signal);
});

Deno.test("watchdog-echo black-holes one channel: TCP stays open, nothing is echoed or ACKed", async () => {
  await using rig = await startWithPeers();
  const { server, signal, a, b } = rig;
  server.blackHole("A");
  a.send({ type: "watchdog", seq: 1 });
  a.send({ type: "data", id: "d1" });
  await server.journal.waitFor(
    (e) => e.type === "fault" && e.fault === "blackHole" && e.id === "d1",
    { signal },
  );
  await assertEchoes(b, 1, signal);
  assert.equal(server.channel("A").connections().length, 1, "A stays open");
  assert.deepEqual(server.repliesOn("A"), []);
  const suppressed = server.eventsOn("A", { type: "fault" })
    .filter((e) => e.fault === "blackHole").map((e) => e.suppressed);
  assert.deepEqual(suppressed, ["watchdog", "ack"]);

  await server.restore("A");
  await assertEchoes(a, 2, signal);
});

Deno.test("watchdog-echo delays one channel's echoes only", async () => {
  await using rig = await startWithPeers();
  const { server, signal, a, b } = rig;
  server.delayEcho("A", 30);
  a.send({ type: "watchdog", seq: 1 });
  b.send({ type: "watchdog", seq: 1 });
  assert.deepEqual(await a.next(signal), { type: "watchdog", seq: 1 });
  assert.deepEqual(await b.next(signal), { type: "watchdog", seq: 1 });
  assert.deepEqual(
    server.eventsOn("A", { type: ["ack_delayed", "ack_sent"] })
      .map((e) => [e.type, e.reply, e.id]),
    [["ack_delayed", "echo", "wd-1"], ["ack_sent", "echo", "wd-1"]],
  );
  assert.deepEqual(
    server.eventsOn("B", { type: ["ack_delayed", "ack_sent"] })
      .map((e) => e.type),
    ["ack_sent"],
  );
});

Deno.test("watchdog-echo drops the next N watchdog echoes of one channel", async () => {
  await using rig = await startWithPeers();
  const { server, signal, a, b } = rig;
  server.dropWatchdogs("A", 2);
  for (let seq = 1; seq <= 3; seq++) {
    a.send({ type: "watchdog", seq });
    b.send({ type: "watchdog", seq });
  }
  assert.deepEqual(await a.next(signal), { type: "watchdog", seq: 3 });
  for (let seq = 1; seq <= 3; seq++) {
    assert.deepEqual(await b.next(signal), { type: "watchdog", seq });
  }
  assert.deepEqual(
    server.eventsOn("A", { type: "ack_dropped" }).map((e) => [e.reply, e.id]),
    [["echo", "wd-1"], ["echo", "wd-2"]],
  );
  assert.deepEqual(server.eventsOn("B", { type: "ack_dropped" }), []);
});

Deno.test("watchdog-echo rejects bad input with an error frame and keeps the connection open", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using peer = await connectPeer(server.addr.B);
  peer.write("not json\n");
  peer.send({ type: "record", id: "r1" });
  peer.send({ type: "watchdog", seq: "one" });
  peer.send({ type: "data" });
  peer.send({ type: "hello", channel: "C" });
  const codes = [];
  for (let i = 0; i < 5; i++) {
    const frame = await peer.next(signal);
    assert.equal(frame.type, "error");
    codes.push(frame.code);
  }
  assert.deepEqual(codes, [
    "invalid_json",
    "unknown_type",
    "invalid_frame",
    "invalid_frame",
    "invalid_frame",
  ]);
  await assertEchoes(peer, 9, signal);
  const bad = server.journal.query({ type: "bad_input" });
  assert.equal(bad.length, 5);
  assert.ok(bad.every((e) => e.channel === "B"));
});

Deno.test("startWatchdogEchoServer gives each channel its own faults, or the shared ones", async () => {
  await using server = await start({
    dropAck: 0.5,
    channels: { B: { faults: { blackHole: {} } } },
  });
  assert.deepEqual(server.channel("A").faults.get(), {
    dropAck: { probability: 0.5 },
  });
  assert.deepEqual(server.channel("B").faults.get(), { blackHole: {} });
  assert.throws(
    () => server.channel("C" as Channel),
    /Cannot find channel "C"/,
  );
  // Closing both channels one by one closes the server.
  await server.channel("A").close();
  await server.channel("B").close();
  await within(server.finished, AbortSignal.timeout(5000));
  assert.equal(server.signal.aborted, true);
});

Deno.test("watchdog-echo admin app serves each channel's routes and the shortcuts", async () => {
  await using server = await start();
  const app = server.adminApp();
  const json = async (path: string, init?: RequestInit) => {
    const response = await app.request(path, init);
    return { status: response.status, body: await response.json() };
  };
  assert.deepEqual((await json("/health")).body, {
    ok: true,
    name: "watchdog-echo",
    kind: "watchdog-echo",
  });
  const state = (await json("/state")).body;
  assert.equal(state.channels.A.listening, true);
  assert.equal(state.channels.B.addr.hostname, "127.0.2.1");

  const cut = await json("/channels/A/cut?how=rst", { method: "POST" });
  assert.equal(cut.status, 200);
  assert.equal(cut.body.listening, false);
  assert.deepEqual(cut.body.faults, { down: { how: "rst" } });
  assert.equal(server.channel("B").listening, true);

  const put = await json("/channels/B/faults", {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ delayAck: { ms: 10 } }),
  });
  assert.deepEqual(put.body, { delayAck: { ms: 10 } });
  assert.equal(
    (await json("/channels/B/drop-watchdogs?n=3", { method: "POST" })).body
      .faults.dropAck.window.first,
    3,
  );
  assert.deepEqual(
    (await json("/channels/A/restore", { method: "POST" })).body.faults,
    {},
  );
  assert.equal(server.channel("A").listening, true);
  assert.deepEqual(
    (await json("/channels/A/black-hole", { method: "POST" })).body.faults,
    { blackHole: {} },
  );
  assert.deepEqual(
    (await json("/channels/A/delay-echo?ms=25", { method: "POST" })).body
      .faults.delayAck,
    { ms: 25 },
  );

  const journal = (await json("/journal?channel=B&type=faults_changed")).body;
  assert.ok(journal.events.length >= 2);
  assert.ok(
    journal.events.every((e: { channel: string }) => e.channel === "B"),
  );
  const channelJournal = (await json("/channels/A/journal")).body;
  assert.ok(
    channelJournal.events.every((e: { channel: string }) => e.channel === "A"),
  );

  assert.equal((await json("/channels/C/cut", { method: "POST" })).status, 400);
  assert.equal(
    (await json("/channels/A/delay-echo", { method: "POST" })).status,
    400,
  );
  assert.equal(
    (await json("/channels/A/drop-watchdogs?n=0", { method: "POST" })).status,
    400,
  );
  assert.equal((await json("/journal?channel=Z")).status, 404);
  assert.equal((await json("/nope")).status, 404);
  const doc = (await json("/openapi.json")).body;
  assert.ok(doc.paths["/channels/{channel}/cut"]);
  assert.ok(doc.paths["/channels/B/faults"]);
});

Deno.test("watchdog-echo CLI prints its line with both channels and applies per-channel faults", async () => {
  await using cli = await spawnServer(
    "servers/watchdog_echo.ts",
    '--seed 7 --delay-ack 5ms --faults-b {"blackHole":{}}',
    {
      line:
        /^watchdog-echo tcp=A@127\.0\.1\.1:\d+,B@127\.0\.2\.1:\d+ admin=http:\/\/127\.0\.0\.1:\d+ seed=7 codec=line-json$/,
    },
  );
  const faultsA = await (await fetch(`${cli.fields.admin}/channels/A/faults`))
    .json();
  const faultsB = await (await fetch(`${cli.fields.admin}/channels/B/faults`))
    .json();
  assert.deepEqual(faultsA, { delayAck: { ms: 5 } });
  assert.deepEqual(faultsB, { blackHole: {} });
  const [, hostA, portA] = /A@([\d.]+):(\d+)/.exec(cli.fields.tcp)!;
  await using peer = await connectPeer({
    hostname: hostA,
    port: Number(portA),
  });
  peer.send({ type: "watchdog", seq: 1 });
  assert.deepEqual(await peer.next(AbortSignal.timeout(5000)), {
    type: "watchdog",
    seq: 1,
  });
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("watchdog-echo CLI rejects bad flags naming them", async () => {
  await assertFlagsRefused("servers/watchdog_echo.ts", [
    ["--port-a 70000", /Invalid --port-a "70000"/],
    [
      '--faults-b {"dropAck":{"probability":2}}',
      /Invalid --faults-b: dropAck\.probability/,
    ],
    ["--host x", /host/],
  ]);
});

Deno.test("the server's port is both channels' port unless a channel names its own", async () => {
  // Not started: where each channel will listen is already decided.
  await using server = new WatchdogEchoServer({
    port: 7040,
    channels: { B: { port: 7050 } },
  });
  assert.deepEqual(server.addr, {
    A: { hostname: "127.0.1.1", port: 7040 },
    B: { hostname: "127.0.2.1", port: 7050 },
  });
});
