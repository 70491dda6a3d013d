import assert from "node:assert/strict";
import { createCodec } from "../core/codecs/create_codec.ts";
import { crc16Arc } from "../core/codecs/crc16.ts";
import {
  teltonikaCodec,
  type TeltonikaRecord,
} from "../core/codecs/teltonika_codec.ts";
import { announcedTcp, spawnServer } from "./_cli.ts";
import { codecTools, codes, concat, startCodecPrimary } from "./_codec.ts";
import { connectRaw, hex, toHex } from "./_raw_peer.ts";

const IMEI = "356307042441013";

/** Login from the layout: u16 length, IMEI as ASCII. */
const LOGIN = hex("000F 333536333037303432343431303133");

function u32(value: number): string {
  return value.toString(16).padStart(8, "0");
}

/** An AVL packet from the layout: four zero bytes, u32 data length, data, u32 CRC-16/ARC of the data. */
function avlPacket(data: string, crc?: number): Uint8Array {
  const bytes = hex(data);
  return hex(
    "00000000" + u32(bytes.length) + data.replace(/\s+/g, "") +
      u32(crc ?? crc16Arc(bytes)),
  );
}

/** Codec 8, two records: every field and one IO value of each size; then a bare one. */
const CODEC8 = `
  08 02
  0000018BCFE56800 01 0F116818 20989AC0 0078 00B4 09 002A
  EF 04
  01 EF 01
  01 42 5E0F
  01 F1 0000601A
  01 4E 0000000000000000
  0000018BCFE65260 00 00000000 00000000 FFF6 0000 00 0000
  00 00
  00 00 00 00
  02`;

const CODEC8_RECORDS: TeltonikaRecord[] = [
  {
    timestamp: 1700000000000,
    priority: 1,
    longitude: 25.2799,
    latitude: 54.6872,
    altitude: 120,
    angle: 180,
    satellites: 9,
    speed: 42,
    event: 239,
    io: [
      { id: 239, size: 1, value: 1 },
      { id: 66, size: 2, value: 24079 },
      { id: 241, size: 4, value: 24602 },
      { id: 78, size: 8, value: 0 },
    ],
  },
  {
    timestamp: 1700000060000,
    priority: 0,
    longitude: 0,
    latitude: 0,
    altitude: -10,
    angle: 0,
    satellites: 0,
    speed: 0,
    event: 0,
    io: [],
  },
];

/** Codec 8 Extended: 2-byte ids and counts, and a variable-length IO value. */
const CODEC8E = `
  8E 01
  0000018BCFE56800 00 00000000 00000000 0000 0000 00 0000
  0181 0004
  0001 0001 01
  0001 0011 001D
  0000
  0001 000B 000000003544C87A
  0001 0181 0003 AABBCC
  01`;

const CODEC8E_RECORD: TeltonikaRecord = {
  timestamp: 1700000000000,
  priority: 0,
  longitude: 0,
  latitude: 0,
  altitude: 0,
  angle: 0,
  satellites: 0,
  speed: 0,
  event: 385,
  io: [
    { id: 1, size: 1, value: 1 },
    { id: 17, size: 2, value: 29 },
    { id: 11, size: 8, value: 893700218 },
    { id: 385, bytes: "aabbcc" },
  ],
};

const { decodeAll, assertDecodesSplit } = codecTools(() => teltonikaCodec());

Deno.test("teltonikaCodec decodes a login and a codec 8 packet to the documented fields", () => {
  assert.deepEqual(decodeAll(concat(LOGIN, avlPacket(CODEC8))), [
    {
      frame: { type: "hello", device: IMEI },
      reply: { type: "login_ack", accepted: true },
    },
    {
      frame: {
        type: "record",
        id: `${IMEI}:1700000000000:2`,
        data: { imei: IMEI, codec: "8", records: CODEC8_RECORDS },
      },
    },
  ]);
});

Deno.test("teltonikaCodec decodes a codec 8 Extended packet with a variable-length value", () => {
  const [, avl] = decodeAll(concat(LOGIN, avlPacket(CODEC8E)));
  assert.deepEqual(avl.frame, {
    type: "record",
    id: `${IMEI}:1700000000000:1`,
    data: { imei: IMEI, codec: "8E", records: [CODEC8E_RECORD] },
  });
});

