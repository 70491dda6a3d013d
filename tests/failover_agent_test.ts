import assert from "node:assert/strict";
import {
  expandShortFlags,
  FailoverAgent,
  type FailoverAgentOptions,
} from "../clients/failover_agent.ts";
import { Journal } from "../core/journal/journal.ts";
import {
  type MessageStoreServer,
  startMessageStoreServer,
} from "../servers/message_store.ts";
import { assertFlagsRefused } from "./_cli.ts";
import { type ContractProcess, spawnContractClient } from "./_contract.ts";

function start(fronts = ["ml1", "ml2"]): Promise<MessageStoreServer> {
  return startMessageStoreServer({
    fronts: fronts.map((name) => ({ name, port: 0 })),
    seed: 7,
  });
}

function serverList(server: MessageStoreServer, order?: string[]): string {
  return (order ?? server.fronts.map((front) => front.name)).map((name) => {
    const { hostname, port } = server.front(name).addr;
    return `${name}=${hostname}:${port}`;
  }).join(",");
}

function agentOn(
  server: MessageStoreServer,
  agent: string,
  options: Partial<FailoverAgentOptions> = {},
): FailoverAgent {
  return new FailoverAgent({
    agent,
    servers: serverList(server),
    connectTimeoutMs: 500,
    ackTimeoutMs: 1000,
    failoverDelayMs: 10,
    ...options,
  });
}

/** The agent's journal as `type front` lines, only the connection steps. */
function steps(agent: FailoverAgent): string[] {
  return agent.journal.query({
    type: [
      "connecting",
      "connect_failed",
      "retry_delay",
      "connected",
      "disconnected",
      "error",
    ],
  }).map((e) => `${e.type}${e.front ? ` ${e.front}` : ""}`);
}

/** The fronts the server saw connections on, in order. */
function connections(server: MessageStoreServer): string[] {
  return server.journal.query({ type: "connected" }).map((e) =>
    String(e.front)
  );
}

/** Resolves as `promise` does, or rejects once the signal aborts. */
function bounded<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      });
    }),
  ]);
}

async function down(server: MessageStoreServer, ...fronts: string[]) {
  for (const front of fronts) server.front(front).down();
  await server.settled();
}

async function up(server: MessageStoreServer, ...fronts: string[]) {
  for (const front of fronts) server.front(front).up();
  await server.settled();
}

function hellos(server: MessageStoreServer): [unknown, unknown, unknown][] {
  return server.journal.query({ type: "frame_in" }).filter((e) =>
    (e.frame as { type: string }).type === "hello"
  ).map((e) => {
    const frame = e.frame as { agent: string; primary: string };
    return [e.front, frame.agent, frame.primary];
  });
}

Deno.test("failover_agent starts with an ordered server list, the first its primary; agents can have different primaries (QA-1)", async () => {
  await using server = await start();
  await using alice = agentOn(server, "alice");
  await using bob = new FailoverAgent({
    agent: "bob",
    servers: serverList(server, ["ml2", "ml1"]),
    connectTimeoutMs: 500,
  });
  assert.equal(await alice.connect(), "ml1");
  assert.equal(await bob.connect(), "ml2");
  assert.equal(alice.primary.name, "ml1");
  assert.equal(bob.primary.name, "ml2");
  await down(server, "ml1");
  await using carol = agentOn(server, "carol");
  assert.equal(await carol.connect(), "ml2");
  // On an alternate, the agent still names its own primary.
  assert.deepEqual(hellos(server), [
    ["ml1", "alice", "ml1"],
    ["ml2", "bob", "ml2"],
    ["ml2", "carol", "ml1"],
  ]);
});

Deno.test("failover_agent tries an alternate at once when the primary cannot be reached (QA-2)", async () => {
  await using server = await start();
  await down(server, "ml1");
  await using agent = agentOn(server, "alice", { failoverDelayMs: 60_000 });
  const signal = AbortSignal.timeout(5000);
  assert.equal(await bounded(agent.connect(), signal), "ml2");
  assert.deepEqual(steps(agent), [
    "connecting ml1",
    "connect_failed ml1",
    "connecting ml2",
    "connected ml2",
  ]);
  // A primary that accepts and resets counts as unreachable too.
  await up(server, "ml1");
  server.front("ml1").faults.set({ reset: {} });
  await agent.restart();
  assert.deepEqual(steps(agent).slice(4), [
    "disconnected ml2",
    "connecting ml1",
    "connect_failed ml1",
    "connecting ml2",
    "connected ml2",
  ]);
  assert.deepEqual(connections(server), ["ml2", "ml1", "ml2"]);
});

