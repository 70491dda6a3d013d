import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { type Connection, HANDLER_BACKLOG } from "../core/server/connection.ts";
import type { Frame } from "../core/codecs/frame.ts";
import type { Journal, JournalEvent } from "../core/journal/journal.ts";
import { TcpServer } from "../core/server/tcp_server.ts";
import { startMessageStoreServer } from "../servers/message_store.ts";
import {
  type PrimaryServer,
  type PrimaryServerOptions,
  startPrimaryServer,
} from "../servers/primary.ts";
import { announcedTcp, spawnServer } from "./_cli.ts";
import { connectPeer } from "./_net.ts";
import { tempDir } from "./_lifetime.ts";

const RECORDS = '{"type":"record","id":"r"}\n'.repeat(10_000);

/**
 * A socket that sends but never reads; resolves once connected, or once
 * reset (a server may reset before the client sees its connect).
 */
function deafPeer(addr: { hostname: string; port: number }): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: addr.hostname, port: addr.port });
    socket.pause();
    socket.on("error", () => resolve(socket));
    socket.once("connect", () => resolve(socket));
  });
}

/** Feeds records until the server's writes to `connection` back up. */
async function fillUntilStalled(
  socket: Socket,
  connection: () => Connection | undefined,
  signal: AbortSignal,
): Promise<void> {
  while (!connection()?.writableNeedDrain) {
    signal.throwIfAborted();
    socket.write(RECORDS);
    // Let the server read and answer what was sent.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** A primary on a free port, with these options. */
function startPrimary(
  options: Partial<PrimaryServerOptions> = {},
): Promise<PrimaryServer> {
  return startPrimaryServer({ port: 0, ...options });
}

/** Resolves with the first event of `type` in a server's journal (5 s at most). */
function firstEvent(
  server: { journal: Journal },
  type: string,
): Promise<JournalEvent> {
  return server.journal.waitFor((e) => e.type === type, {
    signal: AbortSignal.timeout(5000),
  });
}

/** Rejects when `promise` takes longer than `ms`. */
function within<T>(
  promise: T | Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} took over ${ms} ms`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits (bounded by `signal`) until `server` stops reading with a full
 * handler backlog, and asserts that only part of the `total` frames sent
 * had been read by then.
 */
async function assertReadingHeld(
  server: { journal: Journal },
  total: number,
  signal: AbortSignal,
): Promise<void> {
  const held = await server.journal.waitFor(
    (e) => e.type === "reading_held",
    { signal },
  );
  assert.equal(held.waiting, HANDLER_BACKLOG);
  // Reading stopped: only what earlier reads brought in was decoded.
  const read = server.journal.query({ type: "frame_in" }).length;
  assert.ok(read < total / 2, `${read} of ${total} frames read while held`);
}

/** Sends `method path` to a primary's admin app within `ms`; asserts 200. */
async function assertAdminOk(
  primary: PrimaryServer,
  method: string,
  path: string,
  ms: number,
): Promise<void> {
  const response = await within(
    primary.adminApp().request(path, { method }),
    ms,
    `${method} ${path}`,
  );
  assert.equal(response.status, 200);
  await response.body?.cancel();
}

Deno.test("a peer that never reads its ACKs cannot hang POST /down or close() (#1)", async () => {
  await using primary = await startPrimary();
  const socket = await deafPeer(primary.addr);
  const signal = AbortSignal.timeout(20_000);
  await fillUntilStalled(socket, () => primary.connections()[0], signal);
  const started = performance.now();
  await assertAdminOk(primary, "POST", "/down", 4000);
  const closed = primary.journal.query({ type: "closed" })[0];
  assert.equal(closed.how, "rst");
  assert.equal(closed.reason, "fault:down");
  assert.ok(performance.now() - started < 3000);
  await assertAdminOk(primary, "DELETE", "/faults", 1000);
  socket.destroy();
});

Deno.test("close() completes within the shutdown bound whatever a deaf peer does (#1)", async () => {
  const primary = await startPrimary({ shutdownMs: 3000 });
  const socket = await deafPeer(primary.addr);
  await fillUntilStalled(
    socket,
    () => primary.connections()[0],
    AbortSignal.timeout(20_000),
  );
  const started = performance.now();
  await within(primary.close(), 4000, "close()");
  assert.ok(performance.now() - started < 3500);
  socket.destroy();
});

Deno.test("a connection whose unread replies pass maxBacklogBytes is reset, journalled (#1)", async () => {
  class Chatty extends TcpServer {
    protected override handleConnected(connection: Connection): void {
      const pad = "z".repeat(100);
      for (let i = 0; i < 20_000 && !connection.closing; i++) {
        connection.send({ type: "push", n: i, pad });
      }
    }
  }
  await using server = new Chatty("chatty", {
    port: 0,
    maxBacklogBytes: 256 * 1024,
  });
  await server.start();
  const socket = await deafPeer(server.addr);
  const signal = AbortSignal.timeout(5000);
  const exceeded = await server.journal.waitFor(
    (e) => e.type === "backlog_exceeded",
    { signal },
  );
  assert.equal(exceeded.limit, 256 * 1024);
  assert.ok((exceeded.bytes as number) > 256 * 1024);
  const closed = await server.journal.waitFor((e) => e.type === "closed", {
    signal,
  });
  assert.equal(closed.how, "rst");
  assert.match(
    closed.reason as string,
    /^backlog: \d+ bytes of replies unread, over the limit of 262144$/,
  );
  socket.destroy();
});

Deno.test("bad input is limited by rate, not only in a row: good frames between do not reset it (#3)", async () => {
  await using primary = await startPrimary();
  await using peer = await connectPeer(primary.addr);
  // One good frame after each bad one: "in a row" never passes 1.
  peer.write('not json\n{"type":"record","id":"ok"}\n'.repeat(300));
  const closed = await firstEvent(primary, "closed");
  assert.equal(closed.reason, "more than 100 bad frames a second");
  assert.equal(closed.by, "server");
  assert.equal(primary.journal.counts().bad_input, 101);
});

Deno.test("maxConnections resets connections past the limit, journalled as refused", async () => {
  await using primary = await startPrimary({ maxConnections: 2 });
  await using _a = await connectPeer(primary.addr);
  await using _b = await connectPeer(primary.addr);
  const third = await deafPeer(primary.addr);
  const refused = await firstEvent(primary, "refused");
  assert.equal(refused.reason, "max connections: 2 open");
  await new Promise((resolve) =>
    third.destroyed ? resolve(undefined) : third.once("close", resolve)
  );
  assert.equal(primary.connections().length, 2);
  assert.equal(primary.journal.counts().connected, 2);
});

Deno.test("idleTimeoutMs closes a connection with no traffic", async () => {
  await using primary = await startPrimary({ idleTimeoutMs: 100 });
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  const closed = await firstEvent(primary, "closed");
  assert.equal(closed.reason, "idle: no traffic for 100 ms");
  assert.equal(closed.framesIn, 1);
  assert.equal(await peer.ended, "fin");
});

Deno.test("primary CLI under a flood of bad input with a journal file exits 0 on SIGTERM, every event in the file or counted (#3)", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/journal.jsonl`;
  await using server = await spawnServer(
    "servers/primary.ts",
    "--max-bad-rate 0 --max-bad-frames 0",
    { more: ["--journal-file", file] },
  );
  const tcp = announcedTcp(server);
  const flood = await deafPeer(tcp);
  // 2 MB of bad lines with a good one now and then.
  const chunk = `${"x\n".repeat(999)}{"type":"record","id":"k"}\n`.repeat(
    100,
  );
  for (let i = 0; i < 10; i++) flood.write(chunk);
  await new Promise((resolve) => flood.write("", resolve));
  // Its shutdown bound is 5 s; a liveness bound well above it, so that a
  // loaded machine does not fail what only a hang should.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const { code } = await Promise.race([
    server.stop(),
    new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error("still running 30 s after SIGTERM")),
        30_000,
      )
    ),
  ]).finally(() => clearTimeout(timer));
  flood.destroy();
  assert.equal(code, 0);
  const lines = (await Deno.readTextFile(file)).trim().split("\n").map((
    line,
  ) => JSON.parse(line));
  const dropped = lines.filter((e) => e.type === "journal_file_dropped")
    .reduce((sum, e) => sum + e.dropped, 0);
  const last = Math.max(...lines.map((e) => e.seq));
  assert.equal(lines.length + dropped, last);
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
});

