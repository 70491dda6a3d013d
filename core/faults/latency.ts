/**
 * The latency toxic: every chunk is delayed by `latency` ± `jitter`
 * milliseconds (the jitter drawn from the connection's seeded stream), in
 * order: a chunk never overtakes the one before it.
 *
 * @module
 */
import { TimedQueue } from "./_timed_queue.ts";
import { defineToxic, type ToxicDefinition } from "./toxic.ts";

const HOUR_MS = 3_600_000;

/** Toxiproxy's `latency`: delay every chunk by `latency` ± `jitter` ms. */
export const latencyToxic: ToxicDefinition = defineToxic({
  kind: "latency",
  summary: "Delays every chunk by latency ± jitter milliseconds",
  attributes: [
    { name: "latency", unit: "ms", max: HOUR_MS, description: "Delay" },
    {
      name: "jitter",
      unit: "ms",
      max: HOUR_MS,
      description: "Plus or minus up to this much, seeded",
    },
  ],
  step(rule, tools, { conn, next }) {
    const queue = new TimedQueue(next);
    const delay = () => {
      const { latency, jitter } = rule;
      const ms = jitter > 0
        ? latency + Math.floor(tools.draw(conn, -jitter, jitter))
        : latency;
      return Math.max(0, ms);
    };
    return queue.step((chunk) =>
      queue.push(performance.now() + delay(), chunk)
    );
  },
});
