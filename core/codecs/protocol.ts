/**
 * Wire protocol v1: the frames of each group of behaviours, as zod schemas.
 * Unknown extra fields are kept, never rejected.
 *
 * @module
 */
import { z } from "zod";
import type { Frame, FrameError } from "./frame.ts";

/** The version of the wire protocol these schemas describe. */
export const PROTOCOL_VERSION = 1;

const id = z.string().min(1).max(256);

/** The packet kinds other than records (telematics). */
export const PACKET_KINDS = [
  "transparent",
  "tachograph",
  "sdcard",
  "garmin",
] as const;

/** Telematics: a device's optional first line. */
export const DeviceHelloSchema = z.looseObject({
  type: z.literal("hello"),
  device: z.string().min(1).max(256).optional(),
});
/** Telematics: one record. */
export const RecordSchema = z.looseObject({
  type: z.literal("record"),
  id,
  data: z.unknown().optional(),
});
/** Telematics: a packet of another kind. */
export const PacketSchema = z.looseObject({
  type: z.literal("packet"),
  kind: z.enum(PACKET_KINDS),
  id,
  data: z.unknown().optional(),
});
/** Any frame a telematics device sends. */
export const TelematicsFrameSchema = z.discriminatedUnion("type", [
  DeviceHelloSchema,
  RecordSchema,
  PacketSchema,
]);
/** A frame a telematics device sends. */
export type TelematicsFrame = z.infer<typeof TelematicsFrameSchema>;

/** Dual channel: a client's optional first line on a channel. */
export const ChannelHelloSchema = z.looseObject({
  type: z.literal("hello"),
  client: z.string().min(1).max(256).optional(),
  channel: z.enum(["A", "B"]).optional(),
});
/** Dual channel: a watchdog, echoed back unchanged. */
export const WatchdogSchema = z.looseObject({
  type: z.literal("watchdog"),
  seq: z.number().int().min(0),
});
/** Dual channel: application data, ACKed. */
export const DataSchema = z.looseObject({
  type: z.literal("data"),
  id,
  data: z.unknown().optional(),
});
/** Any frame a dual-channel client sends. */
export const DualChannelFrameSchema = z.discriminatedUnion("type", [
  ChannelHelloSchema,
  WatchdogSchema,
  DataSchema,
]);
/** A frame a dual-channel client sends. */
export type DualChannelFrame = z.infer<typeof DualChannelFrameSchema>;

/** Messaging: an agent's first line. */
export const AgentHelloSchema = z.looseObject({
  type: z.literal("hello"),
  agent: z.string().min(1).max(256),
  primary: z.string().min(1).max(256).optional(),
});
/** Messaging: a message the agent sends. */
export const SendSchema = z.looseObject({
  type: z.literal("send"),
  id,
  to: z.string().min(1).max(256),
  body: z.unknown().optional(),
});
/** Messaging: the agent's ACK of a delivered message. */
export const AgentAckSchema = z.looseObject({
  type: z.literal("ack"),
  id,
});
/** Messaging: deliver whatever waits. */
export const SyncSchema = z.looseObject({ type: z.literal("sync") });
/** Any frame a messaging agent sends. */
export const AgentFrameSchema = z.discriminatedUnion("type", [
  AgentHelloSchema,
  SendSchema,
  AgentAckSchema,
  SyncSchema,
]);
/** A frame a messaging agent sends. */
export type AgentFrame = z.infer<typeof AgentFrameSchema>;

/** Whether a value is an id the schemas accept: a string of 1 to 256 characters. */
function isId(value: unknown): boolean {
  return typeof value === "string" && value.length >= 1 && value.length <= 256;
}

/**
 * The frames of each schema that carry traffic (a record, a data frame), in
 * the shape the schema surely accepts, checked by hand: on the hot path, the
 * general schema costs about a tenth of the primary's CPU per record
 * (docs/performance.md). Whatever this does not accept goes through the
 * schema, so errors read the same.
 */
const FAST_PATHS = new Map<z.ZodType, (frame: Frame) => boolean>([
  [TelematicsFrameSchema, (frame) => frame.type === "record" && isId(frame.id)],
  [DualChannelFrameSchema, (frame) => frame.type === "data" && isId(frame.id)],
]);

/**
 * Checks a frame against a schema. Returns the typed frame, or the error to
 * send back (`unknown_type` or `invalid_frame`, naming the field and why).
 *
 * @example Usage
 * ```ts
 * import { parseFrame, TelematicsFrameSchema } from "./protocol.ts";
 * parseFrame(TelematicsFrameSchema, { type: "record", id: "r1" });
 * ```
 */
export function parseFrame<T>(
  schema: z.ZodType<T>,
  frame: Frame,
): { frame: T; error?: undefined } | { frame?: undefined; error: FrameError } {
  if (FAST_PATHS.get(schema)?.(frame)) return { frame: frame as T };
  const result = schema.safeParse(frame);
  if (result.success) return { frame: result.data };
  const issue = result.error.issues[0];
  if (issue.path.length === 1 && issue.path[0] === "type") {
    return {
      error: {
        code: "unknown_type",
        message: `Cannot handle frame of type "${frame.type}" here`,
      },
    };
  }
  return {
    error: {
      code: "invalid_frame",
      message: `Cannot use ${frame.type} frame: ${
        issue.path.join(".") || "frame"
      }: ${issue.message}`,
    },
  };
}
