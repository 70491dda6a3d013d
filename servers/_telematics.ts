/**
 * The telematics frame handling the servers share (primary, and the
 * flapping server as one; secondary): validate a frame of wire protocol v1, tag the device from its
 * hello, and give the ACK of records (and packets) as the handler's reply.
 *
 * Private to `servers/`: never re-exported.
 *
 * @module
 */
import type { Connection } from "../core/server/connection.ts";
import type { Frame } from "../core/codecs/frame.ts";
import {
  parseFrame,
  type TelematicsFrame,
  TelematicsFrameSchema,
} from "../core/codecs/protocol.ts";

/** Options for {@linkcode telematicsReply}. */
export interface TelematicsHandlerOptions {
  /** ACK records (default true). */
  ack?: boolean;
  /** ACK packets of other kinds too, not only records (default true). */
  ackPackets?: boolean;
}

/**
 * Checks one telematics frame as the primary does: a frame that fails the
 * schema is rejected (`bad_input`, error frame back, connection stays open);
 * a hello tags the connection with its device. Returns the parsed frame, or
 * `undefined` when rejected.
 */
export function checkTelematicsFrame(
  frame: Frame,
  connection: Connection,
): TelematicsFrame | undefined {
  const parsed = parseFrame(TelematicsFrameSchema, frame);
  if (parsed.error) {
    connection.reject(parsed.error);
    return undefined;
  }
  const message = parsed.frame;
  if (message.type === "hello" && message.device) {
    connection.tags.device = message.device;
  }
  return message;
}

/**
 * The reply a telematics frame gets: an ACK for a record (and, unless
 * `ackPackets` is false, a packet) unless `ack` is false. The connection
 * sends it through the reply stage (the ACK faults).
 */
export function telematicsReply(
  message: TelematicsFrame | undefined,
  options: TelematicsHandlerOptions = {},
): Frame | undefined {
  if (!message || message.type === "hello" || options.ack === false) {
    return undefined;
  }
  if (message.type === "packet" && options.ackPackets === false) {
    return undefined;
  }
  return { type: "ack", id: message.id };
}

/**
 * Handles one telematics frame as the primary does: checks it (see
 * {@linkcode checkTelematicsFrame}) and returns its reply (see
 * {@linkcode telematicsReply}).
 */
export function answerTelematicsFrame(
  frame: Frame,
  connection: Connection,
  options: TelematicsHandlerOptions = {},
): Frame | undefined {
  return telematicsReply(checkTelematicsFrame(frame, connection), options);
}
