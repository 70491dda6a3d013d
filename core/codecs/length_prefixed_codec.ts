/**
 * The length-prefixed codec: each frame is a big-endian u32 byte count
 * followed by that many bytes of UTF-8 JSON. The same frames as line JSON, in
 * a binary framing.
 *
 * @module
 */
import { FramedDecoder, type Step } from "./_framed_decoder.ts";
import {
  type Codec,
  codecLimits,
  type CodecOptions,
  type Decoded,
  frameJson,
  invalidUtf8,
  parseJsonFrame,
} from "./codec.ts";
import type { Frame } from "./frame.ts";
import { decodeUtf8, encodeUtf8 } from "./utf8.ts";

/** The length prefix: a big-endian u32 that counts the JSON bytes after it. */
const HEADER = 4;

class LengthPrefixedDecoder extends FramedDecoder {
  #max: number;
  #maxDepth: number;

  constructor(max: number, maxDepth: number) {
    super("frame");
    this.#max = max;
    this.#maxDepth = maxDepth;
  }

  /** Cuts one frame off the front; a frame over the limit is skipped. */
  protected step(bytes: Uint8Array): Step | undefined {
    if (bytes.length < HEADER) return undefined;
    const length = new DataView(bytes.buffer, bytes.byteOffset, HEADER)
      .getUint32(0);
    if (length === 0) {
      return {
        consume: HEADER,
        decoded: {
          error: {
            code: "invalid_frame",
            message: "Cannot decode frame: its length is 0",
          },
        },
      };
    }
    if (length > this.#max) {
      return {
        consume: HEADER + length,
        decoded: {
          error: {
            code: "frame_too_long",
            message:
              `Cannot accept frame of ${length} bytes: longer than the limit of ${this.#max} bytes`,
          },
        },
      };
    }
    if (bytes.length < HEADER + length) return undefined;
    return {
      consume: HEADER + length,
      decoded: this.#decode(bytes.subarray(HEADER, HEADER + length)),
    };
  }

  #decode(bytes: Uint8Array): Decoded {
    const text = decodeUtf8(bytes);
    if (text === undefined) return invalidUtf8("frame");
    return parseJsonFrame(text, {
      unit: "frame",
      maxDepth: this.#maxDepth,
      bytes: bytes.length + HEADER,
    });
  }
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
  const { maxFrameBytes: max, maxDepth } = codecLimits(options);
  return {
    name: "length-prefixed",
    decoder: () => new LengthPrefixedDecoder(max, maxDepth),
    encode(frame: Frame): Uint8Array | undefined {
      const json = frameJson(frame);
      if (json === undefined) return undefined;
      const body = encodeUtf8(json);
      const out = new Uint8Array(HEADER + body.length);
      new DataView(out.buffer).setUint32(0, body.length);
      out.set(body, HEADER);
      return out;
    },
  };
}
