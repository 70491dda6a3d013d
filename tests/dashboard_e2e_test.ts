import assert from "node:assert/strict";
import { join } from "node:path";
import { startLab } from "../lab/lab.ts";
import { loadTopology } from "../lab/topology.ts";
import {
  CHROMIUM_INSTALL,
  findChromium,
  launchChromium,
  skipBrowserTests,
} from "./_chromium.ts";
import { connectPeer } from "./_net.ts";

/** Where the screenshot goes: FT_SCREENSHOT_DIR, else a new temp dir (never the repo). */
async function screenshotPath(): Promise<string> {
  const dir = Deno.env.get("FT_SCREENSHOT_DIR") ??
    await Deno.makeTempDir({ prefix: "ft-dashboard-" });
  await Deno.mkdir(dir, { recursive: true });
  return join(dir, "dashboard.screenshot.png");
}

// Without Chromium these two are skipped outside CI (with a warning) and fail
// in CI (CI=true).
const ignore = skipBrowserTests();

Deno.test({
  name:
    `a headless Chromium is installed for the dashboard test (${CHROMIUM_INSTALL})`,
  ignore,
  fn() {
    findChromium();
  },
});

Deno.test({
  name:
    "dashboard: clicking the primary's drop-ACK switch drops ACKs, and the counter and the timeline show it",
  ignore,
}, async () => {
  const signal = AbortSignal.timeout(45_000);
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

  const path = await screenshotPath();
  await page.screenshot(path);
  const png = await Deno.readFile(path);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  console.log(`dashboard screenshot: ${path}`);
});
