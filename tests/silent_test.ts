import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { eventId } from "../core/journal/journal.ts";
import {
  type SilentMode,
  type SilentServer,
  type SilentServerOptions,
  startSilentServer,
} from "../servers/silent.ts";
import { announcedTcp, runScript, spawnServer } from "./_cli.ts";
import { connectPeer } from "./_net.ts";

/** A silent server on a free port, seed 1, in `mode`. */
function startSilent(
  mode: SilentMode = "read",
  options: Partial<SilentServerOptions> = {},
): Promise<SilentServer> {
  return startSilentServer({ port: 0, seed: 1, mode, ...options });
}

/** Collects every byte a socket receives. */
function collect(socket: Socket): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  return chunks;
}

function byteCount(chunks: Uint8Array[]): number {
  return chunks.reduce((sum, chunk) => sum + chunk.length, 0);
}

/** The client's own timeout: it gives up (FIN) after `ms` without an answer. */
function giveUpAfter(socket: Socket, ms: number): void {
  socket.setTimeout(ms, () => socket.end());
}

/** Resolves true on "drain", false if it does not come within `ms`. */
function drainedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off("drain", done);
      resolve(false);
    }, ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("drain", done);
  });
}

/** Whether a connect completes within `ms` (false: still hanging, given up). */
async function connectsWithin(
  addr: { hostname: string; port: number },
  ms: number,
): Promise<Deno.TcpConn | false> {
  try {
    return await Deno.connect({ ...addr, signal: AbortSignal.timeout(ms) });
  } catch (error) {
    if ((error as Error).name === "TimeoutError") return false;
    throw error;
  }
}

Deno.test("SilentServer in read mode reads every frame and never writes a byte, not even for bad input", async () => {
  await using silent = await startSilent();
  const signal = AbortSignal.timeout(10_000);
  const peer = await connectPeer(silent.addr);
  const chunks = collect(peer.socket);
  peer.send({ type: "record", id: "r1" });
  peer.write("not json\n");
  peer.write(`{"type":"record","data":"${"x".repeat(70_000)}"}\n`);
  peer.write(new Uint8Array([0xff, 0xfe, 0x0a]));
  peer.send({ type: "record", id: "r2" });
  await silent.journal.waitFor(
    (e) => e.type === "frame_in" && eventId(e) === "r2",
    { signal },
  );
  giveUpAfter(peer.socket, 100);
  const ended = await silent.journal.waitFor((e) => e.type === "wait_ended", {
    signal,
  });
  assert.equal(await peer.ended, "fin");
  assert.equal(byteCount(chunks), 0, "the server wrote something");
  assert.deepEqual(
    silent.journal.query({ type: "bad_input" }).map((e) => e.code),
    ["invalid_json", "line_too_long", "invalid_utf8"],
  );
  assert.equal(silent.journal.query({ type: "frame_out" }).length, 0);
  const [wait] = silent.waits();
  assert.equal(wait.ended, "peer-fin");
  assert.equal(wait.mode, "read");
  assert.equal(wait.framesIn, 2);
  assert.equal(wait.bytesOut, 0);
  assert.ok(wait.waitedMs >= 80, `waited ${wait.waitedMs} ms`);
  assert.ok(wait.ms >= wait.waitedMs);
  assert.equal(ended.waitedMs, wait.waitedMs);
  assert.equal(ended.ended, "peer-fin");
});

Deno.test("SilentServer in no-read mode never reads: the peer's writes stop draining", async () => {
  await using silent = await startSilent("no-read");
  const signal = AbortSignal.timeout(10_000);
  await using peer = await connectPeer(silent.addr);
  await silent.journal.waitFor((e) => e.type === "connected", { signal });
  peer.send({ type: "record", id: "r1" });
  // 16 MiB: more than the kernel buffers of both ends hold.
  const written = peer.socket.write(new Uint8Array(16 << 20).fill(0x20));
  assert.equal(written, false);
  assert.equal(await drainedWithin(peer.socket, 1000), false);
  const [connection] = silent.connections();
  assert.equal(connection.info().bytesIn, 0);
  assert.equal(silent.journal.query({ type: "frame_in" }).length, 0);
  assert.equal(silent.state().peerWatch, true);

  // Control: once the server reads, the same writes drain and r1 comes out.
  const drained = new Promise((resolve) => peer.socket.once("drain", resolve));
  connection.resumeReading();
  await silent.journal.waitFor(
    (e) => e.type === "frame_in" && eventId(e) === "r1",
    { signal },
  );
  await drained;
  assert.ok(connection.info().bytesIn > 0);
});

