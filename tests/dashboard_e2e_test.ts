import assert from "node:assert/strict";
import { join } from "node:path";
import { startLab } from "../lab/lab.ts";
import { loadTopology, parseTopology } from "../lab/topology.ts";
import {
  CHROMIUM_INSTALL,
  findChromium,
  launchChromium,
  skipBrowserTests,
} from "./_chromium.ts";
import { trackerTopology } from "./_lab.ts";
import { connectPeer } from "./_net.ts";

/**
 * Takes a screenshot and checks it is a PNG. It goes to FT_SCREENSHOT_DIR
 * when set (kept, to look at), else to a new temp dir removed right after.
 */
async function screenshot(
  page: { screenshot(path: string): Promise<void> },
  name: string,
): Promise<void> {
  const keep = Deno.env.get("FT_SCREENSHOT_DIR");
  const dir = keep ?? await Deno.makeTempDir({ prefix: "ft-dashboard-" });
  try {
    await Deno.mkdir(dir, { recursive: true });
    const path = join(dir, `${name}.screenshot.png`);
    await page.screenshot(path);
    const png = await Deno.readFile(path);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    if (keep) console.log(`dashboard screenshot: ${path}`);
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true });
  }
}

// Without Chromium these are skipped outside CI (with a warning) and fail
// in CI (CI=true).
const ignore = skipBrowserTests();

/** A browser test (skipped as {@linkcode skipBrowserTests} says), given a 45 s signal. */
function browserTest(
  name: string,
  fn: (signal: AbortSignal) => Promise<void>,
): void {
  Deno.test({ name, ignore }, () => fn(AbortSignal.timeout(45_000)));
}

Deno.test({
  name:
    `a headless Chromium is installed for the dashboard test (${CHROMIUM_INSTALL})`,
  ignore,
  fn() {
    findChromium();
  },
});

browserTest(
  "dashboard: clicking the primary's drop-ACK switch drops ACKs, and the counter and the timeline show it",
  async (signal) => {
    const topology = await loadTopology(
      new URL("../lab/demo.json", import.meta.url),
    );
    await using lab = await startLab(topology, {
      anyPort: true,
      traffic: false,
      seed: 7,
    });
    await using browser = await launchChromium({ signal });
    const page = await browser.open(lab.url, {
      width: 1366,
      height: 768,
      signal,
    });
    const card = "#card-primary";
    const acksSent = `${card} [data-counter="acksSent"] .value`;
    const acksDropped = `${card} [data-counter="acksDropped"] .value`;
    const text = (selector: string) =>
      `document.querySelector(${JSON.stringify(selector)})?.textContent`;

    await page.waitFor(`${text(acksDropped)} === "0"`, signal);
    await page.waitFor(
      `document.querySelector("#live")?.classList.contains("on")`,
      signal,
    );

    const primary = lab.server("primary")!;
    const [address] = primary.addresses();
    await using peer = await connectPeer(address);
    peer.send({ type: "record", id: "before" });
    assert.deepEqual(await peer.next(signal), { type: "ack", id: "before" });
    await page.waitFor(`${text(acksSent)} === "1"`, signal);

    // An off switch shows a sane default to apply, not a total outage.
    const dropInput = `${card} .fault[data-kind="dropAck"] input[type=number]`;
    assert.equal(
      await page.evaluate(`document.querySelector('${dropInput}').value`),
      "30",
    );
    assert.equal(
      await page.evaluate(
        `document.querySelector('${card} .fault[data-kind="delayAck"] input[type=number]').value`,
      ),
      "200",
    );
    await page.evaluate(`document.querySelector('${dropInput}').value = "100"`);

    const primaryJournal = primary.journals[0];
    const since = primaryJournal.lastSeq;
    await page.click(`${card} input[data-fault="dropAck"]`, signal);
    await primaryJournal.waitFor(
      (e) =>
        e.type === "faults_changed" &&
        (e.faults as Record<string, unknown>).dropAck !== undefined,
      { signal, since },
    );
    assert.deepEqual(
      (await (await fetch(`${lab.url}/servers/primary/faults`)).json()).dropAck,
      { probability: 1 },
    );
    await page.waitFor(
      `document.querySelector('${card} input[data-fault="dropAck"]').checked`,
      signal,
    );

    peer.send({ type: "record", id: "after" });
    await primaryJournal.waitFor(
      (e) => e.type === "ack_dropped" && e.id === "after",
      { signal },
    );
    await page.waitFor(`${text(acksDropped)} === "1"`, signal);
    await page.waitFor(
      `[...document.querySelectorAll('#timeline .event[data-type="ack_dropped"]')]
      .some((row) => row.textContent.includes("after"))`,
      signal,
    );
    await page.waitFor(
      `document.querySelector('#timeline .event[data-type="faults_changed"][data-server="primary"]')`,
      signal,
    );
    assert.equal(await page.evaluate(text(acksSent)), "1");

    await screenshot(page, "dashboard");
  },
);