Deno.test("failover_agent retries only the primary -fr more times, -fd apart, before each alternate once (QA-3)", async () => {
  await using server = await start(["ml1", "ml2", "ml3"]);
  server.front("ml1").faults.set({ reset: {} });
  server.front("ml2").faults.set({ reset: {} });
  await using agent = agentOn(server, "alice", {
    failoverRetries: 2,
    failoverDelayMs: 20,
  });
  assert.equal(await agent.connect(), "ml3");
  assert.deepEqual(steps(agent), [
    "connecting ml1",
    "connect_failed ml1",
    "retry_delay ml1",
    "connecting ml1",
    "connect_failed ml1",
    "retry_delay ml1",
    "connecting ml1",
    "connect_failed ml1",
    "connecting ml2",
    "connect_failed ml2",
    "connecting ml3",
    "connected ml3",
  ]);
  assert.deepEqual(
    agent.journal.query({ type: "retry_delay" }).map((e) => e.ms),
    [20, 20],
  );
  assert.deepEqual(connections(server), ["ml1", "ml1", "ml1", "ml2", "ml3"]);
});

Deno.test("failover_agent tries each alternate once, in order, and reports an error when none can be reached (QA-4)", async () => {
  await using server = await start(["ml1", "ml2", "ml3"]);
  for (const front of server.fronts) front.faults.set({ reset: {} });
  await using agent = agentOn(server, "alice", { failoverRetries: 1 });
  const failed = agent.send("bob", "hi", "m1");
  await assert.rejects(failed, (error: Error & { code?: string }) => {
    assert.equal(error.code, "unreachable");
    assert.match(error.message, /no server could be reached/);
    return true;
  });
  assert.deepEqual(connections(server), ["ml1", "ml1", "ml2", "ml3"]);
  assert.deepEqual(steps(agent).slice(-3), [
    "connecting ml3",
    "connect_failed ml3",
    "error",
  ]);
  assert.equal(agent.journal.query({ type: "error" })[0].code, "unreachable");
  // The message stays in the client store for the next transmission (QA-8).
  assert.deepEqual(agent.outbox.map((m) => m.id), ["m1"]);
});

Deno.test("failover_agent receives everything waiting for it through whichever server it is on (QA-5)", async () => {
  await using server = await start();
  await server.inject({ to: "bob", id: "m1", from: "alice", body: 1 });
  await server.inject({ to: "bob", id: "m2", from: "alice", body: 2 });
  await down(server, "ml1");
  await using bob = agentOn(server, "bob");
  const signal = AbortSignal.timeout(5000);
  assert.equal(await bob.connect(), "ml2");
  await server.journal.waitFor(
    (e) => e.type === "message_acked" && e.id === "m2",
    { signal },
  );
  assert.deepEqual(bob.received, [
    { id: "m1", from: "alice", body: 1, front: "ml2" },
    { id: "m2", from: "alice", body: 2, front: "ml2" },
  ]);
  assert.deepEqual(await server.messages(), []);
  // Later messages come with the next transmission.
  await server.inject({ to: "bob", id: "m3" });
  await bob.sync();
  await server.journal.waitFor(
    (e) => e.type === "message_acked" && e.id === "m3",
    { signal },
  );
  assert.deepEqual(
    server.journal.query({ type: "message_acked" }).map((e) => e.front),
    ["ml2", "ml2", "ml2"],
  );
});

Deno.test("failover_agent acts on push only from its primary (QA-6)", async () => {
  const signal = AbortSignal.timeout(5000);
  await using server = await start();
  await using bob = agentOn(server, "bob");
  assert.equal(await bob.connect(), "ml1");
  await server.inject({ to: "bob", id: "m1" });
  await bob.journal.waitFor((e) => e.type === "received" && e.id === "m1", {
    signal,
  });
  assert.deepEqual(
    bob.journal.query({ type: ["push", "received"] }).map((e) => e.type),
    ["push", "received"],
  );
  // On an alternate, no push comes (the server withholds it): the message
  // waits for the next transmission.
  await down(server, "ml1");
  await bob.journal.waitFor((e) => e.type === "disconnected", { signal });
  assert.equal(await bob.connect(), "ml2");
  await server.inject({ to: "bob", id: "m2" });
  await server.journal.waitFor((e) => e.type === "push_withheld", { signal });
  assert.equal(bob.journal.query({ id: "m2" }).length, 0);
  await bob.sync();
  await bob.journal.waitFor((e) => e.type === "received" && e.id === "m2", {
    signal,
  });
  assert.equal(bob.journal.query({ type: "push" }).length, 1);
});

