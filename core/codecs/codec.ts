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
  /**
   * The deepest nesting of arrays and objects a JSON frame may have
   * (default 64); a deeper one is rejected as `too_deep` before it is parsed.
   */
  maxDepth?: number;
  /** Which side of the connection the codec works for (default `server`). */
  role?: CodecRole;
}

/** The default largest frame, in bytes: 64 KiB. */
export const DEFAULT_MAX_FRAME_BYTES = 65536;

/** The default deepest nesting of a JSON frame: 64. */
export const DEFAULT_MAX_DEPTH = 64;

/** A codec's limits: those its options give, else the defaults. */
export function codecLimits(
  options: CodecOptions,
): { maxFrameBytes: number; maxDepth: number } {
  return {
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
  };
}

/**
 * Frames this many bytes long on the wire, or longer, carry their size
 * (see {@linkcode markWireBytes}); smaller ones cost too little to count.
 */
export const LARGE_FRAME_BYTES = 256;

/**
 * The symbol under which a decoded frame of {@linkcode LARGE_FRAME_BYTES}
 * or more carries its size on the wire. Symbol keys stay out of JSON and out
 * of `Object.keys`, so the frame reads and serializes as before.
 */
export const WIRE_BYTES: unique symbol = Symbol("wireBytes");

/** Records a frame's size on the wire (for the journal's accounting). */
export function markWireBytes(frame: Frame, bytes: number): void {
  (frame as Frame & { [WIRE_BYTES]?: number })[WIRE_BYTES] = bytes;
}

/**
 * A frame's size on the wire, when it was {@linkcode LARGE_FRAME_BYTES} or
 * more (smaller frames are not marked: `undefined`).
 */
export function wireBytes(frame: unknown): number | undefined {
  return (frame as { [WIRE_BYTES]?: number } | undefined)?.[WIRE_BYTES];
}

/**
 * Whether JSON text nests arrays and objects deeper than `max`, found by a
 * scan of its brackets outside strings (no parse). Text of `2 * max`
 * characters or fewer cannot, so short frames cost nothing.
 */
export function jsonTooDeep(text: string, max: number): boolean {
  if (text.length <= 2 * max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The `invalid_utf8` error of a unit of JSON text (`line`, `frame`). */
export function invalidUtf8(unit: string): Decoded {
  return {
    error: {
      code: "invalid_utf8",
      message: `Cannot decode ${unit}: it is not valid UTF-8`,
    },
  };
}

/**
 * The JSON text of a frame, for the codecs that carry frames as JSON (line
 * JSON, length-prefixed), or `undefined` for a NACK: wire protocol v1 has
 * none, so nothing is sent (the `nackAck` fault journals `unencodable`).
 */
export function frameJson(frame: Frame): string | undefined {
  return frame.type === "nack" ? undefined : JSON.stringify(frame);
}

const RAW_PREVIEW = 200;

/** Options for {@linkcode parseJsonFrame}. */
export interface ParseJsonFrameOptions {
  /** What the text is, in error messages (`line`, `frame`). */
  unit: string;
  /** The deepest nesting accepted. */
  maxDepth: number;
  /** The frame's size on the wire, in bytes. */
  bytes: number;
}

/**
 * Parses the JSON text of one frame: `too_deep` past the nesting limit,
 * `invalid_json`, `invalid_frame`, or the frame (marked with its size when
 * large). Errors keep the first 200 characters as `raw`.
 */
export function parseJsonFrame(
  text: string,
  options: ParseJsonFrameOptions,
): Decoded {
  if (jsonTooDeep(text, options.maxDepth)) {
    return {
      error: {
        code: "too_deep",
        message:
          `Cannot accept ${options.unit}: it nests deeper than the limit of ${options.maxDepth}`,
      },
      raw: text.slice(0, RAW_PREVIEW),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      error: {
        code: "invalid_json",
        message: `Cannot parse ${options.unit} as JSON: ${
          (error as Error).message
        }`,
      },
      raw: text.slice(0, RAW_PREVIEW),
    };
  }
  const checked = checkFrame(value);
  if (checked.error) return { ...checked, raw: text.slice(0, RAW_PREVIEW) };
  if (options.bytes >= LARGE_FRAME_BYTES) {
    markWireBytes(checked.frame, options.bytes);
  }
  return checked;
}

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
