import assert from "node:assert/strict";
import { join } from "node:path";
import type { LabRunReport } from "../lab/lab_run.ts";
import { startLab } from "../lab/start_lab.ts";
import { parseTopology } from "../lab/topology.ts";
import { runScript, spawnCli } from "./_cli.ts";
import {
  runLabCli,
  signalAndDrain,
  trackerTopology,
  withTopologyFile,
} from "./_lab.ts";

/** A tracker that fails over from a primary going down at a seeded time. */
function trackerLab(tracker: Record<string, unknown>) {
  return trackerTopology({
    name: "tracker run",
    seed: 3,
    tracker,
    plan: [{
      at: "200ms..400ms",
      server: "primary",
      faults: { down: {} },
      for: "1s",
    }],
    expect: { failoverMs: { max: 600 }, lost: 0 },
  });
}

/**
 * Runs `body` with a {@linkcode trackerLab} topology written to `name` in a
 * temp dir, and the path of a report dir beside it.
 */
function withTrackerLab(
  name: string,
  tracker: Record<string, unknown>,
  body: (file: string, out: string) => Promise<void>,
): Promise<void> {
  return withTopologyFile(
    name,
    trackerLab(tracker),
    (file, dir) => body(file, join(dir, "report")),
  );
}

async function readReport(dir: string): Promise<LabRunReport> {
  return JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
}

Deno.test("lab --run: a deliberately slow client misses failoverMs, the run exits 1 and the report says why with journal lines", async () => {
  // Waits 1.5 s before each reconnect: far over the 600 ms expected.
  await withTrackerLab(
    "slow.json",
    { reconnectDelayMs: 1500 },
    async (file, out) => {
      const { code, stdout } = await runLabCli(
        file,
        "--run",
        "2s",
        "--report",
        out,
      );
      assert.equal(code, 1, stdout);
      assert.match(stdout, /FAIL failoverMs: Expected every client/);
      assert.match(stdout, /^lab stopped: .* 1 failed; report=/m);
      const report = await readReport(out);
      assert.equal(report.exitCode, 1);
      assert.equal(report.seed, 3);
      assert.equal(report.incomplete, false);
      const failover = report.expectations.find((e) =>
        e.name === "failoverMs"
      )!;
      assert.equal(failover.status, "fail");
      assert.match(failover.summary, /tracker after down on primary at \d+ ms/);
      assert.match(failover.evidence[0], /ms primary #\d+ faults_changed/);
      assert.ok(report.versions.deno);
      const html = await Deno.readTextFile(join(out, "report.html"));
      assert.match(html, /expectations failed/);
      assert.doesNotMatch(html, /<script|<link|src=/, "self-contained");
      assert.match(html, /<svg [^>]*data-source="primary"/);
      const junit = await Deno.readTextFile(join(out, "report.xml"));
      assert.match(junit, /<testsuites [^>]*tests="2" failures="1"/);
      assert.match(junit, /<failure message="Expected every client/);
    },
  );
});

Deno.test("lab --run: a client that fails over in time passes and the run exits 0", async () => {
  await withTrackerLab("fast.json", { reconnectDelayMs: 20 }, async (file) => {
    const { code, stdout } = await runLabCli(file, "--run", "2s");
    assert.equal(code, 0, stdout);
    assert.match(stdout, /ok {3}failoverMs: 1 client failover\(s\) measured/);
  });
});

Deno.test("lab --run: Ctrl-C still writes the report of what it saw, marked incomplete", async () => {
  await withTrackerLab(
    "long.json",
    { reconnectDelayMs: 20 },
    async (file, out) => {
      const cli = await spawnCli("lab/lab.ts", [
        file,
        "--any-port",
        "--port",
        "0",
        "--run",
        "60s",
        "--report",
        out,
      ]);
      assert.match(cli.line, / run=60000ms$/);
      const { code, lines: rest } = await signalAndDrain(cli, "SIGINT");
      assert.equal(code, 130, rest.join("\n"));
      assert.match(rest.join("\n"), /lab stopped early \(incomplete\)/);
      const report = await readReport(out);
      assert.equal(report.incomplete, true);
      assert.ok(report.durationMs < 60_000);
      const html = await Deno.readTextFile(join(out, "report.html"));
      assert.match(html, /id="incomplete"/);
    },
  );
});

Deno.test("a plan naming an unknown server, overlapping faults or a time out of range is an error naming the path, before anything starts", async () => {
  const base = trackerLab({});
  assert.throws(
    () =>
      parseTopology({
        ...base,
        plan: [{ at: "1s", server: "primry", faults: { down: {} } }],
      }),
    /plan\[0\]\.server: No server named "primry" in servers/,
  );
  assert.throws(
    () =>
      parseTopology({
        ...base,
        plan: [
          { at: "1s", server: "primary", faults: { down: {} }, for: "2s" },
          { at: "2s..4s", server: "primary", faults: { down: {} } },
        ],
      }),
    /plan\[1\]: Overlaps plan\[0\]: both set down on primary/,
  );
  assert.throws(
    () =>
      parseTopology({
        ...base,
        plan: [{ at: "25h", server: "primary", faults: { down: {} } }],
      }),
    /plan\[0\]\.at: Time "25h" is out of range/,
  );
  // Steps on different kinds, or one after the other, are fine.
  parseTopology({
    ...base,
    plan: [
      { at: "1s", server: "primary", faults: { down: {} }, for: "1s" },
      { at: "2s", server: "primary", faults: { down: {} } },
      { at: "1s", server: "primary", faults: { dropAck: {} } },
    ],
  });
  await withTopologyFile("late.json", {
    ...base,
    plan: [{ at: "5s", server: "primary", faults: { down: {} } }],
  }, async (file) => {
    const { code, stdout, stderr } = await runLabCli(file, "--run", "2s");
    assert.equal(code, 2);
    assert.equal(stdout, "", "nothing started");
    assert.match(
      stderr,
      /error: Invalid plan: plan\[0\]\.at: Time 5s is out of range: the run lasts 2s/,
    );
  });
});

Deno.test("lab CLI: a busy port names --any-port and --port 0; a served lab says when it stops", async () => {
  await using busy = await startLab(
    parseTopology({ servers: { primary: { kind: "primary", port: 0 } } }),
    { port: 0, traffic: false },
  );
  const port = busy.server("primary")!.addresses()[0].port;
  await withTopologyFile("busy.json", {
    servers: { primary: { kind: "primary", port } },
  }, async (file) => {
    const { code, stderr } = await runScript("lab/lab.ts", [
      file,
      "--port",
      "0",
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /the port is busy; run with --any-port .* --port 0/);

    const cli = await spawnCli("lab/lab.ts", [
      file,
      "--any-port",
      "--port",
      "0",
    ]);
    const { code: stopped, lines: rest } = await signalAndDrain(cli, "SIGTERM");
    assert.equal(stopped, 0);
    assert.equal(rest.at(-1), "lab stopped");
  });
});
