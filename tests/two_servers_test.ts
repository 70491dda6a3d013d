import assert from "node:assert/strict";
import {
  startTwoServersClient,
  type TwoServersClient,
  type TwoServersClientOptions,
} from "../clients/two_servers.ts";
import { DurableQueue } from "../clients/_durable_queue.ts";
import type { Frame } from "../core/codecs/frame.ts";
import type { JournalEvent } from "../core/journal/journal.ts";
import type { TcpServer } from "../core/server/tcp_server.ts";
import type { PrimaryServerOptions } from "../servers/primary.ts";
import { spawnContractClient } from "./_contract.ts";
import { portFlags, startServers } from "./_two_servers.ts";
import { journalled } from "./_journal.ts";
import { checked, owning, tempDir } from "./_lifetime.ts";
import { assertFlagsRefused } from "./_cli.ts";

const ACK_TIMEOUT_MS = 200;
/**
 * For failover runs where, after a switch, the other server must ACK within
 * the timeout (a loaded test machine can stall for more than 100ms).
 */
const SWITCH_ACK_TIMEOUT_MS = 400;
/** For runs where no ACK should ever time out. */
const PATIENT_ACK_TIMEOUT_MS = 5000;

function limit(ms = 10_000): AbortSignal {
  return AbortSignal.timeout(ms);
}

function client(
  ip1: TcpServer,
  ip2: TcpServer,
  options: Partial<TwoServersClientOptions> = {},
): Promise<TwoServersClient> {
  return startTwoServersClient({
    port1: ip1.addr.port,
    port2: ip2.addr.port,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    reconnectDelayMs: 20,
    ...options,
  });
}

/** IP1's options to drop its first `count` ACKs, then ACK again. */
function dropFirst(count: number): Partial<PrimaryServerOptions> {
  return { faults: { dropAck: { window: { first: count } } } };
}

/** A device in mirror mode ("Two servers" ticked), once IP2 is connected. */
async function mirrorClient(
  ip1: TcpServer,
  ip2: TcpServer,
  signal: AbortSignal,
  options: Partial<TwoServersClientOptions> = {},
): Promise<TwoServersClient> {
  return checked(
    await client(ip1, ip2, { twoServers: true, ...options }),
    (device) => connected(device, "ip2", signal),
  );
}

/**
 * Both servers (as {@linkcode startServers} makes them) and a device in mirror
 * mode whose ACKs never time out, once IP2 is connected; all closed on
 * dispose.
 */
async function patientMirror(signal: AbortSignal) {
  await using stack = new AsyncDisposableStack();
  const { ip1, ip2 } = stack.use(await startServers());
  const device = stack.use(
    await mirrorClient(ip1, ip2, signal, {
      ackTimeoutMs: PATIENT_ACK_TIMEOUT_MS,
    }),
  );
  return owning(stack, { ip1, ip2, device });
}

/** The client's events of a type, on one link if given. */
function events(
  device: TwoServersClient,
  type: string,
  link?: string,
): JournalEvent[] {
  return device.journal.query({ type }).filter((e) =>
    link === undefined || e.link === link
  );
}

/** Ids of the records and packets a server received, in order. */
function received(server: TcpServer, id?: string): string[] {
  return server.journal.query({ type: "frame_in" })
    .map((e) => e.frame as Frame)
    .filter((f) => f.type === "record" || f.type === "packet")
    .map((f) => f.id as string)
    .filter((got) => id === undefined || got === id);
}

/** Resolves once the device has deleted `id` from its memory. */
function deleted(device: TwoServersClient, id: string, signal: AbortSignal) {
  return journalled(device, "deleted", { id }, signal);
}

/** Resolves once the device is connected on `link` (after `since`). */
function connected(
  device: TwoServersClient,
  link: string,
  signal: AbortSignal,
  since = 0,
) {
  return journalled(device, "connected", { link }, signal, since);
}

