/**
 * The npm `toxiproxy-node-client` (4.x, unchanged) against our proxy server:
 * every method of `Toxiproxy`, `Proxy` and `Toxic`, over real HTTP, with the
 * toxics it sets acting on real sockets.
 */
import assert from "node:assert/strict";
import {
  type Proxy,
  type Toxic,
  Toxiproxy,
  ToxiproxyError,
} from "toxiproxy-node-client";
import { startProxyServer } from "../servers/proxy.ts";
import {
  assertNotListening,
  connectClient,
  startUpstream,
} from "./_proxy_net.ts";

const signal = () => AbortSignal.timeout(10_000);

Deno.test("toxiproxy-node-client drives every method against our server", async () => {
  await using upstream = await startUpstream();
  await using server = await startProxyServer({ seed: 7 });
  const toxiproxy = new Toxiproxy(server.url);
  assert.equal(toxiproxy.host, server.url);
  assert.ok(toxiproxy.getApi());

  assert.match(await toxiproxy.getVersion(), /"version": "2\./);

  const proxy: Proxy = await toxiproxy.createProxy({
    name: "redis",
    // Not 127.0.0.1: once disabled, its port must stay out of reach of other
    // tests' port-0 listeners (and of a client connecting to itself).
    listen: "127.0.3.1:0",
    upstream: upstream.address,
  });
  assert.equal(proxy.name, "redis");
  assert.equal(proxy.enabled, true);
  assert.equal(proxy.getToxiproxy(), toxiproxy);
  assert.equal(proxy.getHost(), server.url);
  assert.equal(proxy.getPath(), `${server.url}/proxies/redis`);
  assert.deepEqual(proxy.toJson(), {
    enabled: true,
    listen: server.proxy("redis")!.listen,
    name: "redis",
    upstream: upstream.address,
  });

  const fetched = await toxiproxy.get("redis");
  assert.equal(fetched.listen, proxy.listen);
  const all = await toxiproxy.getAll();
  assert.deepEqual(Object.keys(all), ["redis"]);

  const populated = await toxiproxy.populate([
    { name: "redis", listen: proxy.listen, upstream: upstream.address },
    { name: "pg", listen: "127.0.0.1:0", upstream: upstream.address },
  ]);
  assert.deepEqual(Object.keys(populated).sort(), ["pg", "redis"]);

  const toxic: Toxic<{ latency: number; jitter: number }> = await proxy
    .addToxic({
      name: "slow",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 80, jitter: 0 },
    });
  assert.equal(toxic.name, "slow");
  assert.equal(toxic.getPath(), `${server.url}/proxies/redis/toxics/slow`);
  assert.deepEqual(toxic.toJson(), {
    attributes: { latency: 80, jitter: 0 },
    name: "slow",
    stream: "downstream",
    toxicity: 1,
    type: "latency",
  });
  // The toxic acts on a real connection through the proxy.
  {
    await using client = await connectClient(server.proxy("redis")!.addr);
    const start = performance.now();
    client.socket.write("ping");
    await client.readAtLeast(4, signal());
    const ms = performance.now() - start;
    assert.ok(ms >= 80, `round trip took ${ms} ms, expected at least 80`);
  }
  const read = await proxy.getToxic("slow");
  assert.deepEqual(read.attributes, { latency: 80, jitter: 0 });
  const updated = await toxic.update({
    ...toxic.toJson(),
    attributes: { latency: 20, jitter: 0 },
  });
  assert.deepEqual(updated.attributes, { latency: 20, jitter: 0 });
  await updated.remove();
  assert.deepEqual(server.proxy("redis")!.toxics(), []);

  const disabled = await proxy.update({
    listen: proxy.listen,
    upstream: upstream.address,
    enabled: false,
  });
  assert.equal(disabled.enabled, false);
  await assertNotListening(server.proxy("redis")!.addr);

  await proxy.addToxic({
    name: "cut",
    type: "limit_data",
    stream: "downstream",
    toxicity: 1,
    attributes: { bytes: 1 },
  });
  await toxiproxy.reset();
  assert.equal(server.proxy("redis")!.enabled, true);
  assert.deepEqual(server.proxy("redis")!.toxics(), []);

  await proxy.remove();
  await (await toxiproxy.get("pg")).remove();
  assert.deepEqual(await toxiproxy.getAll(), {});
});

// The client leaves the body of an error answer unread (its HttpClient throws
// on !res.ok before reading): the resource sanitizer would blame the test.
Deno.test({
  name:
    "toxiproxy-node-client sees our errors as a ToxiproxyError with the status",
  sanitizeResources: false,
  async fn() {
    await using server = await startProxyServer({ seed: 7 });
    const toxiproxy = new Toxiproxy(server.url);
    await assert.rejects(
      toxiproxy.get("missing"),
      (error: Error) =>
        error instanceof ToxiproxyError &&
        /status code 404/.test(error.message),
    );
    await assert.rejects(
      toxiproxy.createProxy({ name: "x", listen: "127.0.0.1:0", upstream: "" }),
      /status code 400/,
    );
  },
});
