import assert from "node:assert/strict";
import {
  type Channel,
  DualChannelClient,
  type DualChannelClientOptions,
  parseNetworkMask,
  preferredChannel,
} from "../clients/dual_channel.ts";
import type { Faults } from "../core/faults/mod.ts";
import type { JournalEvent } from "../core/journal/journal.ts";
import {
  startWatchdogEchoServer,
  type WatchdogEchoServer,
} from "../servers/watchdog_echo.ts";
import { assertFlagsRefused } from "./_cli.ts";
import { spawnContractClient } from "./_contract.ts";

/** The client's adapters: one local address on each server network. */
const LOCAL: Record<Channel, string> = { A: "127.0.1.2", B: "127.0.2.2" };

interface Rig extends AsyncDisposable {
  server: WatchdogEchoServer;
  client: DualChannelClient;
  signal: AbortSignal;
  /** Waits for a client event. */
  until(
    type: string,
    match?: Record<string, unknown>,
    since?: number,
  ): Promise<JournalEvent>;
  /** The client's events of these types, as `type:id` or `type:channel`. */
  trail(types: string[]): string[];
  /** Waits for a promise, bounded by the rig's signal. */
  bounded<T>(promise: Promise<T>): Promise<T>;
}

async function rig(
  options: Partial<DualChannelClientOptions> = {},
  faults: Partial<Record<Channel, Faults>> = {},
): Promise<Rig> {
  const server = await startWatchdogEchoServer({
    seed: 3,
    channels: {
      A: { port: 0, faults: faults.A ?? {} },
      B: { port: 0, faults: faults.B ?? {} },
    },
  });
  const client = new DualChannelClient({
    channels: {
      A: { ...server.addr.A, localAddress: LOCAL.A },
      B: { ...server.addr.B, localAddress: LOCAL.B },
    },
    watchdogPeriodMs: 20,
    watchdogTimeoutMs: 400,
    retryMs: 30,
    ...options,
  });
  const signal = AbortSignal.timeout(10_000);
  await client.start();
  return {
    server,
    client,
    signal,
    until: (type, match = {}, since = 0) =>
      client.journal.waitFor(
        (e) =>
          e.type === type &&
          Object.entries(match).every(([key, value]) => e[key] === value),
        { signal, since },
      ),
    trail: (types) =>
      client.journal.query({ type: types }).map((e) =>
        `${e.type}:${e.id ?? e.channel}`
      ),
    bounded: <T>(promise: Promise<T>) =>
      Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          signal.throwIfAborted();
          signal.addEventListener("abort", () => reject(signal.reason), {
            once: true,
          });
        }),
      ]),
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
    },
  };
}

/** Starts with `first` up and the other channel cut, then restores it. */
async function activeFirst(
  first: Channel,
  options: Partial<DualChannelClientOptions> = {},
): Promise<Rig> {
  const second = first === "A" ? "B" : "A";
  const r = await rig(options, { [second]: { down: {} } });
  await r.until("active", { channel: first });
  await r.until("working", { channel: first });
  await r.until("connect_failed", { channel: second });
  await r.server.restore(second);
  await r.until("working", { channel: second });
  return r;
}

function dataIds(server: WatchdogEchoServer, channel: Channel): string[] {
  return server.framesOn(channel, "data").map((e) =>
    (e.frame as { id: string }).id
  );
}

Deno.test("dual_channel client tries to connect over both channels, from each channel's adapter (DC-1)", async () => {
  await using r = await rig();
  const { server } = r;
  for (const channel of ["A", "B"] as Channel[]) {
    const connected = await server.journal.waitFor(
      (e) => e.type === "connected" && e.channel === channel,
      { signal: r.signal },
    );
    assert.match(String(connected.peer), new RegExp(`^${LOCAL[channel]}:`));
    await server.journal.waitFor(
      (e) =>
        e.type === "frame_in" && e.channel === channel &&
        (e.frame as { type: string }).type === "hello",
      { signal: r.signal },
    );
  }
  const trail = r.trail(["connecting", "connected"]);
  assert.deepEqual(trail.slice(0, 2), ["connecting:A", "connecting:B"]);
  assert.ok(trail.includes("connected:A") && trail.includes("connected:B"));
});

Deno.test("dual_channel client makes the first channel connected active, the other alternate (DC-2)", async () => {
  for (const first of ["A", "B"] as Channel[]) {
    const second = first === "A" ? "B" : "A";
    await using r = await activeFirst(first);
    assert.equal(r.client.active, first);
    assert.deepEqual(r.trail(["active", "alternate"]), [
      `active:${first}`,
      `alternate:${second}`,
    ]);
    await r.bounded(r.client.send("d1"));
    assert.deepEqual(dataIds(r.server, first), ["d1"]);
  }
});