Deno.test("failover_agent ignores a push from a server that is not its primary (QA-6)", async () => {
  const signal = AbortSignal.timeout(5000);
  // A misconfigured alternate: a front that calls itself ml1, as the
  // agent's primary is named, so it pushes.
  await using primary = await start(["ml1"]);
  await using impostor = await start(["ml1"]);
  await down(primary, "ml1");
  const { hostname, port } = impostor.front("ml1").addr;
  await using bob = new FailoverAgent({
    agent: "bob",
    servers: `${serverList(primary)},ml2=${hostname}:${port}`,
    connectTimeoutMs: 500,
  });
  assert.equal(await bob.connect(), "ml2");
  await impostor.inject({ to: "bob", id: "m1" });
  await impostor.journal.waitFor((e) => e.type === "push_sent", { signal });
  await bob.journal.waitFor((e) => e.type === "push_ignored", { signal });
  assert.equal(bob.journal.query({ type: "push" }).length, 0);
  assert.equal(bob.received.length, 0);
});

Deno.test("failover_agent reports store_unavailable, keeps its messages and does not fail over while the store is down (QA-7)", async () => {
  await using server = await start();
  await using alice = agentOn(server, "alice");
  assert.equal(await alice.connect(), "ml1");
  server.storeDown();
  await assert.rejects(alice.send("bob", "hi", "m1"), /store_unavailable/);
  assert.deepEqual(alice.outbox.map((m) => m.id), ["m1"]);
  // A new transmission: the primary answers store_unavailable; no failover.
  await assert.rejects(alice.connect(), /store_unavailable/);
  assert.deepEqual(connections(server), ["ml1", "ml1"]);
  assert.equal(server.journal.query({ type: "message_stored" }).length, 0);
  await server.storeUp();
  await alice.sync();
  const signal = AbortSignal.timeout(5000);
  await alice.journal.waitFor((e) => e.type === "sent" && e.id === "m1", {
    signal,
  });
  assert.deepEqual(
    server.journal.query({
      type: ["store_down", "store_unavailable", "store_up", "message_stored"],
    }).map((e) => e.type),
    [
      "store_down",
      "store_unavailable",
      "store_unavailable",
      "store_up",
      "message_stored",
    ],
  );
  assert.deepEqual(
    alice.journal.query({ type: ["error", "sent"] }).map((e) =>
      `${e.type} ${e.code ?? e.id}`
    ),
    ["error store_unavailable", "error store_unavailable", "sent m1"],
  );
  assert.deepEqual(connections(server), ["ml1", "ml1", "ml1"]);
});

Deno.test("failover_agent keeps a message until a server ACKs it into the store, and ACKs what it received only once stored (QA-8)", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await using alice = agentOn(server, "alice", { ackTimeoutMs: 200 });
  assert.equal(await alice.connect(), "ml1");
  // ml1 stores the message but its ACK is lost; then ml1 goes silent.
  server.front("ml1").faults.set({ dropAck: { window: { first: 1 } } });
  const sent = alice.send("bob", { n: 1 }, "m1");
  await server.journal.waitFor((e) => e.type === "ack_dropped", { signal });
  assert.deepEqual(alice.outbox.map((m) => m.id), ["m1"]);
  server.front("ml1").faults.set({ blackHole: {} });
  assert.equal(await bounded(sent, signal), "m1");
  assert.deepEqual(alice.outbox, []);
  assert.deepEqual(
    alice.journal.query({
      type: ["queued", "ack_timeout", "disconnected", "connected", "sent"],
    }).map((e) => `${e.type} ${e.front ?? e.id}`),
    [
      "connected ml1",
      "queued m1",
      "ack_timeout ml1",
      "disconnected ml1",
      "connected ml2",
      "sent ml2",
    ],
  );
  // Stored once, though sent twice.
  assert.deepEqual(
    server.journal.query({ type: ["message_stored", "message_duplicate"] })
      .map((e) => `${e.type} ${e.front}`),
    ["message_stored ml1", "message_duplicate ml2"],
  );
  // Receiving: stored in the client store, then ACKed, then gone from the
  // shared store.
  server.front("ml1").faults.clear();
  await server.settled();
  await using bob = agentOn(server, "bob");
  await bob.connect();
  const acked = await server.journal.waitFor(
    (e) => e.type === "message_acked" && e.id === "m1",
    { signal },
  );
  const received = bob.journal.query({ type: "received" })[0];
  assert.ok(received.time <= acked.time);
  assert.deepEqual(bob.received, [
    { id: "m1", from: "alice", body: { n: 1 }, front: "ml1" },
  ]);
  assert.deepEqual(await server.messages(), []);
});

