/**
 * The benchmark's own parts: the minimal server answers like the protocol
 * says (so it is a fair baseline), the load generator counts what the real
 * primary answers and reads the server's figures from `/metrics`, and the
 * table says which targets are met.
 */
import assert from "node:assert/strict";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { createCodec } from "../core/codecs/create_codec.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { table } from "../bench/bench.ts";
import { runLoad, trickle } from "../bench/load.ts";
import {
  type MinimalServer,
  startMinimalServer,
} from "../bench/minimal_server.ts";
import { parseMetrics, probe } from "../bench/_probe.ts";
import { percentile, rangeText } from "../bench/_stats.ts";
import { answerer, BENCH_CODECS, deviceWire } from "../bench/_wire.ts";
import { serveAdmin } from "../core/admin/admin_server.ts";
import { within } from "./_raw_peer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("the minimal line answerer ACKs each line with its id, across chunk boundaries", () => {
  const answer = answerer("line-json");
  const first = answer.push(
    encoder.encode('{"type":"record","id":"a1"}\n{"type":"rec'),
  );
  assert.equal(first.frames, 1);
  assert.equal(decoder.decode(first.reply), '{"type":"ack","id":"a1"}\n');
  const second = answer.push(encoder.encode('ord","id":"b2","data":{}}\n'));
  assert.equal(decoder.decode(second.reply), '{"type":"ack","id":"b2"}\n');
});

Deno.test("the minimal device answerers answer every packet the project's codecs encode, and the load counts the primary's replies the same way", async () => {
  for (const codec of BENCH_CODECS) {
    const wire = deviceWire(codec);
    const answer = answerer(codec);
    const bytes = [
      ...(wire.hello ? [wire.hello] : []),
      ...Array.from({ length: 5 }, (_, n) => wire.record(0, n)),
    ];
    // One byte at a time: framing must not depend on chunking.
    let frames = 0;
    for (const packet of bytes) {
      for (const byte of packet) {
        frames += answer.push(Uint8Array.of(byte)).frames;
      }
    }
    assert.equal(frames, bytes.length, codec);
    // The real server decodes the same bytes as records.
    const server = createCodec(codec).decoder();
    const records = bytes.flatMap((b) => server.push(b))
      .filter((d) => d.frame?.type === "record");
    assert.equal(records.length, 5, codec);
  }
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 1,
    codec: "teltonika",
  });
  await using admin = await serveAdmin(primary.adminApp(), { port: 0 });
  const result = await runLoad([
    "--port",
    String(primary.addr.port),
    "--admin",
    admin.url,
    "--codec",
    "teltonika",
    "--mode",
    "closed",
    "--connections",
    "3",
    "--seconds",
    "0.2",
  ]);
  assert.ok(result.sent > 0);
  assert.equal(result.acks, result.sent);
  assert.equal(result.serverFrames, result.sent);
  assert.equal(result.source, "metrics");
  assert.ok(result.serverCpuSeconds > 0);
});

/**
 * Runs the load in process against a minimal server (by default 4
 * connections for 0.2 s); `extra` adds or overrides flags.
 */
function loadMinimal(
  server: MinimalServer,
  mode: string,
  extra: string[] = [],
): ReturnType<typeof runLoad> {
  return runLoad([
    "--port",
    String(server.port),
    "--admin",
    `http://127.0.0.1:${server.adminPort}`,
    "--mode",
    mode,
    "--connections",
    "4",
    "--seconds",
    "0.2",
    ...extra,
  ]);
}

Deno.test("the load generator reads the minimal server's own /metrics, pipelined", async () => {
  await using server = await startMinimalServer({ codec: "line-json" });
  const admin = `http://127.0.0.1:${server.adminPort}`;
  const result = await loadMinimal(server, "pipelined");
  assert.ok(result.sent >= 4 * 64);
  assert.equal(result.serverFrames, result.sent);
  const reading = await probe({ admin, pid: Deno.pid });
  assert.equal(reading.source, "metrics");
  assert.ok(reading.framesIn >= result.sent);
});

/** The flags of a scheduled load: connections, seconds, period in ms. */
function schedule(connections: number, seconds: number, periodMs: number) {
  return [
    "--connections",
    String(connections),
    "--seconds",
    String(seconds),
    "--period-ms",
    String(periodMs),
  ];
}

Deno.test("the load generator's latency mode keeps its schedule and times every ACK", async () => {
  await using server = await startMinimalServer({ codec: "line-json" });
  const result = await loadMinimal(server, "latency", schedule(3, 1, 25));
  // Connection c of 3 sends at c/3 of a period in, then every 25 ms, for
  // 1 s: 40 records each, however late the timers (a schedule that drifts
  // by a timer's lateness each period loses the last ones).
  assert.equal(result.sent, 120);
  assert.equal(result.acks, 120);
  assert.equal(result.rtt?.n, 120);
  assert.ok(result.rtt!.p50 > 0 && result.rtt!.p50 <= result.rtt!.max);
});

