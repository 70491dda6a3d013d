/**
 * A slowloris against a running primary server: many connections that each
 * send a line a few bytes at a time and never finish it. Meanwhile a normal
 * client sends records and times their ACKs; at the end the script reads the
 * server's peak memory, checks its admin API, and stops it with SIGTERM (time
 * and exit status).
 *
 * Not part of `deno task test`:
 *
 * ```sh
 * deno run -A tests/tools/slowloris.ts                          # 2 000 connections, 30 s
 * deno run -A tests/tools/slowloris.ts --connections 500 --seconds 10 -- --max-connections 300
 * ```
 *
 * Flags after `--` go to the server.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { mib, rss, spawnPrimary } from "./_tools.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "2000" },
    seconds: { type: "string", default: "30" },
    "bytes-per-tick": { type: "string", default: "4" },
  },
  allowPositionals: true,
});
const total = Number(values.connections);
const seconds = Number(values.seconds);
const perTick = Number(values["bytes-per-tick"]);

await using server = await spawnPrimary(positionals);
const [hostname, port] = server.fields.tcp.split(":");
const startRss = rss(server.child.pid);

// A normal client, connected before the slow ones.
const latencies: number[] = [];
const client = connect({ host: hostname, port: Number(port) });
client.on("error", () => {});
await new Promise((resolve) => client.once("connect", resolve));

// The slow connections.
const slow: Socket[] = [];
let refused = 0;
let closedByServer = 0;
let ending = false;
await Promise.all(
  Array.from({ length: total }, () =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) });
      socket.on("error", () => {});
      socket.on("close", () => {
        if (!ending) closedByServer++;
        resolve();
      });
      socket.once("connect", () => {
        slow.push(socket);
        socket.write('{"type":"record","id":"slow","data":"', () => {});
        resolve();
      });
    })),
);
refused = total - slow.length;

// The normal client (connected first), timing ACKs while the slow ones trickle.
let pending: { id: string; sent: number } | undefined;
let buffered = "";
client.on("data", (chunk: Uint8Array) => {
  buffered += new TextDecoder().decode(chunk);
  while (buffered.includes("\n")) {
    const at = buffered.indexOf("\n");
    buffered = buffered.slice(at + 1);
    if (pending) latencies.push(performance.now() - pending.sent);
    pending = undefined;
  }
});
const end = performance.now() + seconds * 1000;
let n = 0;
let ticks = 0;
while (performance.now() < end) {
  for (const socket of slow) {
    // A reset one fails its write (EPIPE): the callback takes the error.
    if (!socket.destroyed) socket.write("x".repeat(perTick), () => {});
  }
  ticks++;
  if (!pending) {
    pending = { id: `r${++n}`, sent: performance.now() };
    client.write(JSON.stringify({ type: "record", id: pending.id }) + "\n");
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const state = await (await fetch(`${server.fields.admin}/state`)).json();
const { events: closed } = await (await fetch(
  `${server.fields.admin}/journal?type=closed&limit=100000`,
)).json();
const reasons: Record<string, number> = {};
for (const event of closed) {
  const key = `${event.by}:${event.how}:${event.reason}`;
  reasons[key] = (reasons[key] ?? 0) + 1;
}
const peak = rss(server.child.pid);
ending = true;
for (const socket of slow) socket.destroy();
client.destroy();
const stopping = performance.now();
const { code } = await server.stop();
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({
  connections: total,
  opened: slow.length,
  refused,
  closedByServer: closedByServer - refused,
  openAtEnd: state.connections,
  closedAsJournalled: reasons,
  bytesPerSlowConnection: ticks * perTick,
  acks: latencies.length,
  ackP50Ms: Number(
    (latencies[Math.floor(latencies.length / 2)] ?? NaN).toFixed(1),
  ),
  ackMaxMs: Number((latencies.at(-1) ?? NaN).toFixed(1)),
  rssAtStart: `${mib(startRss)} MiB`,
  peakRss: `${mib(peak)} MiB`,
  shutdownMs: Math.round(performance.now() - stopping),
  exitCode: code,
}));
