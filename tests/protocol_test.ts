import assert from "node:assert/strict";
import type { Frame } from "../core/codecs/frame.ts";
import {
  AgentFrameSchema,
  DualChannelFrameSchema,
  parseFrame,
  TelematicsFrameSchema,
} from "../core/codecs/protocol.ts";

/** Frames near every edge the schemas draw (ids, types, extra fields). */
const CANDIDATES: Frame[] = [
  { type: "record", id: "r1" },
  { type: "record", id: "r1", data: { lat: 1 }, extra: true },
  { type: "record", id: "" },
  { type: "record", id: "x".repeat(256) },
  { type: "record", id: "x".repeat(257) },
  { type: "record", id: 7 },
  { type: "record" },
  { type: "packet", kind: "garmin", id: "p1" },
  { type: "packet", kind: "fax", id: "p1" },
  { type: "hello", device: "d" },
  { type: "data", id: "d1", data: [1] },
  { type: "data", id: "" },
  { type: "data", id: "x".repeat(257) },
  { type: "watchdog", seq: 3 },
  { type: "watchdog", seq: -1 },
  { type: "send", id: "m1", to: "alice" },
  { type: "nope", id: "r1" },
];

Deno.test("parseFrame's hand-checked records and data frames agree with the schemas on every edge", () => {
  for (
    const schema of [
      TelematicsFrameSchema,
      DualChannelFrameSchema,
      AgentFrameSchema,
    ]
  ) {
    for (const frame of CANDIDATES) {
      const parsed = parseFrame(schema as never, frame);
      const full = schema.safeParse(frame);
      assert.equal(
        parsed.error === undefined,
        full.success,
        `${JSON.stringify(frame).slice(0, 80)}: ${parsed.error?.message}`,
      );
      if (full.success) assert.deepEqual(parsed.frame, full.data);
    }
  }
});
