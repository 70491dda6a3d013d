/**
 * The length-prefixed codec: each frame is a big-endian u32 byte count
 * followed by that many bytes of UTF-8 JSON. The same frames as line JSON, in
 * a binary framing.
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

const HEADER = 4;
const encoder = new TextEncoder();

class LengthPrefixedDecoder implements Decoder {
  #max: number;
  #buffer = new Uint8Array(0);
  #skip = 0;
  #text = new TextDecoder("utf-8", { fatal: true });

  constructor(max: number) {
    this.#max = max;
  }

  get pending(): number {
    return this.#buffer.length;
  }

  push(chunk: Uint8Array): Decoded[] {
    if (this.#skip > 0) {
      const skipped = Math.min(this.#skip, chunk.length);
      this.#skip -= skipped;
      chunk = chunk.subarray(skipped);
    }
    let buffer = this.#buffer.length === 0
      ? chunk
      : concat(this.#buffer, chunk);
    const out: Decoded[] = [];
    while (buffer.length >= HEADER) {
      const view = new DataView(buffer.buffer, buffer.byteOffset, HEADER);
      const length = view.getUint32(0);
      if (length === 0) {
        out.push({
          error: {
            code: "invalid_frame",
            message: "Cannot decode frame: its length is 0",
          },
        });
        buffer = buffer.subarray(HEADER);
        continue;
      }
      if (length > this.#max) {
        out.push({
          error: {
            code: "frame_too_long",
            message:
              `Cannot accept frame of ${length} bytes: longer than the limit of ${this.#max} bytes`,
          },
        });
        const available = buffer.length - HEADER;
        const skipped = Math.min(length, available);
        this.#skip = length - skipped;
        buffer = buffer.subarray(HEADER + skipped);
        continue;
      }
      if (buffer.length < HEADER + length) break;
      out.push(this.#decode(buffer.subarray(HEADER, HEADER + length)));
      buffer = buffer.subarray(HEADER + length);
    }
    this.#buffer = buffer.length === 0 ? new Uint8Array(0) : buffer.slice();
    return out;
  }

  end(): Decoded[] {
    const pending = this.#buffer.length + this.#skip;
    this.#buffer = new Uint8Array(0);
    this.#skip = 0;
    if (pending === 0) return [];
    return [{
      error: {
        code: "truncated",
        message:
          `Cannot decode ${pending} bytes: the stream ended before the end of the frame`,
      },
    }];
  }

  #decode(bytes: Uint8Array): Decoded {
    let text: string;
    try {
      text = this.#text.decode(bytes);
    } catch {
      return {
        error: {
          code: "invalid_utf8",
          message: "Cannot decode frame: it is not valid UTF-8",
        },
      };
    }
    try {
      const checked = checkFrame(JSON.parse(text));
      return checked.error ? { ...checked, raw: text.slice(0, 200) } : checked;
    } catch (error) {
      return {
        error: {
          code: "invalid_json",
          message: `Cannot parse frame as JSON: ${(error as Error).message}`,
        },
        raw: text.slice(0, 200),
      };
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Makes the length-prefixed codec (`--codec length-prefixed`). Like line
 * JSON it has no NACK: a `{"type":"nack"}` frame encodes to `undefined`.
 *
 * @example Usage
 * ```ts
 * import { lengthPrefixedCodec } from "./length_prefixed_codec.ts";
 * const bytes = lengthPrefixedCodec().encode({ type: "ack", id: "r1" });
 * ```
 */
export function lengthPrefixedCodec(options: CodecOptions = {}): Codec {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  return {
    name: "length-prefixed",
    decoder: () => new LengthPrefixedDecoder(max),
    encode(frame: Frame): Uint8Array | undefined {
      if (frame.type === "nack") return undefined;
      const body = encoder.encode(JSON.stringify(frame));
      const out = new Uint8Array(HEADER + body.length);
      new DataView(out.buffer).setUint32(0, body.length);
      out.set(body, HEADER);
      return out;
    },
  };
}
