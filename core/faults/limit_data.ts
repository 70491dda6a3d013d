/**
 * The limit_data toxic: passes exactly `bytes` bytes of its direction, then
 * closes the link.
 *
 * @module
 */
import { defineToxic, type ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `limit_data`: close the link after `bytes` bytes. */
export const limitDataToxic: ToxicDefinition = defineToxic({
  kind: "limit_data",
  summary: "Passes exactly bytes bytes, then closes the link",
  attributes: [
    {
      name: "bytes",
      unit: "bytes",
      max: Number.MAX_SAFE_INTEGER,
      description: "Bytes to pass before closing",
    },
  ],
  step(rule, tools, { conn, next }) {
    let passed = 0;
    let done = false;
    return {
      write(chunk) {
        if (done) return;
        const limit = rule.bytes;
        const room = Math.max(0, limit - passed);
        const part = room < chunk.length ? chunk.subarray(0, room) : chunk;
        if (part.length > 0) {
          passed += part.length;
          next.write(part);
        }
        if (passed >= limit) {
          done = true;
          tools.note(conn, "toxic_limit_data", { bytes: passed });
          conn.close("fin", "toxic:limit_data");
        }
      },
      end: () => next.end(),
    };
  },
});
