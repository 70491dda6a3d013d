import assert from "node:assert/strict";
import { connect } from "node:net";
import { Hono } from "hono";
import { adminGuard, isLoopback } from "../core/admin/admin_guard.ts";
import { serveAdmin } from "../core/admin/admin_server.ts";
import { startLab } from "../lab/lab.ts";
import { parseTopology } from "../lab/topology.ts";
import { startPrimaryServer } from "../servers/primary.ts";

Deno.test("admin API refuses state changes from another web page's origin (#5)", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using admin = await serveAdmin(primary.adminApp(), { port: 0 });
  // A body-less POST is a "simple" request a browser sends cross-origin.
  for (const path of ["/down", "/up", "/connections/1/close"]) {
    const response = await fetch(`${admin.url}${path}`, {
      method: "POST",
      headers: { origin: "http://evil.example" },
    });
    assert.equal(response.status, 403);
    const body = await response.json();
    assert.equal(body.error, "forbidden_origin");
    assert.match(
      body.message,
      /^Refused request from origin "http:\/\/evil\.example": the admin API answers only pages of its own origin/,
    );
    assert.equal(response.headers.get("access-control-allow-origin"), null);
  }
  assert.equal(primary.listening, true);
  assert.equal(primary.journal.counts().stopped_listening, undefined);
  // A no-cors GET carries no Origin, but browsers mark it.
  const sneaky = await fetch(`${admin.url}/journal`, {
    headers: { "sec-fetch-site": "cross-site" },
  });
  assert.equal(sneaky.status, 403);
  await sneaky.body?.cancel();
});

Deno.test("admin API refuses a DNS-rebinding Host and answers its own (#5)", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using admin = await serveAdmin(primary.adminApp(), { port: 0 });
  const status = (host: string, origin?: string) =>
    new Promise<number>((resolve, reject) => {
      // fetch() sets Host itself: speak HTTP/1.1 by hand.
      const socket = connect({ host: "127.0.0.1", port: admin.addr.port });
      let text = "";
      socket.on("data", (chunk) => text += chunk);
      socket.on("error", reject);
      socket.on("close", () => resolve(Number(text.split(" ")[1])));
      socket.write(
        `GET /faults HTTP/1.1\r\nHost: ${host}\r\n${
          origin ? `Origin: ${origin}\r\n` : ""
        }Connection: close\r\n\r\n`,
      );
    });
  const port = admin.addr.port;
  assert.equal(await status(`evil.example:${port}`), 403);
  assert.equal(
    await status(`evil.example:${port}`, `http://evil.example:${port}`),
    403,
  );
  assert.equal(await status(`127.0.0.1:${port}`), 200);
  assert.equal(await status(`localhost:${port}`), 200);
  assert.equal(
    await status(`127.0.0.1:${port}`, `http://127.0.0.1:${port}`),
    200,
  );
  assert.equal(
    await status(`127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`),
    403,
  );
  await using named = await serveAdmin(primary.adminApp(), {
    port: 0,
    allowedHosts: ["lab.internal"],
  });
  const other = await fetch(`${named.url}/health`, {
    headers: { origin: "http://lab.internal:1" },
  });
  assert.equal(other.status, 403);
  await other.body?.cancel();
});