Deno.test("SilentServer in no-read mode sees a client give up through the kernel's TCP table", async () => {
  await using silent = await startSilent("no-read", { peerPollMs: 20 });
  const signal = AbortSignal.timeout(10_000);
  const peer = await connectPeer(silent.addr);
  peer.send({ type: "record", id: "r1" });
  giveUpAfter(peer.socket, 100);
  const gone = await silent.journal.waitFor((e) => e.type === "peer_closed", {
    signal,
  });
  assert.equal(gone.how, "fin");
  assert.ok((gone.unreadBytes as number) > 0, "the record was never read");
  await silent.journal.waitFor((e) => e.type === "wait_ended", { signal });
  await peer.ended;
  const [wait] = silent.waits();
  assert.equal(wait.ended, "peer-fin");
  assert.equal(wait.bytesIn, 0);
  assert.ok(wait.waitedMs >= 80, `waited ${wait.waitedMs} ms`);
  assert.equal(silent.journal.query({ type: "frame_in" }).length, 0);
});

Deno.test("SilentServer in no-accept mode fills its accept queue so a connect hangs", async () => {
  await using silent = await startSilent("no-accept");
  const filled = silent.journal.query({ type: "accept_queue_filled" });
  assert.equal(filled.length, 1);
  assert.equal(filled[0].fillers, 1);
  assert.deepEqual(silent.state().acceptQueue, { queued: 1 });
  assert.equal(await connectsWithin(silent.addr, 500), false);
  assert.equal(silent.state().connections, 0);
  assert.equal(silent.journal.query({ type: "connected" }).length, 0);
});

Deno.test("SilentServer in no-accept mode without filling lets backlog + 1 connects complete, then hangs", async () => {
  await using silent = await startSilent("no-accept", {
    backlog: 1,
    fillQueue: false,
  });
  const first = await connectsWithin(silent.addr, 5000);
  const second = await connectsWithin(silent.addr, 5000);
  assert.ok(first && second, "the first two connects should complete");
  try {
    assert.deepEqual(silent.state().acceptQueue, { queued: 2 });
    assert.equal(await connectsWithin(silent.addr, 500), false);
    // Accepted by the kernel, never by the server: writes go nowhere.
    await first.write(
      new TextEncoder().encode('{"type":"record","id":"r1"}\n'),
    );
    assert.equal(silent.journal.query({ type: "connected" }).length, 0);
  } finally {
    first.close();
    second.close();
  }
});

Deno.test("SilentServer in no-accept mode obeys down and up: refused while down, hanging again once up", async () => {
  await using silent = await startSilent("no-accept");
  const port = silent.addr.port;
  silent.down();
  await silent.settled();
  assert.equal(silent.listening, false);
  await assert.rejects(
    Deno.connect({ ...silent.addr, signal: AbortSignal.timeout(5000) }),
    Deno.errors.ConnectionRefused,
  );
  silent.up();
  await silent.settled();
  assert.equal(silent.listening, true);
  assert.equal(silent.addr.port, port);
  assert.equal(await connectsWithin(silent.addr, 500), false);
  assert.deepEqual(
    silent.journal.query({ type: ["listening", "stopped_listening"] }).map((
      e,
    ) => e.type === "listening" ? "listening" : `stopped:${e.reason}`),
    ["listening", "stopped:down", "listening"],
  );
});

Deno.test("SilentServer in trickle mode sends one space at a time and never a frame", async () => {
  await using silent = await startSilent("trickle", { trickleEveryMs: 20 });
  const signal = AbortSignal.timeout(10_000);
  const peer = await connectPeer(silent.addr);
  const chunks = collect(peer.socket);
  peer.send({ type: "record", id: "r1" });
  await silent.journal.waitFor(
    (e) => e.type === "trickle" && e.bytes === 3,
    { signal },
  );
  await silent.journal.waitFor(
    (e) => e.type === "frame_in" && eventId(e) === "r1",
    { signal },
  );
  await peer.close();
  await silent.journal.waitFor((e) => e.type === "wait_ended", { signal });
  const received = new Uint8Array(
    chunks.flatMap((chunk) => [...chunk]),
  );
  assert.ok(received.length >= 3, `received ${received.length} bytes`);
  assert.ok(received.every((byte) => byte === 0x20));
  assert.deepEqual(peer.received, []);
  const [wait] = silent.waits();
  assert.equal(wait.mode, "trickle");
  assert.equal(wait.bytesOut, received.length);
  assert.equal(wait.ended, "peer-fin");
});

