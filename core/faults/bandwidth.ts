/**
 * The bandwidth toxic: bytes pass at `rate` KB/s (1 KB = 1000 bytes, as
 * Toxiproxy counts), in slices of at most 100 ms worth each.
 *
 * @module
 */
import { TimedQueue } from "./_timed_queue.ts";
import type { ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `bandwidth`: limit a direction to `rate` KB/s. */
export const bandwidthToxic: ToxicDefinition = {
  type: "bandwidth",
  summary: "Limits the rate to rate KB/s (0: no limit)",
  toxiproxy: true,
  attributes: [
    {
      name: "rate",
      unit: "KB/s",
      max: 10_000_000,
      description: "Rate in KB/s (1 KB = 1000 bytes); 0 passes everything",
    },
  ],
  stage({ output, attributes }) {
    const queue = new TimedQueue(output);
    return {
      write(chunk) {
        const rate = attributes().rate; // bytes per millisecond
        const now = performance.now();
        if (rate <= 0) return queue.push(now, chunk);
        const slice = rate * 100;
        for (let at = 0; at < chunk.length; at += slice) {
          const part = chunk.subarray(at, at + slice);
          queue.push(Math.max(now, queue.lastDue) + part.length / rate, part);
        }
      },
      end: () => queue.pushEnd(performance.now()),
      get held() {
        return queue.held;
      },
      flush: () => queue.flush(),
      dispose: () => queue.dispose(),
    };
  },
};
