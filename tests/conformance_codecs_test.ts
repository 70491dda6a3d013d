/**
 * The two-servers and failover suites over device protocols (`--codec
 * ruptela`, `--codec teltonika`): the servers decode the device's packets and
 * name records `<imei>:<timestamp>:<count>`, the scenarios map those ids back
 * to their own, the reference tracker passes (in process and as a process),
 * TS-5 is honestly not observable, and a wrong tracker is still caught.
 */
import assert from "node:assert/strict";
import { behaviour } from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import { referenceClients } from "../conformance/reference.ts";
import {
  type ConformanceResult,
  runConformance,
} from "../conformance/runner.ts";
import { DEFAULT_TIMING, ScenarioContext } from "../conformance/scenario.ts";
import {
  recordData,
  SCENARIO_IMEI,
  scenarioId,
} from "../conformance/suites/_telematics.ts";
import { textReport } from "../conformance/report_text.ts";
import { runScript } from "./_cli.ts";
import {
  DENO,
  ENDPOINTS as TRACKER_ENDPOINTS,
  runReference,
  TIMING_FLAGS,
  verdicts,
} from "./_tracker_suites.ts";

const ENDPOINTS = `${TRACKER_ENDPOINTS} --codec {codec} --device {imei}`;
const CODECS = ["ruptela", "teltonika"] as const;

/** Every check passes but TS-5, which a device codec cannot express. */
function assertPassesOverDeviceCodec(
  result: ConformanceResult,
  codec: string,
): void {
  const statuses = Object.fromEntries(
    result.results.map((r) => [r.id, r.status]),
  );
  const expected = Object.fromEntries(
    result.results.map((r) => [
      r.id,
      r.id === "TS-5" ? "not_observable" : "pass",
    ]),
  );
  assert.deepEqual(statuses, expected, verdicts(result));
  const ts5 = result.results.find((r) => r.id === "TS-5");
  if (ts5) {
    assert.match(
      ts5.summary,
      new RegExp(`the ${codec} codec cannot carry packets of kind`),
    );
  }
  assert.equal(result.codec, codec);
}

Deno.test("recordData gives each id the scenario IMEI and a timestamp of its own, and scenarioId maps the servers' ids back", () => {
  const context = (codec: string) =>
    new ScenarioContext(
      behaviour("TS-1"),
      processClient("true"),
      {
        seed: 1,
        timing: DEFAULT_TIMING,
        signal: AbortSignal.timeout(1000),
        codec,
      },
    );
  const ruptela = context("ruptela");
  const r1 = recordData(ruptela, "r1");
  const r2 = recordData(ruptela, "r2");
  assert.equal(r1.imei, SCENARIO_IMEI);
  assert.notEqual(r1.timestamp, r2.timestamp);
  assert.deepEqual(recordData(ruptela, "r1"), r1, "the same id, the same data");
  assert.equal(scenarioId(ruptela, `${SCENARIO_IMEI}:${r2.timestamp}:1`), "r2");
  assert.equal(
    scenarioId(ruptela, "356307042441013:1:1"),
    "356307042441013:1:1",
  );
  const teltonika = context("teltonika");
  const t1 = recordData(teltonika, "r1");
  assert.equal(t1.timestamp, r1.timestamp * 1000, "milliseconds");
  assert.equal(
    scenarioId(teltonika, `${SCENARIO_IMEI}:${t1.timestamp}:1`),
    "r1",
  );
  assert.equal(
    scenarioId(teltonika, `${SCENARIO_IMEI}:${r1.timestamp}:1`),
    `${SCENARIO_IMEI}:${r1.timestamp}:1`,
    "one scenario's ids are not another's",
  );
  const lineJson = context("line-json");
  recordData(lineJson, "r1");
  assert.equal(scenarioId(lineJson, "r1"), "r1");
});

