import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { concat } from "../core/codecs/_bytes.ts";
import type { JournalEvent } from "../core/journal/journal.ts";
import {
  FlappingServer,
  type FlappingServerOptions,
  startFlappingServer,
} from "../servers/flapping.ts";
import { assertFlagsRefused, runScript, spawnServer } from "./_cli.ts";
import { connectPeer, type TestPeer } from "./_net.ts";
import { checked } from "./_lifetime.ts";
import { nextWake, within } from "./_raw_peer.ts";

type Addr = { hostname: string; port: number };

/** A flapping server on a free port, seed 1, whose schedule waits (paused). */
function startPaused(
  options: Partial<FlappingServerOptions> = {},
): Promise<FlappingServer> {
  return startFlappingServer({ port: 0, seed: 1, paused: true, ...options });
}

/** Connects a peer and asserts a record sent on it is ACKed. */
async function ackedPeer(
  addr: Addr,
  id: string,
  signal: AbortSignal,
): Promise<TestPeer> {
  return checked(await connectPeer(addr), async (peer) => {
    peer.send({ type: "record", id });
    assert.deepEqual(await peer.next(signal), { type: "ack", id });
  });
}

/**
 * Forces a proxying flapping server down; resolves with how its client's
 * connection ended and the journalled close of the upstream.
 */
async function proxyDown(
  server: FlappingServer,
  client: RawClient,
  signal: AbortSignal,
): Promise<{ ended: string; closed: JournalEvent }> {
  await server.force("down");
  const ended = await within(client.ended, signal);
  const closed = await server.journal.waitFor(
    (e) => e.type === "upstream_closed",
    { signal },
  );
  return { ended, closed };
}

/** Waits for the next `count` transition events and returns them in order. */
async function transitions(
  server: FlappingServer,
  count: number,
  signal: AbortSignal,
  since = 0,
): Promise<JournalEvent[]> {
  const seen: JournalEvent[] = [];
  while (seen.length < count) {
    const event = await server.journal.waitFor(
      (e) => e.type === "transition",
      { signal, since },
    );
    seen.push(event);
    since = event.seq;
  }
  return seen;
}

/** A raw TCP client: bytes in, bytes out, no codec. */
interface RawClient extends AsyncDisposable {
  socket: Socket;
  /** Resolves once `count` bytes have come in all, with all of them. */
  bytes(count: number, signal: AbortSignal): Promise<Uint8Array>;
  ended: Promise<"fin" | "rst" | "error">;
}

function rawConnect(addr: Addr): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: addr.hostname, port: addr.port });
    const chunks: Uint8Array[] = [];
    let total = 0;
    const waiters = new Set<() => void>();
    let how: "fin" | "rst" | "error" | undefined;
    const ended = new Promise<"fin" | "rst" | "error">((done) => {
      socket.on("end", () => how ??= "fin");
      socket.on("error", (error: Error & { code?: string }) => {
        how ??= error.code === "ECONNRESET" ? "rst" : "error";
      });
      socket.on("close", () => {
        done(how ?? "fin");
        for (const wake of waiters) wake();
      });
    });
    socket.on("data", (chunk: Uint8Array) => {
      chunks.push(chunk);
      total += chunk.length;
      for (const wake of waiters) wake();
    });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve({
        socket,
        ended,
        async bytes(count, signal) {
          while (total < count) {
            if (socket.destroyed) throw new Error("Closed before the bytes");
            signal.throwIfAborted();
            await nextWake(waiters, signal);
          }
          return concat(chunks);
        },
        async [Symbol.asyncDispose]() {
          if (!socket.destroyed) socket.destroy();
          await ended;
        },
      });
    });
  });
}

/**
 * A tiny binary echo server (no lines, no frames): echoes every chunk, and
 * closes a connection (FIN) on a chunk holding 0x04.
 */
async function startEcho(): Promise<
  AsyncDisposable & {
    addr: Addr;
    received: () => number;
    /** How each accepted connection ended, as the echo server saw it, in order. */
    endings: Promise<"fin" | "rst" | "error">[];
  }
