/**
 * The codec interface: bytes to frames and frames to bytes, statefully,
 * across partial reads.
 *
 * @module
 */
import type { Frame, FrameError } from "./frame.ts";

/**
 * One result of decoding: a frame, or an error for bytes that were not one.
 *
 * A device protocol may owe an answer of its own to a frame, whatever the
 * server: a Teltonika login is answered `01`, a Ruptela heartbeat `116 01`.
 * The decoder says so with `reply`, which the connection sends (in order,
 * through the `blackHole` fault, and a `login_ack` through `rejectLogin`)
 * before the server's handler runs. `handled: true` means that reply is the
 * whole answer: the frame is journalled but the server's handler never sees
 * it (keep-alives, which no server's frame schema knows).
 */
export type Decoded =
  | {
    frame: Frame;
    reply?: Frame;
    handled?: boolean;
    error?: undefined;
    raw?: undefined;
  }
  | { frame?: undefined; error: FrameError; raw?: string };

/**
 * Which side of a connection a codec works for. A `server` decodes what
 * devices send and encodes replies; a `client` (a device, a reference
 * tracker) encodes what devices send and decodes replies. Codecs whose two
 * directions look alike (line JSON, length-prefixed) ignore it.
 */
export type CodecRole = "server" | "client";

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
  /**
   * For text codecs: the frame as text, so a connection can encode many
   * replies with one call (TextEncoder's per-call cost dominates otherwise).
   */
  encodeText?(frame: Frame): string | undefined;
}

/** Options that every codec takes. */
export interface CodecOptions {
  /** The largest frame accepted, in bytes (default 65536). */
  maxFrameBytes?: number;
  /** Which side of the connection the codec works for (default `server`). */
  role?: CodecRole;
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