/** Resolves once `server` has received a frame with this id. */
function frameIn(server: TcpServer, id: string, signal: AbortSignal) {
  const isIt = (e: JournalEvent) =>
    e.type === "frame_in" && (e.frame as Frame).id === id;
  return server.journal.waitFor(isIt, { signal });
}

/** Resolves once `count` events pass `predicate`. */
async function waitCount(
  server: { journal: TcpServer["journal"] },
  predicate: (e: JournalEvent) => boolean,
  count: number,
  signal: AbortSignal,
  since = 0,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    since = (await server.journal.waitFor(predicate, { signal, since })).seq;
  }
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** TS-6: every IP2 connection attempt happens while IP1 is connected. */
function assertIp2OnlyWhileIp1(device: TwoServersClient): void {
  let ip1 = false;
  for (const e of device.journal.events()) {
    if (e.link === "ip1" && e.type === "connected") ip1 = true;
    if (e.link === "ip1" && e.type === "disconnected") ip1 = false;
    if (e.link === "ip2" && e.type === "connecting") {
      assert.ok(
        ip1,
        `IP2 attempted while IP1 was not connected (seq ${e.seq})`,
      );
    }
  }
}

// ---- TS: "Two servers" ticked (mirror mode) ----

Deno.test("two_servers client sends every record to IP1 and to IP2 (TS-1)", async () => {
  const signal = limit();
  await using rig = await patientMirror(signal);
  const { ip1, ip2, device } = rig;
  const records = ids("r", 5);
  for (const id of records) device.send({ id, data: { id } });
  await deleted(device, "r5", signal);
  await frameIn(ip2, "r5", signal);
  assert.deepEqual(received(ip1), records);
  assert.deepEqual(ip2.received().map((r) => r.id), records);
  assert.deepEqual(device.memory, []);
});

Deno.test("two_servers client deletes a record only on IP1's ACK, then never sends it again (TS-2)", async () => {
  const signal = limit();
  // IP2 ACKs too: its ACKs must not count.
  await using servers = await startServers(dropFirst(2), { ack: true });
  const { ip1, ip2 } = servers;
  await using device = await mirrorClient(ip1, ip2, signal);
  device.send({ id: "r1" });
  device.send({ id: "r2" });
  await deleted(device, "r2", signal);

  const log = device.journal.events();
  const at = (pred: (e: JournalEvent) => boolean) => log.findIndex(pred);
  const ip2Ack = at((e) =>
    e.type === "ack" && e.link === "ip2" && e.id === "r1"
  );
  const ip1Ack = at((e) =>
    e.type === "ack" && e.link === "ip1" && e.id === "r1"
  );
  const gone = at((e) => e.type === "deleted" && e.id === "r1");
  assert.ok(ip2Ack >= 0 && ip1Ack >= 0, "both servers ACKed r1");
  assert.ok(ip2Ack < gone, "IP2 ACKed r1 while it was still in memory");
  assert.equal(log[gone - 1], log[ip1Ack], "r1 left memory on IP1's ACK");
  assert.equal(log[gone].link, "ip1");
  // After its ACK, r1 is never sent again, to either server.
  assert.equal(
    log.slice(gone).filter((e) => e.type === "sent" && e.id === "r1").length,
    0,
  );
  const ip1Log = ip1.journal.events();
  const ackSent = ip1Log.findIndex((e) =>
    e.type === "ack_sent" && e.id === "r1"
  );
  assert.equal(
    ip1Log.slice(ackSent).filter((e) =>
      e.type === "frame_in" && (e.frame as Frame).id === "r1"
    ).length,
    0,
  );
  assert.equal(
    received(ip1, "r1").length,
    events(device, "sent", "ip1").filter((e) => e.id === "r1").length,
  );
  assert.ok(received(ip1, "r1").length >= 3, "two ACKs of r1 were dropped");
  assert.deepEqual(ip2.countsById(), { r1: 1, r2: 1 });
});

