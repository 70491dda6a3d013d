import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { lineJsonCodec } from "../core/codecs/line_json_codec.ts";
import { decodeUtf8, encodeUtf8 } from "../core/codecs/utf8.ts";
import { SeededRandom } from "../core/faults/random.ts";

const strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** What the decoder of record says: the text, or undefined when invalid. */
function strictDecode(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Bytes that are mostly UTF-8 with, now and then, a sequence that is not:
 * a lone continuation byte, a lead byte cut short, an overlong form, an
 * encoded surrogate, a code point past U+10FFFF, a BOM, U+FFFD itself.
 */
function randomBytes(random: SeededRandom): Uint8Array {
  const pieces = [
    [0x61],
    [0x7b, 0x22],
    [0xc3, 0xa9],
    [0xe2, 0x9c, 0x93],
    [0xf0, 0x9d, 0x84, 0x9e],
    [0xef, 0xbb, 0xbf], // BOM
    [0xef, 0xbf, 0xbd], // U+FFFD, valid
    [0x80], // lone continuation
    [0xc3], // cut short
    [0xe2, 0x9c], // cut short
    [0xc0, 0xaf], // overlong
    [0xe0, 0x80, 0xaf], // overlong
    [0xed, 0xa0, 0x80], // surrogate
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0xff],
  ];
  const out: number[] = [];
  // Some long enough for the other path (over 256 bytes).
  const length = Math.floor(random.between(0, random.next() < 0.1 ? 200 : 12));
  for (let i = 0; i < length; i++) {
    const valid = random.next() < 0.8;
    const piece = valid
      ? pieces[Math.floor(random.between(0, 7))]
      : pieces[Math.floor(random.between(7, pieces.length))];
    out.push(...piece);
  }
  return new Uint8Array(out);
}

Deno.test("decodeUtf8 gives TextDecoder's (fatal) text and verdict on valid and invalid bytes", () => {
  const random = new SeededRandom(14);
  let invalid = 0;
  for (let n = 0; n < 5000; n++) {
    const bytes = randomBytes(random);
    const want = strictDecode(bytes);
    if (want === undefined) invalid++;
    assert.equal(decodeUtf8(bytes), want, `bytes ${[...bytes]}`);
    // A view into a larger buffer, as a line inside a chunk is.
    const padded = new Uint8Array(bytes.length + 6);
    padded.set(bytes, 3);
    assert.equal(decodeUtf8(padded.subarray(3, 3 + bytes.length)), want);
    // Buffers, as node:net reads them, whole and as views.
    assert.equal(decodeUtf8(Buffer.from(bytes)), want);
    assert.equal(
      decodeUtf8(Buffer.from(padded).subarray(3, 3 + bytes.length)),
      want,
    );
  }
  // Both kinds were tried, often.
  assert.ok(invalid > 1000 && invalid < 4000, `${invalid} invalid of 5000`);
});

Deno.test("decodeUtf8 drops a leading BOM as TextDecoder does, and keeps U+FFFD that was sent", () => {
  assert.equal(decodeUtf8(encoder.encode("\uFEFFab\uFEFF")), "ab\uFEFF");
  assert.equal(decodeUtf8(encoder.encode("a\uFFFDb")), "a\uFFFDb");
  assert.equal(decodeUtf8(new Uint8Array([0x61, 0xff, 0x62])), undefined);
  assert.equal(decodeUtf8(new Uint8Array()), "");
});

Deno.test("encodeUtf8 gives TextEncoder's bytes, short and long, lone surrogates included", () => {
  const random = new SeededRandom(15);
  const alphabet = [
    "a",
    "\n",
    '"',
    "é",
    "✓",
    "𝄞",
    "\uD800",
    "\uDC00",
    "\uFFFD",
  ];
  for (let n = 0; n < 2000; n++) {
    const length = Math.floor(random.between(0, n % 10 === 0 ? 400 : 40));
    let text = "";
    for (let i = 0; i < length; i++) {
      text += alphabet[Math.floor(random.between(0, alphabet.length))];
    }
    assert.deepEqual(
      [...encodeUtf8(text)],
      [...encoder.encode(text)],
      JSON.stringify(text),
    );
  }
});

Deno.test("encodeUtf8's bytes are not written over by later encodes (they share a pool)", () => {
  const first = encodeUtf8('{"type":"ack","id":"r1"}\n');
  const copy = [...first];
  for (let i = 0; i < 2000; i++) encodeUtf8(`{"type":"ack","id":"r${i}"}\n`);
  assert.deepEqual([...first], copy);
});

Deno.test("line-json decoder: a chunk with invalid UTF-8 still names only its bad lines", () => {
  const decoder = lineJsonCodec().decoder();
  const good = encoder.encode('{"type":"record","id":"é\uFFFD"}\n');
  const bad = new Uint8Array([
    ...encoder.encode('{"type":"record","id":"'),
    0xc3,
    0x22,
    0x7d,
    0x0a,
  ]);
  const got = decoder.push(new Uint8Array([...good, ...bad, ...good]));
  assert.deepEqual(
    got.map((d) => d.frame?.id ?? d.error?.code),
    ["é\uFFFD", "invalid_utf8", "é\uFFFD"],
  );
});
