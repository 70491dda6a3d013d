import assert from "node:assert/strict";
import { ProxyApiError, startProxyServer } from "../servers/proxy.ts";
import {
  assertNotListening,
  connectClient,
  startUpstream,
} from "./_proxy_net.ts";
import { owning } from "./_lifetime.ts";

type App = {
  request: (path: string, init?: RequestInit) => Promise<Response> | Response;
};

async function call(
  app: App,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json: unknown; type: string }> {
  const response = await app.request(path, {
    method,
    headers,
    ...(body === undefined
      ? {}
      : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    text,
    json,
    type: response.headers.get("content-type") ?? "",
  };
}

/** A proxy server and an upstream; with `proxy`, a proxy of that name to it. */
async function setUp(proxy?: string) {
  await using stack = new AsyncDisposableStack();
  const upstream = stack.use(await startUpstream());
  const server = stack.use(await startProxyServer({ port: null, seed: 7 }));
  const app = server.adminApp() as unknown as App;
  if (proxy) {
    await call(app, "POST", "/proxies", {
      name: proxy,
      upstream: upstream.address,
    });
  }
  return owning(stack, { upstream, server, app });
}

/** Asserts POST /proxies with `body` answers 400 with an error matching `error`. */
async function assertRefused(
  app: App,
  body: unknown,
  error: RegExp,
): Promise<void> {
  const answer = await call(app, "POST", "/proxies", body);
  assert.equal(answer.status, 400);
  assert.match((answer.json as { error: string }).error, error);
}

Deno.test("toxiproxy API: GET /version answers Toxiproxy's shape", async () => {
  await using t = await setUp();
  const version = await call(t.app, "GET", "/version");
  assert.equal(version.status, 200);
  assert.match(version.text, /^\{"version": "2\.\d+\.\d+"\}\n$/);
});

Deno.test("toxiproxy API: POST /proxies creates (201, real port), duplicates 409, missing fields 400 as Toxiproxy words them", async () => {
  await using t = await setUp();
  const created = await call(t.app, "POST", "/proxies", {
    name: "redis",
    listen: "127.0.0.1:0",
    upstream: t.upstream.address,
  });
  assert.equal(created.status, 201);
  const proxy = created.json as Record<string, unknown>;
  assert.deepEqual(Object.keys(proxy), [
    "name",
    "listen",
    "upstream",
    "enabled",
    "toxics",
  ]);
  assert.equal(proxy.enabled, true);
  assert.deepEqual(proxy.toxics, []);
  assert.match(proxy.listen as string, /^127\.0\.0\.1:[1-9]\d*$/);
  const again = await call(t.app, "POST", "/proxies", {
    name: "redis",
    upstream: t.upstream.address,
  });
  assert.equal(again.status, 409);
  assert.equal(again.text, '{"error":"proxy already exists","status":409}\n');
  assert.equal(again.type, "text/plain; charset=utf-8");
  const noName = await call(t.app, "POST", "/proxies", { upstream: "x:1" });
  assert.deepEqual(noName.json, {
    error: "missing required field: name",
    status: 400,
  });
  const noUpstream = await call(t.app, "POST", "/proxies", { name: "a" });
  assert.deepEqual(noUpstream.json, {
    error: "missing required field: upstream",
    status: 400,
  });
  assert.equal(t.server.proxies().length, 1);
});

Deno.test("toxiproxy API: bad input answers the status with the field and why, changing nothing", async () => {
  await using t = await setUp();
  await assertRefused(t.app, "{nope", /^bad request body: /);
  const empty = await call(t.app, "POST", "/proxies", "");
  assert.deepEqual(empty.json, { error: "bad request body: EOF", status: 400 });
  await assertRefused(t.app, {
    name: 5,
    upstream: "127.0.0.1:1",
  }, /name: expected a string/);
  await assertRefused(t.app, {
    name: "a",
    upstream: "no-port",
  }, /upstream: .*missing port/);
  await assertRefused(t.app, {
    name: "a",
    upstream: "no-such-host.invalid:5432",
  }, /upstream: cannot resolve host "no-such-host.invalid"/);
  // A listen address in use: 500 with Go's words, as Toxiproxy answers.
  const first = await call(t.app, "POST", "/proxies", {
    name: "first",
    upstream: t.upstream.address,
  });
  const listen = (first.json as { listen: string }).listen;
  const inUse = await call(t.app, "POST", "/proxies", {
    name: "second",
    listen,
    upstream: t.upstream.address,
  });
  assert.deepEqual(inUse.json, {
    error: `listen tcp ${listen}: bind: address already in use`,
    status: 500,
  });
  assert.deepEqual(t.server.proxies().map((p) => p.name), ["first"]);
  // The proxy that was there still works.
  await using client = await connectClient(t.server.proxy("first")!.addr);
  client.socket.write("ok");
  await client.readAtLeast(2, AbortSignal.timeout(10_000));
});

Deno.test("toxiproxy API: GET, update and DELETE a proxy", async () => {
  await using t = await setUp("b");
  await call(t.app, "POST", "/proxies", {
    name: "a",
    upstream: t.upstream.address,
  });
  const all = await call(t.app, "GET", "/proxies");
  assert.deepEqual(Object.keys(all.json as object), ["a", "b"]);
  const missing = await call(t.app, "GET", "/proxies/zzz");
  assert.equal(missing.text, '{"error":"proxy not found","status":404}\n');
  const disabled = await call(t.app, "PATCH", "/proxies/a", { enabled: false });
  assert.equal(disabled.status, 200);
  assert.equal((disabled.json as { enabled: boolean }).enabled, false);
  assert.equal(t.server.proxy("a")!.listening, false);
  const enabled = await call(t.app, "POST", "/proxies/a", { enabled: true });
  assert.equal((enabled.json as { enabled: boolean }).enabled, true);
  const deleted = await call(t.app, "DELETE", "/proxies/a");
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, "");
  assert.equal((await call(t.app, "DELETE", "/proxies/a")).status, 404);
});

Deno.test("toxiproxy API: an empty listen on update means 127.0.0.1 on a free port, as none on create does", async () => {
  await using t = await setUp("a");
  assert.match(t.server.proxy("a")!.listen, /^127\.0\.0\.1:[1-9]\d*$/);
  const updated = await call(t.app, "POST", "/proxies/a", { listen: "" });
  assert.equal(updated.status, 200, updated.text);
  assert.match(
    (updated.json as { listen: string }).listen,
    /^127\.0\.0\.1:[1-9]\d*$/,
  );
  assert.equal(t.server.proxy("a")!.listening, true);
});

Deno.test("toxiproxy API: toxics take Toxiproxy's defaults, order, statuses and merge on update", async () => {
  await using t = await setUp("p");
  const created = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "latency",
    attributes: { latency: 100 },
  });
  assert.equal(created.status, 200); // Toxiproxy answers 200, not 201
  assert.deepEqual(created.json, {
    attributes: { latency: 100, jitter: 0 },
    name: "latency_downstream",
    type: "latency",
    stream: "downstream",
    toxicity: 1,
  });
  const up = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "bandwidth",
    stream: "upstream",
    toxicity: 0.5,
    attributes: { rate: 10 },
  });
  assert.equal((up.json as { name: string }).name, "bandwidth_upstream");
  const list = await call(t.app, "GET", "/proxies/p/toxics");
  assert.deepEqual(
    (list.json as { name: string }[]).map((toxic) => toxic.name),
    ["bandwidth_upstream", "latency_downstream"],
  );
  const dup = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "latency",
  });
  assert.deepEqual(dup.json, { error: "toxic already exists", status: 409 });
  const badType = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "nope",
  });
  assert.deepEqual(badType.json, { error: "invalid toxic type", status: 400 });
  const badStream = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "latency",
    stream: "sideways",
  });
  assert.deepEqual(badStream.json, {
    error: "stream was invalid, can be either upstream or downstream",
    status: 400,
  });
  const badAttr = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "slicer",
    attributes: { average_size: "big" },
  });
  assert.equal(badAttr.status, 400);
  assert.match(
    (badAttr.json as { error: string }).error,
    /attributes\.average_size: expected an integer/,
  );
  const negative = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "timeout",
    attributes: { timeout: -1 },
  });
  assert.equal(negative.status, 400);
  assert.match(
    (negative.json as { error: string }).error,
    /attributes\.timeout: expected 0 to/,
  );
  const updated = await call(
    t.app,
    "PATCH",
    "/proxies/p/toxics/latency_downstream",
    {
      attributes: { jitter: 5 },
    },
  );
  assert.deepEqual((updated.json as { attributes: unknown }).attributes, {
    latency: 100,
    jitter: 5,
  });
  const shown = await call(
    t.app,
    "GET",
    "/proxies/p/toxics/latency_downstream",
  );
  assert.deepEqual(shown.json, updated.json);
  assert.equal(
    (await call(t.app, "GET", "/proxies/p/toxics/none")).status,
    404,
  );
  assert.deepEqual(
    (await call(t.app, "POST", "/proxies/p/toxics/none", { toxicity: 1 })).json,
    { error: "toxic not found", status: 404 },
  );
  assert.equal(
    (await call(t.app, "DELETE", "/proxies/p/toxics/latency_downstream"))
      .status,
    204,
  );
  const proxy = await call(t.app, "GET", "/proxies/p");
  assert.equal((proxy.json as { toxics: unknown[] }).toxics.length, 1);
});