Deno.test("servers with several listeners hand the limits on to each (message-store fronts)", async () => {
  await using server = await startMessageStoreServer({
    fronts: [{ name: "ml1", port: 0 }],
    maxConnections: 1,
    seed: 7,
  });
  const first = await deafPeer(server.front("ml1").addr);
  const second = await deafPeer(server.front("ml1").addr);
  const refused = await server.journal.waitFor((e) => e.type === "refused", {
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(refused.reason, "max connections: 1 open");
  first.destroy();
  second.destroy();
});

Deno.test("going down stops listening before it closes what is open: no connection slips in meanwhile", async () => {
  await using primary = await startPrimary();
  // A deaf peer makes closing the open connections take a while (its FIN
  // waits behind unread replies until the RST fallback).
  const deaf = await deafPeer(primary.addr);
  await fillUntilStalled(
    deaf,
    () => primary.connections()[0],
    AbortSignal.timeout(20_000),
  );
  primary.faults.patch({ down: {} });
  // A client retrying at once, as a failover client does.
  const late = await deafPeer(primary.addr);
  await within(primary.settled(), 4000, "going down");
  assert.deepEqual(
    primary.connections().map((c) => c.info().id),
    [],
    "a connection accepted while going down outlived the down",
  );
  late.destroy();
  deaf.destroy();
});

Deno.test("frames backed up behind a slow async handler stop reading, bounded; released, every one is handled once, in order", async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const handled: string[] = [];
  class Slow extends TcpServer {
    protected override async handleFrame(frame: Frame): Promise<Frame> {
      await gate;
      handled.push(String(frame.id));
      return { type: "ack", id: frame.id };
    }
  }
  await using server = new Slow("slow", { port: 0 });
  await server.start();
  const total = 20_000;
  const ids = Array.from({ length: total }, (_, i) => `r${i}`);
  const socket = connect({
    host: server.addr.hostname,
    port: server.addr.port,
  });
  socket.resume(); // read (and drop) the ACKs
  socket.write(
    ids.map((id) => `{"type":"record","id":"${id}"}\n`).join(""),
  );
  const signal = AbortSignal.timeout(10_000);
  await assertReadingHeld(server, total, signal);
  open();
  await server.journal.waitFor((e) => e.type === "reading_resumed", {
    signal,
  });
  await server.journal.waitFor(
    () => handled.length === total,
    { signal },
  );
  assert.deepEqual(handled, ids);
  socket.destroy();
});

Deno.test("replies held back by a delay-ACK fault stop reading, bounded; each record is still ACKed once", async () => {
  await using primary = await startPrimary();
  primary.faults.patch({ delayAck: { ms: 200 } });
  const total = 20_000;
  const socket = connect({
    host: primary.addr.hostname,
    port: primary.addr.port,
  });
  let acks = 0;
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => {
    for (
      let at = text.indexOf("\n");
      at !== -1;
      at = text.indexOf("\n", at + 1)
    ) {
      acks++;
    }
  });
  socket.write(
    Array.from({ length: total }, (_, i) => `{"type":"record","id":"r${i}"}\n`)
      .join(""),
  );
  const signal = AbortSignal.timeout(20_000);
  await assertReadingHeld(primary, total, signal);
  await primary.journal.waitFor((e) => e.type === "reading_resumed", {
    signal,
  });
  while (acks < total) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(acks, total);
  socket.destroy();
});
