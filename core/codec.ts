/**
 * The codec interface: bytes to frames and frames to bytes, statefully,
 * across partial reads.
 *
 * @module
 */
import type { Frame, FrameError } from "./frame.ts";

/** One result of decoding: a frame, or an error for bytes that were not one. */
export type Decoded =
  | { frame: Frame; error?: undefined; raw?: undefined }
  | { frame?: undefined; error: FrameError; raw?: string };

/**
 * A stateful decoder for one byte stream (one connection). Feed it chunks as
 * they arrive; it returns whatever complete frames (or errors) they finish.
 */
export interface Decoder {
  /** Decodes a chunk, returning the frames and errors it completes. */
  push(chunk: Uint8Array): Decoded[];
  /**
   * Ends the stream: bytes left over that never became a frame come back as
   * one `truncated` error (a client that vanished mid-frame).
   */
  end(): Decoded[];
  /** How many bytes are buffered, waiting for the rest of a frame. */
  readonly pending: number;
}

/** A wire format: a factory of decoders plus an encoder. */
export interface Codec {
  /** The name used on the command line (`--codec line-json`). */
  readonly name: string;
  /** Makes a decoder for one connection. */
  decoder(): Decoder;
  /**
   * Encodes a frame, or returns `undefined` when this codec has no way to
   * express it (a binary device protocol has no error frame, for one).
   */
  encode(frame: Frame): Uint8Array | undefined;
}

/** Options that every codec takes. */
export interface CodecOptions {
  /** The largest frame accepted, in bytes (default 65536). */
  maxFrameBytes?: number;
}

/** The default largest frame, in bytes: 64 KiB. */
export const DEFAULT_MAX_FRAME_BYTES = 65536;

/** The frame-type check every codec that carries JSON objects shares. */
export function checkFrame(value: unknown): Decoded {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      error: {
        code: "invalid_frame",
        message: "Cannot use frame: expected a JSON object",
      },
    };
  }
  if (typeof (value as { type?: unknown }).type !== "string") {
    return {
      error: {
        code: "invalid_frame",
        message: 'Cannot use frame: expected a string field "type"',
      },
    };
  }
  return { frame: value as Frame };
}