Deno.test("toxiproxy API: /populate is idempotent, replaces what differs, checks every entry first", async () => {
  await using t = await setUp();
  const first = await call(t.app, "POST", "/populate", [
    { name: "one", listen: "127.0.0.1:0", upstream: t.upstream.address },
    { name: "two", listen: "127.0.0.1:0", upstream: t.upstream.address },
  ]);
  assert.equal(first.status, 201);
  const proxies =
    (first.json as { proxies: { name: string; listen: string }[] }).proxies;
  assert.deepEqual(proxies.map((p) => p.name), ["one", "two"]);
  await call(t.app, "POST", "/proxies/one/toxics", { type: "latency" });
  // Same listen and upstream: kept as it is, toxics and all.
  const same = await call(t.app, "POST", "/populate", [
    { name: "one", listen: proxies[0].listen, upstream: t.upstream.address },
  ]);
  assert.equal(same.status, 201);
  assert.equal(t.server.proxy("one")!.toxics().length, 1);
  // A new upstream: replaced (its toxics go with it).
  await using other = await startUpstream();
  await call(t.app, "POST", "/populate", [
    { name: "one", listen: proxies[0].listen, upstream: other.address },
  ]);
  assert.equal(t.server.proxy("one")!.upstream, other.address);
  assert.equal(t.server.proxy("one")!.toxics().length, 0);
  const bad = await call(t.app, "POST", "/populate", [
    { name: "three", upstream: t.upstream.address },
    { upstream: t.upstream.address },
  ]);
  assert.deepEqual(bad.json, {
    error: "missing required field: name at proxy 2",
    status: 400,
  });
  assert.equal(t.server.proxy("three"), undefined);
  const nothing = await call(t.app, "POST", "/populate", []);
  assert.deepEqual(nothing.json, { proxies: null });
});