Deno.test("two_servers client resends a record to IP1 until IP1 ACKs it (TS-3)", async () => {
  const signal = limit();
  await using servers = await startServers(dropFirst(4));
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, { twoServers: true });
  device.send({ id: "r1" });
  await deleted(device, "r1", signal);
  const timeouts = events(device, "ack_timeout", "ip1");
  assert.ok(timeouts.length >= 4, `${timeouts.length} ACK timeouts`);
  // Each timeout is followed by a resend to IP1, and only IP1's ACK ended it.
  const sends = events(device, "sent", "ip1");
  assert.equal(sends.length, timeouts.length + 1);
  for (const [i, timeout] of timeouts.entries()) {
    assert.ok(sends[i].seq < timeout.seq && timeout.seq < sends[i + 1].seq);
  }
  assert.equal(received(ip1, "r1").length, sends.length);
  assert.equal(ip1.journal.query({ type: "ack_dropped" }).length, 4);
  assert.equal(ip1.journal.query({ type: "ack_sent" }).length, 1);
});

Deno.test("two_servers client never repeats a record to IP2 (TS-4)", async () => {
  const signal = limit();
  await using servers = await startServers({
    seed: 7,
    faults: { dropAck: { probability: 0.5 } },
  });
  const { ip1, ip2 } = servers;
  await using device = await mirrorClient(ip1, ip2, signal);
  const records = ids("r", 10);
  for (const id of records) device.send({ id });
  await deleted(device, "r10", signal);
  await frameIn(ip2, "r10", signal);
  assert.ok(received(ip1).length > records.length, "IP1 got resends");
  assert.deepEqual(ip2.duplicates(), []);
  assert.deepEqual(ip2.received().map((r) => r.id), records);
});

Deno.test("two_servers client never repeats a record to IP2 across a restart (TS-4)", async () => {
  const signal = limit();
  await using servers = await startServers({ faults: { dropAck: {} } });
  const { ip1, ip2 } = servers;
  await using device = await mirrorClient(ip1, ip2, signal);
  device.send({ id: "r1" });
  await waitCount(ip2, (e) => e.type === "frame_in", 1, signal);
  const before = device.journal.lastSeq;
  await device.restart();
  await connected(device, "ip2", signal, before);
  // IP1 gets r1 again after the restart; IP2 does not.
  const resent = ip1.journal.lastSeq;
  await ip1.journal.waitFor(
    (e) => e.type === "frame_in" && (e.frame as Frame).id === "r1",
    { signal, since: resent },
  );
  ip1.faults.clear("dropAck");
  await deleted(device, "r1", signal);
  assert.ok(events(device, "restarted").length === 1);
  assert.deepEqual(ip2.countsById(), { r1: 1 });
});

Deno.test("two_servers client sends packets of other kinds to IP1 only (TS-5)", async () => {
  const signal = limit();
  await using rig = await patientMirror(signal);
  const { ip1, ip2, device } = rig;
  device.send({ id: "r1" });
  device.send({ id: "t1", kind: "transparent", data: "AT" });
  device.send({ id: "k1", kind: "tachograph" });
  device.send({ id: "s1", kind: "sdcard" });
  device.send({ id: "g1", kind: "garmin" });
  device.send({ id: "r2" });
  await deleted(device, "r2", signal);
  await frameIn(ip2, "r2", signal);
  assert.deepEqual(received(ip1), ["r1", "t1", "k1", "s1", "g1", "r2"]);
  assert.deepEqual(ip2.recordCounts().byKind, { record: 2 });
  assert.deepEqual(events(device, "sent", "ip2").map((e) => e.id), [
    "r1",
    "r2",
  ]);
});

