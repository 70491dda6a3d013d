/**
 * The Teltonika device protocol over TCP, codec 8 and codec 8 Extended
 * (`--codec teltonika`), both ways.
 *
 * - Login: the device sends `u16 length | IMEI as ASCII`; the server answers
 *   one byte, `01` to accept, `00` to reject.
 * - AVL packet: `00 00 00 00 | u32 data length | codec id (0x08 or 0x8E) |
 *   u8 record count | records | u8 record count | u32 CRC`. The data length
 *   counts codec id .. second count; the CRC field holds CRC-16/ARC (IBM) of
 *   the same bytes. The server ACKs with the record count as a u32; a count
 *   that does not match makes the device send the packet again.
 * - A single `FF` byte between packets is a keep-alive.
 *
 * How packets map onto frames:
 *
 * | packet | frame | answered by |
 * |---|---|---|
 * | login | `{type:"hello", device:"<imei>"}` | the codec: `{type:"login_ack", accepted:true}` (`01`; the `rejectLogin` fault makes it `00`), then the server's handler |
 * | AVL packet | `{type:"record", id:"<imei>:<first timestamp ms>:<count>", data:{imei, codec:"8"\|"8E", records}}` | the server's ACK (`{type:"ack"}` encodes the count from the id, faults apply) |
 * | `FF` | `{type:"ping"}` | nobody (handled) |
 *
 * Facts from Teltonika's public protocol pages and open-source decoders
 * (Traccar's TeltonikaFrameDecoder and TeltonikaProtocolDecoder); no code
 * copied.
 *
 * @module
 */
import { fromHex, Reader, toHex, Writer } from "./_bytes.ts";
import { encodeOrUndefined, recordsId } from "./_device_codec.ts";
import { failure, FramedDecoder, type Step } from "./_framed_decoder.ts";
import { field, isObject } from "./_frame_fields.ts";
import {
  type Codec,
  codecLimits,
  type CodecOptions,
  type Decoded,
} from "./codec.ts";
import { crc16Arc } from "./crc16.ts";
import type { DeviceIoValue, DevicePosition } from "./device_record.ts";
import { CORRUPT_ID_PREFIX, type Frame } from "./frame.ts";

/** Codec 8's id. */
export const TELTONIKA_CODEC_8 = 0x08;
/** Codec 8 Extended's id. */
export const TELTONIKA_CODEC_8E = 0x8e;

/** One IO value of a Teltonika record: fixed size, or (8E only) variable. */
export type TeltonikaIoElement =
  | DeviceIoValue
  | {
    /** The IO id (2 bytes). */
    id: number;
    /** A variable-length value (codec 8E's last group), as hex. */
    bytes: string;
  };

/** One Teltonika AVL record, as decoded (missing fields encode as 0). */
export interface TeltonikaRecord extends DevicePosition {
  /** Milliseconds since the Unix epoch (u64). */
  timestamp: number;
  /** Priority (u8): 0 low, 1 high, 2 panic. */
  priority: number;
  /** The IO id that caused the record (u8; u16 in 8E); 0 for none. */
  event: number;
  /** IO values, in groups of 1, 2, 4 and 8 bytes (then variable, 8E). */
  io: TeltonikaIoElement[];
}

/**
 * The id an AVL packet gets: `<imei>:<first record's timestamp>:<count>`,
 * the same for every resend of the same packet. A server's `ack` with such
 * an id encodes the count at its end.
 *
 * @example Usage
 * ```ts
 * import { teltonikaRecordsId } from "./teltonika_codec.ts";
 * teltonikaRecordsId("356307042441013", [{ timestamp: 1700000000000 }]); // "356307042441013:1700000000000:1"
 * ```
 */
export function teltonikaRecordsId(
  imei: string,
  records: readonly { timestamp?: unknown }[],
): string {
  return recordsId(imei, records);
}