Deno.test("toxiproxy API: POST /reset enables every proxy and removes every toxic", async () => {
  await using t = await setUp();
  await call(t.app, "POST", "/proxies", {
    name: "p",
    upstream: t.upstream.address,
    enabled: false,
  });
  await call(t.app, "POST", "/proxies/p/toxics", { type: "latency" });
  const reset = await call(t.app, "POST", "/reset");
  assert.equal(reset.status, 204);
  const proxy = (await call(t.app, "GET", "/proxies/p")).json as {
    enabled: boolean;
    toxics: unknown[];
  };
  assert.equal(proxy.enabled, true);
  assert.deepEqual(proxy.toxics, []);
});

Deno.test("toxiproxy API: browsers are refused, as Toxiproxy refuses them", async () => {
  await using t = await setUp();
  const refused = await call(t.app, "GET", "/proxies", undefined, {
    "user-agent": "Mozilla/5.0",
  });
  assert.equal(refused.status, 403);
});

Deno.test("proxy API: our fault routes sit beside Toxiproxy's: refuse at connect, then come back", async () => {
  await using t = await setUp("p");
  const addr = t.server.proxy("p")!.addr;
  const put = await t.app.request("/proxies/p/faults", {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refuse: {} }),
  });
  assert.equal(put.status, 200);
  await put.body?.cancel();
  await assertNotListening(addr);
  const del = await t.app.request("/proxies/p/faults", { method: "DELETE" });
  await del.body?.cancel();
  await using client = await connectClient(addr);
  client.socket.write("x");
  await client.readAtLeast(1, AbortSignal.timeout(10_000));
  const journal = await call(t.app, "GET", "/journal?type=connected");
  assert.equal((journal.json as { events: unknown[] }).events.length, 1);
});

