/**
 * The telematics frame handler the servers share (primary, secondary,
 * flapping): validate a frame of wire protocol v1, tag the device from its
 * hello, and ACK records (and packets) through the ACK faults.
 *
 * Private to `servers/`: never re-exported.
 *
 * @module
 */
import type { Connection } from "../core/connection.ts";
import type { Frame } from "../core/frame.ts";
import {
  parseFrame,
  type TelematicsFrame,
  TelematicsFrameSchema,
} from "../core/protocol.ts";

/** Options for {@linkcode handleTelematicsFrame}. */
export interface TelematicsHandlerOptions {
  /** ACK records (default true). */
  ack?: boolean;
  /** ACK packets of other kinds too, not only records (default true). */
  ackPackets?: boolean;
}

/**
 * Handles one telematics frame as the primary does: a frame that fails the
 * schema is rejected (`bad_input`, error frame back, connection stays open);
 * a hello tags the connection with its device; a record (and, unless
 * `ackPackets` is false, a packet) is ACKed through the ACK faults unless
 * `ack` is false. Returns the parsed frame, or `undefined` when rejected.
 */
export function handleTelematicsFrame(
  frame: Frame,
  connection: Connection,
  options: TelematicsHandlerOptions = {},
): TelematicsFrame | undefined {
  const parsed = parseFrame(TelematicsFrameSchema, frame);
  if (parsed.error) {
    connection.reject(parsed.error);
    return undefined;
  }
  const message = parsed.frame;
  if (message.type === "hello") {
    if (message.device) connection.tags.device = message.device;
    return message;
  }
  if (options.ack === false) return message;
  if (message.type === "packet" && options.ackPackets === false) {
    return message;
  }
  connection.sendAck({ type: "ack", id: message.id }, message.id);
  return message;
}