Deno.test("teltonikaCodec encodes the login answer and the record count ACK", () => {
  const server = teltonikaCodec();
  const id = `${IMEI}:1700000000000:2`;
  assert.equal(
    toHex(server.encode({ type: "login_ack", accepted: true })!),
    "01",
  );
  assert.equal(
    toHex(server.encode({ type: "login_ack", accepted: false })!),
    "00",
  );
  assert.equal(toHex(server.encode({ type: "ack", id })!), "00 00 00 02");
  assert.equal(toHex(server.encode({ type: "ack", count: 7 })!), "00 00 00 07");
  // The corruptAck fault's id: a wrong count, so the device sends again.
  assert.equal(
    toHex(server.encode({ type: "ack", id: `corrupt-${id}` })!),
    "00 00 00 03",
  );
  assert.equal(toHex(server.encode({ type: "nack", id })!), "00 00 00 00");
  assert.equal(server.encode({ type: "ack", id: "r1" }), undefined);
  assert.equal(
    server.encode({ type: "error", code: "x", message: "y" }),
    undefined,
  );
});

Deno.test("teltonikaCodec client side decodes the login answer, then ACK counts", () => {
  const client = createCodec("teltonika", { role: "client" });
  assert.deepEqual(decodeAll(hex("00 01 00000002 0000000A"), client), [
    { frame: { type: "login_ack", accepted: false } },
    { frame: { type: "login_ack", accepted: true } },
    { frame: { type: "ack", count: 2 } },
    { frame: { type: "ack", count: 10 } },
  ]);
  assert.deepEqual(codes(decodeAll(hex("07 01 000000"), client)), [
    "invalid_login_reply",
    "login_ack",
    "truncated",
  ]);
});

Deno.test("teltonikaCodec round-trips: device encode, server decode, device encode again", () => {
  const device = teltonikaCodec({ role: "client" });
  const decoder = teltonikaCodec().decoder();
  for (
    const bytes of [LOGIN, avlPacket(CODEC8), avlPacket(CODEC8E), hex("FF")]
  ) {
    const [decoded] = decoder.push(bytes);
    assert.ok(decoded.frame, JSON.stringify(decoded));
    assert.equal(toHex(device.encode(decoded.frame)!), toHex(bytes));
  }
  // A frame a tracker would write: defaults fill what it leaves out.
  const [decoded] = decoder.push(
    device.encode({
      type: "record",
      id: "r1",
      data: { codec: "8E", records: [{ timestamp: 1700000500000, speed: 60 }] },
    })!,
  );
  assert.equal(decoded.frame?.id, `${IMEI}:1700000500000:1`);
  const data = decoded.frame?.data as {
    codec: string;
    records: TeltonikaRecord[];
  };
  assert.equal(data.codec, "8E");
  assert.equal(data.records[0].speed, 60);
  assert.equal(
    device.encode({ type: "hello", device: "not-digits" }),
    undefined,
  );
  assert.equal(
    device.encode({ type: "record", data: { codec: "12" } }),
    undefined,
  );
  assert.equal(device.encode({ type: "ack", count: 1 }), undefined);
});

Deno.test("teltonikaCodec decodes packets split at every byte boundary and several in one read", () => {
  const stream = concat(
    LOGIN,
    avlPacket(CODEC8),
    hex("FF"),
    avlPacket(CODEC8E),
  );
  const whole = assertDecodesSplit(stream);
  assert.deepEqual(codes(whole), ["hello", "record", "ping", "record"]);
});

