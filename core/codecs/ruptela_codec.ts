/**
 * The Ruptela device protocol over TCP (`--codec ruptela`), both ways.
 *
 * A device packet is `u16 length | u64 IMEI | u8 command | payload | u16
 * CRC`; the length counts IMEI, command and payload, and the CRC is
 * CRC-16/KERMIT over the same bytes, written high byte first. A server's
 * reply has no IMEI: `u16 length | u8 reply command | payload | u16 CRC`,
 * the reply command being 100 + the command (100 for both kinds of
 * records). The ACK to records is `00 02 64 01 13 BC`, a NACK
 * `00 02 64 00 02 35`.
 *
 * How packets map onto frames (the frame's `data.command` is always the
 * command byte on the wire):
 *
 * | command | frame | answered by |
 * |---|---|---|
 * | 1 records, 68 extended records | `{type:"record", id:"<imei>:<first timestamp>:<count>", data:{imei, command, recordsLeft, records}}` | the server's ACK (`{type:"ack"}`, faults apply) |
 * | 15 identification | `{type:"hello", device, data:{imei, command, payload}}` | the codec: `ack` 115, then the server's handler |
 * | 16 heartbeat | `{type:"heartbeat", device, data:{imei, command}}` | the codec: `ack` 116 (handled) |
 * | 9 DTCs | `{type:"dtc", device, data:{imei, command, dtcs}}` | the codec: `ack` 109 (handled) |
 * | anything else (37 files, replies to commands) | `{type:"device_packet", device, data:{imei, command, payload}}` | nobody (handled) |
 *
 * Facts from public documentation and open-source decoders (Traccar's
 * RuptelaProtocolDecoder); no code copied.
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
  type CodecRole,
  type Decoded,
} from "./codec.ts";
import { crc16Kermit } from "./crc16.ts";
import type { DeviceIoValue, DevicePosition } from "./device_record.ts";
import { CORRUPT_ID_PREFIX, type Frame } from "./frame.ts";

/** The Ruptela commands this codec gives names to. */
export const RUPTELA_COMMANDS = {
  /** Records (`record` frame). */
  records: 1,
  /** Diagnostic trouble codes (`dtc` frame). */
  dtcs: 9,
  /** Device identification (`hello` frame). */
  identification: 15,
  /** Heartbeat (`heartbeat` frame). */
  heartbeat: 16,
  /** Files (`device_packet` frame). */
  files: 37,
  /** Extended records: 2-byte IO ids and event (`record` frame). */
  extendedRecords: 68,
} as const;

/** The reply command of the ACK (or NACK) to records, both 1 and 68: 100. */
export const RUPTELA_RECORDS_REPLY = 100;

/** One IO value of a Ruptela record (its id: 1 byte in command 1, 2 in 68). */
export type RuptelaIoElement = DeviceIoValue;

/** One Ruptela record, as decoded (missing fields encode as 0). */
export interface RuptelaRecord extends DevicePosition {
  /** Seconds since the Unix epoch (u32). */
  timestamp: number;
  /** Timestamp extension (u8). */
  timestampExtension: number;
  /** Record extension (u8), command 68 only. */
  recordExtension?: number;
  /** Priority (u8). */
  priority: number;
  /** HDOP (u8 in tenths). */
  hdop: number;
  /** The IO id that caused the record (u8; u16 in command 68). */
  event: number;
  /** IO values, in groups of 1, 2, 4 and 8 bytes, in that order. */
  io: RuptelaIoElement[];
}

/** One diagnostic trouble code of a command-9 packet. */
export interface RuptelaDtc {
  /** The first byte (Traccar reads it as reserved). */
  reserved: number;
  /** Seconds since the Unix epoch (u32). */
  timestamp: number;
  /** Degrees (i32 in units of 1e-7). */
  longitude: number;
  /** Degrees (i32 in units of 1e-7). */
  latitude: number;
  /** Status byte (2: archived, as Traccar reads it). */
  status: number;
  /** The code: 5 ASCII characters. */
  code: string;
}

/**
 * The id a records packet gets: `<imei>:<first record's timestamp>:<count>`,
 * the same for every resend of the same packet.
 *
 * @example Usage
 * ```ts
 * import { ruptelaRecordsId } from "./ruptela_codec.ts";
 * ruptelaRecordsId("356307042441013", [{ timestamp: 1700000000 }]); // "356307042441013:1700000000:1"
 * ```
 */
export function ruptelaRecordsId(
  imei: string,
  records: readonly { timestamp?: unknown }[],
): string {
  return recordsId(imei, records);
}

/**
 * The reply command for a device command: 100 for records (1 and 68),
 * 100 + the command otherwise.
 */
export function ruptelaReplyCommand(command: number): number {
  return command === RUPTELA_COMMANDS.records ||
      command === RUPTELA_COMMANDS.extendedRecords
    ? RUPTELA_RECORDS_REPLY
    : 100 + command;
}

