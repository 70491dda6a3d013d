import assert from "node:assert/strict";
import { createCodec } from "../core/codecs/create_codec.ts";
import { crc16Kermit } from "../core/codecs/crc16.ts";
import {
  ruptelaCodec,
  type RuptelaRecord,
  ruptelaReplyCommand,
} from "../core/codecs/ruptela_codec.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { announcedTcp, spawnServer } from "./_cli.ts";
import { codecTools, codes, concat, startCodecPrimary } from "./_codec.ts";
import { connectPeer } from "./_net.ts";
import { connectRaw, hex, toHex } from "./_raw_peer.ts";

const IMEI = "356307042441013";
const ACK = "00 02 64 01 13 BC";
const NACK = "00 02 64 00 02 35";

/** A device packet built from the layout: u16 length, u64 IMEI, command, payload, CRC-16/KERMIT high byte first. */
function devicePacket(command: number, payload: string, imei = IMEI) {
  const body = new Uint8Array([
    ...hex(BigInt(imei).toString(16).padStart(16, "0")),
    command,
    ...hex(payload),
  ]);
  const crc = crc16Kermit(body);
  return new Uint8Array([
    body.length >> 8,
    body.length & 0xff,
    ...body,
    crc >> 8,
    crc & 0xff,
  ]);
}

/** Command 1: records left 0, one record with every field and one IO value of each size. */
const RECORDS_PAYLOAD = `
  00 01
  6553F100 00 00
  0F116818 20989AC0 04B5 04D2 09 002A 08
  05
  01 02 01
  01 1D 30D4
  01 41 0001E240
  01 C8 FFFFFFFFFFFFFFFF`;

const RECORD: RuptelaRecord = {
  timestamp: 1700000000,
  timestampExtension: 0,
  priority: 0,
  longitude: 25.2799,
  latitude: 54.6872,
  altitude: 120.5,
  angle: 12.34,
  satellites: 9,
  speed: 42,
  hdop: 0.8,
  event: 5,
  io: [
    { id: 2, size: 1, value: 1 },
    { id: 29, size: 2, value: 12500 },
    { id: 65, size: 4, value: 123456 },
    { id: 200, size: 8, value: "18446744073709551615" },
  ],
};

/** Command 68: 2-byte IO ids and event, a record extension byte. */
const EXTENDED_PAYLOAD = `
  03 01
  6553F164 00 00 01
  F6F0AA00 DDE7F900 0000 8CA0 00 0000 00
  0123
  01 0190 07
  00
  00
  01 02F6 0000000000000001`;

const EXTENDED_RECORD: RuptelaRecord = {
  timestamp: 1700000100,
  timestampExtension: 0,
  recordExtension: 0,
  priority: 1,
  longitude: -15.2,
  latitude: -57.2,
  altitude: 0,
  angle: 360,
  satellites: 0,
  speed: 0,
  hdop: 0,
  event: 0x123,
  io: [{ id: 400, size: 1, value: 7 }, { id: 758, size: 8, value: 1 }],
};

/** Command 9: one DTC. */
const DTC_PAYLOAD = "01 00 6553F100 0F116818 20989AC0 02 50303132 33";

const { decodeAll, assertDecodesSplit } = codecTools(() => ruptelaCodec());

Deno.test("ruptelaCodec decodes a records packet to the documented fields", () => {
  const [decoded] = decodeAll(devicePacket(1, RECORDS_PAYLOAD));
  assert.deepEqual(decoded, {
    frame: {
      type: "record",
      id: `${IMEI}:1700000000:1`,
      data: { imei: IMEI, command: 1, recordsLeft: 0, records: [RECORD] },
    },
  });
});

Deno.test("ruptelaCodec decodes an extended records packet (command 68)", () => {
  const [decoded] = decodeAll(devicePacket(68, EXTENDED_PAYLOAD));
  assert.deepEqual(decoded.frame, {
    type: "record",
    id: `${IMEI}:1700000100:1`,
    data: {
      imei: IMEI,
      command: 68,
      recordsLeft: 3,
      records: [EXTENDED_RECORD],
    },
  });
});