Deno.test("dual_channel client sends data over the active channel only (DC-3)", async () => {
  await using r = await activeFirst("B");
  const ids = Array.from({ length: 20 }, (_, i) => `d${i}`);
  await r.bounded(Promise.all(ids.map((id) => r.client.send(id, { n: id }))));
  assert.deepEqual(dataIds(r.server, "B"), ids);
  assert.deepEqual(dataIds(r.server, "A"), []);
  assert.ok(r.server.framesOn("A", "watchdog").length > 0);
});

Deno.test("dual_channel client monitors the alternate with watchdogs the server echoes (DC-4)", async () => {
  await using r = await activeFirst("A");
  const since = r.client.journal.lastSeq;
  let seen = since;
  for (let n = 0; n < 3; n++) {
    seen = (await r.until("watchdog_echo", { channel: "B" }, seen)).seq;
  }
  const echoes = r.client.journal.query({ type: "watchdog_echo", since })
    .filter((e) => e.channel === "B").map((e) => e.seq as number);
  assert.ok(echoes.length >= 3);
  assert.deepEqual(echoes, [...echoes].sort((a, b) => a - b));
  assert.ok(r.server.repliesOn("B", "echo").length >= 3);
  // The watchdogs do their job: a silent alternate is found out.
  r.server.blackHole("B");
  const failed = await r.until("channel_failed", { channel: "B" });
  assert.match(String(failed.reason), /no echo or ACK within 400ms/);
  assert.equal(r.client.active, "A");
  assert.deepEqual(r.trail(["active"]), ["active:A"]);
});

Deno.test("dual_channel client fails over to the alternate without losing or duplicating a message (DC-5)", async () => {
  await using r = await activeFirst("A");
  // A holds its ACKs back; B answers every data frame twice.
  r.server.delayEcho("A", 60_000);
  r.server.channel("B").faults.patch({ duplicateAck: {} });
  const ids = ["d1", "d2", "d3", "d4", "d5"];
  const sends = ids.map((id) => r.client.send(id, { id }));
  await r.server.journal.waitFor(
    (e) => e.type === "ack_delayed" && e.id === "d5",
    { signal: r.signal },
  );
  await r.server.cut("A");
  await r.bounded(Promise.all(sends));
  await r.bounded(r.client.send("d6"));
  await r.until("ack_ignored", { id: "d6" });

  const delivered = r.client.journal.query({ type: "delivered" });
  assert.deepEqual(delivered.map((e) => e.id), [...ids, "d6"]);
  assert.ok(delivered.every((e) => e.channel === "B"));
  assert.deepEqual(dataIds(r.server, "A"), ids);
  assert.deepEqual(dataIds(r.server, "B"), [...ids, "d6"]);
  const trail = r.trail(["channel_failed", "requeued", "active", "delivered"]);
  assert.deepEqual(trail, [
    "active:A",
    "channel_failed:A",
    "requeued:A",
    "active:B",
    ...[...ids, "d6"].map((id) => `delivered:${id}`),
  ]);
  assert.ok(r.client.journal.query({ type: "ack_ignored" }).length >= 6);
});

Deno.test("dual_channel client retries a broken channel and takes it back as the alternate (DC-6)", async () => {
  await using r = await activeFirst("A");
  await r.server.cut("A");
  await r.until("active", { channel: "B" });
  const afterFailover = r.client.journal.lastSeq;
  const first = await r.until(
    "connect_failed",
    { channel: "A" },
    afterFailover,
  );
  const second = await r.until("connect_failed", { channel: "A" }, first.seq);
  await r.server.restore("A");
  await r.until("working", { channel: "A" }, second.seq);
  await r.bounded(r.client.send("after"));
  assert.equal(r.client.active, "B");
  assert.deepEqual(dataIds(r.server, "B"), ["after"]);
  assert.deepEqual(
    r.client.journal.query({
      type: ["active", "alternate", "connected"],
      since: afterFailover,
    }).map((e) => `${e.type}:${e.channel}`),
    ["connected:A", "alternate:A"],
  );
});

Deno.test("dual_channel client moves traffic back to the preferred channel once it works (DC-7)", async () => {
  await using r = await activeFirst("B", { preferredNetNr: 1 });
  assert.deepEqual(r.trail(["active", "alternate", "working"]), [
    "active:B",
    "working:B",
    "alternate:A",
    "working:A",
    "active:A",
    "alternate:B",
  ]);
  await r.bounded(r.client.send("d1"));
  let before = r.client.journal.lastSeq;
  await r.server.cut("A");
  await r.until("active", { channel: "B" }, before);
  await r.bounded(r.client.send("d2"));
  before = r.client.journal.lastSeq;
  await r.server.restore("A");
  const back = await r.until("active", { channel: "A" }, before);
  assert.match(String(back.reason), /^preferred/);
  await r.bounded(r.client.send("d3"));
  assert.deepEqual(dataIds(r.server, "A"), ["d1", "d3"]);
  assert.deepEqual(dataIds(r.server, "B"), ["d2"]);
});

