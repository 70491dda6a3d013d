import assert from "node:assert/strict";
import { SUITE_NAMES, type SuiteName } from "../conformance/catalogue.ts";
import { htmlReport } from "../conformance/report_html.ts";
import type { ConformanceResult } from "../conformance/runner.ts";
import { DEFAULT_TIMING } from "../conformance/scenario.ts";
import { SUITE_TIMING } from "../conformance/suites/suite_timing.ts";

function result(suite: SuiteName | "all"): ConformanceResult {
  return {
    suite,
    client: "test",
    seed: 1,
    codec: "line-json",
    timing: DEFAULT_TIMING,
    startedAt: new Date(0).toISOString(),
    durationMs: 0,
    results: [],
    counts: { pass: 0, fail: 0, not_observable: 0 },
    exitCode: 0,
  };
}

function timingLine(suite: SuiteName | "all"): Record<string, number> {
  const match = /Timing assumed: <code>([^<]*)<\/code>/.exec(
    htmlReport(result(suite)),
  );
  assert.ok(match, "the report has a Timing assumed line");
  return JSON.parse(match[1].replaceAll("&quot;", '"'));
}

Deno.test("the HTML report's Timing assumed line lists only the settings that apply to the suite", () => {
  assert.deepEqual(timingLine("dual-channel"), {
    watchdogPeriodMs: 100,
    watchdogTimeoutMs: 400,
    retryMs: 200,
    connectTimeoutMs: 500,
  });
  assert.deepEqual(Object.keys(timingLine("agent")).sort(), [
    "ackTimeoutMs",
    "connectTimeoutMs",
    "failoverDelayMs",
    "failoverRetries",
  ]);
  assert.equal(
    Object.keys(timingLine("two-servers")).includes("retryMs"),
    false,
  );
  assert.deepEqual(timingLine("all"), { ...DEFAULT_TIMING });
});

Deno.test("every suite names the timing settings its checks assume, each a real setting", () => {
  assert.deepEqual(
    Object.keys(SUITE_TIMING).sort(),
    SUITE_NAMES.filter((name) => name !== "all").sort(),
  );
  for (const keys of Object.values(SUITE_TIMING)) {
    for (const key of keys) assert.ok(key in DEFAULT_TIMING, key);
  }
});
