/**
 * The line-JSON codec of wire protocol v1: one JSON object per line, UTF-8,
 * `\n`-terminated.
 *
 * @module
 */
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

function decodeLine(bytes: Uint8Array, text: TextDecoder): Decoded | undefined {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  if (end === 0) return undefined;
  let line: string;
  try {
    line = text.decode(end === bytes.length ? bytes : bytes.subarray(0, end));
  } catch {
    return {
      error: {
        code: "invalid_utf8",
        message: "Cannot decode line: it is not valid UTF-8",
      },
    };
  }
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
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const stop = newline === -1 ? chunk.length : newline;
      const piece = chunk.subarray(start, stop);
      if (!this.#discarding) {
        if (this.#pending + piece.length > this.#max) {
          out.push({
            error: {
              code: "line_too_long",
              message:
                `Cannot accept line: longer than the limit of ${this.#max} bytes`,
            },
          });
          this.#parts = [];
          this.#pending = 0;
          this.#discarding = true;
        } else if (newline === -1) {
          this.#parts.push(piece.slice());
          this.#pending += piece.length;
        } else {
          const decoded = decodeLine(this.#take(piece), this.#text);
          if (decoded) out.push(decoded);
        }
      }
      if (newline === -1) break;
      this.#discarding = false;
      start = newline + 1;
    }
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

  #take(last: Uint8Array): Uint8Array {
    if (this.#parts.length === 0) return last;
    const whole = new Uint8Array(this.#pending + last.length);
    let offset = 0;
    for (const part of this.#parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    whole.set(last, offset);
    this.#parts = [];
    this.#pending = 0;
    return whole;
  }
}

/**
 * Makes the line-JSON codec (`--codec line-json`, the default).
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
    encode: (frame: Frame) => encoder.encode(JSON.stringify(frame) + "\n"),
  };
}
