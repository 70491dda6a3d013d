/**
 * The line-JSON codec of wire protocol v1: one JSON object per line, UTF-8,
 * `\n`-terminated.
 *
 * @module
 */
import { ByteBuffer } from "./_bytes.ts";
import {
  type Codec,
  codecLimits,
  type CodecOptions,
  type Decoded,
  type Decoder,
  frameJson,
  invalidUtf8,
  parseJsonFrame,
} from "./codec.ts";
import type { Frame } from "./frame.ts";
import { decodeUtf8, encodeUtf8 } from "./utf8.ts";

const NEWLINE = 0x0a;
const INVALID_UTF8: Decoded = invalidUtf8("line");

class LineJsonDecoder implements Decoder {
  #max: number;
  #maxDepth: number;
  #buffer = new ByteBuffer();
  #discarding = false;

  constructor(max: number, maxDepth: number) {
    this.#max = max;
    this.#maxDepth = maxDepth;
  }

  get pending(): number {
    return this.#buffer.length;
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
    // A chunk that ends a line (the usual case) is used as it is: a view
    // costs an object (a `Buffer`, from a socket) per call.
    const whole = last === chunk.length - 1;
    const head = whole ? chunk : chunk.subarray(0, last + 1);
    if (this.#buffer.length === 0) this.#lines(head, skipFirst, out);
    else {
      this.#buffer.append(head);
      this.#lines(this.#buffer.view(), skipFirst, out);
      this.#buffer.clear();
    }
    if (!whole) this.#keep(chunk.subarray(last + 1), out);
    return out;
  }

  end(): Decoded[] {
    const pending = this.#buffer.length;
    this.#buffer.clear();
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

  /**
   * Buffers bytes that end no line (one growing array, not one per chunk:
   * a line sent a byte at a time costs a byte per byte), reporting a line
   * over the limit once.
   */
  #keep(piece: Uint8Array, out: Decoded[]): void {
    if (piece.length === 0 || this.#discarding) return;
    if (this.#buffer.length + piece.length > this.#max) {
      out.push(this.#tooLong());
      this.#buffer.clear();
      this.#discarding = true;
      return;
    }
    this.#buffer.append(piece);
  }

  /**
   * Decodes a region of whole lines: one UTF-8 decode for the region (the
   * per-call cost dominates otherwise), per line only when the region holds
   * invalid UTF-8, so the error names just the bad lines.
   */
  #lines(region: Uint8Array, skipFirst: boolean, out: Decoded[]): void {
    const text = decodeUtf8(region);
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
          line ??= decodeUtf8(region.subarray(byteStart, byteEnd));
          const decoded = line === undefined
            ? INVALID_UTF8
            : this.#parse(line, length);
          if (decoded) out.push(decoded);
        }
      }
      first = false;
      byteStart = byteEnd + 1;
    }
  }

  #parse(line: string, bytes: number): Decoded | undefined {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.length === 0) return undefined;
    return parseJsonFrame(line, {
      unit: "line",
      maxDepth: this.#maxDepth,
      bytes: bytes + 1,
    });
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
}

/**
 * The line of an ACK made of exactly `type` and a string `id`, in that
 * order (the reply to every record), without serializing an object; other
 * frames `undefined`. The same text as `JSON.stringify(frame) + "\n"`.
 */
function ackText(frame: Frame): string | undefined {
  if (
    frame.type !== "ack" || typeof frame.id !== "string" || "toJSON" in frame
  ) return undefined;
  let keys = 0;
  for (const key in frame) {
    if (!(keys === 0 ? key === "type" : keys === 1 && key === "id")) {
      return undefined;
    }
    keys++;
  }
  return keys === 2
    ? `{"type":"ack","id":${JSON.stringify(frame.id)}}\n`
    : undefined;
}

/**
 * A frame's line: the same text as `JSON.stringify(frame) + "\n"` (an ACK
 * through {@linkcode ackText}), or `undefined` for a NACK (see
 * {@linkcode frameJson}).
 */
function lineText(frame: Frame): string | undefined {
  const ack = ackText(frame);
  if (ack !== undefined) return ack;
  const json = frameJson(frame);
  return json === undefined ? undefined : json + "\n";
}

/** A frame's line as bytes, or `undefined` for a NACK. */
function lineBytes(frame: Frame): Uint8Array | undefined {
  const text = lineText(frame);
  return text === undefined ? undefined : encodeUtf8(text);
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
  const { maxFrameBytes: max, maxDepth } = codecLimits(options);
  return {
    name: "line-json",
    decoder: () => new LineJsonDecoder(max, maxDepth),
    encode: lineBytes,
    encodeText: lineText,
  };
}