Deno.test("two_servers client does not connect to IP2 while IP1 is not connected (TS-6)", async () => {
  const signal = limit();
  await using servers = await startServers({ faults: { down: {} } });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, { twoServers: true });
  device.send({ id: "r1" });
  const failed = (e: JournalEvent) =>
    e.type === "connect_failed" && e.link === "ip1";
  await waitCount(device, failed, 3, signal);
  assert.equal(ip2.journal.query({ type: "connected" }).length, 0);
  assert.equal(events(device, "connecting", "ip2").length, 0);

  // IP1 comes up: only then IP2 is connected.
  ip1.up();
  await connected(device, "ip2", signal);
  await deleted(device, "r1", signal);
  const first1 = events(device, "connected", "ip1")[0];
  const first2 = events(device, "connecting", "ip2")[0];
  assert.ok(first1.seq < first2.seq, "no connection to IP2 before IP1's");

  // IP1 goes down again: IP2 is closed with it and not connected again.
  const mark = device.journal.lastSeq;
  ip1.down();
  await device.journal.waitFor(
    (e) => e.type === "disconnected" && e.link === "ip2",
    { signal, since: mark },
  );
  await waitCount(device, failed, 3, signal, mark);
  assert.equal(ip2.connections().length, 0);
  assert.equal(ip2.journal.query({ type: "connected" }).length, 1);
  assertIp2OnlyWhileIp1(device);
});

Deno.test("two_servers client deletes records on IP1's ACK while IP2 is unavailable (TS-7)", async () => {
  const signal = limit();
  await using servers = await startServers({}, { faults: { down: {} } });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, {
    twoServers: true,
    ackTimeoutMs: PATIENT_ACK_TIMEOUT_MS,
  });
  await device.journal.waitFor(
    (e) => e.type === "connect_failed" && e.link === "ip2",
    { signal },
  );
  for (const id of ids("r", 3)) device.send({ id });
  await deleted(device, "r3", signal);
  assert.deepEqual(received(ip1), ["r1", "r2", "r3"]);
  assert.deepEqual(device.memory, []);
  assert.equal(events(device, "sent", "ip2").length, 0);

  // IP2 comes back: later records reach it; r1..r3 are lost to IP2.
  ip2.up();
  await connected(device, "ip2", signal);
  device.send({ id: "r4" });
  await deleted(device, "r4", signal);
  await frameIn(ip2, "r4", signal);
  assert.deepEqual(ip2.received().map((r) => r.id), ["r4"]);
});

Deno.test("two_servers client doubles the bytes on the wire in mirror mode (TS-8)", async () => {
  const run = async (twoServers: boolean) => {
    const signal = limit();
    await using servers = await startServers();
    const { ip1, ip2 } = servers;
    const device = await client(ip1, ip2, {
      twoServers,
      device: "tracker-1",
      ackTimeoutMs: PATIENT_ACK_TIMEOUT_MS,
    });
    if (twoServers) await connected(device, "ip2", signal);
    for (const id of ids("r", 20)) {
      device.send({ id, data: { lat: 54.68, lon: 25.28, speed: 42 } });
    }
    await deleted(device, "r20", signal);
    if (twoServers) {
      await frameIn(ip2, "r20", signal);
    }
    await device.close();
    const bytes = async (server: TcpServer) => {
      if (server.journal.query({ type: "connected" }).length === 0) return 0;
      const closed = await server.journal.waitFor(
        (e) => e.type === "closed",
        { signal },
      );
      return closed.bytesIn as number;
    };
    return { ip1: await bytes(ip1), ip2: await bytes(ip2) };
  };
  const mirror = await run(true);
  const single = await run(false);
  assert.equal(single.ip2, 0);
  assert.ok(single.ip1 > 0);
  assert.equal(mirror.ip1, single.ip1);
  assert.equal(mirror.ip1 + mirror.ip2, 2 * single.ip1);
});

// ---- FO: "Two servers" not ticked (failover mode) ----

