/**
 * The slicer toxic: every chunk is cut into slices of about `average_size`
 * bytes (± `size_variation`, seeded), each sent `delay` microseconds after
 * the one before.
 *
 * @module
 */
import { TimedQueue } from "./_timed_queue.ts";
import { defineToxic, type ToxicDefinition } from "./toxic.ts";

/** Offsets of the slices of [start, end), halving as Toxiproxy does. */
function cuts(
  start: number,
  end: number,
  average: number,
  variation: number,
  draw: (min: number, max: number) => number,
  into: number[],
): void {
  if (end - start - average <= variation) {
    into.push(end);
    return;
  }
  let mid = start + Math.floor((end - start) / 2);
  if (variation > 0) {
    mid += Math.floor(draw(0, variation * 2)) - variation;
  }
  mid = Math.min(end - 1, Math.max(start + 1, mid));
  cuts(start, mid, average, variation, draw, into);
  cuts(mid, end, average, variation, draw, into);
}

/** Toxiproxy's `slicer`: cut chunks into small slices, with a delay between. */
export const slicerToxic: ToxicDefinition = defineToxic({
  kind: "slicer",
  summary:
    "Cuts chunks into slices of average_size ± size_variation bytes, delay microseconds apart",
  attributes: [
    {
      name: "average_size",
      unit: "bytes",
      max: 1 << 30,
      description: "Average slice size",
    },
    {
      name: "size_variation",
      unit: "bytes",
      max: 1 << 30,
      description:
        "Plus or minus up to this much, seeded (less than average_size)",
    },
    {
      name: "delay",
      unit: "µs",
      max: 3_600_000_000,
      description: "Delay between slices",
    },
  ],
  step(rule, tools, { conn, next }) {
    const queue = new TimedQueue(next);
    const draw = (min: number, max: number) => tools.draw(conn, min, max);
    return queue.step((chunk) => {
      const a = rule;
      const ends: number[] = [];
      cuts(0, chunk.length, a.average_size, a.size_variation, draw, ends);
      const step = a.delay / 1000;
      let due = Math.max(performance.now(), queue.lastDue);
      let from = 0;
      for (const end of ends) {
        queue.push(due, chunk.subarray(from, end));
        from = end;
        due += step;
      }
    });
  },
});
