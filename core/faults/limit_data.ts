/**
 * The limit_data toxic: passes exactly `bytes` bytes of its direction, then
 * closes the link.
 *
 * @module
 */
import type { ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `limit_data`: close the link after `bytes` bytes. */
export const limitDataToxic: ToxicDefinition = {
  type: "limit_data",
  summary: "Passes exactly bytes bytes, then closes the link",
  toxiproxy: true,
  attributes: [
    {
      name: "bytes",
      unit: "bytes",
      max: Number.MAX_SAFE_INTEGER,
      description: "Bytes to pass before closing",
    },
  ],
  stage({ output, attributes, note }) {
    let passed = 0;
    let done = false;
    return {
      write(chunk) {
        if (done) return;
        const limit = attributes().bytes;
        const room = Math.max(0, limit - passed);
        const part = room < chunk.length ? chunk.subarray(0, room) : chunk;
        if (part.length > 0) {
          passed += part.length;
          output.write(part);
        }
        if (passed >= limit) {
          done = true;
          note("toxic_limit_data", { bytes: passed });
          output.close("fin", "toxic:limit_data");
        }
      },
      end: () => output.end(),
      held: 0,
      flush() {},
      dispose() {},
    };
  },
};