Deno.test("two_servers client sends records to IP1 only while IP1 ACKs (FO-1)", async () => {
  const signal = limit();
  await using servers = await startServers({}, { ack: true });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, {
    ackTimeoutMs: PATIENT_ACK_TIMEOUT_MS,
  });
  const records = ids("r", 5);
  for (const id of records) device.send({ id });
  await deleted(device, "r5", signal);
  assert.deepEqual(received(ip1), records);
  assert.equal(ip2.journal.query({ type: "connected" }).length, 0);
  assert.equal(events(device, "connecting", "ip2").length, 0);
  assert.equal(device.server, "ip1");
});

for (const resends of [0, 2]) {
  Deno.test(`two_servers client switches to IP2 after the ACK timeout and ${resends} resends (FO-2)`, async () => {
    const signal = limit();
    await using servers = await startServers({ faults: { dropAck: {} } }, {
      ack: true,
    });
    const { ip1, ip2 } = servers;
    await using device = await client(ip1, ip2, {
      resends,
      ackTimeoutMs: SWITCH_ACK_TIMEOUT_MS,
    });
    const records = ids("r", 3);
    for (const id of records) device.send({ id });
    await deleted(device, "r3", signal);
    // IP1 got r1 once plus the resends, then nothing more.
    assert.deepEqual(received(ip1), Array(resends + 1).fill("r1"));
    const [switched] = events(device, "switched");
    assert.deepEqual([switched.from, switched.to], ["ip1", "ip2"]);
    const timeouts = events(device, "ack_timeout", "ip1");
    assert.equal(timeouts.length, resends + 1);
    assert.ok(timeouts.at(-1)!.seq < switched.seq);
    // Every further record went to IP2 only, and IP2's ACKs deleted them.
    assert.deepEqual([...new Set(received(ip2))], records);
    assert.deepEqual(events(device, "deleted").map((e) => e.link), [
      "ip2",
      "ip2",
      "ip2",
    ]);
    assert.equal(device.server, "ip2");
  });
}

Deno.test("two_servers client switches to IP2 when IP1 cannot be reached (FO-2)", async () => {
  const signal = limit();
  await using servers = await startServers({ faults: { down: {} } }, {
    ack: true,
  });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, { resends: 1 });
  device.send({ id: "r1" });
  await deleted(device, "r1", signal);
  const failed = events(device, "connect_failed", "ip1");
  const [switched] = events(device, "switched");
  assert.equal(failed.length, 2, "one try and one resend");
  assert.ok(failed[1].seq < switched.seq);
  assert.equal(ip1.journal.query({ type: "connected" }).length, 0);
  assert.deepEqual(received(ip2), ["r1"]);
});

Deno.test("two_servers client stays on IP2 while it ACKs, even when IP1 recovers (FO-3)", async () => {
  const signal = limit();
  // IP1 drops one ACK, then would ACK again: it "recovers".
  await using servers = await startServers(dropFirst(1), { ack: true });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, {
    ackTimeoutMs: SWITCH_ACK_TIMEOUT_MS,
  });
  device.send({ id: "r1" });
  await deleted(device, "r1", signal);
  assert.equal(device.server, "ip2");
  const records = ids("r", 6).slice(1);
  for (const id of records) device.send({ id });
  await deleted(device, "r6", signal);
  assert.deepEqual(received(ip1), ["r1"]);
  assert.equal(ip1.journal.query({ type: "connected" }).length, 1);
  assert.deepEqual(received(ip2), ["r1", ...records]);
  assert.equal(events(device, "switched").length, 1);
  assert.equal(device.server, "ip2");
});

Deno.test("two_servers client goes back to IP1 when IP2 does not ACK either, alternating (FO-4)", async () => {
  const signal = limit();
  // IP2 never ACKs.
  await using servers = await startServers(dropFirst(2));
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, {
    ackTimeoutMs: SWITCH_ACK_TIMEOUT_MS,
  });
  device.send({ id: "r1" });
  await deleted(device, "r1", signal);
  assert.deepEqual(
    events(device, "switched").map((e) => `${e.from}->${e.to}`),
    ["ip1->ip2", "ip2->ip1", "ip1->ip2", "ip2->ip1"],
  );
  assert.equal((await deleted(device, "r1", signal)).link, "ip1");
  assert.deepEqual(received(ip1), ["r1", "r1", "r1"]);
  assert.deepEqual(received(ip2), ["r1", "r1"]);
  assert.equal(device.server, "ip1");
});