const MAX_IMEI = 32;
const SIZES = [1, 2, 4, 8] as const;

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, "0")}`;
}

function readRecord(reader: Reader, extended: boolean): TeltonikaRecord {
  const count = () => extended ? reader.int("u16") : reader.int("u8");
  const record: TeltonikaRecord = {
    timestamp: Number(reader.u64()),
    priority: reader.int("u8"),
    longitude: reader.int("i32") / 1e7,
    latitude: reader.int("i32") / 1e7,
    altitude: reader.int("i16"),
    angle: reader.int("u16"),
    satellites: reader.int("u8"),
    speed: reader.int("u16"),
    event: count(),
    io: [],
  };
  count(); // the total of IO values, implied by the groups
  for (const size of SIZES) {
    const n = count();
    for (let i = 0; i < n; i++) {
      const id = count();
      record.io.push({ id, size, value: reader.unsigned(size) });
    }
  }
  if (extended) {
    const n = reader.int("u16");
    for (let i = 0; i < n; i++) {
      const id = reader.int("u16");
      record.io.push({ id, bytes: toHex(reader.bytes(reader.int("u16"))) });
    }
  }
  return record;
}

/** Decodes the data of an AVL packet (codec id .. second count). */
function decodeAvl(imei: string, data: Uint8Array): Decoded {
  const reader = new Reader(data);
  const codec = reader.int("u8");
  if (codec !== TELTONIKA_CODEC_8 && codec !== TELTONIKA_CODEC_8E) {
    return {
      error: {
        code: "unsupported_codec",
        message: `Cannot decode AVL packet with codec id ${
          hex(codec, 2)
        }: expected 0x08 (codec 8) or 0x8E (codec 8 Extended)`,
      },
      raw: toHex(data.subarray(0, 100)),
    };
  }
  const extended = codec === TELTONIKA_CODEC_8E;
  try {
    const count = reader.int("u8");
    const records: TeltonikaRecord[] = [];
    for (let i = 0; i < count; i++) records.push(readRecord(reader, extended));
    const again = reader.int("u8");
    if (again !== count) {
      throw new RangeError(
        `its record counts differ: ${count} at the start, ${again} at the end`,
      );
    }
    if (reader.remaining !== 0) {
      throw new RangeError(
        `${reader.remaining} bytes are left after the second record count`,
      );
    }
    return {
      frame: {
        type: "record",
        id: teltonikaRecordsId(imei, records),
        data: { imei, codec: extended ? "8E" : "8", records },
      },
    };
  } catch (error) {
    return {
      error: {
        code: "invalid_frame",
        message: `Cannot decode AVL packet from ${imei}: ${
          (error as Error).message
        }`,
      },
      raw: toHex(data.subarray(0, 100)),
    };
  }
}

class TeltonikaServerDecoder extends FramedDecoder {
  #max: number;
  #imei?: string;

  constructor(max: number) {
    super();
    this.#max = max;
  }

  protected step(bytes: Uint8Array): Step | undefined {
    if (bytes[0] === 0xff) {
      return {
        consume: 1,
        decoded: { frame: { type: "ping" }, handled: true },
      };
    }
    if (bytes.length < 2) return undefined;
    const length = (bytes[0] << 8) | bytes[1];
    return length > 0 ? this.#login(bytes, length) : this.#avl(bytes);
  }

  #login(bytes: Uint8Array, length: number): Step | undefined {
    if (length > MAX_IMEI) {
      return failure(
        "invalid_length",
        `Cannot decode login: its IMEI length ${length} is over ${MAX_IMEI}`,
        2,
        bytes.subarray(0, 2),
      );
    }
    const total = 2 + length;
    if (bytes.length < total) return undefined;
    const imei = String.fromCharCode(...bytes.subarray(2, total));
    if (!/^\d+$/.test(imei)) {
      return failure(
        "invalid_login",
        `Cannot accept login: its IMEI ${
          JSON.stringify(imei)
        } is not ASCII digits`,
        total,
        bytes.subarray(0, total),
      );
    }
    this.#imei = imei;
    return {
      consume: total,
      decoded: {
        frame: { type: "hello", device: imei },
        reply: { type: "login_ack", accepted: true },
      },
    };
  }

  #avl(bytes: Uint8Array): Step | undefined {
    if (bytes.length < 8) return undefined;
    if (bytes[2] !== 0 || bytes[3] !== 0) {
      return failure(
        "invalid_preamble",
        "Cannot decode AVL packet: it does not start with four zero bytes",
        4,
        bytes.subarray(0, 4),
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const length = view.getUint32(4);
    if (length < 3) {
      return failure(
        "invalid_length",
        `Cannot decode AVL packet: its data length ${length} is under the minimum of 3`,
        8,
        bytes.subarray(0, 8),
      );
    }
    const total = length + 12;
    if (total > this.#max) {
      return failure(
        "frame_too_long",
        `Cannot accept AVL packet of ${total} bytes: longer than the limit of ${this.#max} bytes`,
        total,
      );
    }
    if (bytes.length < total) return undefined;
    const data = bytes.subarray(8, 8 + length);
    const crc = view.getUint32(8 + length);
    const expected = crc16Arc(data);
    if (crc !== expected) {
      return failure(
        "bad_crc",
        `Cannot accept AVL packet: its CRC field is ${hex(crc, 8)}, expected ${
          hex(expected, 8)
        }`,
        total,
        bytes.subarray(0, total),
      );
    }
    if (this.#imei === undefined) {
      return failure(
        "not_logged_in",
        "Cannot accept AVL packet: the device has not logged in with its IMEI",
        total,
        bytes.subarray(0, total),
      );
    }
    return { consume: total, decoded: decodeAvl(this.#imei, data) };
  }
}

