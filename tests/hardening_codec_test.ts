import assert from "node:assert/strict";
import { ByteBuffer } from "../core/codecs/_bytes.ts";
import { type Codec, wireBytes } from "../core/codecs/codec.ts";
import { createCodec } from "../core/codecs/create_codec.ts";
import { lengthPrefixedCodec } from "../core/codecs/length_prefixed_codec.ts";
import { lineJsonCodec } from "../core/codecs/line_json_codec.ts";
import { startMessageStoreServer } from "../servers/message_store.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { connectPeer } from "./_net.ts";

const encoder = new TextEncoder();
const timeout = () => AbortSignal.timeout(5000);

/** A record frame encoded by `codec`, with `data`. */
function encodeRecord(codec: Codec, id: string, data: string): Uint8Array {
  return codec.encode({ type: "record", id, data })!;
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

for (const codec of [lineJsonCodec(), lengthPrefixedCodec()]) {
  Deno.test(`${codec.name} codec rejects a frame nested deeper than maxDepth as too_deep, and goes on`, () => {
    const small = createCodec(codec.name, { maxDepth: 8 });
    const decoder = small.decoder();
    const deep = small.encode({ type: "record", id: "d", data: nested(8) })!;
    const fine = small.encode({ type: "record", id: "f", data: nested(6) })!;
    const got = decoder.push(new Uint8Array([...deep, ...fine]));
    assert.equal(got[0].error?.code, "too_deep");
    assert.match(got[0].error!.message, /deeper than the limit of 8/);
    assert.equal(got[1].frame?.id, "f");
    // Brackets inside strings are not nesting.
    const text = small.encode({ type: "record", id: "[[[[[[[[[[[[[[[[[[[[" })!;
    assert.equal(decoder.push(text)[0].frame?.type, "record");
  });

  Deno.test(`${codec.name} codec marks a large frame with its size on the wire`, () => {
    const decoder = codec.decoder();
    const big = encodeRecord(codec, "b", "x".repeat(500));
    const small = codec.encode({ type: "record", id: "s" })!;
    const [large, tiny] = decoder.push(new Uint8Array([...big, ...small]));
    assert.equal(wireBytes(large.frame), big.length);
    assert.equal(wireBytes(tiny.frame), undefined);
    assert.deepEqual(Object.keys(large.frame!), ["type", "id", "data"]);
  });
}

Deno.test("line-json decoder holds a partial line sent a byte at a time in one buffer, not one array per byte (#6)", () => {
  const decoder = lineJsonCodec().decoder();
  const line = encoder.encode(
    JSON.stringify({ type: "record", id: "r1", data: "y".repeat(60_000) }),
  );
  const before = Deno.memoryUsage().heapUsed;
  for (const byte of line) decoder.push(new Uint8Array([byte]));
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.equal(decoder.pending, line.length);
  // One array per byte cost about 450 bytes of heap a byte (27 MB here); one
  // buffer costs at most twice the line, outside the heap (the rest is
  // short-lived garbage of the test itself).
  assert.ok(grown < 100 * line.length, `heap grew ${grown} bytes`);
  const [decoded] = decoder.push(encoder.encode("\n"));
  assert.equal(decoded.frame?.id, "r1");
  assert.equal(decoder.pending, 0);
});

Deno.test("ByteBuffer appends, consumes from the front and reuses its array", () => {
  const buffer = new ByteBuffer();
  for (let i = 0; i < 100; i++) buffer.append(new Uint8Array([i]));
  assert.equal(buffer.length, 100);
  buffer.consume(90);
  assert.deepEqual([...buffer.view()], [
    90,
    91,
    92,
    93,
    94,
    95,
    96,
    97,
    98,
    99,
  ]);
  buffer.append(new Uint8Array([100, 101]));
  assert.deepEqual([...buffer.view()].slice(-3), [99, 100, 101]);
  buffer.consume(100);
  assert.equal(buffer.length, 0);
});

Deno.test("binary codecs decode a packet sent a byte at a time without copying it per byte", () => {
  const codec = createCodec("length-prefixed");
  const decoder = codec.decoder();
  const bytes = encodeRecord(codec, "r", "z".repeat(60_000));
  const started = performance.now();
  const got = [];
  for (const byte of bytes) got.push(...decoder.push(new Uint8Array([byte])));
  // A copy of everything buffered per byte is ~1.8 GB of copying (seconds).
  assert.ok(performance.now() - started < 1500);
  assert.equal(got[0].frame?.id, "r");
});

Deno.test("primary rejects a record nested 10 000 deep as bad input and GET /journal answers 200 (#7)", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  await using peer = await connectPeer(primary.addr);
  peer.write(
    `{"type":"record","id":"deep","data":${"[".repeat(10_000)}${
      "]".repeat(10_000)
    }}\n`,
  );
  const bad = await primary.journal.waitFor((e) => e.type === "bad_input", {
    signal: timeout(),
  });
  assert.equal(bad.code, "too_deep");
  peer.send({ type: "record", id: "after" });
  assert.deepEqual(await peer.next(timeout()), {
    type: "error",
    code: "too_deep",
    message: "Cannot accept line: it nests deeper than the limit of 64",
  });
  assert.deepEqual(await peer.next(timeout()), { type: "ack", id: "after" });
  const response = await primary.adminApp().request("/journal");
  assert.equal(response.status, 200);
  assert.ok((await response.json()).events.length > 0);
});

Deno.test("GET /journal answers 200 with a stub for an event JSON cannot hold (#7)", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  primary.journal.append("frame_in", { frame: nested(20_000) });
  const response = await primary.adminApp().request("/journal");
  assert.equal(response.status, 200);
  const { events } = await response.json();
  const stub = events.find((e: { type: string }) => e.type === "frame_in");
  assert.match(stub.unserializable, /nests deeper than 1000 levels/);
});

Deno.test("message-store rejects a 6 000-deep message body as bad input, not a store outage (#9)", async () => {
  await using server = await startMessageStoreServer({
    fronts: [{ name: "ml1", port: 0 }],
    seed: 7,
  });
  await using alice = await connectPeer(server.front("ml1").addr);
  alice.send({ type: "hello", agent: "alice", primary: "ml1" });
  assert.equal((await alice.next(timeout())).type, "welcome");
  alice.write(
    `{"type":"send","id":"m1","to":"bob","body":${"[".repeat(6000)}${
      "]".repeat(6000)
    }}\n`,
  );
  const error = await alice.next(timeout());
  assert.equal(error.code, "too_deep");
  alice.send({ type: "send", id: "m2", to: "bob", body: "hi" });
  assert.deepEqual(await alice.next(timeout()), { type: "ack", id: "m2" });
  // The admin API's way in: a 400, not a 503.
  const response = await server.adminApp().request("/messages", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"to":"bob","body":${"[".repeat(6000)}${"]".repeat(6000)}}`,
  });
  assert.equal(response.status, 400);
  assert.equal(
    (await response.json()).message,
    "Invalid body: it nests deeper than the limit of 64",
  );
  assert.equal(server.journal.counts().store_unavailable, undefined);
  assert.equal(server.journal.counts().error, undefined);
});
