import assert from "node:assert/strict";
import { MemoryMessageStore } from "../servers/message_store_memory.ts";
import {
  type MessageStoreServer,
  startMessageStoreServer,
} from "../servers/message_store.ts";
import { assertFlagsRefused, spawnCli } from "./_cli.ts";
import { connectPeer, type TestPeer } from "./_net.ts";

function start(): Promise<MessageStoreServer> {
  return startMessageStoreServer({
    fronts: [{ name: "ml1", port: 0 }, { name: "ml2", port: 0 }],
    seed: 7,
  });
}

async function hello(
  server: MessageStoreServer,
  front: string,
  agent: string,
  signal: AbortSignal,
  primary = "ml1",
): Promise<TestPeer> {
  const peer = await connectPeer(server.front(front).addr);
  peer.send({ type: "hello", agent, primary });
  assert.deepEqual(await peer.next(signal), { type: "welcome", server: front });
  return peer;
}

function json(body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

Deno.test("message-store answers hello with welcome, naming the front", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using _one = await hello(server, "ml1", "alice", signal);
  await using _two = await hello(server, "ml2", "alice", signal);
  const tags = server.connectionInfos().map((info) => info.tags);
  assert.deepEqual(tags, [{ agent: "alice", primary: "ml1" }, {
    agent: "alice",
    primary: "ml1",
  }]);
  assert.deepEqual(
    server.journal.query({ type: "connected" }).map((e) => e.front),
    ["ml1", "ml2"],
  );
});

Deno.test("message-store ACKs a send once it is in the shared store", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using alice = await hello(server, "ml1", "alice", signal);
  alice.send({ type: "send", id: "m1", to: "bob", body: { text: "hi" } });
  assert.deepEqual(await alice.next(signal), { type: "ack", id: "m1" });
  const [stored] = await server.messages();
  assert.equal(stored.id, "m1");
  assert.equal(stored.to, "bob");
  assert.equal(stored.from, "alice");
  assert.deepEqual(stored.body, { text: "hi" });
  const types = server.journal.query({ id: "m1" }).map((e) => e.type);
  assert.ok(
    types.indexOf("message_stored") < types.indexOf("ack_sent"),
    types.join(","),
  );
  // The same message again (its ACK was lost): ACKed, not stored twice.
  alice.send({ type: "send", id: "m1", to: "bob", body: { text: "hi" } });
  assert.deepEqual(await alice.next(signal), { type: "ack", id: "m1" });
  assert.equal((await server.messages()).length, 1);
  assert.equal(server.journal.query({ type: "message_duplicate" }).length, 1);
});

Deno.test("message-store delivers everything waiting on any front, after hello and on sync (QA-5)", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using alice = await hello(server, "ml1", "alice", signal);
  alice.send({ type: "send", id: "m1", to: "bob", body: 1 });
  await alice.next(signal);
  await using bob = await hello(server, "ml2", "bob", signal);
  assert.deepEqual(await bob.next(signal), {
    type: "message",
    id: "m1",
    from: "alice",
    body: 1,
  });
  bob.send({ type: "ack", id: "m1" });
  alice.send({ type: "send", id: "m2", to: "bob", body: 2 });
  await alice.next(signal);
  bob.send({ type: "sync" });
  assert.deepEqual(await bob.next(signal), {
    type: "message",
    id: "m2",
    from: "alice",
    body: 2,
  });
  const delivered = server.journal.query({ type: "message_delivered" });
  assert.deepEqual(
    delivered.map((e) => [e.front, e.agent, e.id]),
    [["ml2", "bob", "m1"], ["ml2", "bob", "m2"]],
  );
});

Deno.test("message-store keeps a message until the agent ACKs it, and delivers it again until then (QA-8)", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await server.inject({ to: "bob", id: "m1", body: "x" });
  {
    await using bob = await hello(server, "ml1", "bob", signal);
    assert.equal((await bob.next(signal)).id, "m1");
    bob.send({ type: "sync" }); // Not ACKed: delivered again.
    assert.equal((await bob.next(signal)).id, "m1");
  }
  await using bob = await hello(server, "ml2", "bob", signal);
  assert.equal((await bob.next(signal)).id, "m1");
  bob.send({ type: "ack", id: "m1" });
  await server.journal.waitFor((e) => e.type === "message_acked", { signal });
  assert.deepEqual(await server.messages(), []);
  bob.send({ type: "ack", id: "m1" }); // Again: harmless.
  await server.journal.waitFor((e) => e.type === "ack_unknown", { signal });
  const acked = server.journal.query({ type: "message_acked" })[0];
  assert.equal(acked.front, "ml2");
  assert.equal(acked.agent, "bob");
  assert.equal(server.journal.query({ type: "message_delivered" }).length, 3);
});

