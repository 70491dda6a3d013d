import assert from "node:assert/strict";
import { lineJsonCodec } from "../core/codecs/line_json_codec.ts";
import { Journal } from "../core/journal/journal.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { connectPeer } from "./_net.ts";
import { tempDir } from "./_lifetime.ts";

const encoder = new TextEncoder();

/** A record line of `[{},{},...]` about `bytes` long: costly once parsed. */
function emptyObjects(id: string, bytes: number): Uint8Array {
  const count = Math.floor(bytes / 3);
  return encoder.encode(
    `{"type":"record","id":"${id}","data":[${"{},".repeat(count)}{}]}\n`,
  );
}

Deno.test("Journal keeps a large frame as a bounded preview plus its size, the file gets it whole (#2)", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/journal.jsonl`;
  const journal = new Journal({ file, maxPayloadBytes: 1024 });
  const decoder = lineJsonCodec().decoder();
  const line = emptyObjects("big", 60_000);
  const [{ frame }] = decoder.push(line);
  const event = journal.append("frame_in", { conn: 1, frame });
  assert.equal(JSON.stringify(event.frame), `{"type":"record","id":"big"}`);
  const elided = event.elided as { bytes: number; preview: string };
  assert.equal(elided.bytes, line.length);
  assert.equal(elided.preview.length, 200);
  assert.ok(
    elided.preview.startsWith('{"type":"record","id":"big","data":[{}'),
  );
  // Small frames are kept whole.
  const small = journal.append("frame_in", {
    frame: { type: "record", id: "s", data: [1, 2] },
  });
  assert.deepEqual(small.frame, { type: "record", id: "s", data: [1, 2] });
  await journal.close();
  const lines = (await Deno.readTextFile(file)).trim().split("\n");
  assert.equal(JSON.parse(lines[0]).frame.data.length, 20_001);
});

Deno.test("Journal ring is bounded by bytes as well as events (#2)", () => {
  const journal = new Journal({ capacity: 10_000, maxBytes: 4 * 1024 * 1024 });
  const decoder = lineJsonCodec().decoder();
  for (let i = 0; i < 300; i++) {
    const [{ frame }] = decoder.push(emptyObjects(`r${i}`, 4000));
    journal.append("frame_in", { conn: 1, frame });
  }
  assert.ok(journal.bytes <= journal.maxBytes);
  // 4 KB of empty objects is ~100 KB parsed: about 30 fit in 4 MiB.
  assert.ok(journal.size < 60, `kept ${journal.size}`);
  assert.equal(journal.events().at(-1)!.frame!.constructor, Object);
  assert.equal((journal.events().at(-1)!.frame as { id: string }).id, "r299");
  assert.deepEqual(
    journal.events().map((e) => e.seq),
    Array.from({ length: journal.size }, (_, i) => 301 - journal.size + i),
  );
  journal.clear();
  assert.equal(journal.bytes, 0);
});

Deno.test("primary survives records of 64 KB of empty objects with its memory bounded (#2)", async () => {
  await using primary = await startPrimaryServer({
    port: 0,
    journal: new Journal({ server: "primary", maxBytes: 8 * 1024 * 1024 }),
  });
  await using peer = await connectPeer(primary.addr);
  const line = emptyObjects("x", 60_000);
  const count = 150;
  for (let i = 0; i < count; i++) peer.write(line);
  let acks = 0;
  while (acks < count) {
    await peer.next(AbortSignal.timeout(10_000));
    acks++;
  }
  assert.ok(primary.journal.bytes <= 8 * 1024 * 1024);
  const kept = primary.journal.query({ type: "frame_in" });
  assert.ok(
    kept.every((e) => (e.frame as { data?: unknown }).data === undefined),
  );
  await primary.close();
  await primary.journal.close();
});

Deno.test("Journal file sink drops past its backlog, counted and journalled, never silently (#3)", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/journal.jsonl`;
  const journal = new Journal({ file, fileBacklogBytes: 64 * 1024 });
  const total = 20_000;
  for (let i = 0; i < total; i++) {
    journal.append("bad_input", {
      conn: 1,
      code: "invalid_json",
      raw: `x${i}`,
    });
  }
  assert.ok(journal.fileDropped > 0);
  await journal.close();
  const lines = (await Deno.readTextFile(file)).trim().split("\n").map((
    l,
  ) => JSON.parse(l));
  const reports = lines.filter((e) => e.type === "journal_file_dropped");
  assert.ok(reports.length >= 1);
  const dropped = reports.reduce((sum, e) => sum + e.dropped, 0);
  const written = lines.filter((e) => e.type === "bad_input").length;
  assert.equal(written + dropped, total);
  assert.equal(reports.at(-1).total, journal.fileDropped);
  // Every dropped range is named by seq.
  assert.ok(reports.every((e) => e.fromSeq <= e.toSeq));
});

Deno.test("Journal file is created 0600 and never through a symbolic link", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/journal.jsonl`;
  const journal = new Journal({ file });
  journal.append("listening");
  await journal.close();
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  const target = `${dir.path}/target`;
  await Deno.writeTextFile(target, "");
  const link = `${dir.path}/link.jsonl`;
  await Deno.symlink(target, link);
  assert.throws(
    () => new Journal({ file: link }),
    /Cannot open journal file ".*link\.jsonl": it is a symbolic link/,
  );
  assert.equal(await Deno.readTextFile(target), "");
});

Deno.test("Journal file sink says when it is congested, so servers stop reading until it catches up (#3)", async () => {
  await using dir = await tempDir();
  const journal = new Journal({
    file: `${dir.path}/journal.jsonl`,
    fileBacklogBytes: 64 * 1024,
  });
  assert.equal(journal.congested, false);
  while (!journal.congested) {
    journal.append("bad_input", { code: "invalid_json", raw: "x" });
  }
  const waits = [journal.whenUncongested(), journal.whenUncongested()];
  await Promise.race([
    Promise.all(waits),
    new Promise((_, reject) =>
      AbortSignal.timeout(5000).addEventListener("abort", reject)
    ),
  ]);
  assert.equal(journal.congested, false);
  assert.equal(journal.fileDropped, 0);
  await journal.close();
});
