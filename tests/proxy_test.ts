import assert from "node:assert/strict";
import { LINK_HIGH_WATER } from "../core/net/proxy_link.ts";
import type { ToxicAttributes } from "../core/faults/toxic.ts";
import { type ProxyServer, startProxyServer } from "../servers/proxy.ts";
import {
  assertNotListening,
  bytes,
  connectClient,
  type RawClient,
  startUpstream,
  type UpstreamHandler,
} from "./_proxy_net.ts";
import { owning } from "./_lifetime.ts";
import { within } from "./_raw_peer.ts";

const timeout = () => AbortSignal.timeout(10_000);

async function proxyFor(upstream: string, seed = 7) {
  const server = await startProxyServer({ port: null, seed });
  const proxy = await server.createProxy({
    name: "p",
    listen: "127.0.0.1:0",
    upstream,
  });
  return { server, proxy };
}

/**
 * An upstream (an echo unless `handler` says otherwise), a proxy server and
 * its proxy "p" to that upstream; the server and the upstream are closed on
 * dispose.
 */
async function proxied(handler?: UpstreamHandler) {
  await using stack = new AsyncDisposableStack();
  const upstream = stack.use(await startUpstream(handler));
  const { server, proxy } = await proxyFor(upstream.address);
  stack.use(server);
  return owning(stack, { upstream, server, proxy });
}

/**
 * Writes `data`, asserts the same bytes come back, and resolves with how long
 * that took.
 */
async function timedEcho(client: RawClient, data: Uint8Array): Promise<number> {
  const start = performance.now();
  client.socket.write(data);
  const got = await client.readAtLeast(data.length, timeout());
  const ms = performance.now() - start;
  assert.deepEqual(got, data);
  return ms;
}

/** Adds a toxic to the proxy "p" of `rig`, then connects a client through it. */
async function throughToxic(
  rig: {
    server: ProxyServer;
    proxy: { addr: { hostname: string; port: number } };
  },
  toxic: Parameters<ProxyServer["addToxic"]>[1],
): Promise<RawClient> {
  await rig.server.addToxic("p", toxic);
  return connectClient(rig.proxy.addr);
}

Deno.test("proxy passes bytes intact both ways", async () => {
  await using rig = await proxied();
  const { proxy } = rig;
  await using client = await connectClient(proxy.addr);
  const data = bytes(1 << 20);
  client.socket.write(data);
  const got = await client.readAtLeast(data.length, timeout());
  assert.deepEqual(got, data);
});

Deno.test("proxy passes a half-close through: a client that ends its writes still gets the reply", async () => {
  await using rig = await proxied((peer) => {
    let count = 0;
    peer.socket.on("data", (chunk: Uint8Array) => count += chunk.length);
    peer.socket.on("end", () => peer.socket.end(`got ${count}`));
  });
  const { server, proxy } = rig;
  await using client = await connectClient(proxy.addr);
  client.socket.end("hello");
  assert.equal(await within(client.readEnded, timeout()), "fin");
  assert.equal(new TextDecoder().decode(client.received), "got 5");
  await server.journal.waitFor(
    (e) => e.type === "half_closed" && e.stream === "upstream",
    { signal: timeout() },
  );
});

Deno.test("proxy passes a half-close through the other way: the server ends first and still reads", async () => {
  await using rig = await proxied((peer) => {
    peer.socket.end("hi");
    peer.socket.on("data", () => {});
  });
  const { upstream, proxy } = rig;
  await using client = await connectClient(proxy.addr);
  assert.equal(await within(client.readEnded, timeout()), "fin");
  assert.equal(new TextDecoder().decode(client.received), "hi");
  client.socket.end("after");
  const peer = await upstream.connection(1, timeout());
  assert.equal(await within(peer.readEnded, timeout()), "fin");
  assert.equal(new TextDecoder().decode(peer.received), "after");
});

Deno.test("proxy passes an upstream reset to the client as a reset", async () => {
  await using rig = await proxied((peer) => {
    peer.socket.on("data", () => peer.socket.resetAndDestroy());
  });
  const { server, proxy } = rig;
  await using client = await connectClient(proxy.addr);
  client.socket.write("x");
  assert.equal(await within(client.closed, timeout()), "rst");
  const closed = await server.journal.waitFor((e) => e.type === "closed", {
    signal: timeout(),
  });
  assert.equal(closed.how, "rst");
  assert.equal(closed.by, "upstream");
});