Deno.test("message-store pushes only from the agent's primary (QA-6)", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using onPrimary = await hello(server, "ml1", "bob", signal, "ml1");
  await using onAlternate = await hello(server, "ml2", "bob", signal, "ml1");
  await using elsewhere = await hello(server, "ml1", "carol", signal, "ml2");
  await server.inject({ to: "bob", id: "m1" });
  assert.deepEqual(await onPrimary.next(signal), { type: "push" });
  await server.journal.waitFor(
    (e) => e.type === "push_withheld" && e.front === "ml2",
    { signal },
  );
  // Frames go out in order: were a push sent on ml2, it would come first.
  onAlternate.send({ type: "sync" });
  assert.equal((await onAlternate.next(signal)).type, "message");
  await server.inject({ to: "carol", id: "m2" });
  await server.journal.waitFor(
    (e) => e.type === "push_withheld" && e.agent === "carol",
    { signal },
  );
  const pushes = server.journal.query({ type: "push_sent" });
  assert.deepEqual(pushes.map((e) => [e.front, e.agent]), [["ml1", "bob"]]);
  elsewhere.send({ type: "sync" });
  assert.equal((await elsewhere.next(signal)).type, "message");
});

Deno.test("message-store with the store down answers store_unavailable on every front and loses nothing (QA-7)", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using alice = await hello(server, "ml1", "alice", signal);
  await server.inject({ to: "bob", id: "m1" });
  server.storeDown();
  const unavailable = {
    type: "error",
    code: "store_unavailable",
    message: "Cannot use the message store: it is unavailable",
  };
  alice.send({ type: "send", id: "m2", to: "bob" });
  assert.deepEqual(await alice.next(signal), unavailable);
  alice.send({ type: "sync" });
  assert.deepEqual(await alice.next(signal), unavailable);
  for (const front of ["ml1", "ml2"]) {
    await using bob = await connectPeer(server.front(front).addr);
    bob.send({ type: "hello", agent: "bob", primary: "ml1" });
    assert.deepEqual(await bob.next(signal), unavailable);
    bob.send({ type: "ack", id: "m1" });
    assert.deepEqual(await bob.next(signal), unavailable);
  }
  await assert.rejects(server.messages(), /unavailable/);
  await assert.rejects(server.inject({ to: "bob" }), /unavailable/);
  assert.equal(server.journal.query({ type: "message_delivered" }).length, 0);
  assert.equal(server.journal.query({ type: "store_unavailable" }).length, 6);
  await server.storeUp();
  assert.deepEqual((await server.messages()).map((m) => m.id), ["m1"]);
  await using bob = await hello(server, "ml2", "bob", signal);
  assert.equal((await bob.next(signal)).id, "m1");
  assert.deepEqual(
    server.journal.query({ type: ["store_down", "store_up"] }).map((e) =>
      e.type
    ),
    ["store_down", "store_up"],
  );
});

Deno.test("message-store pushes to agents on their primary when the store comes back", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await server.inject({ to: "bob", id: "m1" });
  await using bob = await hello(server, "ml1", "bob", signal);
  assert.equal((await bob.next(signal)).type, "message");
  server.storeDown();
  await server.storeUp();
  assert.deepEqual(await bob.next(signal), { type: "push" });
});

Deno.test("message-store fronts have faults of their own", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using bob = await hello(server, "ml1", "bob", signal);
  server.front("ml1").down();
  await server.front("ml1").settled();
  assert.equal(await bob.ended, "fin");
  await assert.rejects(connectPeer(server.front("ml1").addr), /ECONNREFUSED/);
  await using onMl2 = await hello(server, "ml2", "bob", signal);
  server.front("ml2").faults.set({ reset: {} });
  // Reset at once: connecting itself may see the RST.
  const reset = await connectPeer(server.front("ml2").addr).then(
    (peer) => peer.ended,
    (error) => error.code === "ECONNRESET" ? "rst" : String(error),
  );
  assert.equal(reset, "rst");
  server.front("ml2").faults.set({ dropAck: {} });
  onMl2.send({ type: "send", id: "m1", to: "carol" });
  await server.journal.waitFor((e) => e.type === "ack_dropped", { signal });
  assert.equal((await server.messages())[0].id, "m1");
  server.front("ml1").up();
  await server.front("ml1").settled();
  await using _back = await hello(server, "ml1", "bob", signal);
});