Deno.test("dual_channel client takes its preference by network address or by adapter number (DC-8)", async () => {
  for (
    const [options, by] of [
      [{ preferredNetAddr: "127.0.2.0" }, "address"],
      [{ preferredNetAddr: "127.0.2.2/32" }, "address"],
      [{ preferredNetNr: 2 }, "number"],
    ] as const
  ) {
    await using r = await activeFirst("A", options);
    assert.deepEqual(r.client.preferred, { channel: "B", by });
    await r.until("active", { channel: "B" });
    await r.bounded(r.client.send("d1"));
    assert.deepEqual(dataIds(r.server, "B"), ["d1"]);
    assert.deepEqual(r.trail(["active"]), ["active:A", "active:B"]);
  }
});

Deno.test("dual_channel client lets the address win over the number, unless it matches both channels (DC-9)", async () => {
  for (
    const [first, preferredNetAddr, then, by] of [
      ["B", "127.0.1.0", "A", "address"],
      // 127.0.0.0 is 127.x.x.x: both channels are on it, so the number decides.
      ["A", "127.0.0.0", "B", "number"],
    ] as const
  ) {
    await using r = await activeFirst(first, {
      preferredNetAddr,
      preferredNetNr: 2,
    });
    assert.deepEqual(r.client.preferred, { channel: then, by });
    await r.until("active", { channel: then });
    assert.deepEqual(r.trail(["active"]), [
      `active:${first}`,
      `active:${then}`,
    ]);
  }
});

Deno.test("preferredChannel follows DC-9 and parseNetworkMask reads trailing zeros as wildcards", () => {
  const channels = {
    A: { hostname: "10.1.0.5", port: 1, localAddress: "10.1.0.9" },
    B: { hostname: "172.16.4.5", port: 1 },
  };
  const preferred = (preferredNetAddr?: string, preferredNetNr?: 1 | 2) =>
    preferredChannel({ channels, preferredNetAddr, preferredNetNr });
  assert.deepEqual(preferred(), { by: "none" });
  assert.deepEqual(preferred("172.16.0.0"), { channel: "B", by: "address" });
  assert.deepEqual(preferred("192.168.0.0"), { by: "none" });
  assert.deepEqual(preferred("192.168.0.0", 1), { channel: "A", by: "number" });
  assert.deepEqual(preferred("0.0.0.0", 2), { channel: "B", by: "number" });
  assert.deepEqual(parseNetworkMask("172.16.0.0"), {
    network: 0xac100000,
    bits: 16,
  });
  assert.equal(parseNetworkMask("127.0.2.1").bits, 32);
  assert.equal(parseNetworkMask("10.0.0.0/12").bits, 12);
  for (
    const bad of ["172.16", "300.0.0.0", "x", "10.0.0.0/33", "1.2.3.4/8/1"]
  ) {
    assert.throws(() => parseNetworkMask(bad), /Cannot use network address/);
  }
  assert.throws(
    () => preferredChannel({ channels, preferredNetNr: 3 }),
    /Cannot use preferredNetNr 3/,
  );
});