Deno.test("admin API sends CORS headers only to origins it was told to allow", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using admin = await serveAdmin(primary.adminApp(), {
    port: 0,
    allowedOrigins: ["http://127.0.0.1:5173"],
  });
  const preflight = await fetch(`${admin.url}/faults`, {
    method: "OPTIONS",
    headers: {
      origin: "http://127.0.0.1:5173",
      "access-control-request-method": "PUT",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(
    preflight.headers.get("access-control-allow-origin"),
    "http://127.0.0.1:5173",
  );
  await preflight.body?.cancel();
  const allowed = await fetch(`${admin.url}/health`, {
    headers: { origin: "http://127.0.0.1:5173" },
  });
  assert.equal(allowed.status, 200);
  assert.equal(
    allowed.headers.get("access-control-allow-origin"),
    "http://127.0.0.1:5173",
  );
  await allowed.body?.cancel();
  const plain = await fetch(`${admin.url}/health`);
  assert.equal(plain.headers.get("access-control-allow-origin"), null);
  await plain.body?.cancel();
});

Deno.test("admin API requires the token on every route when one is set", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using admin = await serveAdmin(primary.adminApp(), {
    port: 0,
    token: "s3cret",
  });
  assert.equal(admin.token, "s3cret");
  for (const path of ["/health", "/journal", "/openapi.json", "/nowhere"]) {
    const response = await fetch(`${admin.url}${path}`);
    assert.equal(response.status, 401);
    assert.match((await response.json()).message, /^Missing admin token/);
  }
  const wrong = await fetch(`${admin.url}/health`, {
    headers: { authorization: "Bearer nope" },
  });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const right = await fetch(`${admin.url}/health`, {
    headers: { authorization: "Bearer s3cret" },
  });
  assert.equal(right.status, 200);
  await right.body?.cancel();
  // ?token= sets a cookie, so a dashboard opened with it keeps working.
  const opened = await fetch(`${admin.url}/health?token=s3cret`);
  assert.equal(opened.status, 200);
  const cookie = opened.headers.get("set-cookie")!;
  assert.match(
    cookie,
    /^ft_admin_token=s3cret; Path=\/; HttpOnly; SameSite=Strict/,
  );
  await opened.body?.cancel();
  const withCookie = await fetch(`${admin.url}/state`, {
    headers: { cookie: cookie.split(";")[0] },
  });
  assert.equal(withCookie.status, 200);
  await withCookie.body?.cancel();
});

Deno.test("admin API bound beyond loopback generates a token when none is given", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const errors: string[] = [];
  const log = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  let admin;
  try {
    admin = await serveAdmin(primary.adminApp(), {
      hostname: "0.0.0.0",
      port: 0,
    });
  } finally {
    console.error = log;
  }
  await using _admin = admin;
  assert.match(admin.token!, /^[0-9a-f]{32}$/);
  assert.ok(errors.some((line) => line.endsWith(admin.token!)));
  const url = `http://127.0.0.1:${admin.addr.port}`;
  const response = await fetch(`${url}/health`);
  assert.equal(response.status, 401);
  await response.body?.cancel();
  const ok = await fetch(`${url}/health`, {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal(isLoopback("127.0.0.1"), true);
  assert.equal(isLoopback("::1"), true);
  assert.equal(isLoopback("0.0.0.0"), false);
});

Deno.test("adminGuard works as a middleware of any Hono app", async () => {
  const app = new Hono();
  app.use(adminGuard({ hostname: "127.0.0.1" }));
  app.post("/go", (c) => c.text("went"));
  const refused = await app.request("http://127.0.0.1/go", {
    method: "POST",
    headers: { origin: "https://evil.example" },
  });
  assert.equal(refused.status, 403);
  const fine = await app.request("http://127.0.0.1/go", {
    method: "POST",
    headers: { origin: "http://127.0.0.1" },
  });
  assert.equal(await fine.text(), "went");
});

Deno.test("admin API answers 413 to a body over the limit and changes nothing", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using admin = await serveAdmin(primary.adminApp(), { port: 0 });
  const big = JSON.stringify({
    dropAck: { probability: 0.5 },
    pad: "x".repeat(10 * 1024 * 1024),
  });
  const response = await fetch(`${admin.url}/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: big,
  });
  assert.equal(response.status, 413);
  assert.match(
    (await response.json()).message,
    /^Cannot accept request body: larger than the limit of 1048576 bytes/,
  );
  assert.deepEqual(primary.faults.get(), {});
});

Deno.test("an /events client that stops reading is dropped and does not block shutdown (#4)", async () => {
  const primary = await startPrimaryServer({ port: 0 });
  const admin = await serveAdmin(primary.adminApp(), { port: 0 });
  const socket = connect({ host: "127.0.0.1", port: admin.addr.port });
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(
    `GET /events HTTP/1.1\r\nHost: 127.0.0.1:${admin.addr.port}\r\n\r\n`,
  );
  // Read the headers, then stop reading for good.
  await new Promise((resolve) => socket.once("data", resolve));
  socket.pause();
  const dropped = primary.journal.waitFor(
    (e) => e.type === "subscriber_dropped",
    { signal: AbortSignal.timeout(20_000) },
  );
  const pad = "p".repeat(2000);
  for (let i = 0; i < 30_000; i++) {
    primary.journal.append("frame_in", { frame: { type: "record", pad } });
    if (i % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const event = await dropped;
  assert.equal(event.queued, 10_000);
  const started = performance.now();
  await primary.close();
  await admin.close();
  socket.destroy();
  assert.ok(performance.now() - started < 2000);
});

Deno.test("the lab's admin API is behind the same guard: another origin cannot take a server down (#5)", async () => {
  await using lab = await startLab(
    parseTopology({ servers: { primary: { kind: "primary" } } }),
    { anyPort: true, traffic: false },
  );
  const refused = await fetch(`${lab.url}/servers/primary/down`, {
    method: "POST",
    headers: { origin: "http://evil.example" },
  });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, "forbidden_origin");
  const own = await fetch(`${lab.url}/servers/primary/state`, {
    headers: { origin: lab.url },
  });
  assert.equal(own.status, 200);
  assert.equal((await own.json()).listening, true);
});