Deno.test("message-store rejects bad input and keeps the connection", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using peer = await connectPeer(server.front("ml1").addr);
  peer.send({ type: "send", id: "m1", to: "bob" });
  const first = await peer.next(signal);
  assert.equal(first.code, "hello_first");
  peer.write("{not json\n");
  assert.equal((await peer.next(signal)).code, "invalid_json");
  peer.send({ type: "hello" });
  assert.equal((await peer.next(signal)).code, "invalid_frame");
  peer.send({ type: "record", id: "r1" });
  assert.equal((await peer.next(signal)).code, "unknown_type");
  peer.send({ type: "hello", agent: "bob", primary: "ml1" });
  assert.deepEqual(await peer.next(signal), { type: "welcome", server: "ml1" });
  peer.send({ type: "send", id: "", to: "x" });
  assert.equal((await peer.next(signal)).code, "invalid_frame");
  assert.equal(server.journal.query({ type: "bad_input" }).length, 5);
  assert.throws(() => server.front("ml9"), /Cannot find front "ml9"/);
  assert.throws(
    () => startMessageStoreServer({ fronts: [{ name: "a" }, { name: "a" }] }),
    /Cannot use front name "a"/,
  );
});

Deno.test("message-store admin API injects, lists, takes the store down, and serves each front", async () => {
  await using server = await startMessageStoreServer({
    fronts: [{ name: "ml1", port: 0 }, { name: "ml2", port: 0 }],
    store: new MemoryMessageStore(),
    seed: 7,
  });
  const app = server.adminApp();
  let response = await app.request(
    "/messages",
    json({ to: "bob", from: "alice", body: { n: 1 } }),
  );
  assert.equal(response.status, 201);
  const injected = await response.json();
  assert.equal(injected.stored, true);
  assert.equal(injected.message.id, "admin-1");
  response = await app.request("/store");
  assert.deepEqual(
    (await response.json()).messages.map((m: { id: string }) => m.id),
    ["admin-1"],
  );
  response = await app.request("/messages", json({ body: 1 }));
  assert.equal(response.status, 400);
  assert.match((await response.json()).message, /to/);
  response = await app.request("/store/down", { method: "POST" });
  assert.deepEqual(await response.json(), { available: false });
  response = await app.request("/messages", json({ to: "bob" }));
  assert.equal(response.status, 503);
  assert.equal((await response.json()).error, "store_unavailable");
  assert.equal((await app.request("/store")).status, 503);
  response = await app.request("/store/up", { method: "POST" });
  assert.deepEqual(await response.json(), { available: true });
  response = await app.request("/fronts/ml2/faults", {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refuse: {} }),
  });
  assert.equal(response.status, 200);
  assert.equal(server.front("ml2").listening, false);
  assert.equal(server.front("ml1").listening, true);
  response = await app.request("/journal?front=ml2&type=stopped_listening");
  const journal = await response.json();
  assert.equal(journal.events.length, 1);
  assert.equal(journal.events[0].front, "ml2");
  response = await app.request("/journal?type=store_down,store_up");
  assert.equal((await response.json()).events.length, 2);
  assert.equal((await app.request("/journal?front=zz")).status, 404);
  const state = await (await app.request("/state")).json();
  assert.equal(state.kind, "message-store");
  assert.deepEqual(
    state.fronts.map((f: { name: string }) => f.name),
    ["ml1", "ml2"],
  );
  const doc = await (await app.request("/openapi.json")).json();
  for (const path of ["/messages", "/store/down", "/fronts/ml1/faults"]) {
    assert.ok(doc.paths[path], path);
  }
});

Deno.test("message-store CLI prints its line, serves the admin API, and stops on SIGTERM", async () => {
  await using cli = await spawnCli("servers/message_store.ts", [
    "--front",
    "ml1=127.0.0.1:0",
    "--front",
    "ml2=127.0.0.1:0",
    "--admin-port",
    "0",
    "--seed",
    "7",
  ]);
  assert.match(
    cli.line,
    /^message-store tcp=ml1@127\.0\.0\.1:\d+,ml2@127\.0\.0\.1:\d+ store=memory admin=http:\/\/127\.0\.0\.1:\d+ seed=7 codec=line-json$/,
  );
  const port = Number(cli.fields.tcp.split(",")[1].split(":")[1]);
  const down = await fetch(`${cli.fields.admin}/store/down`, {
    method: "POST",
  });
  assert.deepEqual(await down.json(), { available: false });
  const signal = AbortSignal.timeout(5000);
  {
    await using peer = await connectPeer({ hostname: "127.0.0.1", port });
    peer.send({ type: "hello", agent: "bob", primary: "ml1" });
    assert.equal((await peer.next(signal)).code, "store_unavailable");
  }
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("message-store CLI names the flag it cannot use", async () => {
  await assertFlagsRefused("servers/message_store.ts", [
    ["--front ml1=nowhere", /Cannot parse address "nowhere"/],
    ["--front a=127.0.0.1:0 --front a=127.0.0.1:0", /"a" is given twice/],
    // Fronts by name: a whole number would go first, __proto__ be lost.
    [
      "--front b=127.0.0.1:0,10=127.0.0.1:0",
      /Invalid --front .*cannot name a front 10/,
    ],
    ["--front __proto__=127.0.0.1:0", /cannot name a front __proto__/],
  ]);
});
