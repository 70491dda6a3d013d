import assert from "node:assert/strict";
import { connect } from "node:net";
import type { JournalEvent } from "../core/journal/journal.ts";
import { type Lab, startLab } from "../lab/lab.ts";
import { loadTopology, parseTopology } from "../lab/topology.ts";
import { runScript, spawnCli } from "./_cli.ts";
import { TextLineStream } from "../core/codecs/text_line_stream.ts";
import { connectPeer } from "./_net.ts";
import { tempDir } from "./_lifetime.ts";

const json = (body: unknown): RequestInit => ({
  method: "PATCH",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function get(lab: Lab, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${lab.url}${path}`);
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return await response.json();
}

/** Whether something accepts TCP connections at host:port. */
function accepts(hostname: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const SMALL = parseTopology({
  name: "small",
  seed: 11,
  servers: {
    primary: {
      kind: "primary",
      faults: { dropAck: { window: { first: 1 } } },
    },
    secondary: { kind: "secondary", ack: true },
  },
  clients: {
    tracker: {
      kind: "two-servers",
      ip1: "primary",
      ip2: "secondary",
      ackTimeoutMs: 500,
    },
  },
  traffic: { everyMs: 50 },
});

Deno.test("startLab puts the file's faults in force before the first connection", async () => {
  await using lab = await startLab(SMALL, { anyPort: true, traffic: false });
  const signal = AbortSignal.timeout(10_000);
  const primary = lab.server("primary")!;
  await using peer = await connectPeer(primary.addresses()[0]);
  peer.send({ type: "record", id: "first" });
  peer.send({ type: "record", id: "second" });
  // The first ACK ever is dropped; the second goes out.
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "second" });
  const [dropped] = primary.journals[0].query({ type: "ack_dropped" });
  assert.equal(dropped.id, "first");
  const faults = await get(lab, "/servers/primary/faults");
  assert.deepEqual(faults, { dropAck: { window: { first: 1 } } });
});

Deno.test("GET /servers lists every server with its kind, addresses and counters", async () => {
  await using lab = await startLab(SMALL, { anyPort: true, traffic: false });
  const signal = AbortSignal.timeout(10_000);
  const { servers } = await get(lab, "/servers") as {
    servers: {
      name: string;
      kind: string;
      admin: string;
      addresses: { hostname: string; port: number; listening: boolean }[];
      counters: { key: string; value: number }[];
    }[];
  };
  assert.deepEqual(
    servers.map((s) => [s.name, s.kind, s.admin]),
    [
      ["primary", "primary", "/servers/primary"],
      ["secondary", "secondary", "/servers/secondary"],
    ],
  );
  for (const server of servers) {
    const [address] = server.addresses;
    assert.equal(address.listening, true);
    assert.ok(await accepts(address.hostname, address.port), server.name);
  }
  await using peer = await connectPeer(servers[0].addresses[0]);
  peer.send({ type: "record", id: "a" });
  peer.send({ type: "record", id: "b" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "b" });
  const summary = await get(lab, "/servers/primary") as {
    counters: { key: string; value: number }[];
    connections: unknown[];
  };
  assert.deepEqual(
    Object.fromEntries(summary.counters.map((c) => [c.key, c.value])),
    { recordsIn: 2, acksSent: 1, acksDropped: 1 },
  );
  assert.equal(summary.connections.length, 1);
  const missing = await fetch(`${lab.url}/servers/nope`);
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).message, /No server named "nope"/);
});

Deno.test("each server's own admin routes are under /servers/<name>", async () => {
  await using lab = await startLab(SMALL, { anyPort: true, traffic: false });
  const health = await get(lab, "/servers/secondary/health");
  assert.deepEqual(health, { ok: true, name: "secondary", kind: "secondary" });
  const changed = await fetch(
    `${lab.url}/servers/secondary/faults`,
    json({ delayAck: { ms: 100 } }),
  );
  assert.equal(changed.status, 200);
  assert.deepEqual(await changed.json(), { delayAck: { ms: 100 } });
  const bad = await fetch(
    `${lab.url}/servers/secondary/faults`,
    json({ delayAck: { ms: -1 } }),
  );
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).message, /delayAck\.ms/);
  const down = await fetch(`${lab.url}/servers/primary/down`, {
    method: "POST",
  });
  assert.equal(down.status, 200);
  await down.body?.cancel();
  const { servers } = await get(lab, "/servers") as {
    servers: { name: string; listening: boolean }[];
  };
  assert.deepEqual(
    servers.map((s) => [s.name, s.listening]),
    [["primary", false], ["secondary", true]],
  );
  const records = await get(lab, "/servers/secondary/records/counts");
  assert.ok(records);
});

Deno.test("/lab has the topology and the seed, and starts and stops the reference clients", async () => {
  const { faults: _faults, ...primaryEntry } = SMALL.servers.primary;
  const topology = {
    ...SMALL,
    servers: { ...SMALL.servers, primary: primaryEntry },
  };
  await using lab = await startLab(topology, { anyPort: true, traffic: false });
  const signal = AbortSignal.timeout(15_000);
  const info = await get(lab, "/lab") as {
    name: string;
    seed: number;
    topology: { servers: Record<string, unknown> };
    traffic: { running: boolean; clients: { name: string }[] };
  };
  assert.equal(info.name, "small");
  assert.equal(info.seed, 11);
  assert.deepEqual(Object.keys(info.topology.servers), [
    "primary",
    "secondary",
  ]);
  assert.equal(info.traffic.running, false);
  assert.deepEqual(info.traffic.clients.map((c) => c.name), ["tracker"]);

  const primary = lab.server("primary")!.journals[0];
  const started = await fetch(`${lab.url}/lab/traffic/start`, {
    method: "POST",
  });
  assert.equal(started.status, 200);
  assert.equal((await started.json()).running, true);
  // The reference tracker's records reach the primary and are ACKed.
  await primary.waitFor(
    (e) => e.type === "ack_sent" && String(e.id).startsWith("tracker-"),
    { signal },
  );
  await lab.clientJournal("tracker")!.waitFor(
    (e) => e.type === "deleted",
    { signal },
  );
  const stopped = await fetch(`${lab.url}/lab/traffic/stop`, {
    method: "POST",
  });
  const traffic = await stopped.json();
  assert.equal(traffic.running, false);
  assert.deepEqual(
    traffic.clients.map((c: { running: boolean }) => c.running),
    [false],
  );
  const gone = await primary.waitFor(
    (e) => e.type === "closed",
    { signal },
  );
  assert.equal(gone.by, "peer");
  assert.equal(lab.server("primary")!.connectionInfos().length, 0);
});

Deno.test("GET /events streams the events of every server", async () => {
  await using lab = await startLab(SMALL, { anyPort: true, traffic: false });
  const signal = AbortSignal.timeout(10_000);
  const response = await fetch(`${lab.url}/events`, { signal });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const lines = response.body!
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream())[Symbol.asyncIterator]();
  assert.deepEqual((await lines.next()).value, "event: ready");
  await using one = await connectPeer(lab.server("primary")!.addresses()[0]);
  await using two = await connectPeer(
    lab.server("secondary")!.addresses()[0],
  );
  one.send({ type: "record", id: "p1" });
  two.send({ type: "record", id: "s1" });
  const seen = new Set<string>();
  while (seen.size < 2) {
    const { value, done } = await lines.next();
    assert.ok(!done, "the stream ended early");
    if (!value.startsWith("data: ")) continue;
    const event = JSON.parse(value.slice(6)) as JournalEvent;
    if (event.type === "frame_in") seen.add(`${event.server}:${event.conn}`);
  }
  assert.deepEqual([...seen].sort(), ["primary:1", "secondary:1"]);
  await lines.return?.();
});

Deno.test("the lab serves the dashboard, and everything it loads is local", async () => {
  await using lab = await startLab(SMALL, { anyPort: true, traffic: false });
  const page = await fetch(`${lab.url}/`);
  assert.match(page.headers.get("content-type")!, /^text\/html/);
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(assets, [
    "/dashboard/style.css",
    "data:,",
    "/openapi.json",
    "/dashboard/app.js",
  ]);
  for (const asset of ["/dashboard/style.css", "/dashboard/app.js"]) {
    const response = await fetch(`${lab.url}${asset}`);
    assert.equal(response.status, 200, asset);
    const text = await response.text();
    assert.doesNotMatch(text, /https?:\/\//, `${asset} loads from elsewhere`);
    assert.doesNotMatch(text, /@import/, asset);
  }
  const missing = await fetch(`${lab.url}/dashboard/other.js`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("the demo lab runs every server with reference clients producing traffic through each", async () => {
  const demo = await loadTopology(new URL("../lab/demo.json", import.meta.url));
  await using lab = await startLab(demo, { anyPort: true });
  const signal = AbortSignal.timeout(20_000);
  const traffic: Record<string, (e: JournalEvent) => boolean> = {
    primary: (e) => e.type === "ack_sent",
    secondary: (e) => e.type === "frame_in",
    flapping: (e) => e.type === "frame_in",
    silent: (e) => e.type === "frame_in" || e.type === "connected",
    echo: (e) => e.type === "ack_sent" && e.reply === "ack",
    store: (e) => e.type === "message_stored",
    relay: (e) => e.type === "upstream_connected",
  };
  assert.deepEqual([...lab.servers.keys()].sort(), Object.keys(traffic).sort());
  // The secondary gets traffic once the tracker fails over to it (FO-2).
  const { secondary, ...first } = traffic;
  const waited = (name: string, seen: (e: JournalEvent) => boolean) =>
    lab.server(name)!.journals[0].waitFor(seen, { signal }).catch(() => {
      throw new Error(`No traffic reached ${name}`);
    });
  await Promise.all(
    Object.entries(first).map(([name, seen]) => waited(name, seen)),
  );
  const secondaryJournal = lab.server("secondary")!.journals[0];
  assert.equal(secondaryJournal.query({ type: "frame_in" }).length, 0);
  const down = await fetch(`${lab.url}/servers/primary/down`, {
    method: "POST",
  });
  await down.body?.cancel();
  await waited("secondary", secondary);
  const info = await get(lab, "/lab") as {
    traffic: { running: boolean; clients: { running: boolean }[] };
  };
  assert.equal(info.traffic.running, true);
  assert.ok(info.traffic.clients.every((client) => client.running));
});

Deno.test("the lab stops cleanly and releases every port", async () => {
  const demo = await loadTopology(new URL("../lab/demo.json", import.meta.url));
  const lab = await startLab(demo, { anyPort: true });
  const signal = AbortSignal.timeout(15_000);
  await lab.server("store")!.journals[0].waitFor(
    (e) => e.type === "message_stored",
    { signal },
  );
  const events = await fetch(`${lab.url}/events`);
  const addresses = [...lab.servers.values()].flatMap((server) =>
    server.addresses()
  );
  const admin = lab.addr;
  await lab.close();
  await lab.finished;
  // The open event stream ended with the lab.
  await events.body!.pipeTo(new WritableStream());
  for (const address of [...addresses, admin]) {
    assert.equal(
      await accepts(address.hostname, address.port),
      false,
      `${address.hostname}:${address.port} still accepts`,
    );
    // And the port can be bound again.
    const listener = Deno.listen({
      hostname: address.hostname,
      port: address.port,
    });
    listener.close();
  }
});

Deno.test("startLab names the server that cannot start, and releases the rest", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const topology = parseTopology({
    servers: {
      primary: { kind: "primary", port: 0 },
      secondary: { kind: "secondary", port: taken.addr.port },
    },
  });
  await assert.rejects(
    startLab(topology, { port: 0, traffic: false }),
    (error: Error) =>
      error.message.startsWith('Cannot start server "secondary" (secondary): '),
  );
});

Deno.test("lab CLI prints its line, serves the file's topology and stops on SIGTERM", async () => {
  const file = new URL("../lab/examples/two-servers.json", import.meta.url)
    .pathname;
  await using cli = await spawnCli("lab/lab.ts", [
    file,
    "--any-port",
    "--port",
    "0",
    "--no-traffic",
    "--seed",
    "5",
  ]);
  assert.match(
    cli.line,
    /^lab dashboard=http:\/\/127\.0\.0\.1:\d+ seed=5 topology=\S+two-servers\.json servers=primary,secondary,primary-fo,secondary-fo clients=mirror,failover$/,
  );
  const response = await fetch(`${cli.fields.dashboard}/servers`);
  const { servers } = await response.json();
  assert.equal(servers.length, 4);
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("lab CLI exits 2 naming the path in the file and what is wrong", async () => {
  await using dir = await tempDir({ prefix: "ft-lab-cli-" });
  const file = `${dir.path}/lab.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      servers: { primary: { kind: "primary", faults: { dropAck: 30 } } },
    }),
  );
  const { code, stderr } = await runScript("lab/lab.ts", [file]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    new RegExp(
      `error: Invalid topology file ${file}: servers\\.primary\\.faults\\.dropAck: `,
    ),
  );
});