Deno.test("SilentServer applies the common faults, and its waits say how each connection ended", async () => {
  await using silent = await startSilent("read", {
    faults: { closeAfter: { frames: 2 } },
  });
  const signal = AbortSignal.timeout(10_000);
  const peer = await connectPeer(silent.addr);
  peer.send({ type: "record", id: "r1" });
  peer.send({ type: "record", id: "r2" });
  await silent.journal.waitFor((e) => e.type === "wait_ended", { signal });
  await peer.ended;
  const [wait] = silent.waits();
  assert.equal(wait.ended, "server-fin");
  assert.equal(wait.reason, "fault:closeAfter");

  silent.faults.set({ refuse: {} });
  await silent.settled();
  await assert.rejects(
    Deno.connect({ ...silent.addr, signal: AbortSignal.timeout(5000) }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("SilentServer keeps serving through bad input and a client vanishing mid-line", async () => {
  await using silent = await startSilent();
  const signal = AbortSignal.timeout(10_000);
  {
    await using vanishing = await connectPeer(silent.addr);
    vanishing.send({ type: "record", id: "r1" });
    vanishing.write('{"type":"record","id":"r2"');
    await silent.journal.waitFor(
      (e) => e.type === "frame_in" && eventId(e) === "r1",
      { signal },
    );
  }
  await silent.journal.waitFor(
    (e) => e.type === "bad_input" && e.code === "truncated",
    { signal },
  );
  const garbage = await connectPeer(silent.addr);
  const chunks = collect(garbage.socket);
  for (let i = 0; i < 150; i++) garbage.write("}{\n");
  garbage.send({ type: "record", id: "r3" });
  await silent.journal.waitFor(
    (e) => e.type === "frame_in" && eventId(e) === "r3",
    { signal },
  );
  // 150 bad lines in a row do not close it (no limit by default), and get no answer.
  assert.equal(silent.connections().length, 1);
  await garbage.close(); // anything the server wrote came before its FIN
  assert.equal(byteCount(chunks), 0);
  assert.equal(silent.journal.query({ type: "bad_input" }).length, 151);
  assert.deepEqual(
    silent.journal.query({ type: "frame_in" }).map(eventId),
    ["r1", "r3"],
  );
});

Deno.test("silent admin app serves /waits, DELETE /waits and the mode in /state", async () => {
  await using silent = await startSilent("trickle", { trickleEveryMs: 1000 });
  const app = silent.adminApp();
  {
    await using peer = await connectPeer(silent.addr);
    peer.send({ type: "record", id: "r1" });
    await silent.journal.waitFor((e) => e.type === "frame_in", {
      signal: AbortSignal.timeout(5000),
    });
  }
  await silent.journal.waitFor((e) => e.type === "wait_ended", {
    signal: AbortSignal.timeout(5000),
  });
  const body = await (await app.request("/waits")).json();
  assert.equal(body.mode, "trickle");
  assert.equal(body.waits.length, 1);
  assert.equal(body.waits[0].conn, 1);
  assert.match(body.waits[0].peer, /^127\.0\.0\.1:\d+$/);
  assert.equal(body.waits[0].framesIn, 1);
  const state = await (await app.request("/state")).json();
  assert.equal(state.kind, "silent");
  assert.equal(state.mode, "trickle");
  assert.equal(state.trickleEveryMs, 1000);
  const cleared = await app.request("/waits", { method: "DELETE" });
  assert.deepEqual(await cleared.json(), { cleared: 1 });
  assert.deepEqual((await (await app.request("/waits")).json()).waits, []);
  const doc = await (await app.request("/openapi.json")).json();
  assert.ok(doc.paths["/waits"]);
});

Deno.test("startSilentServer rejects bad options", () => {
  assert.throws(
    () => startSilentServer({ mode: "loud" as "read" }),
    /Cannot use mode "loud": expected one of read, no-read, no-accept, trickle/,
  );
  assert.throws(
    () => startSilentServer({ mode: "trickle", trickleEveryMs: 0 }),
    /Cannot trickle every 0 ms/,
  );
  assert.throws(
    () => startSilentServer({ mode: "no-accept", backlog: -1 }),
    /Cannot use backlog -1/,
  );
});

Deno.test("silent CLI prints its line with the mode and stops cleanly on SIGTERM", async () => {
  await using cli = await spawnServer(
    "servers/silent.ts",
    "--mode no-accept --backlog 2 --seed 5",
    {
      line:
        /^silent tcp=127\.0\.0\.1:\d+ mode=no-accept admin=http:\/\/127\.0\.0\.1:\d+ seed=5 codec=line-json$/,
    },
  );
  const state = await (await fetch(`${cli.fields.admin}/state`)).json();
  assert.equal(state.mode, "no-accept");
  assert.deepEqual(state.acceptQueue, { queued: 3 });
  const tcp = announcedTcp(cli);
  assert.equal(
    await connectsWithin(tcp, 500),
    false,
  );
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("silent CLI rejects flags that do not fit the mode, naming them", async () => {
  const trickle = await runScript("servers/silent.ts", [
    "--trickle-every",
    "1s",
  ]);
  assert.equal(trickle.code, 2);
  assert.match(
    trickle.stderr,
    /Invalid --trickle-every: it needs --mode trickle/,
  );
  const mode = await runScript("servers/silent.ts", ["--mode", "loud"]);
  assert.equal(mode.code, 2);
  assert.match(
    mode.stderr,
    /Invalid --mode "loud": expected one of read, no-read, no-accept, trickle/,
  );
  const noFill = await runScript("servers/silent.ts", ["--no-fill"]);
  assert.equal(noFill.code, 2);
  assert.match(noFill.stderr, /Invalid --no-fill: it needs --mode no-accept/);
  const zero = await runScript("servers/silent.ts", [
    "--mode",
    "trickle",
    "--trickle-every",
    "0s",
  ]);
  assert.equal(zero.code, 2);
  assert.match(
    zero.stderr,
    /Invalid --trickle-every "0s": expected 1 ms to 1 h/,
  );
});