Deno.test("failover_agent starts every new connection attempt from the primary (QA-9)", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(5000);
  await down(server, "ml1");
  await using alice = agentOn(server, "alice");
  assert.equal(await alice.connect(), "ml2");
  await up(server, "ml1");
  // Connected to the alternate, it stays there while the connection lasts.
  await bounded(alice.send("bob", 1, "m1"), signal);
  // The connection ends: the next transmission starts from the primary.
  await down(server, "ml2");
  await alice.journal.waitFor((e) => e.type === "disconnected", { signal });
  await bounded(alice.send("bob", 2, "m2"), signal);
  assert.deepEqual(
    server.journal.query({ type: "message_stored" }).map((e) =>
      `${e.id} ${e.front}`
    ),
    ["m1 ml2", "m2 ml1"],
  );
  await up(server, "ml2");
  await down(server, "ml1");
  await alice.journal.waitFor(
    (e) => e.type === "disconnected" && e.front === "ml1",
    { signal },
  );
  await bounded(alice.send("bob", 3, "m3"), signal);
  await up(server, "ml1");
  // A restart starts from the primary too.
  assert.equal(await alice.restart(), "ml1");
  assert.deepEqual(
    alice.journal.query({ type: ["connecting", "connected"] }).map((e) =>
      `${e.type} ${e.front}`
    ),
    [
      "connecting ml1",
      "connecting ml2",
      "connected ml2",
      "connecting ml1",
      "connected ml1",
      "connecting ml1",
      "connecting ml2",
      "connected ml2",
      "connecting ml1",
      "connected ml1",
    ],
  );
});

Deno.test("failover_agent keeps the last maxReceived messages it received, dropping the oldest with a received_dropped event", async () => {
  await using server = await start();
  for (const id of ["m1", "m2", "m3"]) {
    await server.inject({ to: "bob", id, from: "alice", body: id });
  }
  await using bob = agentOn(server, "bob", { maxReceived: 2 });
  const signal = AbortSignal.timeout(5000);
  assert.equal(await bob.connect(), "ml1");
  await server.journal.waitFor(
    (e) => e.type === "message_acked" && e.id === "m3",
    { signal },
  );
  assert.deepEqual(bob.received.map((message) => message.id), ["m2", "m3"]);
  assert.deepEqual(
    bob.journal.query({ type: ["received", "received_dropped"] }).map((e) =>
      `${e.type} ${e.id}${e.dropped ? ` ${e.dropped}` : ""}`
    ),
    [
      "received m1",
      "received m2",
      "received m3",
      "received_dropped m1 1",
    ],
  );
  const state = bob.state();
  assert.equal(state.received, 3);
  assert.equal(state.receivedDropped, 1);
});

Deno.test("failover_agent closes the journal it made when it closes, and only flushes one it was given", async () => {
  /** Counts the calls of a journal's close(). */
  const spy = (journal: Journal) => {
    const calls = { close: 0 };
    const close = journal.close.bind(journal);
    journal.close = () => {
      calls.close++;
      return close();
    };
    return calls;
  };
  const own = new FailoverAgent({ agent: "alice", servers: "ml1=127.0.0.1:1" });
  const ownCalls = spy(own.journal);
  await own.close();
  await own.finished;
  assert.equal(ownCalls.close, 1);
  const given = new Journal({ server: "shared" });
  const givenCalls = spy(given);
  const agent = new FailoverAgent({
    agent: "bob",
    servers: "ml1=127.0.0.1:1",
    journal: given,
  });
  assert.equal(agent.journal, given);
  await agent.close();
  await agent.finished;
  assert.equal(givenCalls.close, 0);
  assert.equal(given.query({ type: "closed_client" }).length, 1);
  await given.close();
});

