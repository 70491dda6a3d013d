/**
 * Test helper: proves the conformance checks can fail. Runs each
 * deliberately wrong client (one break each) against the one behaviour it
 * breaks, and asserts the verdict is FAIL for the expected reason.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  behaviour,
  behavioursOf,
  type SuiteName,
} from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import { runConformance } from "../conformance/runner.ts";
import type { Timing } from "../conformance/scenario.ts";

/** What {@linkcode assertWrongClientsFail} checks. */
export interface WrongClients {
  /** Every behaviour of these suites must have at least one break. */
  suites: SuiteName[];
  /** The wrong client's breaks (`TS-4`, `TS-2/resend-after-ack`, ...). */
  breaks: string[];
  /** For each break, what the FAIL's summary must say. */
  expected: Record<string, RegExp>;
  /** The command that runs the wrong client with one break. */
  command(name: string, suite: SuiteName): string;
  /** The client's timing. */
  timing: Partial<Timing>;
  /** The run seed. */
  seed: number;
  /** How many runs at once (default 3). */
  parallel?: number;
}

async function pool<T>(
  items: T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = items.slice();
  await Promise.all(
    Array.from({ length: size }, async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        await work(item);
      }
    }),
  );
}

/** Runs every break and asserts each is marked fail, saying why. */
export async function assertWrongClientsFail(
  check: WrongClients,
): Promise<void> {
  assert.deepEqual(
    Object.keys(check.expected).sort(),
    [...check.breaks].sort(),
  );
  const ids = new Set(check.breaks.map((name) => name.split("/")[0]));
  assert.deepEqual(
    [...ids].sort(),
    check.suites.flatMap((suite) => behavioursOf(suite)).map((b) => b.id)
      .sort(),
    `a wrong client for every behaviour of ${check.suites.join(", ")}`,
  );
  const wrong: string[] = [];
  await pool(check.breaks, check.parallel ?? 3, async (name) => {
    const id = name.split("/")[0];
    const suite = behaviour(id).suite;
    const result = await runConformance({
      suite,
      only: [id],
      client: processClient(check.command(name, suite)),
      seed: check.seed,
      timing: check.timing,
    });
    const [verdict] = result.results;
    if (
      verdict.status !== "fail" || !check.expected[name].test(verdict.summary)
    ) {
      wrong.push(
        `--break ${name}: ${verdict.status.toUpperCase()} ${verdict.id} ${verdict.summary} (expected FAIL matching ${
          check.expected[name]
        })${verdict.stderr ? `\n  stderr: ${verdict.stderr.slice(-400)}` : ""}`,
      );
    } else {
      assert.equal(result.exitCode, 1);
    }
  });
  assert.deepEqual(wrong, [], wrong.join("\n"));
}