Deno.test("proxy passes a client reset to the upstream as a reset", async () => {
  await using rig = await proxied(() => {});
  const { upstream, proxy } = rig;
  const client = await connectClient(proxy.addr);
  const peer = await upstream.connection(1, timeout());
  client.socket.resetAndDestroy();
  await within(client.closed, timeout());
  assert.equal(await within(peer.closed, timeout()), "rst");
});

Deno.test("proxy closes the client when the upstream refuses, and keeps serving", async () => {
  const gone = await startUpstream();
  const address = gone.address;
  await gone[Symbol.asyncDispose]();
  const { server, proxy } = await proxyFor(address);
  await using _ = server;
  for (let i = 0; i < 2; i++) {
    await using client = await connectClient(proxy.addr);
    assert.equal(await within(client.readEnded, timeout()), "fin");
  }
  const failed = server.journal.query({ type: "upstream_failed" });
  assert.equal(failed.length, 2);
  assert.equal(failed[0].code, "ECONNREFUSED");
});

async function roundTrip(client: RawClient, text: string): Promise<number> {
  const start = performance.now();
  const before = client.received.length;
  client.socket.write(text);
  await client.readAtLeast(before + text.length, timeout());
  return performance.now() - start;
}

Deno.test("latency toxic delays each chunk by at least the latency asked", async () => {
  await using rig = await proxied();
  const { server } = rig;
  await server.addToxic("p", { type: "latency", attributes: { latency: 60 } });
  await using client = await throughToxic(rig, {
    type: "latency",
    stream: "upstream",
    attributes: { latency: 40 },
  });
  const ms = await roundTrip(client, "ping");
  assert.ok(ms >= 100, `round trip took ${ms} ms, expected at least 100`);
  assert.equal(new TextDecoder().decode(client.received), "ping");
});

Deno.test("latency toxic added while a link is open acts on it", async () => {
  await using rig = await proxied();
  const { server, proxy } = rig;
  await using client = await connectClient(proxy.addr);
  await roundTrip(client, "a");
  await server.addToxic("p", { type: "latency", attributes: { latency: 80 } });
  const ms = await roundTrip(client, "b");
  assert.ok(ms >= 80, `round trip took ${ms} ms, expected at least 80`);
  await server.removeToxic("p", "latency_downstream");
  assert.equal(proxy.links()[0].stages("downstream").length, 0);
});

Deno.test("a toxic updated on an open link acts at once; the link's other toxic keeps its place", async () => {
  await using rig = await proxied();
  const { server, proxy } = rig;
  await using client = await connectClient(proxy.addr);
  const toxics: {
    type: string;
    name: string;
    toxicity: number;
    attributes: ToxicAttributes;
  }[] = [
    { type: "latency", name: "slow", toxicity: 0, attributes: { latency: 0 } },
    {
      type: "slicer",
      name: "cut",
      toxicity: 1,
      attributes: { average_size: 1, delay: 0 },
    },
  ];
  for (const toxic of toxics) await server.addToxic("p", toxic);
  await roundTrip(client, "a");
  assert.deepEqual(proxy.links()[0].stages("downstream"), ["cut"]);
  // A new toxicity is drawn again on the open link; new attributes apply.
  await server.updateToxic("p", "slow", {
    toxicity: 1,
    attributes: { latency: 80 },
  });
  assert.deepEqual(proxy.links()[0].stages("downstream"), ["slow", "cut"]);
  const ms = await roundTrip(client, "b");
  assert.ok(ms >= 80, `round trip took ${ms} ms, expected at least 80`);
  assert.equal(new TextDecoder().decode(client.received), "ab");
});

Deno.test("bandwidth toxic holds the rate asked", async () => {
  await using rig = await proxied();
  await using client = await throughToxic(rig, {
    type: "bandwidth",
    attributes: { rate: 100 },
  });
  const ms = await timedEcho(client, bytes(50_000));
  // 100 KB/s = 100 bytes per ms: 50 000 bytes take at least 500 ms.
  assert.ok(ms >= 495, `took ${ms} ms, expected at least 500`);
});