for (const codec of CODECS) {
  Deno.test(`reference tracker passes the two-servers suite over ${codec} in process (TS-5 not observable)`, async () => {
    const result = await runReference({
      suite: "two-servers",
      codec,
    });
    assert.equal(result.results.length, 8);
    assertPassesOverDeviceCodec(result, codec);
    assert.equal(result.exitCode, 2, "not observable, nothing failed");
    assert.match(textReport(result), new RegExp(`codec=${codec} seed=`));
  });

  Deno.test(`reference tracker passes the failover suite over ${codec} in process`, async () => {
    const result = await runReference({
      suite: "failover",
      codec,
    });
    assert.equal(result.results.length, 6);
    assertPassesOverDeviceCodec(result, codec);
    assert.equal(result.exitCode, 0);
  });

  Deno.test(`reference tracker passes TS-1..TS-4, TS-7 and TS-8 over ${codec} as a process (--codec {codec} --device {imei})`, async () => {
    const result = await runReference({
      suite: "two-servers",
      codec,
      only: ["TS-1", "TS-2", "TS-3", "TS-4", "TS-7", "TS-8"],
      command:
        `${DENO} run -A clients/two_servers.ts --quiet --mirror ${ENDPOINTS} ${TIMING_FLAGS}`,
    });
    assertPassesOverDeviceCodec(result, codec);
    const ts8 = result.results.find((r) => r.id === "TS-8")!;
    assert.match(ts8.summary, /bytes the client sent to IP1 and IP2/);
    assert.equal(result.exitCode, 0);
  });
}

Deno.test("wrong trackers are caught over device codecs: resends copied to IP2 (TS-4, ruptela), no resends (TS-3, teltonika), no copies in the bytes (TS-8, ruptela)", async () => {
  const cases = [
    {
      id: "TS-4",
      broken: "TS-4",
      codec: "ruptela",
      expected: /IP2 received r1 x[2-9]/,
    },
    {
      id: "TS-3",
      broken: "TS-3",
      codec: "teltonika",
      expected: /IP1 received r1 1 time\(s\)/,
    },
    // Mirror mode off: IP2 reads no bytes at all.
    {
      id: "TS-8",
      broken: "TS-1",
      codec: "ruptela",
      expected: /twice the bytes read from the client.*it was 1\.00x/,
    },
  ];
  const results = await Promise.all(
    cases.map(({ id, broken, codec }) =>
      runReference({
        suite: "two-servers",
        codec,
        only: [id],
        command:
          `${DENO} run -A tests/wrong_clients/wrong_tracker.ts --break ${broken} --mirror ${ENDPOINTS} ${TIMING_FLAGS}`,
      })
    ),
  );
  for (const [i, result] of results.entries()) {
    const [verdict] = result.results;
    assert.equal(verdict.status, "fail", verdicts(result));
    assert.match(verdict.summary, cases[i].expected, verdicts(result));
    assert.equal(result.exitCode, 1);
  }
});

Deno.test("runConformance refuses a codec for suites that speak line-json only, and an unknown codec", async () => {
  const clients = referenceClients();
  await assert.rejects(
    runConformance({ suite: "agent", codec: "ruptela", clients }),
    /Cannot run QA-\d+ over codec ruptela: the agent suite speaks line-json only/,
  );
  await assert.rejects(
    runConformance({ suite: "all", codec: "teltonika", clients }),
    /over codec teltonika/,
  );
  await assert.rejects(
    runConformance({ suite: "two-servers", codec: "morse", clients }),
    /Cannot use codec "morse": expected one of line-json/,
  );
});

Deno.test("conformance CLI: --codec with a line-json-only suite or an unknown name exits 3", async () => {
  for (
    const [args, message] of [
      [["--suite", "agent", "--codec", "ruptela"], /agent suite speaks/],
      [["--suite", "two-servers", "--codec", "morse"], /Cannot use codec/],
    ] as const
  ) {
    const { code, stderr } = await runScript("conformance/runner.ts", [
      ...args,
      "--reference",
    ]);
    assert.equal(code, 3, stderr);
    assert.match(stderr, /Invalid --codec/);
    assert.match(stderr, message);
  }
});