browserTest(
  "dashboard: the live chart and the tracker's last failover figures; the server it left says it sees no traffic (FO-3)",
  async (signal) => {
    await using lab = await startLab(
      parseTopology(trackerTopology({
        name: "failover",
        seed: 9,
        tracker: { reconnectDelayMs: 20 },
        everyMs: 100,
      })),
      { anyPort: true },
    );
    await using browser = await launchChromium({ signal });
    const page = await browser.open(lab.url, {
      width: 1366,
      height: 900,
      signal,
    });
    // The chart of each server is drawn, the tracker's row is there.
    await page.waitFor(
      `document.querySelector('#charts [data-chart="primary"] svg polyline.rate') &&
     document.querySelector('#charts [data-chart="secondary"] svg') &&
     document.querySelector('#failovers tr[data-client="tracker"]')`,
      signal,
    );
    const tracker = lab.clientJournal("tracker")!;
    const acked = await tracker.waitFor((e) => e.type === "deleted", {
      signal,
    });

    // Take the primary down from its card, as a user would.
    const primary = lab.server("primary")!.journals[0];
    await page.click("#card-primary .updown", signal);
    await primary.waitFor(
      (e) =>
        e.type === "faults_changed" &&
        (e.faults as Record<string, unknown>).down !== undefined,
      { signal, since: acked.seq },
    );
    await tracker.waitFor((e) => e.type === "switched", { signal });
    const failover =
      `#failovers tr[data-client="tracker"] [data-figure="failoverMs"]`;
    await page.waitFor(
      `/^\\d+ ms$/.test(document.querySelector('${failover}')?.textContent ?? "")`,
      signal,
    );
    // The page shows what the library computes from the journals.
    const figures = lab.figures();
    const last = figures.clients.find((c) => c.client === "tracker")!.last!;
    assert.equal(last.source, "primary");
    assert.equal(last.to, "secondary");
    assert.equal(
      await page.evaluate(`document.querySelector('${failover}').textContent`),
      `${last.failoverMs} ms`,
    );
    // The fault span and the switch are on the primary's chart.
    await page.waitFor(
      `document.querySelector('#charts [data-chart="primary"] rect.fault.outage') &&
     document.querySelector('#charts [data-chart="primary"] g.switch')`,
      signal,
    );

    // Up again: the tracker stays on the secondary, and the primary's card says why it is quiet.
    await page.click("#card-primary .updown", signal);
    await page.waitFor(
      `/No traffic: tracker moved to secondary/.test(document.querySelector("#card-primary .idle")?.textContent ?? "") &&
     !document.querySelector("#card-primary .idle").hidden`,
      signal,
    );
    assert.equal(
      await page.evaluate(
        `document.querySelector("#card-secondary .idle").hidden`,
      ),
      true,
    );
    await screenshot(page, "dashboard-failover");
  },
);
