import assert from "node:assert/strict";
import type { Decoded } from "../core/codecs/codec.ts";
import type { Frame } from "../core/codecs/frame.ts";
import { createCodec } from "../core/codecs/create_codec.ts";
import { lengthPrefixedCodec } from "../core/codecs/length_prefixed_codec.ts";
import { lineJsonCodec } from "../core/codecs/line_json_codec.ts";

const encoder = new TextEncoder();

function frames(results: Decoded[]) {
  return results.map((r) => r.frame ?? { error: r.error!.code });
}

for (const codec of [lineJsonCodec(), lengthPrefixedCodec()]) {
  Deno.test(`${codec.name} codec decodes frames split at every byte boundary`, () => {
    const sent = [
      { type: "record", id: "r1", data: { text: "é✓" } },
      { type: "record", id: "r2" },
    ];
    const bytes = new Uint8Array([
      ...codec.encode(sent[0])!,
      ...codec.encode(sent[1])!,
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = codec.decoder();
      const got = [
        ...decoder.push(bytes.subarray(0, cut)),
        ...decoder.push(bytes.subarray(cut)),
      ];
      assert.deepEqual(frames(got), sent, `cut at ${cut}`);
      assert.equal(decoder.pending, 0);
    }
    const decoder = codec.decoder();
    const byByte = [...bytes].flatMap((b) => decoder.push(new Uint8Array([b])));
    assert.deepEqual(frames(byByte), sent);
  });

  Deno.test(`${codec.name} codec reports a stream that ends mid-frame`, () => {
    const decoder = codec.decoder();
    const bytes = codec.encode({ type: "record", id: "r1" })!;
    assert.deepEqual(decoder.push(bytes.subarray(0, 5)), []);
    const ended = decoder.end();
    assert.deepEqual(ended.map((r) => r.error?.code), ["truncated"]);
    const unit = codec.name === "line-json" ? "line" : "frame";
    assert.equal(
      ended[0].error?.message,
      `Cannot decode 5 bytes: the stream ended before the end of the ${unit}`,
    );
  });

  Deno.test(`${codec.name} codec rejects oversized frames and goes on`, () => {
    const small = createCodec(codec.name, { maxFrameBytes: 64 });
    const decoder = small.decoder();
    const big = small.encode({ type: "record", id: "x".repeat(200) })!;
    const ok = small.encode({ type: "record", id: "r2" })!;
    const got = [
      ...decoder.push(big.subarray(0, 30)),
      ...decoder.push(big.subarray(30)),
      ...decoder.push(ok),
    ];
    assert.deepEqual(frames(got), [
      {
        error: small.name === "line-json" ? "line_too_long" : "frame_too_long",
      },
      { type: "record", id: "r2" },
    ]);
  });
}

Deno.test("line-json codec turns bad lines into errors and keeps the good ones", () => {
  const decoder = lineJsonCodec().decoder();
  const got = decoder.push(encoder.encode(
    '{bad\n[1,2]\n{"id":"x"}\n\n{"type":"record","id":"r1"}\r\n',
  ));
  got.push(...decoder.push(new Uint8Array([0xff, 0xfe, 0x0a])));
  assert.deepEqual(frames(got), [
    { error: "invalid_json" },
    { error: "invalid_frame" },
    { error: "invalid_frame" },
    { type: "record", id: "r1" },
    { error: "invalid_utf8" },
  ]);
  assert.equal(got[0].raw, "{bad");
});

Deno.test("length-prefixed codec rejects a zero length and garbage payloads", () => {
  const decoder = lengthPrefixedCodec().decoder();
  const got = decoder.push(
    new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 0x7b, 0x7d, 0, 0, 0, 1, 0xff]),
  );
  assert.deepEqual(frames(got), [
    { error: "invalid_frame" },
    { error: "invalid_frame" },
    { error: "invalid_utf8" },
  ]);
});

Deno.test("createCodec names the codecs it knows on a wrong name", () => {
  assert.throws(
    () => createCodec("nope"),
    /Cannot use codec "nope": expected one of line-json, length-prefixed/,
  );
});

Deno.test("line-json encodes an ACK to the same line JSON.stringify gives, for any ACK", () => {
  const codec = lineJsonCodec();
  const inherited = Object.assign(Object.create({ z: 1 }), {
    type: "ack",
    id: "q",
  });
  const withToJSON = { type: "ack", id: "r" };
  Object.defineProperty(withToJSON, "toJSON", { value: () => ({ x: 1 }) });
  const frames: Frame[] = [
    { type: "ack", id: "r1" },
    { type: "ack", id: 'a"b\\\n\u2028\u00e9\ud800' },
    { id: "r1", type: "ack" } as Frame,
    { type: "ack", id: "x", extra: 1 },
    { type: "ack", id: 5 },
    { type: "ack" },
    inherited,
    withToJSON,
  ];
  for (const frame of frames) {
    assert.equal(codec.encodeText!(frame), JSON.stringify(frame) + "\n");
  }
});