Deno.test("failover_agent rejects bad options", () => {
  assert.throws(
    () => new FailoverAgent({ agent: "a", servers: "ml1=nowhere" }),
    /Cannot parse address "nowhere"/,
  );
  assert.throws(
    () =>
      new FailoverAgent({
        agent: "a",
        servers: "ml1=127.0.0.1:1",
        failoverRetries: -1,
      }),
    /failoverRetries -1/,
  );
  assert.throws(
    () =>
      new FailoverAgent({
        agent: "a",
        servers: "ml1=127.0.0.1:1",
        maxReceived: 1.5,
      }),
    /maxReceived 1.5/,
  );
  assert.throws(
    () => new FailoverAgent({ agent: "", servers: "ml1=127.0.0.1:1" }),
    /non-empty name/,
  );
  assert.deepEqual(
    expandShortFlags(["-fr", "3", "-fd=1s", "--agent", "-fr"]),
    [
      "--failover-retries",
      "3",
      "--failover-delay=1s",
      "--agent",
      "--failover-retries",
    ],
  );
});

/** Spawns the agent CLI as alice, quiet, on every front, with more flags. */
function spawnAlice(
  server: MessageStoreServer,
  flags: string,
): ContractProcess {
  return spawnContractClient("clients/failover_agent.ts", [
    "--servers",
    serverList(server),
    "--agent",
    "alice",
    ...flags.split(" "),
    "--quiet",
  ]);
}

function eventsOf(
  cli: { events: { event: string; [field: string]: unknown }[] },
  name: string,
): unknown[] {
  return cli.events.filter((e) => e.event === name);
}

Deno.test("failover_agent CLI speaks the client-under-test contract", async () => {
  await using server = await start();
  const signal = AbortSignal.timeout(15_000);
  await using cli = spawnAlice(
    server,
    "-fr 1 -fd 10ms --connect-timeout 500ms --sync-interval 0",
  );
  await cli.waitEvent((e) => e.event === "connected", signal);
  await cli.command({ cmd: "send", id: "m1", to: "bob", body: { n: 1 } });
  await cli.waitEvent((e) => e.event === "deleted" && e.id === "m1", signal);
  await server.inject({ to: "alice", id: "m9" });
  await cli.waitEvent((e) => e.event === "received" && e.id === "m9", signal);
  await cli.command({ cmd: "send", id: "m2" });
  await cli.waitEvent((e) => e.event === "error", signal);
  // Restart: from the primary, which is down now: ml2.
  await down(server, "ml1");
  await cli.command({ cmd: "restart" });
  await cli.waitEvent(
    (e) => e.event === "connected" && e.server === "ml2",
    signal,
  );
  const { code } = await cli.stop(signal);
  assert.equal(code, 0);
  assert.deepEqual(eventsOf(cli, "connected"), [
    { event: "connected", server: "ml1" },
    { event: "connected", server: "ml2" },
  ]);
  assert.deepEqual(eventsOf(cli, "push"), [{ event: "push" }]);
  assert.deepEqual(
    server.journal.query({ type: "message_stored" }).map((e) => e.id),
    ["m1", "m9"],
  );
});

Deno.test("failover_agent CLI prints an error and exits 1 when no server can be reached (QA-4)", async () => {
  await using server = await start();
  await down(server, "ml1", "ml2");
  const signal = AbortSignal.timeout(15_000);
  await using cli = spawnAlice(server, "--connect-timeout 500ms");
  const error = await cli.waitEvent((e) => e.event === "error", signal);
  assert.match(String(error.message), /no server could be reached/);
  const { code } = await cli.stop(signal);
  assert.equal(code, 1);
});

Deno.test("failover_agent CLI names the flag it cannot use", async () => {
  await assertFlagsRefused("clients/failover_agent.ts", [
    ["--agent a", /Missing --servers/],
    [
      "--servers ml1=127.0.0.1:1 --agent a -fr many",
      /Invalid --failover-retries "many"/,
    ],
  ]);
});