class TeltonikaClientDecoder extends FramedDecoder {
  #loggedIn = false;

  protected step(bytes: Uint8Array): Step | undefined {
    if (!this.#loggedIn) {
      const answer = bytes[0];
      if (answer > 1) {
        return failure(
          "invalid_login_reply",
          `Cannot decode login reply ${
            hex(answer, 2)
          }: expected 0x01 (accepted) or 0x00 (rejected)`,
          1,
          bytes.subarray(0, 1),
        );
      }
      this.#loggedIn = answer === 1;
      return {
        consume: 1,
        decoded: { frame: { type: "login_ack", accepted: answer === 1 } },
      };
    }
    if (bytes.length < 4) return undefined;
    const count = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
    return { consume: 4, decoded: { frame: { type: "ack", count } } };
  }
}

function u32(value: number): Uint8Array {
  return new Writer().int("u32", value >>> 0).finish();
}

function countFromId(id: unknown): number | undefined {
  const match = typeof id === "string" ? /:(\d+)$/.exec(id) : null;
  return match ? Number(match[1]) : undefined;
}

function encodeReply(frame: Frame): Uint8Array | undefined {
  switch (frame.type) {
    case "login_ack":
      return Uint8Array.of(frame.accepted === false ? 0 : 1);
    case "nack":
      return u32(0);
    case "ack": {
      const count = typeof frame.count === "number"
        ? frame.count
        : countFromId(frame.id);
      if (count === undefined) return undefined;
      const corrupt = typeof frame.id === "string" &&
        frame.id.startsWith(CORRUPT_ID_PREFIX);
      return u32(corrupt ? count + 1 : count);
    }
    default:
      return undefined;
  }
}

function isIoElement(element: unknown, extended: boolean): boolean {
  if (!isObject(element)) return false;
  if (typeof element.bytes === "string") return extended;
  return SIZES.includes(element.size as 1);
}

function writeRecord(
  writer: Writer,
  record: Record<string, unknown>,
  extended: boolean,
): void {
  const count = (value: number, name: string) =>
    extended ? writer.int("u16", value, name) : writer.int("u8", value, name);
  const io = record.io ?? [];
  if (
    !Array.isArray(io) || !io.every((element) => isIoElement(element, extended))
  ) {
    throw new RangeError(
      "io is not a list of {id, size: 1|2|4|8, value} (or {id, bytes} in 8E)",
    );
  }
  writer.u64(field(record, "timestamp"), "timestamp")
    .int("u8", field(record, "priority"), "priority")
    .int("i32", Math.round(field(record, "longitude") * 1e7), "longitude")
    .int("i32", Math.round(field(record, "latitude") * 1e7), "latitude")
    .int("i16", Math.round(field(record, "altitude")), "altitude")
    .int("u16", Math.round(field(record, "angle")), "angle")
    .int("u8", field(record, "satellites"), "satellites")
    .int("u16", Math.round(field(record, "speed")), "speed");
  count(field(record, "event"), "event");
  count(io.length, "IO count");
  for (const size of SIZES) {
    const group = io.filter((element) => element.size === size);
    count(group.length, `count of ${size}-byte IO values`);
    for (const element of group) {
      count(field(element, "id"), "io id");
      writer.unsigned(size, element.value ?? 0, `io ${element.id}`);
    }
  }
  if (extended) {
    const group = io.filter((element) => typeof element.bytes === "string");
    writer.int("u16", group.length, "count of variable IO values");
    for (const element of group) {
      const bytes = fromHex(element.bytes);
      writer.int("u16", field(element, "id"), "io id").int(
        "u16",
        bytes.length,
        "io length",
      )
        .bytes(bytes);
    }
  }
}

