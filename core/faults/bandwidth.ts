/**
 * The bandwidth toxic: bytes pass at `rate` KB/s (1 KB = 1000 bytes, as
 * Toxiproxy counts), in slices of at most 100 ms worth each.
 *
 * @module
 */
import { TimedQueue } from "./_timed_queue.ts";
import { defineToxic, type ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `bandwidth`: limit a direction to `rate` KB/s. */
export const bandwidthToxic: ToxicDefinition = defineToxic({
  kind: "bandwidth",
  summary: "Limits the rate to rate KB/s (0: no limit)",
  attributes: [
    {
      name: "rate",
      unit: "KB/s",
      max: 10_000_000,
      description: "Rate in KB/s (1 KB = 1000 bytes); 0 passes everything",
    },
  ],
  step(rule, _tools, { next }) {
    const queue = new TimedQueue(next);
    return queue.step((chunk) => {
      const rate = rule.rate; // bytes per millisecond
      const now = performance.now();
      if (rate <= 0) return queue.push(now, chunk);
      const slice = rate * 100;
      for (let at = 0; at < chunk.length; at += slice) {
        const part = chunk.subarray(at, at + slice);
        queue.push(Math.max(now, queue.lastDue) + part.length / rate, part);
      }
    });
  },
});
