/**
 * Replays the breaks of issue 13 at full size against a spawned primary and
 * prints one JSON line of figures each: peak memory, time to go down or shut
 * down, exit status, events in the journal file against events journalled.
 * The tests (`tests/hardening_*_test.ts`) reproduce each break small and fast;
 * this is the evidence at the sizes the issue names.
 *
 * Not part of `deno task test`:
 *
 * ```sh
 * deno run -A tests/tools/breaks.ts              # every case
 * deno run -A tests/tools/breaks.ts memory deaf  # some
 * ```
 *
 * Cases: `memory` (#2: 3 000 records of 64 KB of `[{},{},...]`), `bytewise`
 * (#6: 1 MB of partial lines a byte at a time over 16 connections), `deaf`
 * (#1: a peer that never reads its ACKs, then POST /down and SIGTERM),
 * `flood` (#3: 800 000 mostly-bad lines with a journal file, then SIGTERM),
 * `events` (#4: an /events client that stops reading, then SIGTERM).
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import type { SpawnedCli } from "../_cli.ts";
import { mib, rss, spawnPrimary } from "./_tools.ts";

function tcp(server: SpawnedCli): { host: string; port: number } {
  const [host, port] = server.fields.tcp.split(":");
  return { host, port: Number(port) };
}

function open(server: SpawnedCli): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(tcp(server));
    socket.on("error", () => {});
    socket.once("connect", () => resolve(socket));
  });
}

function written(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.write("", () => resolve()));
}

async function stop(server: SpawnedCli): Promise<{ ms: number; code: number }> {
  const started = performance.now();
  const { code } = await server.stop();
  return { ms: Math.round(performance.now() - started), code };
}

async function memory(): Promise<Record<string, unknown>> {
  await using server = await spawnPrimary();
  const socket = await open(server);
  const line = `{"type":"record","id":"x","data":[${
    "{},".repeat(21_800)
  }{}]}\n`;
  let acks = 0;
  const done = Promise.withResolvers<void>();
  socket.on("data", (chunk: Uint8Array) => {
    for (const byte of chunk) {
      if (byte === 0x0a && ++acks === 3000) done.resolve();
    }
  });
  for (let i = 0; i < 3000; i++) {
    if (!socket.write(line)) {
      await new Promise((resolve) => socket.once("drain", resolve));
    }
  }
  await done.promise;
  const peak = rss(server.child.pid, "VmHWM");
  const state = await (await fetch(`${server.fields.admin}/state`)).json();
  socket.destroy();
  const stopped = await stop(server);
  return {
    case: "memory (#2)",
    records: 3000,
    lineBytes: line.length,
    acks,
    framesIn: state.counts.frame_in,
    peakRssMiB: mib(peak),
    shutdownMs: stopped.ms,
    exitCode: stopped.code,
  };
}

async function bytewise(): Promise<Record<string, unknown>> {
  await using server = await spawnPrimary();
  const before = rss(server.child.pid, "VmRSS");
  const sockets = await Promise.all(
    Array.from({ length: 16 }, () => open(server)),
  );
  const perConnection = 65_000;
  const head = '{"type":"record","id":"slow","data":"';
  for (let i = 0; i < perConnection; i++) {
    const byte = i < head.length ? head[i] : "y";
    for (const socket of sockets) socket.write(byte);
    if (i % 1000 === 0) await Promise.all(sockets.map(written));
  }
  await Promise.all(sockets.map(written));
  const state = await (await fetch(`${server.fields.admin}/state`)).json();
  const after = rss(server.child.pid, "VmRSS");
  const peak = rss(server.child.pid, "VmHWM");
  for (const socket of sockets) socket.destroy();
  const stopped = await stop(server);
  return {
    case: "bytewise (#6)",
    bytesSent: 16 * perConnection,
    writes: 16 * perConnection,
    rssBeforeMiB: mib(before),
    rssAfterMiB: mib(after),
    peakRssMiB: mib(peak),
    badInput: state.counts.bad_input ?? 0,
    shutdownMs: stopped.ms,
    exitCode: stopped.code,
  };
}

async function deaf(): Promise<Record<string, unknown>> {
  await using server = await spawnPrimary();
  const socket = await open(server);
  socket.pause();
  const records = '{"type":"record","id":"r"}\n'.repeat(10_000);
  // Until the server stops reading (its replies back up): bytesOut stalls.
  let last = -1;
  for (let round = 0; round < 400; round++) {
    if (!socket.write(records)) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 200);
        socket.once("drain", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    if (round % 20 !== 19) continue;
    const { connections } = await (await fetch(
      `${server.fields.admin}/connections`,
    )).json();
    const bytesOut = connections[0]?.bytesOut ?? 0;
    if (bytesOut === last) break;
    last = bytesOut;
  }
  const downStarted = performance.now();
  const down = await fetch(`${server.fields.admin}/down`, { method: "POST" });
  await down.body?.cancel();
  const downMs = Math.round(performance.now() - downStarted);
  const up = await fetch(`${server.fields.admin}/up`, { method: "POST" });
  await up.body?.cancel();
  const again = await open(server);
  again.pause();
  again.write(records.repeat(40));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const stopped = await stop(server);
  socket.destroy();
  again.destroy();
  return {
    case: "deaf peer (#1)",
    repliesQueuedBytes: last,
    downStatus: down.status,
    downMs,
    shutdownWithDeafPeerMs: stopped.ms,
    exitCode: stopped.code,
  };
}

async function flood(): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/journal.jsonl`;
    await using server = await spawnPrimary([
      "--journal-file",
      file,
      "--max-bad-frames",
      "0",
      "--max-bad-rate",
      "0",
    ]);
    const sockets = await Promise.all(
      Array.from({ length: 4 }, () => open(server)),
    );
    // Errors come back for every bad line: read and forget them.
    for (const socket of sockets) socket.on("data", () => {});
    // 99 bad lines, then a good one: "in a row" never reaches 100.
    const chunk = `${"x\n".repeat(99)}{"type":"record","id":"k"}\n`.repeat(
      1000,
    );
    for (let i = 0; i < 2; i++) {
      for (const socket of sockets) socket.write(chunk);
      await Promise.all(sockets.map(written));
    }
    // Until the server has read it all (the file sink slows it down).
    const lines = 4 * 2 * 100_000;
    const deadline = performance.now() + 300_000;
    let counts: Record<string, number> = {};
    while (performance.now() < deadline) {
      counts = (await (await fetch(`${server.fields.admin}/state`)).json())
        .counts;
      if ((counts.bad_input ?? 0) + (counts.frame_in ?? 0) >= lines) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const stopped = await stop(server);
    for (const socket of sockets) socket.destroy();
    const text = await Deno.readTextFile(file);
    let inFile = 0;
    let dropped = 0;
    let lastSeq = 0;
    for (const line of text.split("\n")) {
      if (!line) continue;
      inFile++;
      const event = JSON.parse(line);
      lastSeq = Math.max(lastSeq, event.seq);
      if (event.type === "journal_file_dropped") dropped += event.dropped;
    }
    return {
      case: "flood with a journal file (#3)",
      linesSent: lines,
      linesRead: (counts.bad_input ?? 0) + (counts.frame_in ?? 0),
      eventsJournalled: lastSeq,
      eventsInFile: inFile,
      eventsDroppedAndReported: dropped,
      accountedFor: inFile + dropped === lastSeq,
      fileMiB: mib(text.length),
      fileMode: ((await Deno.stat(file)).mode! & 0o777).toString(8),
      shutdownMs: stopped.ms,
      exitCode: stopped.code,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function events(): Promise<Record<string, unknown>> {
  await using server = await spawnPrimary();
  const admin = new URL(server.fields.admin);
  // Deno.connect, never read: node:net's pause() still reads into memory.
  const stream = await Deno.connect({
    hostname: admin.hostname,
    port: Number(admin.port),
  });
  await stream.write(
    new TextEncoder().encode(
      `GET /events HTTP/1.1\r\nHost: ${admin.host}\r\n\r\n`,
    ),
  );
  const socket = await open(server);
  const records = '{"type":"record","id":"r"}\n'.repeat(10_000);
  for (let i = 0; i < 30; i++) {
    socket.write(records);
    await written(socket);
  }
  const state = await (await fetch(`${server.fields.admin}/state`)).json();
  const peak = rss(server.child.pid, "VmHWM");
  const stopped = await stop(server);
  socket.destroy();
  stream.close();
  return {
    case: "stalled /events client (#4)",
    eventsJournalled: state.counts.frame_in + state.counts.ack_sent,
    subscriberDropped: state.counts.subscriber_dropped ?? 0,
    peakRssMiB: mib(peak),
    shutdownMs: stopped.ms,
    exitCode: stopped.code,
  };
}

const CASES: Record<string, () => Promise<Record<string, unknown>>> = {
  memory,
  bytewise,
  deaf,
  flood,
  events,
};

if (import.meta.main) {
  const names = Deno.args.length ? Deno.args : Object.keys(CASES);
  for (const name of names) {
    const run = CASES[name];
    if (!run) {
      console.error(`Unknown case "${name}": expected ${Object.keys(CASES)}`);
      Deno.exit(2);
    }
    console.log(JSON.stringify(await run()));
  }
}
