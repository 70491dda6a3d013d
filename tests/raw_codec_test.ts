import assert from "node:assert/strict";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { TcpServer } from "../core/server/tcp_server.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { startSecondaryServer } from "../servers/secondary.ts";
import { startSilentServer } from "../servers/silent.ts";
import { connectRaw, hex } from "./_raw_peer.ts";

// An MQTT 3.1.1 CONNECT packet (client id "ft"), then a PINGREQ: binary, with
// a NUL, a newline and bytes that are not UTF-8.
const MQTT_CONNECT = hex("10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 66 74");
const MQTT_PINGREQ = hex("c0 00");
const BINARY = Uint8Array.of(0x00, 0x0a, 0xff, 0xfe, 0x0a, 0x80, 0x0d, 0x0a);

Deno.test("raw codec: each chunk becomes one raw frame, counted by bytes, nothing decoded, nothing pending", () => {
  const codec = createCodec("raw");
  assert.equal(codec.name, "raw");
  const decoder = codec.decoder();
  assert.deepEqual(decoder.push(MQTT_CONNECT), [{
    frame: { type: "raw", bytes: 16, hex: "100e00044d5154540402003c00026674" },
    handled: true,
  }]);
  assert.deepEqual(decoder.push(BINARY), [{
    frame: { type: "raw", bytes: 8, hex: "000afffe0a800d0a" },
    handled: true,
  }]);
  assert.deepEqual(decoder.push(new Uint8Array(0)), []);
  const big = new Uint8Array(100_000).fill(0xab);
  const [decoded] = decoder.push(big);
  assert.equal(decoded.frame?.bytes, 100_000);
  assert.equal(decoded.frame?.hex, "ab".repeat(32));
  assert.equal(decoder.pending, 0);
  // A client that vanishes mid-"frame" left nothing behind: no truncated error.
  assert.deepEqual(decoder.end(), []);
});

Deno.test("raw codec: encodes a raw frame's hex as bytes and nothing else", () => {
  const codec = createCodec("raw");
  assert.deepEqual(
    codec.encode({ type: "raw", hex: "20020000" }),
    Uint8Array.of(0x20, 0x02, 0x00, 0x00),
  );
  assert.equal(codec.encode({ type: "ack", id: "r1" }), undefined);
  assert.equal(codec.encode({ type: "error", message: "x" }), undefined);
  assert.equal(codec.encode({ type: "raw", hex: "zz" }), undefined);
});

/**
 * Sends binary bytes to a server, half-closes, waits for the server to see
 * the close, and returns its journal's counts and the bytes its frames add up to.
 */
async function sendBinary(
  server: TcpServer,
  signal: AbortSignal,
): Promise<
  { counts: Record<string, number>; rawBytes: number; reply: number }
> {
  await using peer = await connectRaw(server.addr);
  const sent = MQTT_CONNECT.length + MQTT_PINGREQ.length + BINARY.length;
  let rawBytes = 0;
  const counted = server.journal.waitFor((e) => {
    const frame = e.frame as { type?: string; bytes?: number } | undefined;
    if (e.type === "frame_in" && frame?.type === "raw") {
      rawBytes += frame.bytes ?? 0;
    }
    return rawBytes >= sent;
  }, { signal });
  peer.write(MQTT_CONNECT);
  peer.write(MQTT_PINGREQ);
  peer.write(BINARY);
  await counted;
  peer.socket.end();
  await server.journal.waitFor((e) => e.type === "closed", { signal });
  return {
    counts: server.journal.counts(),
    rawBytes,
    reply: peer.unread.length,
  };
}

for (
  const [name, start] of [
    ["primary", () => startPrimaryServer({ port: 0, codec: "raw" })],
    ["secondary", () => startSecondaryServer({ port: 0, codec: "raw" })],
    ["silent", () => startSilentServer({ port: 0, codec: "raw" })],
  ] as const
) {
  Deno.test(`${name} server with the raw codec journals a binary client's bytes with no bad-input noise and answers nothing`, async () => {
    const signal = AbortSignal.timeout(10_000);
    await using server: TcpServer = await start();
    const { counts, rawBytes, reply } = await sendBinary(server, signal);
    assert.equal(
      rawBytes,
      MQTT_CONNECT.length + MQTT_PINGREQ.length + BINARY.length,
    );
    assert.equal(counts.bad_input ?? 0, 0);
    assert.equal(counts.frame_out ?? 0, 0);
    assert.equal(counts.unencodable ?? 0, 0);
    assert.equal(reply, 0);
  });
}

Deno.test("the same binary client in front of a line-JSON server gives the bad-input noise the raw codec avoids", async () => {
  const signal = AbortSignal.timeout(10_000);
  await using server = await startSecondaryServer({ port: 0 });
  await using peer = await connectRaw(server.addr);
  peer.write(MQTT_CONNECT);
  peer.write(BINARY);
  await server.journal.waitFor((e) => e.type === "bad_input", { signal });
});