Deno.test("slow_close toxic holds the close for the delay asked", async () => {
  await using rig = await proxied((peer) => peer.socket.end("bye"));
  const { server, proxy } = rig;
  await server.addToxic("p", {
    type: "slow_close",
    attributes: { delay: 150 },
  });
  const start = performance.now();
  await using client = await connectClient(proxy.addr);
  await client.readAtLeast(3, timeout());
  assert.equal(await within(client.readEnded, timeout()), "fin");
  const ms = performance.now() - start;
  assert.ok(ms >= 150, `closed after ${ms} ms, expected at least 150`);
});

Deno.test("timeout toxic drops bytes and closes the link after the timeout", async () => {
  await using rig = await proxied();
  const { server, proxy } = rig;
  await server.addToxic("p", { type: "timeout", attributes: { timeout: 120 } });
  const start = performance.now();
  await using client = await connectClient(proxy.addr);
  client.socket.write("lost");
  assert.equal(await within(client.readEnded, timeout()), "fin");
  const ms = performance.now() - start;
  assert.ok(ms >= 120, `closed after ${ms} ms, expected at least 120`);
  assert.equal(client.received.length, 0);
});

Deno.test("timeout toxic of 0 holds the link open and drops bytes until removed", async () => {
  await using rig = await proxied();
  const { server } = rig;
  await using client = await throughToxic(rig, {
    type: "timeout",
    attributes: { timeout: 0 },
  });
  client.socket.write("lost");
  await server.journal.waitFor((e) => e.type === "toxic_dropped", {
    signal: timeout(),
  });
  assert.equal(client.received.length, 0);
  assert.equal(client.socket.destroyed, false);
  await server.removeToxic("p", "timeout_downstream");
  assert.equal(await within(client.readEnded, timeout()), "fin");
});

Deno.test("reset_peer toxic resets the link after the timeout", async () => {
  await using rig = await proxied();
  const { upstream, server, proxy } = rig;
  await server.addToxic("p", {
    type: "reset_peer",
    stream: "upstream",
    attributes: { timeout: 50 },
  });
  const start = performance.now();
  await using client = await connectClient(proxy.addr);
  client.socket.write("x");
  assert.equal(await within(client.closed, timeout()), "rst");
  const ms = performance.now() - start;
  assert.ok(ms >= 50, `reset after ${ms} ms, expected at least 50`);
  const peer = await upstream.connection(1, timeout());
  assert.equal(await within(peer.closed, timeout()), "rst");
});

Deno.test("slicer toxic cuts bytes into slices, delay apart, intact", async () => {
  await using rig = await proxied();
  await using client = await throughToxic(rig, {
    type: "slicer",
    attributes: { average_size: 10, size_variation: 0, delay: 2000 },
  });
  const ms = await timedEcho(client, bytes(100));
  // 100 bytes halve into 16 slices of 6 or 7 bytes: 15 gaps of 2 ms.
  assert.ok(ms >= 30, `took ${ms} ms, expected at least 30`);
});

Deno.test("limit_data toxic passes exactly the bytes asked, then closes", async () => {
  await using rig = await proxied((peer) => peer.socket.write(bytes(5000)));
  await using client = await throughToxic(rig, {
    type: "limit_data",
    attributes: { bytes: 1000 },
  });
  assert.equal(await within(client.readEnded, timeout()), "fin");
  assert.deepEqual(client.received, bytes(5000).subarray(0, 1000));
});

Deno.test("toxicity is drawn per connection from the seed: the same seed hits the same connections", async () => {
  await using upstream = await startUpstream();
  const pattern = async (seed: number) => {
    const { server, proxy } = await proxyFor(upstream.address, seed);
    await using _ = server;
    await server.addToxic("p", {
      type: "latency",
      toxicity: 0.5,
      attributes: { latency: 1 },
    });
    for (let i = 0; i < 12; i++) {
      await using client = await connectClient(proxy.addr);
      await roundTrip(client, "x");
    }
    return server.journal.query({ type: "fault" }).map((e) => e.fired ? 1 : 0)
      .join("");
  };
  const first = await pattern(7);
  assert.equal(first.length, 12);
  assert.equal(await pattern(7), first);
  assert.ok(first.includes("1") && first.includes("0"), first);
  assert.notEqual(await pattern(8), first);
});