Deno.test("teltonikaCodec rejects corrupted CRCs and wrong lengths, then goes on", () => {
  const good = avlPacket(CODEC8E);
  const check = (bytes: Uint8Array, expected: string[]) =>
    assert.deepEqual(codes(decodeAll(concat(LOGIN, bytes))), [
      "hello",
      ...expected,
    ]);

  const badCrc = avlPacket(CODEC8);
  badCrc[badCrc.length - 1] ^= 0xff;
  check(concat(badCrc, good), ["bad_crc", "record"]);
  // The CRC field is a u32 holding a 16-bit CRC: anything in the upper half is wrong too.
  check(avlPacket(CODEC8, crc16Arc(hex(CODEC8)) + 0x10000), ["bad_crc"]);

  // Data length under codec id + two counts: the header is dropped.
  check(concat(hex("00000000 00000002"), good), ["invalid_length", "record"]);

  // Data length one short: the CRC is read from the wrong place.
  const short = avlPacket(CODEC8);
  short[7] -= 1;
  assert.equal(decodeAll(concat(LOGIN, short))[1].error?.code, "bad_crc");

  // Data length longer than what comes: the stream ends mid-packet.
  const long = avlPacket(CODEC8);
  long[7] += 5;
  check(long, ["truncated"]);

  // Longer than the limit: skipped as it arrives, across reads.
  const decoder = teltonikaCodec({ maxFrameBytes: 64 }).decoder();
  const big = avlPacket(CODEC8);
  assert.deepEqual(
    codes([
      ...decoder.push(LOGIN),
      ...decoder.push(big.subarray(0, 20)),
      ...decoder.push(concat(big.subarray(20), hex("FF"))),
    ]),
    ["hello", "frame_too_long", "ping"],
  );

  check(concat(hex("0000 0001"), good), ["invalid_preamble", "record"]);
  check(avlPacket(CODEC8.replace(/02$/, "01")), ["invalid_frame"]);
  check(avlPacket("0C 01 05 00000001 41 01"), ["unsupported_codec"]);
  assert.deepEqual(codes(decodeAll(good)), ["not_logged_in"]);
  assert.deepEqual(codes(decodeAll(concat(hex("0003 41 42 43"), LOGIN))), [
    "invalid_login",
    "hello",
  ]);
  assert.deepEqual(codes(decodeAll(concat(hex("0100"), LOGIN))), [
    "invalid_length",
    "hello",
  ]);
  const [, countsDiffer] = decodeAll(
    concat(LOGIN, avlPacket(CODEC8.replace(/02$/, "03"))),
  );
  assert.match(
    countsDiffer.error!.message,
    /record counts differ: 2 at the start, 3 at the end/,
  );
});

Deno.test("primary with codec teltonika answers the login 01, then ACKs the record count", async () => {
  await using primary = await startCodecPrimary("teltonika");
  await using peer = await connectRaw(primary.addr);
  const signal = AbortSignal.timeout(5000);
  peer.write(LOGIN);
  assert.equal(toHex(await peer.read(1, signal)), "01");
  peer.write(concat(hex("FF"), avlPacket(CODEC8)));
  assert.equal(toHex(await peer.read(4, signal)), "00 00 00 02");
  assert.equal(primary.connectionInfos()[0].tags.device, IMEI);
  const [ack] = primary.journal.query({ type: "ack_sent" });
  assert.equal(ack.id, `${IMEI}:1700000000000:2`);
  assert.deepEqual(
    primary.journal.query({ type: "frame_in" }).map((e) =>
      (e.frame as { type: string }).type
    ),
    ["hello", "ping", "record"],
  );
  assert.equal(primary.journal.query({ type: "bad_input" }).length, 0);
});

Deno.test("primary with codec teltonika rejects a login, ACKs a wrong count and NACKs by fault", async () => {
  await using primary = await startCodecPrimary("teltonika", {
    rejectLogin: { window: { first: 1 } },
    corruptAck: { window: { first: 1 } },
    nackAck: { window: { after: 1, first: 1 } },
  });
  await using peer = await connectRaw(primary.addr);
  const signal = AbortSignal.timeout(5000);
  peer.write(LOGIN);
  assert.equal(toHex(await peer.read(1, signal)), "00");
  peer.write(LOGIN);
  assert.equal(toHex(await peer.read(1, signal)), "01");
  peer.write(avlPacket(CODEC8));
  assert.equal(toHex(await peer.read(4, signal)), "00 00 00 03");
  peer.write(avlPacket(CODEC8));
  assert.equal(toHex(await peer.read(4, signal)), "00 00 00 00");
  peer.write(avlPacket(CODEC8));
  assert.equal(toHex(await peer.read(4, signal)), "00 00 00 02");
  const logins = primary.journal.query({ type: "frame_out" })
    .map((e) => e.frame);
  assert.deepEqual(logins, [
    { type: "login_ack", accepted: false },
    { type: "login_ack", accepted: true },
  ]);
  assert.deepEqual(
    primary.journal.query({ type: "fault" })
      .filter((e) => e.fault === "rejectLogin").map((e) => e.fired),
    [true, false],
  );
});

Deno.test("primary CLI takes --codec teltonika and --reject-login", async () => {
  await using cli = await spawnServer(
    "servers/primary.ts",
    "--seed 3 --codec teltonika --reject-login 100%",
  );
  assert.match(cli.line, / codec=teltonika$/);
  const tcp = announcedTcp(cli);
  {
    await using peer = await connectRaw(tcp);
    peer.write(LOGIN);
    assert.equal(toHex(await peer.read(1, AbortSignal.timeout(5000))), "00");
  }
  const { code } = await cli.stop();
  assert.equal(code, 0);
});