function codecId(value: unknown): number {
  if (value === undefined || value === "8" || value === TELTONIKA_CODEC_8) {
    return TELTONIKA_CODEC_8;
  }
  if (value === "8E" || value === "8e" || value === TELTONIKA_CODEC_8E) {
    return TELTONIKA_CODEC_8E;
  }
  throw new RangeError(`codec ${JSON.stringify(value)} is not "8" or "8E"`);
}

function encodeDevicePacket(frame: Frame): Uint8Array | undefined {
  switch (frame.type) {
    case "ping":
      return Uint8Array.of(0xff);
    case "hello": {
      const imei = String(frame.device ?? "");
      if (!/^\d+$/.test(imei) || imei.length > MAX_IMEI) {
        throw new RangeError(`IMEI "${imei}" is not 1 to 32 digits`);
      }
      return new Writer().int("u16", imei.length)
        .bytes(Uint8Array.from(imei, (c) => c.charCodeAt(0))).finish();
    }
    case "record": {
      const data = isObject(frame.data) ? frame.data : {};
      const codec = codecId(data.codec);
      const records = Array.isArray(data.records) ? data.records : [data];
      const body = new Writer().int("u8", codec).int(
        "u8",
        records.length,
        "record count",
      );
      for (const record of records) {
        if (!isObject(record)) {
          throw new RangeError("a record is not an object");
        }
        writeRecord(body, record, codec === TELTONIKA_CODEC_8E);
      }
      const data8 = body.int("u8", records.length).finish();
      return new Writer().int("u32", 0).int("u32", data8.length).bytes(data8)
        .int("u32", crc16Arc(data8)).finish();
    }
    default:
      return undefined;
  }
}

/**
 * Makes the Teltonika codec (`--codec teltonika`, codec 8 and 8 Extended).
 * With `role: "server"` (the default) it decodes logins and AVL packets and
 * encodes replies: `{type:"login_ack", accepted}`, `{type:"ack"}` (the
 * count is `count`, else the number at the end of the id; an id with the
 * `corrupt-` prefix of the `corruptAck` fault gets count + 1) and
 * `{type:"nack"}` (count 0: the device sends again). With `role: "client"`
 * it encodes `hello` (login), `record` (one AVL packet of `data.records`,
 * codec `data.codec`, default "8") and `ping`, and decodes the login answer
 * (`login_ack`) then ACKs (`{type:"ack", count}`, no id). A frame it cannot
 * express encodes to `undefined`.
 *
 * @example A device logs in and sends one record
 * ```ts
 * import { teltonikaCodec } from "./teltonika_codec.ts";
 * const device = teltonikaCodec({ role: "client" });
 * const decoder = teltonikaCodec().decoder();
 * decoder.push(device.encode({ type: "hello", device: "356307042441013" })!);
 * const [avl] = decoder.push(device.encode({
 *   type: "record",
 *   id: "r1",
 *   data: { records: [{ timestamp: 1700000000000 }] },
 * })!);
 * avl.frame?.id; // "356307042441013:1700000000000:1"
 * ```
 */
export function teltonikaCodec(options: CodecOptions = {}): Codec {
  const max = codecLimits(options).maxFrameBytes;
  const client = options.role === "client";
  const encode = client ? encodeDevicePacket : encodeReply;
  return {
    name: "teltonika",
    decoder: () =>
      client ? new TeltonikaClientDecoder() : new TeltonikaServerDecoder(max),
    encode: encodeOrUndefined(encode),
  };
}