const SERVER_MIN = 9; // IMEI and command
const CLIENT_MIN = 1; // command
const SIZES = [1, 2, 4, 8] as const;

function hex4(value: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Cuts one packet off the front, checking length and CRC. */
function packetStep(
  bytes: Uint8Array,
  min: number,
  max: number,
  decode: (body: Uint8Array) => Decoded,
): Step | undefined {
  if (bytes.length < 2) return undefined;
  const length = (bytes[0] << 8) | bytes[1];
  if (length < min) {
    return failure(
      "invalid_length",
      `Cannot decode packet: its length ${length} is under the minimum of ${min}`,
      2,
      bytes.subarray(0, 2),
    );
  }
  const total = length + 4;
  if (total > max) {
    return failure(
      "frame_too_long",
      `Cannot accept packet of ${total} bytes: longer than the limit of ${max} bytes`,
      total,
    );
  }
  if (bytes.length < total) return undefined;
  const body = bytes.subarray(2, 2 + length);
  const crc = (bytes[2 + length] << 8) | bytes[3 + length];
  const expected = crc16Kermit(body);
  if (crc !== expected) {
    return failure(
      "bad_crc",
      `Cannot accept packet: its CRC is ${hex4(crc)}, expected ${
        hex4(expected)
      }`,
      total,
      bytes.subarray(0, total),
    );
  }
  return { consume: total, decoded: decode(body) };
}

function coordinate(reader: Reader): number {
  return reader.int("i32") / 1e7;
}

function readRecord(reader: Reader, extended: boolean): RuptelaRecord {
  const timestamp = reader.int("u32");
  const timestampExtension = reader.int("u8");
  const recordExtension = extended ? reader.int("u8") : undefined;
  const record: RuptelaRecord = {
    timestamp,
    timestampExtension,
    ...(recordExtension !== undefined ? { recordExtension } : {}),
    priority: reader.int("u8"),
    longitude: coordinate(reader),
    latitude: coordinate(reader),
    altitude: reader.int("u16") / 10,
    angle: reader.int("u16") / 100,
    satellites: reader.int("u8"),
    speed: reader.int("u16"),
    hdop: reader.int("u8") / 10,
    event: extended ? reader.int("u16") : reader.int("u8"),
    io: [],
  };
  for (const size of SIZES) {
    const count = reader.int("u8");
    for (let i = 0; i < count; i++) {
      const id = extended ? reader.int("u16") : reader.int("u8");
      record.io.push({ id, size, value: reader.unsigned(size) });
    }
  }
  return record;
}

function readDtc(reader: Reader): RuptelaDtc {
  return {
    reserved: reader.int("u8"),
    timestamp: reader.int("u32"),
    longitude: coordinate(reader),
    latitude: coordinate(reader),
    status: reader.int("u8"),
    code: String.fromCharCode(...reader.bytes(5)),
  };
}

function imeiText(value: bigint): string {
  return value.toString().padStart(15, "0");
}

function commandName(command: number): string {
  const entry = Object.entries(RUPTELA_COMMANDS).find(([, n]) => n === command);
  return entry ? `${entry[0]} (${command})` : `command ${command}`;
}

function noTrailing(reader: Reader, what: string): void {
  if (reader.remaining !== 0) {
    throw new RangeError(`${reader.remaining} bytes are left after ${what}`);
  }
}

/** Decodes the body of a device packet (IMEI, command, payload). */
function decodeDevicePacket(body: Uint8Array): Decoded {
  const reader = new Reader(body);
  const imei = imeiText(reader.u64());
  const command = reader.int("u8");
  try {
    switch (command) {
      case RUPTELA_COMMANDS.records:
      case RUPTELA_COMMANDS.extendedRecords: {
        const recordsLeft = reader.int("u8");
        const count = reader.int("u8");
        const records: RuptelaRecord[] = [];
        for (let i = 0; i < count; i++) {
          records.push(
            readRecord(reader, command === RUPTELA_COMMANDS.extendedRecords),
          );
        }
        noTrailing(reader, `${count} records`);
        return {
          frame: {
            type: "record",
            id: ruptelaRecordsId(imei, records),
            data: { imei, command, recordsLeft, records },
          },
        };
      }
      case RUPTELA_COMMANDS.identification:
        return {
          frame: {
            type: "hello",
            device: imei,
            data: {
              imei,
              command,
              payload: toHex(reader.bytes(reader.remaining)),
            },
          },
          reply: { type: "ack", command: ruptelaReplyCommand(command) },
        };
      case RUPTELA_COMMANDS.heartbeat: {
        const payload = reader.bytes(reader.remaining);
        return {
          frame: {
            type: "heartbeat",
            device: imei,
            data: {
              imei,
              command,
              ...(payload.length ? { payload: toHex(payload) } : {}),
            },
          },
          reply: { type: "ack", command: ruptelaReplyCommand(command) },
          handled: true,
        };
      }
      case RUPTELA_COMMANDS.dtcs: {
        const count = reader.int("u8");
        const dtcs: RuptelaDtc[] = [];
        for (let i = 0; i < count; i++) dtcs.push(readDtc(reader));
        noTrailing(reader, `${count} DTCs`);
        return {
          frame: { type: "dtc", device: imei, data: { imei, command, dtcs } },
          reply: { type: "ack", command: ruptelaReplyCommand(command) },
          handled: true,
        };
      }
      default:
        return {
          frame: {
            type: "device_packet",
            device: imei,
            data: {
              imei,
              command,
              payload: toHex(reader.bytes(reader.remaining)),
            },
          },
          handled: true,
        };
    }
  } catch (error) {
    return {
      error: {
        code: "invalid_frame",
        message: `Cannot decode ${commandName(command)} packet from ${imei}: ${
          (error as Error).message
        }`,
      },
      raw: toHex(body.subarray(0, 100)),
    };
  }
}

/** Decodes the body of a server's reply (command, payload). */
function decodeReply(body: Uint8Array): Decoded {
  const command = body[0];
  const payload = body.subarray(1);
  if (payload.length === 1 && payload[0] <= 1) {
    return { frame: { type: payload[0] === 1 ? "ack" : "nack", command } };
  }
  return {
    frame: {
      type: "server_command",
      command,
      data: { payload: toHex(payload) },
    },
  };
}

class RuptelaDecoder extends FramedDecoder {
  #next: (bytes: Uint8Array) => Step | undefined;

  constructor(role: CodecRole, max: number) {
    super();
    this.#next = role === "client"
      ? (bytes) => packetStep(bytes, CLIENT_MIN, max, decodeReply)
      : (bytes) => packetStep(bytes, SERVER_MIN, max, decodeDevicePacket);
  }

  protected step(bytes: Uint8Array): Step | undefined {
    return this.#next(bytes);
  }
}

/** Frames a body: length, body, CRC (flipped when `corrupt`). */
function packet(body: Uint8Array, corrupt = false): Uint8Array {
  const crc = crc16Kermit(body) ^ (corrupt ? 0xffff : 0);
  return new Writer().int("u16", body.length, "length").bytes(body).int(
    "u16",
    crc,
  )
    .finish();
}

function encodeReply(frame: Frame): Uint8Array | undefined {
  if (frame.type !== "ack" && frame.type !== "nack") return undefined;
  const command = frame.command ?? RUPTELA_RECORDS_REPLY;
  const corrupt = typeof frame.id === "string" &&
    frame.id.startsWith(CORRUPT_ID_PREFIX);
  const body = new Writer().int("u8", command as number, "command")
    .int("u8", frame.type === "ack" ? 1 : 0).finish();
  return packet(body, corrupt);
}

function writeCoordinate(writer: Writer, value: number, name: string): void {
  writer.int("i32", Math.round(value * 1e7), name);
}

function writeRecord(
  writer: Writer,
  record: Record<string, unknown>,
  extended: boolean,
): void {
  writer.int("u32", field(record, "timestamp"), "timestamp")
    .int("u8", field(record, "timestampExtension"), "timestampExtension");
  if (extended) {
    writer.int("u8", field(record, "recordExtension"), "recordExtension");
  }
  writer.int("u8", field(record, "priority"), "priority");
  writeCoordinate(writer, field(record, "longitude"), "longitude");
  writeCoordinate(writer, field(record, "latitude"), "latitude");
  writer.int("u16", Math.round(field(record, "altitude") * 10), "altitude")
    .int("u16", Math.round(field(record, "angle") * 100), "angle")
    .int("u8", field(record, "satellites"), "satellites")
    .int("u16", Math.round(field(record, "speed")), "speed")
    .int("u8", Math.round(field(record, "hdop") * 10), "hdop");
  if (extended) writer.int("u16", field(record, "event"), "event");
  else writer.int("u8", field(record, "event"), "event");
  const io = record.io ?? [];
  if (
    !Array.isArray(io) ||
    !io.every((element) =>
      isObject(element) && SIZES.includes(element.size as 1)
    )
  ) {
    throw new RangeError("io is not a list of {id, size: 1|2|4|8, value}");
  }
  for (const size of SIZES) {
    const group = io.filter((element) => element.size === size);
    writer.int("u8", group.length, `count of ${size}-byte IO values`);
    for (const element of group) {
      if (extended) writer.int("u16", field(element, "id"), "io id");
      else writer.int("u8", field(element, "id"), "io id");
      writer.unsigned(size, element.value ?? 0, `io ${element.id}`);
    }
  }
}

function writeDtc(writer: Writer, dtc: Record<string, unknown>): void {
  writer.int("u8", field(dtc, "reserved"), "reserved")
    .int("u32", field(dtc, "timestamp"), "timestamp");
  writeCoordinate(writer, field(dtc, "longitude"), "longitude");
  writeCoordinate(writer, field(dtc, "latitude"), "latitude");
  writer.int("u8", field(dtc, "status"), "status");
  const code = String(dtc.code ?? "");
  if (!/^[\x20-\x7e]{5}$/.test(code)) {
    throw new RangeError(`code "${code}" is not 5 ASCII characters`);
  }
  writer.bytes(Uint8Array.from(code, (c) => c.charCodeAt(0)));
}

function imeiValue(frame: Frame, data: Record<string, unknown>): bigint {
  const imei = String(data.imei ?? frame.device ?? "");
  if (!/^\d{1,20}$/.test(imei) || BigInt(imei) > 0xffffffffffffffffn) {
    throw new RangeError(`IMEI "${imei}" is not a number that fits 8 bytes`);
  }
  return BigInt(imei);
}

function payloadOf(data: Record<string, unknown>): Uint8Array {
  return typeof data.payload === "string"
    ? fromHex(data.payload)
    : new Uint8Array(0);
}

function encodeDevicePacket(frame: Frame): Uint8Array | undefined {
  const data = isObject(frame.data) ? frame.data : {};
  const writer = new Writer();
  switch (frame.type) {
    case "record": {
      const command = field(data, "command", RUPTELA_COMMANDS.records);
      const extended = command === RUPTELA_COMMANDS.extendedRecords;
      if (!extended && command !== RUPTELA_COMMANDS.records) {
        throw new RangeError(`command ${command} is not 1 or 68`);
      }
      const records = Array.isArray(data.records) ? data.records : [data];
      writer.u64(imeiValue(frame, data)).int("u8", command)
        .int("u8", field(data, "recordsLeft"), "recordsLeft")
        .int("u8", records.length, "record count");
      for (const record of records) {
        if (!isObject(record)) {
          throw new RangeError("a record is not an object");
        }
        writeRecord(writer, record, extended);
      }
      break;
    }
    case "dtc": {
      const dtcs = Array.isArray(data.dtcs) ? data.dtcs : [];
      writer.u64(imeiValue(frame, data)).int("u8", RUPTELA_COMMANDS.dtcs)
        .int("u8", dtcs.length, "DTC count");
      for (const dtc of dtcs) {
        if (!isObject(dtc)) throw new RangeError("a DTC is not an object");
        writeDtc(writer, dtc);
      }
      break;
    }
    case "hello":
    case "heartbeat":
    case "device_packet": {
      const command = frame.type === "hello"
        ? RUPTELA_COMMANDS.identification
        : frame.type === "heartbeat"
        ? RUPTELA_COMMANDS.heartbeat
        : field(data, "command", -1);
      writer.u64(imeiValue(frame, data)).int("u8", command, "command")
        .bytes(payloadOf(data));
      break;
    }
    default:
      return undefined;
  }
  return packet(writer.finish());
}

/**
 * Makes the Ruptela codec (`--codec ruptela`). With `role: "server"` (the
 * default) it decodes device packets and encodes replies: `{type:"ack"}`
 * and `{type:"nack"}` (`command` defaults to 100; an id with the
 * `corrupt-` prefix of the `corruptAck` fault gets a wrong CRC). With
 * `role: "client"` it encodes device packets (`record`, `hello`,
 * `heartbeat`, `dtc`, `device_packet`) and decodes replies into `ack`,
 * `nack` (`{command}`, no id: they answer the packet in flight) or
 * `server_command`. A frame it cannot express encodes to `undefined`.
 *
 * @example A device's records packet, ACKed
 * ```ts
 * import { ruptelaCodec } from "./ruptela_codec.ts";
 * const device = ruptelaCodec({ role: "client" });
 * const server = ruptelaCodec();
 * const bytes = device.encode({
 *   type: "record",
 *   id: "r1",
 *   data: { imei: "356307042441013", records: [{ timestamp: 1700000000 }] },
 * })!;
 * const [decoded] = server.decoder().push(bytes);
 * decoded.frame?.id; // "356307042441013:1700000000:1"
 * server.encode({ type: "ack", id: "356307042441013:1700000000:1" }); // 00 02 64 01 13 BC
 * ```
 */
export function ruptelaCodec(options: CodecOptions = {}): Codec {
  const max = codecLimits(options).maxFrameBytes;
  const role = options.role ?? "server";
  const encode = role === "client" ? encodeDevicePacket : encodeReply;
  return {
    name: "ruptela",
    decoder: () => new RuptelaDecoder(role, max),
    encode: encodeOrUndefined(encode),
  };
}