Deno.test("ruptelaCodec maps identification, heartbeat and DTCs with the replies they are owed", () => {
  const server = ruptelaCodec();
  const results = decodeAll(concat(
    devicePacket(15, "0102"),
    devicePacket(16, ""),
    devicePacket(9, DTC_PAYLOAD),
    devicePacket(37, "0200"),
  ));
  assert.deepEqual(results, [
    {
      frame: {
        type: "hello",
        device: IMEI,
        data: { imei: IMEI, command: 15, payload: "0102" },
      },
      reply: { type: "ack", command: 115 },
    },
    {
      frame: {
        type: "heartbeat",
        device: IMEI,
        data: { imei: IMEI, command: 16 },
      },
      reply: { type: "ack", command: 116 },
      handled: true,
    },
    {
      frame: {
        type: "dtc",
        device: IMEI,
        data: {
          imei: IMEI,
          command: 9,
          dtcs: [{
            reserved: 0,
            timestamp: 1700000000,
            longitude: 25.2799,
            latitude: 54.6872,
            status: 2,
            code: "P0123",
          }],
        },
      },
      reply: { type: "ack", command: 109 },
      handled: true,
    },
    {
      frame: {
        type: "device_packet",
        device: IMEI,
        data: { imei: IMEI, command: 37, payload: "0200" },
      },
      handled: true,
    },
  ]);
  // The DTC ACK open-source servers send: 00 02 6D 01 C4 A4.
  assert.equal(toHex(server.encode(results[2].reply!)!), "00 02 6D 01 C4 A4");
  assert.equal(ruptelaReplyCommand(68), 100);
  assert.equal(ruptelaReplyCommand(1), 100);
});

Deno.test("ruptelaCodec encodes the ACK and NACK to records byte for byte", () => {
  const server = ruptelaCodec();
  const id = `${IMEI}:1700000000:1`;
  assert.equal(toHex(server.encode({ type: "ack", id })!), ACK);
  assert.equal(toHex(server.encode({ type: "nack", id })!), NACK);
  assert.equal(
    toHex(server.encode({ type: "ack", command: 116 })!),
    "00 02 74 01 " + toHex(
      new Uint8Array([
        crc16Kermit(hex("74 01")) >> 8,
        crc16Kermit(hex("74 01")) & 0xff,
      ]),
    ),
  );
  // What the server cannot say in this protocol encodes to nothing.
  assert.equal(
    server.encode({ type: "error", code: "x", message: "y" }),
    undefined,
  );
  assert.equal(server.encode({ type: "record", id: "r1" }), undefined);
  assert.equal(server.encode({ type: "ack", command: 300 }), undefined);
});

Deno.test("ruptelaCodec corrupts the CRC of an ACK the corruptAck fault marked", () => {
  const server = ruptelaCodec();
  const bytes = server.encode({ type: "ack", id: `corrupt-${IMEI}:1:1` })!;
  assert.equal(toHex(bytes.subarray(0, 4)), "00 02 64 01");
  assert.notEqual(toHex(bytes), ACK);
  const [decoded] = decodeAll(bytes, ruptelaCodec({ role: "client" }));
  assert.equal(decoded.error?.code, "bad_crc");
});

Deno.test("ruptelaCodec client side decodes ACK, NACK and server commands", () => {
  const client = createCodec("ruptela", { role: "client" });
  const results = decodeAll(
    concat(hex(ACK), hex(NACK), hex("00 03 6C 4F 4B 2E 62")),
    client,
  );
  assert.deepEqual(results.slice(0, 2), [
    { frame: { type: "ack", command: 100 } },
    { frame: { type: "nack", command: 100 } },
  ]);
  // 6C 4F 4B with a CRC this test did not compute: rejected, never a crash.
  assert.equal(results[2].error?.code, "bad_crc");
  const body = hex("6C 4F 4B");
  const crc = crc16Kermit(body);
  const command = concat(
    hex("00 03"),
    body,
    new Uint8Array([crc >> 8, crc & 0xff]),
  );
  assert.deepEqual(decodeAll(command, client), [{
    frame: { type: "server_command", command: 108, data: { payload: "4f4b" } },
  }]);
});

Deno.test("ruptelaCodec round-trips: device encode, server decode, device encode again", () => {
  const device = ruptelaCodec({ role: "client" });
  const original = [
    devicePacket(1, RECORDS_PAYLOAD),
    devicePacket(68, EXTENDED_PAYLOAD),
    devicePacket(15, "0102"),
    devicePacket(16, ""),
    devicePacket(9, DTC_PAYLOAD),
    devicePacket(37, "0200"),
  ];
  for (const bytes of original) {
    const [decoded] = decodeAll(bytes);
    assert.ok(decoded.frame, JSON.stringify(decoded));
    assert.equal(toHex(device.encode(decoded.frame)!), toHex(bytes));
  }
  // A frame a tracker would write: defaults fill what it leaves out.
  const frame = {
    type: "record",
    id: "r1",
    data: { imei: IMEI, records: [{ timestamp: 1700000500, speed: 60 }] },
  };
  const [decoded] = decodeAll(device.encode(frame)!);
  assert.equal(decoded.frame?.id, `${IMEI}:1700000500:1`);
  const records = (decoded.frame?.data as { records: RuptelaRecord[] }).records;
  assert.equal(records[0].speed, 60);
  assert.equal(records[0].latitude, 0);
  assert.equal(
    device.encode({ type: "record", id: "r1", data: {} }),
    undefined,
  );
  assert.equal(device.encode({ type: "ack", id: "r1" }), undefined);
});

