/**
 * The line-JSON codec of wire protocol v1: one JSON object per line, UTF-8,
 * `\n`-terminated.
 *
 * @module
 */
import { concat } from "./_bytes.ts";
import {
  checkFrame,
  type Codec,
  type CodecOptions,
  type Decoded,
  type Decoder,
  DEFAULT_MAX_FRAME_BYTES,
} from "./codec.ts";
import type { Frame } from "./frame.ts";

const NEWLINE = 0x0a;
const RAW_PREVIEW = 200;
const encoder = new TextEncoder();

function parseLine(line: string): Decoded | undefined {
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (line.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return {
      error: {
        code: "invalid_json",
        message: `Cannot parse line as JSON: ${(error as Error).message}`,
      },
      raw: line.slice(0, RAW_PREVIEW),
    };
  }
  const checked = checkFrame(value);
  return checked.error
    ? { ...checked, raw: line.slice(0, RAW_PREVIEW) }
    : checked;
}

const INVALID_UTF8: Decoded = {
  error: {
    code: "invalid_utf8",
    message: "Cannot decode line: it is not valid UTF-8",
  },
};

class LineJsonDecoder implements Decoder {
  #max: number;
  #parts: Uint8Array[] = [];
  #pending = 0;
  #discarding = false;
  #text = new TextDecoder("utf-8", { fatal: true });

  constructor(max: number) {
    this.#max = max;
  }

  get pending(): number {
    return this.#pending;
  }

  push(chunk: Uint8Array): Decoded[] {
    const out: Decoded[] = [];
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      this.#keep(chunk, out);
      return out;
    }
    const skipFirst = this.#discarding;
    this.#discarding = false;
    this.#lines(this.#take(chunk.subarray(0, last + 1)), skipFirst, out);
    this.#keep(chunk.subarray(last + 1), out);
    return out;
  }

  end(): Decoded[] {
    const pending = this.#pending;
    this.#parts = [];
    this.#pending = 0;
    this.#discarding = false;
    if (pending === 0) return [];
    return [{
      error: {
        code: "truncated",
        message:
          `Cannot decode ${pending} bytes: the stream ended before the end of the line`,
      },
    }];
  }

  /** Buffers bytes that end no line, reporting a line over the limit once. */
  #keep(piece: Uint8Array, out: Decoded[]): void {
    if (piece.length === 0 || this.#discarding) return;
    if (this.#pending + piece.length > this.#max) {
      out.push(this.#tooLong());
      this.#parts = [];
      this.#pending = 0;
      this.#discarding = true;
      return;
    }
    this.#parts.push(piece.slice());
    this.#pending += piece.length;
  }

  /**
   * Decodes a region of whole lines: one UTF-8 decode for the region (the
   * per-call cost of TextDecoder dominates otherwise), per line only when the
   * region holds invalid UTF-8, so the error names just the bad lines.
   */
  #lines(region: Uint8Array, skipFirst: boolean, out: Decoded[]): void {
    let text: string | undefined;
    try {
      text = this.#text.decode(region);
    } catch {
      text = undefined;
    }
    let byteStart = 0;
    let charStart = 0;
    let first = true;
    while (byteStart < region.length) {
      const byteEnd = region.indexOf(NEWLINE, byteStart);
      let line: string | undefined;
      if (text !== undefined) {
        const charEnd = text.indexOf("\n", charStart);
        line = text.slice(charStart, charEnd);
        charStart = charEnd + 1;
      }
      const length = byteEnd - byteStart;
      if (!(first && skipFirst)) {
        if (length > this.#max) {
          out.push(this.#tooLong());
        } else {
          if (line === undefined) {
            try {
              line = this.#text.decode(region.subarray(byteStart, byteEnd));
            } catch {
              line = undefined;
            }
          }
          const decoded = line === undefined ? INVALID_UTF8 : parseLine(line);
          if (decoded) out.push(decoded);
        }
      }
      first = false;
      byteStart = byteEnd + 1;
    }
  }

  #tooLong(): Decoded {
    return {
      error: {
        code: "line_too_long",
        message:
          `Cannot accept line: longer than the limit of ${this.#max} bytes`,
      },
    };
  }

  #take(last: Uint8Array): Uint8Array {
    if (this.#parts.length === 0) return last;
    this.#parts.push(last);
    const whole = concat(this.#parts);
    this.#parts = [];
    this.#pending = 0;
    return whole;
  }
}

/**
 * Makes the line-JSON codec (`--codec line-json`, the default). Wire
 * protocol v1 has no NACK: a `{"type":"nack"}` frame (the `nackAck` fault)
 * encodes to `undefined`, so nothing is sent and `unencodable` is journalled.
 *
 * @example Usage
 * ```ts
 * import { lineJsonCodec } from "./line_json_codec.ts";
 * const codec = lineJsonCodec();
 * const decoder = codec.decoder();
 * decoder.push(new TextEncoder().encode('{"type":"rec'));
 * decoder.push(new TextEncoder().encode('ord","id":"r1"}\n')); // [{ frame }]
 * ```
 */
export function lineJsonCodec(options: CodecOptions = {}): Codec {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  return {
    name: "line-json",
    decoder: () => new LineJsonDecoder(max),
    encode: (frame: Frame) =>
      frame.type === "nack"
        ? undefined
        : encoder.encode(JSON.stringify(frame) + "\n"),
    encodeText: (frame: Frame) =>
      frame.type === "nack" ? undefined : JSON.stringify(frame) + "\n",
  };
}