Deno.test("proxy API: a black-holed proxy opens no upstream connection; a reset one resets", async () => {
  await using t = await setUp();
  await t.server.createProxy({
    name: "hole",
    upstream: t.upstream.address,
    faults: { blackHole: {} },
  });
  await using client = await connectClient(t.server.proxy("hole")!.addr);
  client.socket.write("into the void");
  await t.server.journal.waitFor(
    (e) => e.type === "fault" && e.fault === "blackHole",
    {
      signal: AbortSignal.timeout(10_000),
    },
  );
  assert.equal(t.upstream.accepted.length, 0);
  await t.server.createProxy({
    name: "rst",
    upstream: t.upstream.address,
    faults: { reset: {} },
  });
  // Reset at once: the connect itself may see the RST.
  const how = await connectClient(t.server.proxy("rst")!.addr).then(
    async (reset) => {
      await using _ = reset;
      return await reset.closed;
    },
    (error) => error.code === "ECONNRESET" ? "rst" : String(error),
  );
  assert.equal(how, "rst");
  assert.equal(t.upstream.accepted.length, 0);
});

Deno.test("proxy API: /metrics counts connections and bytes per proxy in Prometheus text", async () => {
  await using t = await setUp("p");
  {
    await using client = await connectClient(t.server.proxy("p")!.addr);
    client.socket.write("12345");
    await client.readAtLeast(5, AbortSignal.timeout(10_000));
  }
  const metrics = await call(t.app, "GET", "/metrics");
  assert.equal(metrics.status, 200);
  assert.match(
    metrics.text,
    /# TYPE toxiproxy_proxy_received_bytes_total counter/,
  );
  assert.match(
    metrics.text,
    /toxiproxy_proxy_received_bytes_total\{direction="upstream",proxy="p",[^}]*\} 5\n/,
  );
  assert.match(
    metrics.text,
    /failover_proxy_connections_total\{proxy="p",[^}]*\} 1\n/,
  );
});

Deno.test("proxy API: the engine's faults are toxic types too (resetAfter through POST /toxics)", async () => {
  await using t = await setUp("p");
  const bad = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "resetAfter",
    attributes: { bytes: "ten" },
  });
  assert.equal(bad.status, 400);
  assert.match((bad.json as { error: string }).error, /attributes\.bytes/);
  const added = await call(t.app, "POST", "/proxies/p/toxics", {
    type: "resetAfter",
    stream: "upstream",
    attributes: { bytes: 4 },
  });
  assert.equal(added.status, 200);
  assert.deepEqual(added.json, {
    attributes: { bytes: 4 },
    name: "resetAfter_upstream",
    type: "resetAfter",
    stream: "upstream",
    toxicity: 1,
  });
  assert.deepEqual(t.server.proxy("p")!.faults.get(), {
    resetAfter: { bytes: 4 },
  });
  const how = await connectClient(t.server.proxy("p")!.addr).then(
    async (client) => {
      await using _ = client;
      client.socket.write("0123456789");
      return await client.closed;
    },
  );
  assert.equal(how, "rst");
  const removed = await call(
    t.app,
    "DELETE",
    "/proxies/p/toxics/resetAfter_upstream",
  );
  assert.equal(removed.status, 204);
  assert.deepEqual(t.server.proxy("p")!.faults.get(), {});
});

Deno.test("ProxyApiError.from keeps an API error and makes any other a 500 with its message", () => {
  const notFound = new ProxyApiError("proxy not found", 404);
  assert.equal(ProxyApiError.from(notFound), notFound);
  const other = ProxyApiError.from(new Error("listen failed"));
  assert.ok(other instanceof ProxyApiError);
  assert.equal(other.status, 500);
  assert.equal(other.message, "listen failed");
  assert.equal(ProxyApiError.from("text").message, "text");
});