Deno.test("enabled false refuses connects and closes links; true comes back on the same port", async () => {
  await using rig = await proxied();
  const { server, proxy } = rig;
  const port = proxy.addr.port;
  await using client = await connectClient(proxy.addr);
  await roundTrip(client, "x");
  await server.updateProxy("p", { enabled: false });
  assert.equal(await within(client.readEnded, timeout()), "fin");
  await assertNotListening(proxy.addr);
  await server.updateProxy("p", { enabled: true });
  assert.equal(proxy.addr.port, port);
  await using again = await connectClient(proxy.addr);
  await roundTrip(again, "y");
});

Deno.test("proxy runs the engine's faults: resetAfter passes exactly N bytes upstream, then resets", async () => {
  await using rig = await proxied(() => {});
  const { upstream, proxy } = rig;
  proxy.faults.set({ resetAfter: { bytes: 10 } });
  await using client = await connectClient(proxy.addr);
  client.socket.write(bytes(25));
  assert.equal(await within(client.closed, timeout()), "rst");
  const peer = await upstream.connection(1, timeout());
  await within(peer.closed, timeout());
  assert.deepEqual(peer.received, bytes(25).subarray(0, 10));
});

Deno.test("proxy flaps on a seeded schedule of the engine: down, then up again on the same port", async () => {
  await using rig = await proxied();
  const { server, proxy } = rig;
  const port = proxy.addr.port;
  const since = server.journal.lastSeq;
  proxy.faults.set({
    down: {
      window: {
        schedule: { on: { min: 30, max: 30 }, off: { min: 30, max: 60 } },
      },
    },
  });
  const down = await server.journal.waitFor(
    (e) => e.type === "stopped_listening" && e.reason === "fault:down",
    { signal: timeout(), since },
  );
  const up = await server.journal.waitFor(
    (e) => e.type === "listening",
    { signal: timeout(), since: down.seq },
  );
  assert.equal(up.addr, `127.0.0.1:${port}`);
  proxy.faults.clear();
  await proxy.settled();
});

Deno.test("proxy holds back a fast sender: what a toxic holds stays bounded, then everything arrives intact", async () => {
  const total = 8 << 20;
  await using rig = await proxied((peer) => peer.socket.end(bytes(total)));
  const { server, proxy } = rig;
  await using client = await throughToxic(rig, {
    type: "latency",
    attributes: { latency: 60_000 },
  });
  const held = await server.journal.waitFor(
    (e) => e.type === "held_back" && e.stream === "downstream",
    { signal: timeout() },
  );
  const link = proxy.links()[0];
  assert.ok(
    (held.held as number) <= LINK_HIGH_WATER + 256 * 1024,
    `held ${held.held} bytes`,
  );
  assert.ok(link.bytes().downstreamIn < total, "the proxy read everything");
  await server.removeToxic("p", "latency_downstream");
  const got = await client.readAtLeast(total, timeout());
  assert.deepEqual(got, bytes(total));
});

Deno.test("a toxic with a window (ours) hits only the first N connections, and expires after forMs", async () => {
  await using rig = await proxied();
  const { server, proxy } = rig;
  await server.addToxic("p", {
    type: "latency",
    attributes: { latency: 1 },
    window: { after: 1, first: 2 },
  });
  for (let i = 0; i < 4; i++) {
    await using client = await connectClient(proxy.addr);
    await roundTrip(client, "x");
  }
  const fired = server.journal.query({ type: "fault" }).map((e) =>
    e.fired ? 1 : 0
  ).join("");
  assert.equal(fired, "0110");
  const since = server.journal.lastSeq;
  await server.addToxic("p", {
    name: "brief",
    type: "timeout",
    window: { forMs: 30 },
  });
  await server.journal.waitFor(
    (e) => e.type === "toxic_removed" && e.toxic === "brief",
    { signal: timeout(), since },
  );
  assert.equal(proxy.toxic("brief"), undefined);
});

Deno.test("assertNotListening fails when something accepts the connect", async () => {
  await using upstream = await startUpstream();
  await assert.rejects(
    assertNotListening(upstream.addr),
    /a connect was accepted/,
  );
});
