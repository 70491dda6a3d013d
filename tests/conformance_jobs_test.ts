/**
 * Scenarios run concurrently (`--jobs N`): the scheduler keeps the catalogue
 * order of results, never runs more than N at once nor two that share a
 * resource, and a concurrent run of the whole suite gives the verdicts a
 * serial one gives (all pass for the reference clients).
 */
import assert from "node:assert/strict";
import { inProcessClient, processClient } from "../conformance/client.ts";
import { referenceClients } from "../conformance/reference.ts";
import {
  type ConformanceResult,
  runConformance,
} from "../conformance/runner.ts";
import type { Scenario } from "../conformance/scenario.ts";
import { defaultJobs, schedule } from "../conformance/schedule.ts";
import { runScript } from "./_cli.ts";

/** A promise with its resolve function, to finish work items by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => resolve = done);
  return { promise, resolve };
}

/** Lets every pending promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("schedule runs at most `jobs` items at once and returns results in the items' order", async () => {
  const gates = Array.from({ length: 5 }, deferred);
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const run = schedule([0, 1, 2, 3, 4], { jobs: 2 }, async (item) => {
    started.push(item);
    most = Math.max(most, ++running);
    await gates[item].promise;
    running--;
    return `r${item}`;
  });
  await settle();
  assert.deepEqual(started, [0, 1]);
  gates[1].resolve();
  await settle();
  assert.deepEqual(started, [0, 1, 2]);
  for (const gate of [gates[2], gates[0], gates[4], gates[3]]) {
    gate.resolve();
    await settle();
  }
  assert.deepEqual(await run, ["r0", "r1", "r2", "r3", "r4"]);
  assert.equal(most, 2);
});

Deno.test("schedule never overlaps two items that share a resource, and starts others meanwhile", async () => {
  const gates = Array.from({ length: 3 }, deferred);
  const started: string[] = [];
  const items = [
    { name: "a", shares: ["port 7777"] },
    { name: "b", shares: ["port 7777"] },
    { name: "c", shares: [] },
  ];
  const run = schedule(items, { jobs: 3, shares: (item) => item.shares }, (
    item,
    index,
  ) => {
    started.push(item.name);
    return gates[index].promise.then(() => item.name);
  });
  await settle();
  assert.deepEqual(started, ["a", "c"]);
  gates[2].resolve();
  await settle();
  assert.deepEqual(started, ["a", "c"]);
  gates[0].resolve();
  await settle();
  assert.deepEqual(started, ["a", "c", "b"]);
  gates[1].resolve();
  assert.deepEqual(await run, ["a", "b", "c"]);
});

Deno.test("schedule rejects with the first error after the items it started end, and starts no more", async () => {
  const gate = deferred();
  const started: number[] = [];
  const run = schedule([0, 1, 2], { jobs: 2 }, async (item) => {
    started.push(item);
    if (item === 0) throw new Error("item 0 broke");
    await gate.promise;
    return item;
  });
  let rejected = false;
  run.catch(() => rejected = true);
  await settle();
  assert.equal(rejected, false, "waits for item 1 to end");
  gate.resolve();
  await assert.rejects(run, /item 0 broke/);
  assert.deepEqual(started, [0, 1]);
  await assert.rejects(
    schedule([1], { jobs: 0 }, () => Promise.resolve(1)),
    /Cannot run with 0 jobs: expected a whole number of at least 1/,
  );
});

Deno.test("defaultJobs gives two per core in process, one for process clients, and the runner picks by client", async () => {
  const cores = navigator.hardwareConcurrency;
  assert.equal(defaultJobs(), cores * 2);
  assert.equal(defaultJobs({ processes: true }), 1);
  // No scenario: each resolves at once as not observable, so this is fast.
  const inProcess = await runConformance({
    suite: "agent",
    client: inProcessClient("none", () => {
      throw new Error("never started");
    }),
    seed: 1,
    scenarios: [],
  });
  assert.equal(inProcess.jobs, cores * 2);
  const asProcess = await runConformance({
    suite: "agent",
    client: processClient("true"),
    seed: 1,
    scenarios: [],
  });
  assert.equal(asProcess.jobs, 1);
});

Deno.test("runConformance runs scenarios that share a resource one at a time, others alongside", async () => {
  const log: string[] = [];
  const scenario = (id: string, shares: string[]): Scenario => ({
    id,
    shares,
    async run(ctx) {
      log.push(`start ${id}`);
      await ctx.observe(20);
      log.push(`end ${id}`);
      return ctx.pass(`${id} ran`);
    },
  });
  const result = await runConformance({
    suite: "agent",
    client: processClient("true"),
    seed: 1,
    jobs: 4,
    only: ["QA-1", "QA-2", "QA-3"],
    scenarios: [
      scenario("QA-1", ["store"]),
      scenario("QA-2", ["store"]),
      scenario("QA-3", []),
    ],
  });
  assert.deepEqual(result.results.map((r) => [r.id, r.status]), [
    ["QA-1", "pass"],
    ["QA-2", "pass"],
    ["QA-3", "pass"],
  ]);
  const at = (entry: string) => log.indexOf(entry);
  // QA-3 shares nothing: it starts while QA-1 runs. QA-2 waits for QA-1.
  assert.ok(at("start QA-3") < at("end QA-1"), log.join(", "));
  assert.ok(at("end QA-1") < at("start QA-2"), log.join(", "));
});

/** Each verdict by ID (summaries name ports and milliseconds: left out). */
function verdicts(result: ConformanceResult): string[] {
  return result.results.map((r) => `${r.status} ${r.id}`);
}

Deno.test("the whole suite run concurrently gives the verdicts a serial run gives", async () => {
  // Serially, the reference clients pass all 33: the suites' own tests run
  // them as processes, one scenario at a time (jobs 1, the default for
  // process clients). Concurrently they must too. That the scenarios
  // overlap is shown by the scheduler tests above, not by a clock.
  const jobs = Math.max(4, defaultJobs());
  const concurrent = await runConformance({
    suite: "all",
    clients: referenceClients(),
    seed: 11,
    timing: { ackTimeoutMs: 400, reconnectDelayMs: 100, connectTimeoutMs: 500 },
    jobs,
  });
  assert.equal(concurrent.jobs, jobs);
  assert.equal(concurrent.results.length, 33);
  assert.deepEqual(
    verdicts(concurrent),
    concurrent.results.map((r) => `pass ${r.id}`),
  );
});

Deno.test("conformance CLI: --jobs must be a whole number of at least 1", async () => {
  const { code, stderr } = await runScript("conformance/runner.ts", [
    "--suite",
    "agent",
    "--reference",
    "--jobs",
    "0",
  ]);
  assert.equal(code, 3, stderr);
  assert.match(stderr, /--jobs/);
});