Deno.test("dual_channel client counts a channel failed on close, silence, late or missing answers (DC-10)", async () => {
  // A black-holed active channel: TCP stays open, nothing comes back.
  {
    await using r = await activeFirst("A");
    r.server.blackHole("A");
    const failed = await r.until("channel_failed", { channel: "A" });
    assert.match(String(failed.reason), /no echo or ACK/);
    await r.until("active", { channel: "B" });
    const closed = await r.server.journal.waitFor(
      (e) => e.type === "closed" && e.channel === "A",
      { signal: r.signal },
    );
    assert.equal(closed.by, "peer", "the client closed the silent channel");
  }
  // Echoes later than the timeout; the next N echoes dropped; a reset.
  for (
    const [fault, reason] of [
      [{ delayAck: { ms: 5000 } }, /no echo or ACK/],
      [{ dropAck: { window: { first: 1000 } } }, /no echo or ACK/],
    ] as const
  ) {
    await using r = await activeFirst("A");
    r.server.channel("B").faults.patch(fault);
    const failed = await r.until("channel_failed", { channel: "B" });
    assert.match(String(failed.reason), reason);
    assert.equal(r.client.active, "A");
  }
  {
    await using r = await activeFirst("A");
    await r.server.cut("A", "rst");
    const failed = await r.until("channel_failed", { channel: "A" });
    // A reset reads as ECONNRESET, or EPIPE when a write met it first.
    assert.match(String(failed.reason), /closed by server \((rst|error)/);
  }
  // A data ACK that never comes fails the active channel; the data moves.
  {
    await using r = await activeFirst("A", { activeWatchdog: "never" });
    r.server.channel("A").faults.patch({ dropAck: { window: { first: 1 } } });
    await r.bounded(r.client.send("lost-ack"));
    assert.deepEqual(r.trail(["channel_failed", "delivered"]), [
      "channel_failed:A",
      "delivered:lost-ack",
    ]);
    assert.deepEqual(dataIds(r.server, "A"), ["lost-ack"]);
    assert.deepEqual(dataIds(r.server, "B"), ["lost-ack"]);
  }
});

Deno.test("dual_channel client keeps pending data across restart and rejects it on close", async () => {
  await using r = await activeFirst("A");
  r.server.blackHole("A");
  r.server.blackHole("B");
  const kept = r.client.send("kept");
  await r.until("data_sent", { id: "kept" });
  await r.client.restart();
  await r.server.restore("A");
  await r.server.restore("B");
  await r.bounded(kept);
  const attempts = r.client.journal.query({ type: "data_sent" })
    .filter((e) => e.id === "kept").length;
  assert.ok(attempts >= 2);
  r.server.blackHole("A");
  r.server.blackHole("B");
  const dropped = r.client.send("dropped");
  assert.equal(r.client.send("dropped"), dropped, "same id, same promise");
  await r.client.close();
  await assert.rejects(dropped, /Cannot deliver "dropped"/);
  await assert.rejects(r.client.send("late"), /client is closed/);
});

Deno.test("DualChannelClient rejects bad options naming them", () => {
  const channels = {
    A: { hostname: "127.0.1.1", port: 1 },
    B: { hostname: "127.0.2.1", port: 2 },
  };
  assert.throws(
    () => new DualChannelClient({ channels, watchdogPeriodMs: 0 }),
    /Cannot use watchdogPeriodMs 0/,
  );
  assert.throws(
    () => new DualChannelClient({ channels, preferredNetAddr: "net" }),
    /Cannot use network address "net"/,
  );
  assert.throws(
    () =>
      new DualChannelClient({
        channels: { A: channels.A } as typeof channels,
      }),
    /Cannot use channel B/,
  );
});

Deno.test("dual_channel CLI speaks the client-under-test contract", async () => {
  await using server = await startWatchdogEchoServer({
    seed: 5,
    channels: { A: { port: 0 }, B: { port: 0, faults: { down: {} } } },
  });
  await using cli = spawnContractClient("clients/dual_channel.ts", [
    "--host-a",
    server.addr.A.hostname,
    "--port-a",
    String(server.addr.A.port),
    "--local-a",
    LOCAL.A,
    "--watchdog-period",
    "20ms",
    "--watchdog-timeout",
    "1s",
    "--retry",
    "30ms",
    "--preferred-net-nr",
    "1",
    "--quiet",
  ], {
    // Channel B from the environment, as the conformance runner gives it.
    env: {
      FT_HOST_B: server.addr.B.hostname,
      FT_PORT_B: String(server.addr.B.port),
      FT_LOCAL_B: LOCAL.B,
    },
  });
  const signal = AbortSignal.timeout(30_000);
  const until = (match: Record<string, unknown>) =>
    cli.waitEvent(
      (e) => Object.entries(match).every(([key, value]) => e[key] === value),
      signal,
    );
  await until({ event: "active", channel: "A" });
  await cli.command({ cmd: "send", id: "m1", kind: "record", data: { v: 1 } });
  await cli.command({ cmd: "jump" });
  await until({ event: "deleted", id: "m1" });
  await until({ event: "error" });
  await server.restore("B");
  await until({ event: "connected", server: "B" });
  await server.cut("A");
  await until({ event: "down", channel: "A" });
  await until({ event: "active", channel: "B" });
  await cli.command({ cmd: "send", id: "m2", data: 2 });
  await until({ event: "deleted", id: "m2" });
  const { code, stderr } = await cli.stop(signal);
  assert.equal(code, 0, stderr);
  assert.deepEqual(
    cli.events.filter((e) => e.event === "deleted").map((e) => e.id),
    ["m1", "m2"],
  );
  assert.deepEqual(
    cli.events.filter((e) => e.event === "active").map((e) => e.channel),
    ["A", "B"],
  );
  assert.deepEqual(dataIds(server, "A"), ["m1"]);
  assert.deepEqual(dataIds(server, "B"), ["m2"]);
});

Deno.test("dual_channel CLI rejects bad flags naming them", async () => {
  await assertFlagsRefused("clients/dual_channel.ts", [
    ["--preferred-net-nr 3", /Invalid --preferred-net-nr "3"/],
    ["--watchdog-period soon", /Invalid --watchdog-period "soon"/],
    ["--preferred-net-addr lan", /Invalid --preferred-net-addr "lan"/],
  ]);
});
