import assert from "node:assert/strict";
import { Journal } from "../core/journal/journal.ts";
import { METRICS_CONTENT_TYPE } from "../core/admin/metrics.ts";
import { startFlappingServer } from "../servers/flapping.ts";
import { startMessageStoreServer } from "../servers/message_store.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { startSecondaryServer } from "../servers/secondary.ts";
import { startSilentServer } from "../servers/silent.ts";
import { startWatchdogEchoServer } from "../servers/watchdog_echo.ts";
import { spawnServer } from "./_cli.ts";
import { connectPeer } from "./_net.ts";

/** Parses the text format into `name{labels}` → value, checking its shape. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const type = line.match(/^# TYPE (\w+) (counter|gauge)$/);
    if (type) {
      typed.add(type[1]);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const sample = line.match(/^(\w+)(\{[^}]*\})? (\S+)$/);
    assert.ok(sample, `Not a sample line: ${line}`);
    assert.ok(typed.has(sample[1]), `No TYPE line before ${sample[1]}`);
    const value = Number(sample[3]);
    assert.ok(Number.isFinite(value), `Not a number: ${line}`);
    // The server and kind labels are the same on every line: keep the rest.
    const labels = (sample[2] ?? "").replace(
      /server="[^"]*",kind="[^"]*",?/,
      "",
    )
      .replace("{}", "");
    samples.set(sample[1] + labels, value);
  }
  return samples;
}

async function scrape(
  app: { request(path: string): Response | Promise<Response> },
  path = "/metrics",
): Promise<Map<string, number>> {
  const response = await app.request(path);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
  return parseMetrics(await response.text());
}

Deno.test("GET /metrics counts frames, replies, faults fired by kind and events dropped from the ring", async () => {
  const journal = new Journal({ server: "primary", capacity: 50 });
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 3,
    journal,
    faults: { dropAck: { probability: 0.4 } },
  });
  const app = primary.adminApp();
  await using peer = await connectPeer(primary.addr);
  const records = 300;
  peer.write(
    Array.from(
      { length: records },
      (_, i) => `{"type":"record","id":"r${i}"}\n`,
    )
      .join(""),
  );
  await journal.waitFor(
    (e) => e.type === "fault" && e.id === `r${records - 1}`,
    { signal: AbortSignal.timeout(10_000) },
  );
  const counts = journal.counts();
  const metrics = await scrape(app);
  assert.equal(metrics.get("failover_frames_in_total"), records);
  assert.equal(metrics.get("failover_replies_out_total"), counts.ack_sent);
  assert.equal(
    metrics.get('failover_faults_fired_total{fault="dropAck"}'),
    counts.ack_dropped,
  );
  assert.ok(counts.ack_dropped > 60 && counts.ack_dropped < 180);
  assert.equal(metrics.get("failover_open_connections"), 1);
  const appended = Object.values(counts).reduce((a, b) => a + b, 0);
  assert.equal(metrics.get("failover_journal_events_total"), appended);
  assert.equal(
    metrics.get("failover_journal_events_dropped_total"),
    appended - 50,
  );
  assert.ok(metrics.get("process_cpu_seconds_total")! > 0);
  assert.ok(metrics.get("process_resident_memory_bytes")! > 1_000_000);
  // A second app over the same journal does not count the faults twice.
  const again = await scrape(primary.adminApp());
  assert.equal(
    again.get('failover_faults_fired_total{fault="dropAck"}'),
    counts.ack_dropped,
  );
});

Deno.test("GET /metrics answers on every server, and on each channel and front", async () => {
  const required = [
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "failover_open_connections",
    "failover_frames_in_total",
    "failover_replies_out_total",
    "failover_journal_events_dropped_total",
  ];
  const check = async (
    app: { request(path: string): Response | Promise<Response> },
    path?: string,
  ) => {
    const metrics = await scrape(app, path);
    for (const name of required) {
      assert.ok(metrics.has(name), `${path ?? "/metrics"} lacks ${name}`);
    }
  };
  await using primary = await startPrimaryServer({ port: 0, seed: 1 });
  await check(primary.adminApp());
  await using secondary = await startSecondaryServer({ port: 0, seed: 1 });
  await check(secondary.adminApp());
  await using silent = await startSilentServer({ port: 0, seed: 1 });
  await check(silent.adminApp());
  await using flapping = await startFlappingServer({ port: 0, seed: 1 });
  await check(flapping.adminApp());
  await using echo = await startWatchdogEchoServer({
    seed: 1,
    channels: { A: { port: 0 }, B: { port: 0 } },
  });
  await check(echo.adminApp());
  await check(echo.adminApp(), "/channels/A/metrics");
  await using store = await startMessageStoreServer({
    fronts: [{ name: "ml1", port: 0 }, { name: "ml2", port: 0 }],
    seed: 1,
  });
  await check(store.adminApp());
  await check(store.adminApp(), "/fronts/ml2/metrics");
});

Deno.test("the watchdog-echo server's /metrics counts both channels' connections", async () => {
  await using echo = await startWatchdogEchoServer({
    seed: 1,
    channels: { A: { port: 0 }, B: { port: 0 } },
  });
  const app = echo.adminApp();
  await using a = await connectPeer(echo.addr.A);
  await using b = await connectPeer(echo.addr.B);
  const signal = AbortSignal.timeout(5000);
  await echo.journal.waitFor(
    (e) => e.type === "connected" && e.channel === "B",
    { signal },
  );
  await echo.journal.waitFor(
    (e) => e.type === "connected" && e.channel === "A",
    { signal },
  );
  assert.equal((await scrape(app)).get("failover_open_connections"), 2);
  assert.equal(
    (await scrape(app, "/channels/A/metrics")).get("failover_open_connections"),
    1,
  );
  await a.close();
  await b.close();
});

Deno.test("a primary run from the command line serves /metrics on its admin port", async () => {
  await using cli = await spawnServer("servers/primary.ts", "--seed 7");
  const response = await fetch(`${cli.fields.admin}/metrics`);
  assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
  const metrics = parseMetrics(await response.text());
  assert.equal(metrics.get("failover_frames_in_total"), 0);
  assert.ok(metrics.get("process_cpu_seconds_total")! > 0);
  const { code } = await cli.stop();
  assert.equal(code, 0);
});
