import assert from "node:assert/strict";
import { DelayQueue } from "../core/faults/mod.ts";

function collect<T>(ordered: boolean) {
  const batches: T[][] = [];
  let wake = () => {};
  const queue = new DelayQueue<T>({
    ordered,
    deliver: (items) => {
      batches.push(items);
      wake();
    },
  });
  const delivered = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const signal = AbortSignal.timeout(5000);
      signal.addEventListener("abort", () => reject(signal.reason));
      const check = () => {
        if (batches.flat().length >= count) resolve();
      };
      wake = check;
      check();
    });
  return { queue, batches, delivered };
}

Deno.test("DelayQueue delivers by due time, items due together in one call", async () => {
  const { queue, batches, delivered } = collect<string>(false);
  const now = performance.now();
  queue.push(now + 20, "late");
  queue.push(now + 5, "early");
  queue.push(now + 5, "early too");
  await delivered(3);
  // Timers may fire late on a busy machine, so "late" can join the first
  // batch; what holds whatever the timing: due order, and the two items due
  // together leave in one call.
  assert.deepEqual(batches.flat(), ["early", "early too", "late"]);
  assert.deepEqual(batches[0].slice(0, 2), ["early", "early too"]);
  assert.equal(queue.size, 0);
});

Deno.test("DelayQueue in order mode never lets a chunk overtake an earlier one (a byte stream)", async () => {
  const { queue, batches, delivered } = collect<number>(true);
  const now = performance.now();
  queue.push(now + 20, 1);
  queue.push(now + 1, 2);
  assert.equal(queue.lastDue, now + 20);
  await delivered(2);
  assert.deepEqual(batches.flat(), [1, 2]);
});

Deno.test("DelayQueue.clear hands back what waits and stops the timer", () => {
  const { queue, batches } = collect<number>(true);
  queue.push(performance.now() + 1000, 1);
  queue.push(performance.now() + 1000, 2);
  assert.deepEqual(queue.clear(), [1, 2]);
  assert.deepEqual(batches, []);
});

Deno.test("DelayQueue.removeWhere takes out the items picked, and stops the timer once none waits", () => {
  const { queue, batches } = collect<string>(false);
  const now = performance.now();
  queue.push(now + 10_000, "a1");
  queue.push(now + 20_000, "b1");
  queue.push(now + 30_000, "a2");
  assert.deepEqual(queue.removeWhere((item) => item.startsWith("a")), [
    "a1",
    "a2",
  ]);
  assert.equal(queue.size, 1);
  assert.deepEqual(queue.removeWhere((item) => item === "b1"), ["b1"]);
  assert.equal(queue.size, 0);
  assert.deepEqual(batches, []);
  // A timer left armed fails this test (the sanitizer counts it).
});

/** Items due at `start + first + i * step` (i < count), each its own due time as its value. */
function pushSpaced(
  queue: DelayQueue<number>,
  count: number,
  first: number,
  step: number,
): number[] {
  const start = performance.now();
  const dues = Array.from(
    { length: count },
    (_, i) => start + first + i * step,
  );
  for (const due of dues) queue.push(due, due);
  return dues;
}

Deno.test("DelayQueue never lets an item leave before it is due", async () => {
  const left: { due: number; at: number }[] = [];
  let wake = () => {};
  const queue = new DelayQueue<number>({
    deliver: (dues) => {
      const at = performance.now();
      for (const due of dues) left.push({ due, at });
      wake();
    },
  });
  // Due times a fraction of a millisecond off the whole: Deno's timers cut
  // a fraction off, and a timer cut down fires before its item is due.
  const dues = pushSpaced(queue, 80, 3, 1.37);
  await new Promise<void>((resolve, reject) => {
    const signal = AbortSignal.timeout(5000);
    signal.addEventListener("abort", () => reject(signal.reason));
    wake = () => left.length === dues.length && resolve();
  });
  assert.deepEqual(left.map((entry) => entry.due), dues);
  const early = left.filter(({ due, at }) => at < due);
  assert.deepEqual(
    early.map(({ due, at }) => `${(due - at).toFixed(3)} ms early`),
    [],
  );
});

Deno.test("DelayQueue asks for timers that cover the wait: each one fires with an item due", async () => {
  // The real timers, counted: a timer asked for less than the wait (a
  // fraction cut off) fires with nothing due and costs a second timer.
  const realSetTimeout = globalThis.setTimeout;
  let fired = 0;
  globalThis.setTimeout =
    ((callback: () => void, ms?: number) =>
      realSetTimeout(() => {
        fired++;
        callback();
      }, ms)) as typeof setTimeout;
  const deliveries: number[][] = [];
  let wake = () => {};
  try {
    const queue = new DelayQueue<number>({
      deliver: (dues) => {
        deliveries.push(dues);
        wake();
      },
    });
    const dues = pushSpaced(queue, 30, 2.5, 3.61);
    await new Promise<void>((resolve, reject) => {
      const signal = AbortSignal.timeout(5000);
      signal.addEventListener("abort", () => reject(signal.reason));
      wake = () => deliveries.flat().length === dues.length && resolve();
    });
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.equal(deliveries.flat().length, 30);
  assert.equal(
    fired,
    deliveries.filter((items) => items.length > 0).length,
    "a timer fired with nothing due",
  );
});
