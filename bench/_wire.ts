/**
 * What the benchmark's own processes need of the wire, kept minimal on
 * purpose: the minimal ACK server splits frames and answers with fixed bytes,
 * the load generator counts replies by their size. Three codecs: line-json,
 * ruptela, teltonika.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { Frame } from "../core/codecs/frame.ts";

/** The codecs the benchmark drives. */
export const BENCH_CODECS = ["line-json", "ruptela", "teltonika"] as const;

/** One of {@linkcode BENCH_CODECS}. */
export type BenchCodec = typeof BENCH_CODECS[number];

/** The device every record claims to come from (Ruptela and Teltonika). */
export const BENCH_IMEI = "356307042441013";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Splits a byte stream into frames and makes the reply bytes, as cheaply as
 * the protocol allows: no JSON parse, no schema, no journal. The minimal
 * server's whole per-read work.
 */
export interface Answerer {
  /** The replies to the frames this chunk completes, and how many frames. */
  push(chunk: Uint8Array): { frames: number; reply?: Uint8Array };
}

/** Makes the minimal answerer for a codec (one per connection). */
export function answerer(codec: BenchCodec): Answerer {
  if (codec === "line-json") return lineAnswerer();
  if (codec === "ruptela") {
    // Every frame: 2-byte length, payload, 2-byte CRC; every answer one ACK.
    const ack = createCodec("ruptela").encode({ type: "ack", id: "x" })!;
    return lengthAnswerer(
      (buffer, at) =>
        buffer.length - at < 2
          ? -1
          : 2 + ((buffer[at] << 8) | buffer[at + 1]) + 2,
      () => ack,
    );
  }
  // Teltonika: a login (2-byte length + IMEI) answered 0x01, then AVL
  // packets (4 zero bytes, 4-byte length, data, 4-byte CRC) answered with
  // the record count.
  let loggedIn = false;
  const login = Uint8Array.of(1);
  const one = Uint8Array.of(0, 0, 0, 1);
  return lengthAnswerer((buffer, at) => {
    if (!loggedIn) {
      return buffer.length - at < 2
        ? -1
        : 2 + ((buffer[at] << 8) | buffer[at + 1]);
    }
    if (buffer.length - at < 8) return -1;
    const view = new DataView(buffer.buffer, buffer.byteOffset + at + 4, 4);
    return 8 + view.getUint32(0) + 4;
  }, () => {
    if (loggedIn) return one;
    loggedIn = true;
    return login;
  });
}

function lineAnswerer(): Answerer {
  let rest = "";
  return {
    push(chunk) {
      const text = rest + decoder.decode(chunk);
      let start = 0;
      let frames = 0;
      let out = "";
      for (
        let end = text.indexOf("\n");
        end !== -1;
        end = text.indexOf("\n", start)
      ) {
        // The id, found by scanning for `"id":"`: no parse.
        const key = text.indexOf('"id":"', start);
        const id = key !== -1 && key < end
          ? text.slice(key + 6, text.indexOf('"', key + 6))
          : "";
        out += `{"type":"ack","id":"${id}"}\n`;
        frames++;
        start = end + 1;
      }
      rest = text.slice(start);
      return frames === 0 ? { frames } : { frames, reply: encoder.encode(out) };
    },
  };
}

function lengthAnswerer(
  sizeAt: (buffer: Uint8Array, at: number) => number,
  replyTo: () => Uint8Array,
): Answerer {
  let buffer = new Uint8Array(0);
  return {
    push(chunk) {
      const all = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      let at = 0;
      let frames = 0;
      const replies: Uint8Array[] = [];
      while (at < all.length) {
        const size = sizeAt(all, at);
        if (size < 0 || all.length - at < size) break;
        replies.push(replyTo());
        frames++;
        at += size;
      }
      buffer = all.slice(at);
      return frames === 0
        ? { frames }
        : { frames, reply: Buffer.concat(replies) };
    },
  };
}

/** What a device sends and how its replies are counted, for the load. */
export interface DeviceWire {
  /** Bytes to send first (a login), or none. */
  hello?: Uint8Array;
  /** How many reply bytes the hello gets back (not counted as ACKs). */
  helloReplyBytes: number;
  /** The bytes of record `n` of connection `conn`. */
  record(conn: number, n: number): Uint8Array;
  /** Makes a counter of the ACKs in reply chunks (it keeps partial ones). */
  counter(): (chunk: Uint8Array) => number;
}

/** The device side of a codec, encoded once, for the load generator. */
export function deviceWire(codec: BenchCodec): DeviceWire {
  if (codec === "line-json") {
    return {
      helloReplyBytes: 0,
      record: (conn, n) =>
        encoder.encode(
          `{"type":"record","id":"c${conn}-${n}","data":{"n":${n}}}\n`,
        ),
      counter: () => (chunk) => {
        let acks = 0;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) acks++;
        return acks;
      },
    };
  }
  const client = createCodec(codec, { role: "client" });
  const encode = (frame: Frame) => client.encode(frame)!;
  // A pool of distinct packets, a minute apart, reused round robin.
  const pool = Array.from({ length: 256 }, (_, i) =>
    encode({
      type: "record",
      id: `r${i}`,
      data: { imei: BENCH_IMEI, timestamp: 1_700_000_000 + 60 * i, n: `r${i}` },
    }));
  const ackBytes = codec === "ruptela" ? 6 : 4;
  return {
    hello: encode({ type: "hello", device: BENCH_IMEI }),
    helloReplyBytes: codec === "ruptela" ? 6 : 1,
    record: (_conn, n) => pool[n % pool.length],
    counter: () => {
      let partial = 0;
      return (chunk) => {
        const total = partial + chunk.length;
        partial = total % ackBytes;
        return Math.floor(total / ackBytes);
      };
    },
  };
}
