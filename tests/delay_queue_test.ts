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