Deno.test("ruptelaCodec decodes packets split at every byte boundary and several in one read", () => {
  const stream = concat(
    devicePacket(1, RECORDS_PAYLOAD),
    devicePacket(16, ""),
    devicePacket(68, EXTENDED_PAYLOAD),
    devicePacket(9, DTC_PAYLOAD),
  );
  const whole = assertDecodesSplit(stream);
  assert.deepEqual(codes(whole), ["record", "heartbeat", "record", "dtc"]);
});

Deno.test("ruptelaCodec rejects a corrupted CRC and wrong lengths, then goes on", () => {
  const good = devicePacket(16, "");
  const bad = devicePacket(1, RECORDS_PAYLOAD);
  bad[bad.length - 1] ^= 0xff;
  assert.deepEqual(codes(decodeAll(concat(bad, good))), [
    "bad_crc",
    "heartbeat",
  ]);

  // A length under IMEI + command: the two length bytes are dropped.
  assert.deepEqual(codes(decodeAll(concat(hex("00 00"), good))), [
    "invalid_length",
    "heartbeat",
  ]);

  // A length one short of the content: the CRC is read from the wrong place.
  const short = devicePacket(1, RECORDS_PAYLOAD);
  short[1] -= 1;
  assert.equal(decodeAll(short)[0].error?.code, "bad_crc");

  // A length longer than what comes: the stream ends mid-packet.
  const long = devicePacket(16, "");
  long[1] += 5;
  assert.deepEqual(codes(decodeAll(long)), ["truncated"]);

  // Longer than the limit: skipped as it arrives, across reads.
  const small = ruptelaCodec({ maxFrameBytes: 64 });
  const big = devicePacket(16, "00".repeat(100));
  const decoder = small.decoder();
  const got = [
    ...decoder.push(big.subarray(0, 10)),
    ...decoder.push(big.subarray(10, 80)),
    ...decoder.push(concat(big.subarray(80), good)),
  ];
  assert.deepEqual(codes(got), ["frame_too_long", "heartbeat"]);

  // A record count the payload does not hold, and bytes left over.
  const missing = decodeAll(
    devicePacket(1, RECORDS_PAYLOAD.replace("00 01", "00 02")),
  );
  assert.equal(missing[0].error?.code, "invalid_frame");
  assert.match(
    missing[0].error!.message,
    /records \(1\) packet from 356307042441013/,
  );
  const trailing = decodeAll(devicePacket(1, RECORDS_PAYLOAD + " 00"));
  assert.match(trailing[0].error!.message, /1 bytes are left after 1 records/);
});

Deno.test("primary with codec ruptela ACKs a records packet with exactly 00 02 64 01 13 BC", async () => {
  await using primary = await startCodecPrimary("ruptela");
  await using peer = await connectRaw(primary.addr);
  const signal = AbortSignal.timeout(5000);
  peer.write(devicePacket(1, RECORDS_PAYLOAD));
  assert.equal(toHex(await peer.read(6, signal)), ACK);
  const [frameIn] = primary.journal.query({ type: "frame_in" });
  assert.deepEqual(frameIn.frame, {
    type: "record",
    id: `${IMEI}:1700000000:1`,
    data: { imei: IMEI, command: 1, recordsLeft: 0, records: [RECORD] },
  });
  const [ack] = primary.journal.query({ type: "ack_sent" });
  assert.equal(ack.id, `${IMEI}:1700000000:1`);

  // Identification, heartbeat and DTCs get their own replies; the hello tags the device.
  peer.write(concat(
    devicePacket(15, "0102"),
    devicePacket(16, ""),
    devicePacket(9, DTC_PAYLOAD),
    devicePacket(68, EXTENDED_PAYLOAD),
  ));
  const replies = await peer.read(24, signal);
  assert.deepEqual(
    [0, 6, 12, 18].map((at) => replies[at + 2]),
    [115, 116, 109, 100],
  );
  assert.equal(toHex(replies.subarray(18)), ACK);
  assert.equal(primary.connectionInfos()[0].tags.device, IMEI);
  assert.equal(primary.journal.query({ type: "bad_input" }).length, 0);
});