Deno.test("two_servers client starts again from IP1 after a restart, keeping unacknowledged records (FO-5)", async () => {
  const signal = limit();
  // IP2 takes records but never ACKs; the ACK timeout is long, so the
  // device sits on IP2 with r1 in flight when it restarts.
  await using servers = await startServers({ faults: { down: {} } });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, {
    ackTimeoutMs: PATIENT_ACK_TIMEOUT_MS,
  });
  device.send({ id: "r1" });
  device.send({ id: "r2" });
  await waitCount(ip2, (e) => e.type === "frame_in", 1, signal);
  assert.equal(device.server, "ip2");
  ip1.up();
  await ip1.settled();
  const mark = device.journal.lastSeq;
  await device.restart();
  assert.equal(device.server, "ip1");
  assert.deepEqual(device.memory.map((e) => e.id), ["r1", "r2"]);
  await deleted(device, "r2", signal);
  const after = device.journal.query({ since: mark });
  const restarted = after.findIndex((e) => e.type === "restarted");
  const reconnecting = after.findIndex((e) => e.type === "connecting");
  assert.ok(restarted >= 0 && restarted < reconnecting);
  assert.equal(after[reconnecting].link, "ip1");
  assert.deepEqual(received(ip1), ["r1", "r2"]);
  assert.deepEqual(events(device, "deleted").map((e) => e.link), [
    "ip1",
    "ip1",
  ]);
});

Deno.test("two_servers client keeps device memory in a file across a process restart (FO-5)", async () => {
  const signal = limit();
  await using dir = await tempDir();
  const memoryFile = `${dir.path}/memory.jsonl`;
  await using servers = await startServers({ faults: { down: {} } }, {
    faults: { down: {} },
  });
  const { ip1, ip2 } = servers;
  {
    await using first = await client(ip1, ip2, { memoryFile });
    first.send({ id: "r1", data: { n: 1 } });
    first.send({ id: "g1", kind: "garmin" });
    first.send({ id: "r2" });
    await first.journal.waitFor(
      (e) => e.type === "connect_failed" && e.link === "ip2",
      { signal },
    );
  }
  ip1.up();
  await using second = await client(ip1, ip2, { memoryFile });
  assert.deepEqual(second.memory.map((e) => e.id), ["r1", "g1", "r2"]);
  await deleted(second, "r2", signal);
  assert.deepEqual(received(ip1), ["r1", "g1", "r2"]);
  assert.deepEqual(
    (ip1.journal.query({ type: "frame_in" })[0].frame as Frame).data,
    { n: 1 },
  );
  assert.deepEqual(second.memory, []);
});

Deno.test("two_servers client deletes a record on an ACK from the server in use, losing none (FO-6)", async () => {
  const signal = limit(20_000);
  await using servers = await startServers({
    seed: 11,
    faults: { dropAck: { probability: 0.3 } },
  }, { seed: 12, ack: true, faults: { dropAck: { probability: 0.3 } } });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2, { resends: 1 });
  const records = ids("r", 20);
  for (const id of records) device.send({ id });
  await deleted(device, "r20", signal);
  const log = device.journal.events();
  const gone = log.filter((e) => e.type === "deleted");
  assert.deepEqual(
    gone.map((e) => e.id),
    records,
    "each deleted once, in order",
  );
  assert.ok(events(device, "switched").length > 0, "the faults made it switch");
  assert.ok(
    gone.some((e) => e.link === "ip2"),
    "IP2's ACKs deleted records",
  );
  // Every ACK (only the server in use's connection is open) of a record in
  // memory deletes it at once ...
  const done = new Set<string>();
  for (const [i, e] of log.entries()) {
    if (e.type !== "ack" || done.has(e.id as string)) continue;
    assert.equal(log[i + 1].type, "deleted", `ACK of ${e.id} deleted it`);
    assert.equal(log[i + 1].id, e.id);
    assert.equal(log[i + 1].link, e.link);
    done.add(e.id as string);
    // ... and it is never sent again.
    assert.ok(!log.slice(i).some((x) => x.type === "sent" && x.id === e.id));
  }
  // Every record was ACKed at least once by a server.
  const acked = new Set(
    [
      ...ip1.journal.query({ type: "ack_sent" }),
      ...ip2.journal.query({
        type: "ack_sent",
      }),
    ].map((e) => e.id),
  );
  for (const id of records) assert.ok(acked.has(id), `${id} was ACKed`);
  assert.deepEqual(device.memory, []);
});