Deno.test("the minimal server over node:net answers each record and counts it in its /metrics, closed loop and pipelined", async () => {
  await using server = await startMinimalServer({ net: "node" });
  const admin = `http://127.0.0.1:${server.adminPort}`;
  for (const mode of ["closed", "pipelined"]) {
    const result = await loadMinimal(server, mode);
    assert.ok(result.sent >= 4, `${mode}: sent ${result.sent}`);
    assert.equal(result.serverFrames, result.sent, mode);
    if (mode === "closed") assert.equal(result.acks, result.sent);
    assert.equal(result.source, "metrics");
  }
  const reading = await probe({ admin, pid: Deno.pid });
  assert.equal(reading.source, "metrics");
});

Deno.test("the trickle load sends every record of its fixed schedule, however late it runs", async () => {
  await using server = await startMinimalServer({ codec: "line-json" });
  const result = await loadMinimal(server, "trickle", schedule(20, 0.5, 100));
  // Each of 20 connections once every 100 ms for 500 ms: what falls due
  // while the process is late goes at once, so none is skipped.
  assert.equal(result.sent, 100);
  assert.equal(result.skipped, 0);
  assert.equal(result.serverFrames, 100);
});

Deno.test("the trickle load holds one write per connection against a server that never reads, and counts the records it skipped", async () => {
  // A server that accepts and never reads.
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    socket.pause();
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // 2 connections, a record every 50 ms each for 1.5 s: 60 records of 1 MiB,
  // far more than the socket buffers take.
  const CONNECTIONS = 2;
  const PERIOD = 50;
  const SIZE = 2 ** 20;
  const conns = await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () => Deno.connect({ hostname: "127.0.0.1", port }),
    ),
  );
  const written = conns.map(() => 0); // Bytes, per connection.
  const made = conns.map(() => 0); // Records, per connection.
  const writing = conns.map(() => 0); // Writes in flight, per connection.
  let mostHeld = 0; // The most records a connection had made and not written.
  let mostWriting = 0;
  const inFlight = new Set<Promise<unknown>>();
  const writers = conns.map((conn, c) => ({
    write(bytes: Uint8Array): Promise<number> {
      mostWriting = Math.max(mostWriting, ++writing[c]);
      const write = conn.write(bytes);
      // Counted before the caller sees the write finish.
      const done: Promise<unknown> = write.then((n) => {
        writing[c]--;
        written[c] += n;
      }, () => writing[c]--).then(() => inFlight.delete(done));
      inFlight.add(done);
      return write;
    },
  }));
  const wire = {
    record(c: number): Uint8Array {
      made[c]++;
      const held = made[c] - Math.floor(written[c] / SIZE);
      mostHeld = Math.max(mostHeld, held);
      return new Uint8Array(SIZE);
    },
  };
  const began = performance.now();
  try {
    const run = trickle(writers, wire, PERIOD, began, began + 1500, {
      drainMs: 200,
    });
    const result = await within(run, AbortSignal.timeout(10_000))
      .catch((error: Error) => error);
    // What the load held is checked first: a load that never returns held
    // every record it made.
    assert.ok(
      mostHeld <= 4,
      `a connection held ${mostHeld} records made and not written`,
    );
    assert.equal(mostWriting, 1);
    assert.ok(!(result instanceof Error), `trickle: ${result}`);
    assert.ok(result.skipped > 0, `skipped ${result.skipped}`);
    assert.ok(result.sent > 0, `sent ${result.sent}`);
    assert.equal(result.sent + result.skipped, 60);
  } finally {
    for (const conn of conns) conn.close();
    await Promise.allSettled(inFlight);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("parseMetrics, percentile and rangeText", () => {
  const values = parseMetrics(
    '# TYPE a counter\na{x="1"} 2\na{x="2"} 5\nb 1.5\n',
  );
  assert.deepEqual([...values], [["a", 2], ["b", 1.5]]);
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 0.5), 50);
  assert.equal(percentile(sorted, 0.99), 99);
  assert.equal(rangeText([0.91, 0.88, 0.93], 2), "0.88-0.93");
  assert.equal(rangeText([2, 2], 1), "2.0");
});

Deno.test("the bench table says whether each target is met in every run, some or none", () => {
  const text = table([
    {
      figure: 1,
      name: "cpu",
      root: "this",
      unit: "µs",
      values: [4, 5],
      baseline: [4, 4],
      ratio: [1, 1.25],
      target: { on: "ratio", op: "<=", limit: 1.15 },
    },
    {
      figure: 4,
      name: "rss",
      root: "this",
      unit: "MB",
      values: [100, 120],
      target: { on: "value", op: "<=", limit: 128 },
    },
    {
      figure: 5,
      name: "p99",
      root: "base",
      unit: "ms",
      values: [3, 4],
      target: { on: "value", op: "<=", limit: 2 },
    },
  ]);
  const [, , cpu, rss, p99] = text.split("\n");
  assert.match(cpu, /1\.00-1\.25\s+ratio <= 1\.15\s+some runs$/);
  assert.match(rss, /100\.0-120\.0 MB.*value <= 128\s+met$/);
  assert.match(p99, /base\s+3\.00-4\.00 ms.*not met$/);
});
