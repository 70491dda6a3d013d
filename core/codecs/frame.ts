/**
 * Frames: one decoded message, whatever the codec that carried it.
 *
 * @module
 */

/**
 * One decoded message, such as `{ type: "record", id: "r1", data: {} }`.
 * Every frame has a `type`; unknown extra fields are kept.
 */
export interface Frame {
  /** What the frame is: `record`, `ack`, `watchdog`, `error`, ... */
  type: string;
  /** Any other field of the frame. */
  [field: string]: unknown;
}

/** Why some bytes could not be decoded into a frame. */
export interface FrameError {
  /** A stable code such as `invalid_json` or `line_too_long`. */
  code: string;
  /** A sentence for people, saying what was wrong. */
  message: string;
}

/**
 * Builds the error frame a server sends back for bad input:
 * `{"type":"error","code":"...","message":"..."}`.
 *
 * @example Usage
 * ```ts
 * import { errorFrame } from "./frame.ts";
 * errorFrame({ code: "invalid_json", message: "Unexpected token" });
 * ```
 */
export function errorFrame(error: FrameError): Frame {
  return { type: "error", code: error.code, message: error.message };
}

/**
 * The prefix the `corruptAck` fault puts before an ACK's id
 * (`corrupt-r1`). Codecs whose ACKs carry no id corrupt what they do carry
 * when they see it: Ruptela sends a wrong CRC, Teltonika a wrong count.
 */
export const CORRUPT_ID_PREFIX = "corrupt-";