> {
  const sockets = new Set<Socket>();
  const endings: Promise<"fin" | "rst" | "error">[] = [];
  let received = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let how: "fin" | "rst" | "error" | undefined;
    socket.on("end", () => how ??= "fin");
    socket.on("error", (error: Error & { code?: string }) => {
      how ??= error.code === "ECONNRESET" ? "rst" : "error";
    });
    endings.push(
      new Promise((done) => socket.on("close", () => done(how ?? "fin"))),
    );
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (chunk: Uint8Array) => {
      received += chunk.length;
      if (chunk.includes(0x04)) socket.end();
      else socket.write(chunk);
    });
  });
  await new Promise<void>((done) =>
    server.listen({ host: "127.0.0.1", port: 0 }, done)
  );
  const port = (server.address() as { port: number }).port;
  return {
    addr: { hostname: "127.0.0.1", port },
    received: () => received,
    endings,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(endings);
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * Connects and waits until the connection is closed: how it ended as the
 * client saw it. A reset can come before the connect completes or just
 * after; both read `rst`.
 */
async function connectUntilClosed(
  addr: Addr,
  signal: AbortSignal,
): Promise<"refused" | "rst" | "fin" | "error"> {
  let client: RawClient;
  try {
    client = await rawConnect(addr);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ECONNREFUSED") return "refused";
    if (code === "ECONNRESET") return "rst";
    throw error;
  }
  await using _ = client;
  return await within(client.ended, signal);
}

const BINARY = new Uint8Array([0x00, 0xff, 0x10, 0x00, 0xfe, 0x7f, 0x80]);

Deno.test("FlappingServer alternates up and down on a fixed schedule, journalled as transitions", async () => {
  await using server = await startFlappingServer({
    port: 0,
    seed: 1,
    up: 30,
    down: 30,
  });
  const signal = AbortSignal.timeout(10_000);
  const seen = await transitions(server, 5, signal);
  assert.deepEqual(seen.map((e) => e.state), [
    "up",
    "down",
    "up",
    "down",
    "up",
  ]);
  assert.deepEqual(seen.map((e) => e.reason), [
    "start",
    "schedule",
    "schedule",
    "schedule",
    "schedule",
  ]);
  for (const event of seen) {
    assert.equal(event.mode, "refuse");
    assert.equal(event.nextMs, 30);
    assert.equal(typeof event.nextAt, "number");
  }
  for (let i = 1; i < seen.length; i++) {
    assert.ok(
      seen[i].time - seen[i - 1].time >= 29,
      `transition ${i} came after ${seen[i].time - seen[i - 1].time} ms`,
    );
  }
  // A preset of the fault engine: each down sets the down fault, each up clears it.
  for (const event of seen.slice(1)) {
    const [change] = server.journal.query({ type: "faults_changed" })
      .filter((e) => e.seq < event.seq).slice(-1);
    assert.deepEqual(
      change.faults,
      event.state === "down" ? { down: {} } : {},
    );
  }
});

Deno.test("FlappingServer draws a random schedule from the seed: same seed, same schedule", async () => {
  const run = async (seed: number) => {
    await using server = await startFlappingServer({
      port: 0,
      seed,
      up: { min: 5, max: 40 },
      down: { min: 5, max: 40 },
      downMode: "black-hole",
    });
    const seen = await transitions(server, 7, AbortSignal.timeout(10_000));
    return seen.map((e) => [e.state, e.nextMs]);
  };
  const first = await run(7);
  const second = await run(7);
  const other = await run(8);
  assert.deepEqual(first, second);
  assert.notDeepEqual(first, other);
  for (const [, ms] of first) {
    assert.ok(
      Number.isInteger(ms) && (ms as number) >= 5 && (ms as number) <= 40,
    );
  }
  assert.ok(new Set(first.map(([, ms]) => ms)).size > 1, "durations vary");
});

Deno.test("FlappingServer in refuse mode closes connections and refuses while down, ACKs while up", async () => {
  await using server = await startPaused();
  const signal = AbortSignal.timeout(5000);
  await using peer = await ackedPeer(server.addr, "r1", signal);

  await server.force("down");
  assert.equal(await within(peer.ended, signal), "fin");
  assert.deepEqual(server.faults.get(), { down: {} });
  await assert.rejects(connectPeer(server.addr), { code: "ECONNREFUSED" });

  await server.force("up");
  await using _again = await ackedPeer(server.addr, "r2", signal);
  assert.deepEqual(server.faults.get(), {});
});

Deno.test("FlappingServer can start down: connects are refused from the first", async () => {
  await using server = await startPaused({ startState: "down" });
  assert.equal(server.flapState, "down");
  assert.notEqual(server.addr.port, 0);
  await assert.rejects(connectPeer(server.addr), { code: "ECONNREFUSED" });
  const [first] = server.journal.query({ type: "transition" });
  assert.equal(first.state, "down");
  assert.equal(first.reason, "start");
});

Deno.test("FlappingServer in reset mode resets open connections and new ones while down", async () => {
  await using server = await startPaused({ downMode: "reset" });
  const signal = AbortSignal.timeout(5000);
  await using peer = await ackedPeer(server.addr, "r1", signal);

  await server.force("down");
  assert.equal(await within(peer.ended, signal), "rst");
  assert.deepEqual(server.faults.get(), { reset: {} });
  assert.equal(await connectUntilClosed(server.addr, signal), "rst");

  await server.force("up");
  await using _again = await ackedPeer(server.addr, "r2", signal);
});

Deno.test("FlappingServer in black-hole mode keeps connections open and never answers while down", async () => {
  await using server = await startPaused({
    downMode: "black-hole",
    startState: "down",
  });
  const signal = AbortSignal.timeout(5000);
  await using peer = await connectPeer(server.addr);
  peer.send({ type: "record", id: "r1" });
  await server.journal.waitFor(
    (e) => e.type === "fault" && e.fault === "blackHole" && e.id === "r1",
    { signal },
  );
  assert.deepEqual(peer.received, []);
  assert.deepEqual(server.faults.get(), { blackHole: {} });

  await server.force("up");
  peer.send({ type: "record", id: "r2" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "r2" });
  assert.deepEqual(peer.received, [{ type: "ack", id: "r2" }]);
  assert.equal(server.connections().length, 1, "the connection stayed open");
});

Deno.test("FlappingServer standalone rejects bad input and keeps the connection", async () => {
  await using server = await startPaused();
  const signal = AbortSignal.timeout(5000);
  await using peer = await connectPeer(server.addr);
  peer.write("this is not json\n");
  assert.equal((await peer.next(signal)).code, "invalid_json");
  peer.send({ type: "record" });
  assert.equal((await peer.next(signal)).code, "invalid_frame");
  peer.send({ type: "record", id: "r1" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "r1" });
  assert.equal(server.journal.query({ type: "bad_input" }).length, 2);
  assert.equal(server.connections().length, 1);
});

Deno.test("FlappingServer rejects bad options before opening anything", () => {
  assert.throws(() => new FlappingServer({ up: 0 }), RangeError);
  assert.throws(
    () => new FlappingServer({ down: { min: 50, max: 10 } }),
    RangeError,
  );
  assert.throws(
    () => new FlappingServer({ downMode: "sideways" as "reset" }),
    RangeError,
  );
  assert.throws(
    () => new FlappingServer({ target: "127.0.0.1:1", dropAck: 0.3 }),
    TypeError,
  );
  assert.throws(
    () => new FlappingServer({ target: "127.0.0.1:1", codec: "line-json" }),
    TypeError,
  );
  assert.throws(() => new FlappingServer({ target: "nowhere" }), RangeError);
});

Deno.test("FlappingServer admin pauses, resumes and forces the schedule", async () => {
  await using server = await startPaused({ up: 30, down: 30 });
  const app = server.adminApp();
  const signal = AbortSignal.timeout(10_000);
  const post = (path: string) => app.request(path, { method: "POST" });

  let response = await app.request("/schedule");
  assert.equal(response.status, 200);
  let body = await response.json();
  assert.equal(body.state, "up");
  assert.equal(body.paused, true);
  assert.equal(body.nextAt, null);
  assert.equal(body.transitions, 1);
  assert.deepEqual(body.schedule, {
    up: { min: 30, max: 30 },
    down: { min: 30, max: 30 },
    downMode: "refuse",
    startState: "up",
  });

  response = await post("/schedule/force?state=down");
  assert.equal(response.status, 200);
  body = await response.json();
  assert.equal(body.state, "down");
  assert.equal(body.paused, true);
  assert.equal(body.transitions, 2);
  assert.deepEqual(await (await app.request("/faults")).json(), { down: {} });
  assert.equal((await (await app.request("/state")).json()).listening, false);
  const forced = server.journal.query({ type: "transition" }).at(-1)!;
  assert.equal(forced.reason, "force");

  const since = server.journal.lastSeq;
  response = await post("/schedule/resume");
  body = await response.json();
  assert.equal(body.paused, false);
  assert.equal(typeof body.nextAt, "number");
  const [next] = await transitions(server, 1, signal, since);
  assert.equal(next.state, "up");
  assert.equal(next.reason, "schedule");

  response = await post("/schedule/pause");
  body = await response.json();
  assert.equal(body.paused, true);
  assert.equal(body.nextAt, null);
  assert.ok(server.journal.query({ type: "schedule_paused" }).length > 0);
  const state = (await (await app.request("/state")).json()).schedule.state;
  assert.equal(state, server.flapState);

  response = await post("/schedule/force?state=sideways");
  assert.equal(response.status, 400);
  assert.equal((await response.json()).error, "invalid_request");
  response = await post("/schedule/force");
  assert.equal(response.status, 400);
});

Deno.test("FlappingServer proxies binary bytes both ways while up and cuts both when going down", async () => {
  await using echo = await startEcho();
  await using server = await startPaused({ target: echo.addr });
  assert.equal(server.codec.name, "raw");
  const signal = AbortSignal.timeout(5000);
  await using client = await rawConnect(server.addr);
  client.socket.write(BINARY);
  assert.deepEqual(await client.bytes(BINARY.length, signal), BINARY);
  await server.journal.waitFor((e) => e.type === "bytes_out", { signal });
  const bytesIn = server.journal.query({ type: "bytes_in" });
  assert.equal(bytesIn.reduce((n, e) => n + (e.bytes as number), 0), 7);
  assert.equal(server.journal.query({ type: "frame_in" }).length, 0);
  assert.equal(server.journal.query({ type: "bad_input" }).length, 0);
  assert.equal(
    server.connectionInfos()[0].tags.upstream,
    `${echo.addr.hostname}:${echo.addr.port}`,
  );

  const { ended, closed } = await proxyDown(server, client, signal);

  assert.equal(ended, "fin");
  assert.equal(closed.by, "server");
  assert.equal(await within(echo.endings[0], signal), "fin");
  await assert.rejects(rawConnect(server.addr), { code: "ECONNREFUSED" });

  await server.force("up");
  await using again = await rawConnect(server.addr);
  again.socket.write(BINARY.subarray(0, 3));
  assert.deepEqual(await again.bytes(3, signal), BINARY.subarray(0, 3));
});

Deno.test("FlappingServer proxy closes the upstream when the client closes, and the client when the upstream closes", async () => {
  await using echo = await startEcho();
  await using server = await startPaused({ target: echo.addr });
  const signal = AbortSignal.timeout(5000);
  await using client = await rawConnect(server.addr);
  client.socket.write(BINARY);
  await client.bytes(BINARY.length, signal);
  client.socket.end();
  const byClient = await server.journal.waitFor(
    (e) => e.type === "upstream_closed",
    { signal },
  );
  assert.equal(byClient.by, "server");
  assert.equal(await within(echo.endings[0], signal), "fin");

  await using other = await rawConnect(server.addr);
  other.socket.write(new Uint8Array([0x00, 0x04]));
  assert.equal(await within(other.ended, signal), "fin");
  const byUpstream = await server.journal.waitFor(
    (e) => e.type === "upstream_closed" && e.conn !== byClient.conn,
    { signal },
  );
  assert.equal(byUpstream.by, "upstream");
  const closed = await server.journal.waitFor(
    (e) => e.type === "closed" && e.conn === byUpstream.conn,
    { signal },
  );
  assert.equal(closed.reason, "upstream:closed");
});

Deno.test("FlappingServer proxy in reset mode resets both sides, and in black-hole mode swallows bytes", async () => {
  await using echo = await startEcho();
  const signal = AbortSignal.timeout(5000);
  {
    await using server = await startPaused({
      target: echo.addr,
      downMode: "reset",
    });
    await using client = await rawConnect(server.addr);
    client.socket.write(BINARY);
    await client.bytes(BINARY.length, signal);
    const { ended, closed } = await proxyDown(server, client, signal);
    assert.equal(ended, "rst");
    assert.equal(closed.how, "rst");
    assert.equal(await within(echo.endings[0], signal), "rst");
  }
  {
    await using server = await startPaused({
      target: echo.addr,
      downMode: "black-hole",
      startState: "down",
    });
    await using client = await rawConnect(server.addr);
    await server.journal.waitFor((e) => e.type === "upstream_connected", {
      signal,
    });
    const before = echo.received();
    client.socket.write(BINARY);
    await server.journal.waitFor(
      (e) =>
        e.type === "fault" && e.fault === "blackHole" &&
        e.direction === "in",
      { signal },
    );
    await server.force("up");
    client.socket.write(new Uint8Array([0xff, 0x00]));
    // Only the bytes sent while up come back: the others never reached the upstream.
    assert.deepEqual(
      await client.bytes(2, signal),
      new Uint8Array([0xff, 0x00]),
    );
    assert.equal(echo.received() - before, 2);
  }
});

Deno.test("flapping CLI prints its line, serves /schedule and stops cleanly on SIGTERM", async () => {
  await using cli = await spawnServer(
    "servers/flapping.ts",
    "--up 20s --down 1s..3s --down-mode reset --seed 7",
    {
      line:
        /^flapping tcp=127\.0\.0\.1:\d+ admin=http:\/\/127\.0\.0\.1:\d+ seed=7 codec=line-json$/,
    },
  );
  const schedule = await (await fetch(`${cli.fields.admin}/schedule`)).json();
  assert.equal(schedule.state, "up");
  assert.deepEqual(schedule.schedule, {
    up: { min: 20000, max: 20000 },
    down: { min: 1000, max: 3000 },
    downMode: "reset",
    startState: "up",
  });
  const forced = await fetch(`${cli.fields.admin}/schedule/force?state=down`, {
    method: "POST",
  });
  assert.equal((await forced.json()).state, "down");
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("flapping CLI in proxy mode names its target and speaks raw", async () => {
  await using cli = await spawnServer(
    "servers/flapping.ts",
    "--target 127.0.0.1:7000 --seed 7 --paused",
    {
      line:
        /^flapping tcp=127\.0\.0\.1:\d+ target=127\.0\.0\.1:7000 admin=http:\/\/127\.0\.0\.1:\d+ seed=7 codec=raw$/,
    },
  );
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("flapping CLI rejects bad flags, naming the flag", async () => {
  await assertFlagsRefused("servers/flapping.ts", [
    ["--down-mode sideways", /Invalid --down-mode "sideways"/],
    ["--up 2s..1s", /Invalid --up/],
    [
      "--target 127.0.0.1:7000 --drop-ack 30%",
      /Invalid --drop-ack: it does not apply with --target/,
    ],
  ]);
  const result = await runScript("servers/flapping.ts", ["--help"]);
  assert.equal(result.code, 0);
  for (
    const name of ["--up", "--down", "--down-mode", "--target", "--paused"]
  ) {
    assert.ok(result.stdout.includes(name), name);
  }
});

/** Reads a socket to its FIN: every byte, bounded by the signal. */
function readToEnd(socket: Socket, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  return within(
    new Promise<Uint8Array>((resolve, reject) => {
      socket.once("end", () => {
        resolve(concat(chunks));
      });
      socket.once("error", reject);
    }),
    signal,
  );
}

Deno.test("FlappingServer proxy passes half-close through both ways", async () => {
  const signal = AbortSignal.timeout(5000);
  // Upstream: answers what it read once the client's FIN came (client to
  // server half-close), or sends first and shuts its write side at once,
  // then reads on (server to client half-close).
  const sockets = new Set<Socket>();
  const upstreamRead: Promise<Uint8Array>[] = [];
  const upstream = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const read = readToEnd(socket, signal);
    upstreamRead.push(read);
    if (upstreamRead.length === 1) {
      void read.then((bytes) => socket.end(bytes.toReversed()), () => {});
    } else {
      socket.end(new Uint8Array([0x0a, 0x0b]));
      void read.then(() => socket.destroy(), () => {});
    }
  });
  await new Promise<void>((done) =>
    upstream.listen({ host: "127.0.0.1", port: 0 }, done)
  );
  try {
    const port = (upstream.address() as { port: number }).port;
    await using server = await startPaused({
      target: { hostname: "127.0.0.1", port },
    });
    const open = (): Promise<Socket> =>
      within(
        new Promise((resolve, reject) => {
          const socket = connect({
            host: server.addr.hostname,
            port: server.addr.port,
            allowHalfOpen: true,
          });
          socket.once("connect", () => resolve(socket));
          socket.once("error", reject);
        }),
        signal,
      );

    // Client to server: send, shut the write side, still get the reply.
    const first = await open();
    const reply = readToEnd(first, signal);
    first.end(BINARY);
    assert.deepEqual(await reply, BINARY.toReversed());
    assert.deepEqual(await upstreamRead[0], BINARY);
    const firstConn = (await server.journal.waitFor(
      (e) => e.type === "half_closed" && e.stream === "upstream",
      { signal },
    )).conn;
    const closed = await server.journal.waitFor(
      (e) => e.type === "closed" && e.conn === firstConn,
      { signal },
    );
    assert.equal(closed.reason, "client:closed");
    first.destroy();

    // Server to client: the server's FIN arrives, the client still sends.
    const second = await open();
    assert.deepEqual(
      await readToEnd(second, signal),
      new Uint8Array([0x0a, 0x0b]),
    );
    assert.equal(second.writable, true);
    second.end(new Uint8Array([0x01, 0x02, 0x03]));
    await within(
      new Promise((resolve) => second.once("close", resolve)),
      signal,
    );
    assert.deepEqual(await upstreamRead[1], new Uint8Array([1, 2, 3]));
    const half = server.journal.query({ type: "half_closed" })
      .filter((e) => e.conn !== firstConn).map((e) => e.stream);
    assert.deepEqual(half, ["downstream", "upstream"]);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => upstream.close(() => done()));
  }
});