// ---- Library details ----

Deno.test("TwoServersClient refuses a duplicate id and an unknown kind", async () => {
  await using servers = await startServers({ faults: { down: {} } }, {
    faults: { down: {} },
  });
  const { ip1, ip2 } = servers;
  await using device = await client(ip1, ip2);
  device.send({ id: "r1" });
  assert.throws(() => device.send({ id: "r1" }), /already in device memory/);
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => device.send({ id: "x1", kind: "fax" as any }),
    /unknown kind "fax"/,
  );
  assert.deepEqual(device.state().memory, [{ id: "r1", kind: "record" }]);
});

Deno.test("TwoServersClient speaks a device codec: an ACK without an id is for the record in flight", async () => {
  const signal = limit();
  await using servers = await startServers({
    codec: "ruptela",
    faults: { dropAck: { window: { first: 1 } } },
  }, { codec: "ruptela" });
  const { ip1, ip2 } = servers;
  await using device = await mirrorClient(ip1, ip2, signal, {
    codec: "ruptela",
    device: "356307042441013", // Ruptela answers this hello with an ACK.
  });
  const fix = (timestamp: number) => ({
    imei: "356307042441013",
    timestamp,
    latitude: 54.68,
    longitude: 25.28,
  });
  device.send({ id: "r1", data: fix(1_700_000_000) });
  device.send({ id: "g1", kind: "garmin" }); // Ruptela has no such packet.
  device.send({ id: "r2", data: fix(1_700_000_060) });
  await deleted(device, "r2", signal);
  assert.deepEqual(events(device, "deleted").map((e) => e.id), ["r1", "r2"]);
  assert.equal(events(device, "ack_timeout").length, 1, "r1's first ACK");
  assert.deepEqual(events(device, "discarded").map((e) => e.id), ["g1"]);
  assert.match(events(device, "error")[0].message as string, /ruptela codec/);
  assert.deepEqual(received(ip1), [
    "356307042441013:1700000000:1",
    "356307042441013:1700000000:1",
    "356307042441013:1700000060:1",
  ]);
  await ip2.journal.waitFor(
    (e) =>
      e.type === "frame_in" &&
      (e.frame as Frame).id?.toString().endsWith("060:1") === true,
    { signal },
  );
  assert.deepEqual(ip2.duplicates(), []);
});

// ---- The command line, through the client-under-test contract ----

