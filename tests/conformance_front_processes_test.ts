/**
 * The agent suite's fronts in processes of their own
 * (`conformance/front_processes.ts`) when the scenario is aborted while they
 * start: the start gives up at once, saying why, no front process is left,
 * and the scratch database is dropped. The fronts are stand-ins
 * (`_stand_in.ts`). Needs PostgreSQL (FT_POSTGRES_URL from
 * `.ci/postgres.sh`); skipped without it, except in CI, where that fails.
 */
import assert from "node:assert/strict";
import { startFrontProcesses } from "../conformance/front_processes.ts";
import {
  NO_POSTGRES,
  POSTGRES_URL,
  query,
  requirePostgres,
} from "./_postgres.ts";
import { within } from "./_raw_peer.ts";
import { standIn, type StandInProcess } from "./_stand_in.ts";

requirePostgres("conformance_front_processes_test.ts");

/** How long the stand-in fronts may take to start on a busy machine. */
const START_MS = 30_000;
/** How soon the start must give up once aborted. */
const SETTLE_MS = 5_000;
const REASON = "Scenario ran out of time (5 ms)";

/**
 * Starts fronts ml1 and ml2 as stand-ins, of which `announce` announce
 * themselves; once `ready` says the start has got as far as the test wants,
 * aborts it, and asserts that it rejects within {@linkcode SETTLE_MS},
 * saying why, that both processes have ended and that no scratch database
 * of this process is left.
 */
async function assertAbortEndsStart(
  announce: string[],
  ready: (fronts: StandInProcess[], signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const fronts = await standIn({ announce });
  const controller = new AbortController();
  const starting = startFrontProcesses({
    store: POSTGRES_URL!,
    seed: 1,
    fronts: [{ name: "ml1" }, { name: "ml2" }],
    script: fronts.script,
    signal: controller.signal,
  });
  try {
    const started = AbortSignal.timeout(START_MS);
    const running = [await fronts.next(started), await fronts.next(started)];
    assert.deepEqual(running.map((p) => p.name).sort(), ["ml1", "ml2"]);
    await ready(running, started);
    controller.abort(new Error(REASON));
    const settled = AbortSignal.timeout(SETTLE_MS);
    await assert.rejects(within(starting, settled), (error: Error) => {
      assert.equal(
        error.message,
        `Cannot start the front processes ml1, ml2: ${REASON}`,
      );
      return true;
    });
    for (const front of running) await within(front.ended, settled);
    const left = await query(
      POSTGRES_URL!,
      `SELECT datname FROM pg_database WHERE datname LIKE 'ft_conformance_${Deno.pid}_%'`,
    );
    assert.deepEqual(left, []);
  } finally {
    // On a failure, let the stand-ins go so that the start ends.
    await fronts[Symbol.asyncDispose]();
    await starting.catch(() => {});
  }
}

Deno.test({
  name:
    "startFrontProcesses, aborted while a front never announces itself, rejects at once and stops the front up and the one starting",
  ignore: NO_POSTGRES,
  fn: () => assertAbortEndsStart(["ml1"], () => Promise.resolve()),
});

Deno.test({
  name:
    "startFrontProcesses, aborted while it waits for the fronts' events, rejects at once and stops every front",
  ignore: NO_POSTGRES,
  fn: () =>
    assertAbortEndsStart(["ml1", "ml2"], async (running, signal) => {
      for (const front of running) {
        assert.equal(await front.line(signal), "events");
      }
    }),
});
