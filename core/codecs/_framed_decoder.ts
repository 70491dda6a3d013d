/**
 * The decoder loop of the framed binary codecs (Ruptela, Teltonika,
 * length-prefixed): a step at a time over buffered bytes, and the error step.
 *
 * Private to `core/`: never re-exported.
 *
 * @module
 */
import { ByteBuffer, toHex } from "./_bytes.ts";
import {
  type Decoded,
  type Decoder,
  LARGE_FRAME_BYTES,
  markWireBytes,
} from "./codec.ts";

const EMPTY = new Uint8Array(0);

/**
 * One decoding step: how many buffered bytes it used up (more than are
 * buffered means "skip the rest as it arrives") and what it gave, if anything.
 */
export interface Step {
  /** Bytes used up. */
  consume: number;
  /** The frame or error, if the step gave one. */
  decoded?: Decoded;
}

/**
 * The decoder loop every framed binary codec shares: buffer the chunks, let
 * `step` look at the bytes from the start of a frame, drop what it used up,
 * skip bytes still owed by a frame too long to keep. Subclasses implement
 * `step`, which returns `undefined` when it needs more bytes. A frame of
 * {@linkcode LARGE_FRAME_BYTES} or more is marked with its size on the wire
 * (see {@linkcode markWireBytes}), so the journal keeps it at its cost.
 */
export abstract class FramedDecoder implements Decoder {
  #buffer = new ByteBuffer();
  #skip = 0;
  #unit: string;

  /** `unit` names a frame of the protocol in the `truncated` error. */
  constructor(unit = "packet") {
    this.#unit = unit;
  }

  /** How many bytes are buffered. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Looks at the bytes from the start of a frame: one step, or `undefined`. */
  protected abstract step(bytes: Uint8Array): Step | undefined;

  /** Adds a chunk and runs `step` until it needs more bytes. */
  push(chunk: Uint8Array): Decoded[] {
    if (this.#skip > 0) {
      const skipped = Math.min(this.#skip, chunk.length);
      this.#skip -= skipped;
      chunk = chunk.subarray(skipped);
    }
    const buffer = this.#buffer;
    // No copy while nothing is buffered: the chunk is read in place.
    let bytes = buffer.length === 0
      ? chunk
      : (buffer.append(chunk), buffer.view());
    let used = 0;
    const out: Decoded[] = [];
    while (bytes.length > 0) {
      const step = this.step(bytes);
      if (!step) break;
      const decoded = step.decoded;
      if (decoded) {
        if (decoded.frame && step.consume >= LARGE_FRAME_BYTES) {
          markWireBytes(decoded.frame, step.consume);
        }
        out.push(decoded);
      }
      if (step.consume >= bytes.length) {
        this.#skip = step.consume - bytes.length;
        used += bytes.length;
        bytes = EMPTY;
      } else {
        used += step.consume;
        bytes = bytes.subarray(step.consume);
      }
    }
    if (buffer.length === 0) buffer.append(bytes);
    else buffer.consume(used);
    return out;
  }

  /**
   * Ends the stream: bytes that never became a frame come back as one
   * `truncated` error.
   */
  end(): Decoded[] {
    const pending = this.#buffer.length + this.#skip;
    this.#buffer.clear();
    this.#skip = 0;
    if (pending === 0) return [];
    return [{
      error: {
        code: "truncated",
        message:
          `Cannot decode ${pending} bytes: the stream ended before the end of the ${this.#unit}`,
      },
    }];
  }
}

/** A decoded error step. */
export function failure(
  code: string,
  message: string,
  consume: number,
  bytes?: Uint8Array,
): Step {
  return {
    consume,
    decoded: {
      error: { code, message },
      ...(bytes ? { raw: toHex(bytes.subarray(0, 100)) } : {}),
    },
  };
}