Deno.test("two_servers CLI delivers records through the contract and prints deleted events", async () => {
  const signal = limit(20_000);
  await using servers = await startServers();
  const { ip1, ip2 } = servers;
  await using cli = spawnContractClient("clients/two_servers.ts", [
    "--port1",
    String(ip1.addr.port),
    "--mirror",
    "--ack-timeout",
    "50ms",
    "--device",
    "tracker-1",
  ], { env: { FT_PORT2: String(ip2.addr.port) } });
  await cli.waitEvent(
    (e) => e.event === "connected" && e.server === "ip2",
    signal,
  );
  await cli.command({ cmd: "send", id: "r1", kind: "record", data: {} });
  await cli.command({ cmd: "send", id: "g1", kind: "garmin", data: {} });
  await cli.command({ cmd: "send", id: "r2", kind: "record", data: { a: 1 } });
  await cli.command({ cmd: "send", id: "r2", kind: "record" });
  await cli.command({ cmd: "dance" });
  await cli.waitEvent((e) => e.event === "deleted" && e.id === "r2", signal);
  const { code } = await cli.stop(signal);
  assert.equal(code, 0);
  assert.deepEqual(
    cli.events.filter((e) => e.event === "deleted").map((e) => e.id),
    ["r1", "g1", "r2"],
  );
  assert.deepEqual(
    cli.events.filter((e) => e.event === "connected").map((e) => e.server),
    ["ip1", "ip2"],
  );
  const errors = cli.events.filter((e) => e.event === "error");
  assert.equal(errors.length, 2);
  assert.match(errors[0].message as string, /already in device memory/);
  assert.match(errors[1].message as string, /Cannot use command/);
  assert.deepEqual(ip2.received().map((r) => r.id), ["r1", "r2"]);
  assert.deepEqual(
    ip1.journal.query({ type: "frame_in" })[0].frame,
    { type: "hello", device: "tracker-1" },
  );
});

Deno.test("two_servers CLI keeps device memory in a file across a process restart (FO-5)", async () => {
  const signal = limit(30_000);
  await using dir = await tempDir();
  const memoryFile = `${dir.path}/memory.jsonl`;
  await using servers = await startServers({ faults: { down: {} } });
  const { ip1, ip2 } = servers;
  const args = [
    ...portFlags(ip1, ip2),
    "--ack-timeout",
    "5s",
    "--reconnect-delay",
    "20ms",
    "--memory-file",
    memoryFile,
  ];
  {
    // IP1 is down: the device switches to IP2, which never ACKs.
    await using first = spawnContractClient("clients/two_servers.ts", args);
    await first.command({ cmd: "send", id: "r1", kind: "record", data: {} });
    await first.command({ cmd: "send", id: "r2", kind: "record", data: {} });
    await first.waitEvent(
      (e) => e.event === "connected" && e.server === "ip2",
      signal,
    );
    await ip2.journal.waitFor((e) => e.type === "frame_in", { signal });
    assert.equal((await first.stop(signal)).code, 0);
    assert.equal(first.events.filter((e) => e.event === "deleted").length, 0);
  }
  ip1.up();
  await ip1.settled();
  await using second = spawnContractClient("clients/two_servers.ts", args);
  await second.waitEvent(
    (e) => e.event === "deleted" && e.id === "r2",
    signal,
  );
  assert.equal((await second.stop(signal)).code, 0);
  assert.deepEqual(
    second.events.map((e) => e.event === "deleted" ? e.id : e.server),
    ["ip1", "r1", "r2"],
  );
  using memory = new DurableQueue({ file: memoryFile });
  assert.equal(memory.size, 0);
});

Deno.test("device memory's file is rewritten before puts and deletes pile up in it", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/memory.jsonl`;
  {
    using memory = new DurableQueue<{ id: string }>({ file });
    memory.push({ id: "kept" });
    for (let i = 0; i < 5000; i++) {
      memory.push({ id: `r${i}` });
      memory.delete(`r${i}`);
    }
    const lines = (await Deno.readTextFile(file)).split("\n").length - 1;
    assert.ok(lines <= 2 * memory.size + 1025, `${lines} lines`);
  }
  using reopened = new DurableQueue<{ id: string }>({ file });
  assert.deepEqual(reopened.values(), [{ id: "kept" }]);
});

Deno.test("two_servers CLI names a missing or bad flag", async () => {
  await assertFlagsRefused("clients/two_servers.ts", [
    ["--port1 7000", /Missing --port2/],
    [
      "--port1 1 --port2 2 --ack-timeout soon",
      /Invalid --ack-timeout "soon"/,
    ],
  ], { env: { FT_PORT2: "" } });
});
