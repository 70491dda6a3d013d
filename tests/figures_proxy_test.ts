import assert from "node:assert/strict";
import type { JournalEvent } from "../core/journal/journal.ts";
import { startLabRun } from "../lab/lab_run.ts";
import { parseTopology } from "../lab/topology.ts";
import { trackerTopology } from "./_lab.ts";

Deno.test("figures through proxies: a toxic on one path moves the tracker to the other, measured from the proxies' journals", async () => {
  const labRun = await startLabRun(
    parseTopology(trackerTopology({
      name: "two paths",
      seed: 5,
      servers: {
        "path-a": { kind: "proxy", upstream: "primary" },
        "path-b": { kind: "proxy", upstream: "secondary" },
      },
      tracker: { ip1: "path-a", ip2: "path-b", reconnectDelayMs: 20 },
      plan: [{
        at: "300ms",
        proxy: "path-a",
        // Toxiproxy's timeout 0: data stops, nothing is closed.
        toxics: [{ type: "timeout", attributes: { timeout: 0 } }],
        for: "1s",
      }],
      expect: { failoverMs: { max: 2000 }, lost: 0 },
    })),
    { runMs: 2000, anyPort: true, port: 0 },
  );
  const report = await labRun.finished;
  const events: JournalEvent[] = labRun.lab.journals().flatMap((j) =>
    j.events()
  );
  const added = events.find((e) =>
    e.server === "path-a" && e.type === "toxic_added"
  )!;
  const removed = events.find((e) =>
    e.server === "path-a" && e.type === "toxic_removed"
  )!;
  const onB = events.find((e) =>
    e.server === "path-b" && e.type === "connected" && e.time > added.time
  )!;
  const ackOnSecondary =
    events.filter((e) =>
      e.server === "secondary" && e.type === "ack_sent" && e.time > added.time
    ).sort((a, b) => a.time - b.time)[0];

  const set = report.figures.transitions.find((t) => t.change === "set")!;
  assert.equal(set.source, "path-a");
  assert.deepEqual(set.faults, ["toxic:timeout"]);
  assert.equal(set.toxic, "timeout_downstream");
  assert.equal(set.cause, "plan[0]");
  assert.equal(set.clearedMs, Math.round(removed.time - report.figures.origin));
  const [tracker] = set.clients;
  assert.equal(
    tracker.client,
    "tracker",
    "named by its hello behind the proxy",
  );
  assert.equal(tracker.decoded, true);
  assert.equal(tracker.to, "path-b");
  assert.ok(Math.abs(tracker.switchMs! - (onB.time - added.time)) <= 1);
  assert.ok(
    Math.abs(tracker.acceptedMs! - (ackOnSecondary.time - added.time)) <= 1,
  );
  assert.ok(tracker.bytesByPath["path-a"] > 0);
  assert.ok(tracker.bytesByPath["path-b"] > 0);
  // One switch, at the proxies: the server connections behind them are the same client.
  assert.deepEqual(
    report.figures.switches.map((s) => `${s.client} ${s.from}->${s.to}`),
    ["tracker path-a->path-b"],
  );
  assert.equal(report.exitCode, 0);
});
