/**
 * The raw codec: bytes are not decoded at all. Each chunk read becomes one
 * `{"type":"raw","bytes":N,"hex":"..."}` frame that the connection journals
 * (`frame_in`) and counts, and that no server handler sees: so a server put
 * in front of a client speaking a protocol it does not know (MQTT,
 * PostgreSQL, TLS) records what arrives, by bytes, without a stream of
 * `bad_input` events and error frames.
 *
 * @module
 */
import { fromHex, toHex } from "./_bytes.ts";
import type { Codec, CodecOptions, Decoded, Decoder } from "./codec.ts";
import type { Frame } from "./frame.ts";

/** How many bytes of a chunk its frame shows in `hex`. */
export const RAW_PREVIEW_BYTES = 32;

/** What the raw codec's decoder gives for each chunk read. */
export interface RawFrame extends Frame {
  /** Always `raw`. */
  type: "raw";
  /** How many bytes the chunk held. */
  bytes: number;
  /** Its first bytes (up to {@linkcode RAW_PREVIEW_BYTES}), in hex. */
  hex: string;
}

class RawDecoder implements Decoder {
  readonly pending = 0;

  push(chunk: Uint8Array): Decoded[] {
    if (chunk.length === 0) return [];
    const frame: RawFrame = {
      type: "raw",
      bytes: chunk.length,
      hex: toHex(chunk.subarray(0, RAW_PREVIEW_BYTES)),
    };
    return [{ frame, handled: true }];
  }

  end(): Decoded[] {
    return [];
  }
}

/**
 * Makes the raw codec (`--codec raw`). It decodes nothing, so it has no
 * frame limit and never reports bad input, and a server's handler never runs
 * (no ACKs, no errors). It encodes only a `{"type":"raw","hex":"..."}` frame,
 * as those bytes; every other frame encodes to `undefined`. For servers: a
 * client speaks a protocol, so a reference client cannot use it.
 *
 * @example Usage
 * ```ts
 * import { rawCodec } from "./raw_codec.ts";
 * const [decoded] = rawCodec().decoder().push(Uint8Array.of(0x10, 0x0c));
 * // decoded.frame: { type: "raw", bytes: 2, hex: "100c" }
 * ```
 */
export function rawCodec(_options: CodecOptions = {}): Codec {
  return {
    name: "raw",
    decoder: () => new RawDecoder(),
    encode(frame: Frame): Uint8Array | undefined {
      if (frame.type !== "raw" || typeof frame.hex !== "string") {
        return undefined;
      }
      try {
        return fromHex(frame.hex);
      } catch {
        return undefined;
      }
    },
  };
}
