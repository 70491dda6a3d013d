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

/** A string of 1 to 256 characters: a name (device, client, agent) or an id. */
const text = z.string().min(1).max(256);
/** The id of a record, a data frame, a message: text. */
const id = text;
/** What a frame carries for the application, passed on untouched. */
const payload = z.unknown().optional();

/**
 * The schema of one frame: its `type`, then its own fields; unknown extra
 * fields are kept.
 */
function frameSchema<T extends string, S extends z.ZodRawShape>(
  type: T,
  shape: S,
): z.ZodObject<{ type: z.ZodLiteral<T> } & S, z.core.$loose> {
  return z.looseObject({ type: z.literal(type), ...shape });
}

/** The packet kinds other than records (telematics). */
export const PACKET_KINDS = [
  "transparent",
  "tachograph",
  "sdcard",
  "garmin",
] as const;

/**
 * Any frame a telematics device sends: an optional first `hello` naming the
 * device, then records and packets of the other kinds.
 */
export const TelematicsFrameSchema = z.discriminatedUnion("type", [
  frameSchema("hello", { device: text.optional() }),
  frameSchema("record", { id, data: payload }),
  frameSchema("packet", { kind: z.enum(PACKET_KINDS), id, data: payload }),
]);
/** A frame a telematics device sends. */
export type TelematicsFrame = z.infer<typeof TelematicsFrameSchema>;

/**
 * Any frame a dual-channel client sends: an optional first `hello` on a
 * channel, watchdogs (echoed back unchanged) and application data (ACKed).
 */
export const DualChannelFrameSchema = z.discriminatedUnion("type", [
  frameSchema("hello", {
    client: text.optional(),
    channel: z.enum(["A", "B"]).optional(),
  }),
  frameSchema("watchdog", { seq: z.number().int().min(0) }),
  frameSchema("data", { id, data: payload }),
]);
/** A frame a dual-channel client sends. */
export type DualChannelFrame = z.infer<typeof DualChannelFrameSchema>;

/**
 * Any frame a messaging agent sends: its first line (`hello`), messages it
 * sends, its ACKs of delivered messages, and `sync` (deliver whatever waits).
 */
export const AgentFrameSchema = z.discriminatedUnion("type", [
  frameSchema("hello", { agent: text, primary: text.optional() }),
  frameSchema("send", { id, to: text, body: payload }),
  frameSchema("ack", { id }),
  frameSchema("sync", {}),
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
