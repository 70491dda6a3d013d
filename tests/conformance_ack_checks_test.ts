/**
 * The telematics suites' ACK checks, `failUnlessAcked` (TS-7) and
 * `everyAcked` (TS-5, FO-1, FO-3, FO-4): the same judgement of a server's
 * journal, with the same texts, whichever of them a scenario calls.
 */
import assert from "node:assert/strict";
import { Journal } from "../core/journal/journal.ts";
import { behaviour } from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import { DEFAULT_TIMING, ScenarioContext } from "../conformance/scenario.ts";
import { verdictOf } from "../conformance/suites/_checks.ts";
import {
  everyAcked,
  failUnlessAcked,
} from "../conformance/suites/_telematics.ts";

/** A scenario whose IP1 has ACKed `acked`. */
function scenarioWithAcks(acked: string[]): ScenarioContext {
  const ctx = new ScenarioContext(behaviour("TS-7"), processClient("true"), {
    seed: 1,
    timing: DEFAULT_TIMING,
    signal: AbortSignal.timeout(1000),
  });
  const journal = new Journal({ server: "ip1" });
  for (const id of acked) journal.append("ack_sent", { id });
  ctx.use("ip1", { journal, close: () => journal.close() });
  return ctx;
}

const TEXTS = {
  expected: "delivery to IP1 to go on while IP2 is down",
  observed: (missing: string) =>
    `IP1 never ACKed ${missing}: delivery was blocked`,
};
const IDS = ["r1", "r2", "r3", "r4"];

Deno.test("failUnlessAcked fails, naming the ids not ACKed in order, and is undefined once every id is ACKed", () => {
  const evidence = [{ at: 0, source: "ip1", text: "sent ack r1" }];
  const missing = failUnlessAcked(scenarioWithAcks(["r3", "r1"]), "ip1", IDS, {
    ...TEXTS,
    evidence,
  });
  assert.equal(missing?.status, "fail");
  assert.equal(
    missing?.summary,
    "Expected delivery to IP1 to go on while IP2 is down, but IP1 never ACKed r2, r4: delivery was blocked",
  );
  assert.deepEqual(missing?.evidence, evidence);
  assert.equal(
    failUnlessAcked(scenarioWithAcks(IDS), "ip1", IDS, { ...TEXTS, evidence }),
    undefined,
  );
});

Deno.test("everyAcked is the check of failUnlessAcked: the same fail text, or no fail", () => {
  const ctx = scenarioWithAcks(["r3", "r1"]);
  const check = everyAcked(ctx, "ip1", IDS, TEXTS);
  assert.equal(check.failed, true);
  assert.equal(check.expected, TEXTS.expected);
  const verdict = verdictOf(ctx, [], [check], "every record ACKed");
  assert.equal(
    verdict.summary,
    failUnlessAcked(ctx, "ip1", IDS, { ...TEXTS, evidence: [] })?.summary,
  );
  const all = scenarioWithAcks(IDS);
  assert.equal(everyAcked(all, "ip1", IDS, TEXTS).failed, false);
  assert.equal(
    verdictOf(all, [], [everyAcked(all, "ip1", IDS, TEXTS)], "all ACKed")
      .status,
    "pass",
  );
});
