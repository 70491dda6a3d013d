import assert from "node:assert/strict";
import { serveAdmin } from "../core/admin/admin_server.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { connectPeer } from "./_net.ts";

const timeout = () => AbortSignal.timeout(5000);
const jsonBody = (method: string, body: unknown) => ({
  method,
  headers: { "content-type": "application/json" },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

Deno.test("admin app reads and changes faults with GET, PUT, PATCH and DELETE", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const app = primary.adminApp();
  let response = await app.request(
    "/faults",
    jsonBody("PUT", { dropAck: { probability: 0.3 } }),
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { dropAck: { probability: 0.3 } });
  response = await app.request(
    "/faults",
    jsonBody("PATCH", { delayAck: { ms: 200, jitterMs: 50 }, dropAck: null }),
  );
  assert.deepEqual(await response.json(), {
    delayAck: { ms: 200, jitterMs: 50 },
  });
  response = await app.request("/faults/delayAck", { method: "DELETE" });
  assert.deepEqual(await response.json(), {});
  await app.request("/faults", jsonBody("PUT", { corruptAck: {} }));
  response = await app.request("/faults", { method: "DELETE" });
  assert.deepEqual(await response.json(), {});
  assert.deepEqual(await (await app.request("/faults")).json(), {});
});

Deno.test("admin app answers invalid input with a 400 naming the field, and changes nothing", async () => {
  await using primary = await startPrimaryServer({ port: 0, dropAck: 0.1 });
  const app = primary.adminApp();
  const cases: [RequestInit, number, RegExp][] = [
    [jsonBody("PUT", "{not json"), 400, /Invalid JSON/],
    [
      jsonBody("PUT", { dropAck: { probability: 1.5 } }),
      400,
      /dropAck\.probability/,
    ],
    [jsonBody("PATCH", { teleport: {} }), 400, /teleport/],
    [jsonBody("PUT", { delayAck: { ms: -1 } }), 400, /delayAck\.ms/],
    [{ method: "PUT", body: "{}" }, 415, /application\/json/],
  ];
  for (const [init, status, message] of cases) {
    const response = await app.request("/faults", init);
    assert.equal(response.status, status);
    const body = await response.json();
    assert.match(body.message, message);
  }
  assert.deepEqual(primary.faults.get(), { dropAck: { probability: 0.1 } });
  const unknownKind = await app.request("/faults/teleport", {
    method: "DELETE",
  });
  assert.equal(unknownKind.status, 400);
});

Deno.test("a PUT of faults over HTTP takes effect on the next record", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using admin = await serveAdmin(primary.adminApp(), { port: 0 });
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  assert.deepEqual(await peer.next(timeout()), { type: "ack", id: "r1" });
  const response = await fetch(
    `${admin.url}/faults`,
    jsonBody("PUT", { dropAck: {} }),
  );
  assert.equal(response.status, 200);
  await response.body?.cancel();
  peer.send({ type: "record", id: "r2" });
  await primary.journal.waitFor(
    (e) => e.type === "ack_dropped" && e.id === "r2",
    { signal: timeout() },
  );
  await fetch(`${admin.url}/faults`, { method: "DELETE" }).then((r) =>
    r.body?.cancel()
  );
  peer.send({ type: "record", id: "r3" });
  assert.deepEqual(await peer.next(timeout()), { type: "ack", id: "r3" });
});

Deno.test("admin app lists connections and closes one by RST", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const app = primary.adminApp();
  const peer = await connectPeer(primary.addr);
  peer.send({ type: "hello", device: "d1" });
  await primary.journal.waitFor((e) => e.type === "frame_in", {
    signal: timeout(),
  });
  const { connections } = await (await app.request("/connections")).json();
  assert.equal(connections.length, 1);
  assert.equal(connections[0].tags.device, "d1");
  const missing = await app.request("/connections/999/close", {
    method: "POST",
  });
  assert.equal(missing.status, 404);
  const closed = await app.request(
    `/connections/${connections[0].id}/close?how=rst`,
    { method: "POST" },
  );
  assert.deepEqual(await closed.json(), {
    closed: connections[0].id,
    how: "rst",
  });
  assert.equal(await peer.ended, "rst");
});

Deno.test("admin app queries and clears the journal, and reports state", async () => {
  await using primary = await startPrimaryServer({ port: 0, seed: 42 });
  const app = primary.adminApp();
  await using peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  await peer.next(timeout());
  const { events } =
    await (await app.request("/journal?type=frame_in,ack_sent&id=r1")).json();
  assert.deepEqual(events.map((e: { type: string }) => e.type), [
    "frame_in",
    "ack_sent",
  ]);
  const bad = await app.request("/journal?limit=0");
  assert.equal(bad.status, 400);
  const state = await (await app.request("/state")).json();
  assert.equal(state.seed, 42);
  assert.equal(state.counts.ack_sent, 1);
  const cleared = await (await app.request("/journal", { method: "DELETE" }))
    .json();
  assert.ok(cleared.cleared > 0);
  assert.equal(primary.journal.size, 0);
});

Deno.test("admin app takes the server down and up", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const app = primary.adminApp();
  const down = await (await app.request("/down?how=rst", { method: "POST" }))
    .json();
  assert.equal(down.listening, false);
  assert.deepEqual(down.faults, { down: { how: "rst" } });
  const up = await (await app.request("/up", { method: "POST" })).json();
  assert.equal(up.listening, true);
});

Deno.test("admin app streams live events over SSE and ends the stream on close", async () => {
  const primary = await startPrimaryServer({ port: 0 });
  const admin = await serveAdmin(primary.adminApp(), { port: 0 });
  const response = await fetch(`${admin.url}/events?type=ack_sent`);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!text.includes("event: ready")) text += (await reader.read()).value;
  const peer = await connectPeer(primary.addr);
  peer.send({ type: "record", id: "r1" });
  while (!text.includes('"id":"r1"')) text += (await reader.read()).value;
  assert.match(text, /event: ack_sent/);
  await peer.close();
  await primary.close();
  while (!(await reader.read()).done) { /* the stream ends */ }
  await admin.close();
});

Deno.test("admin app serves an OpenAPI document of its routes", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const doc = await (await primary.adminApp().request("/openapi.json")).json();
  for (
    const path of [
      "/faults",
      "/journal",
      "/connections/{id}/close",
      "/events",
      "/state",
    ]
  ) {
    assert.ok(doc.paths[path], path);
  }
  assert.ok(doc.components.schemas.Faults);
});