Deno.test("primary with codec ruptela maps NACK, corrupt, drop and delay faults onto the ACK", async () => {
  await using primary = await startCodecPrimary("ruptela", {
    nackAck: { window: { first: 1 } },
    corruptAck: { window: { after: 1, first: 1 } },
    dropAck: { window: { after: 2, first: 1 } },
    // A dropped ACK is no event for delayAck: the fourth record is its third.
    delayAck: { ms: 20, window: { after: 2, first: 1 } },
  });
  await using peer = await connectPeer(primary.addr, {
    codec: ruptelaCodec({ role: "client" }),
  });
  const raw: number[] = [];
  peer.socket.on("data", (chunk: Uint8Array) => raw.push(...chunk));
  const signal = AbortSignal.timeout(5000);
  const send = (timestamp: number) =>
    peer.write(
      devicePacket(
        1,
        RECORDS_PAYLOAD.replace("6553F100", timestamp.toString(16)),
      ),
    );
  send(0x6553f101); // NACK
  assert.deepEqual(await peer.next(signal), { type: "nack", command: 100 });
  send(0x6553f102); // corrupt CRC: the device's decoder rejects it
  send(0x6553f103); // dropped
  send(0x6553f104); // delayed
  assert.deepEqual(await peer.next(signal), { type: "ack", command: 100 });
  assert.equal(raw.length, 18);
  assert.equal(toHex(new Uint8Array(raw.slice(0, 6))), NACK);
  assert.equal(toHex(new Uint8Array(raw.slice(6, 10))), "00 02 64 01");
  assert.notEqual(toHex(new Uint8Array(raw.slice(6, 12))), ACK);
  assert.equal(toHex(new Uint8Array(raw.slice(12))), ACK);
  const events = primary.journal.query({
    type: ["nack_sent", "ack_sent", "ack_dropped", "ack_delayed"],
  }).map((e) => `${e.type} ${e.id}`);
  assert.deepEqual(events, [
    `nack_sent ${IMEI}:1700000001:1`,
    `ack_sent ${IMEI}:1700000002:1`,
    `ack_dropped ${IMEI}:1700000003:1`,
    `ack_delayed ${IMEI}:1700000004:1`,
    `ack_sent ${IMEI}:1700000004:1`,
  ]);
});

Deno.test("primary with codec ruptela journals garbage as bad input and stays up", async () => {
  await using primary = await startCodecPrimary("ruptela");
  await using peer = await connectRaw(primary.addr);
  const signal = AbortSignal.timeout(5000);
  const bad = devicePacket(1, RECORDS_PAYLOAD);
  bad[bad.length - 2] ^= 0x01;
  peer.write(concat(hex("00 00"), bad, devicePacket(1, RECORDS_PAYLOAD)));
  assert.equal(toHex(await peer.read(6, signal)), ACK);
  assert.deepEqual(
    primary.journal.query({ type: "bad_input" }).map((e) => e.code),
    ["invalid_length", "bad_crc"],
  );
  // No error frame exists in this protocol: nothing is written for them.
  assert.equal(primary.journal.query({ type: "unencodable" }).length, 2);
  assert.equal(peer.unread.length, 0);
});

Deno.test("primary with line-json cannot express a NACK: unencodable, nothing sent", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    seed: 1,
    faults: { nackAck: { window: { first: 1 } } },
  });
  await using peer = await connectPeer(primary.addr);
  const signal = AbortSignal.timeout(5000);
  peer.send({ type: "record", id: "r1" });
  peer.send({ type: "record", id: "r2" });
  assert.deepEqual(await peer.next(signal), { type: "ack", id: "r2" });
  const [event] = primary.journal.query({ type: "unencodable" });
  assert.deepEqual(event.frame, { type: "nack", id: "r1" });
  assert.equal(primary.journal.query({ type: "nack_sent" }).length, 0);
});

Deno.test("primary CLI takes --codec ruptela and --nack-ack", async () => {
  await using cli = await spawnServer(
    "servers/primary.ts",
    "--seed 3 --codec ruptela --nack-ack 100%",
  );
  assert.match(cli.line, / codec=ruptela$/);
  const response = await fetch(`${cli.fields.admin}/faults`);
  assert.deepEqual(await response.json(), { nackAck: { probability: 1 } });
  const tcp = announcedTcp(cli);
  {
    await using peer = await connectRaw(tcp);
    peer.write(devicePacket(1, RECORDS_PAYLOAD));
    assert.equal(toHex(await peer.read(6, AbortSignal.timeout(5000))), NACK);
  }
  const { code } = await cli.stop();
  assert.equal(code, 0);
});
