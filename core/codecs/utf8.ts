/**
 * UTF-8 text to and from bytes at a small cost per call, for the hot path
 * (a line read, a batch of replies written). `TextDecoder` and `TextEncoder`
 * cost about 0.4 to 0.7 µs a call in Deno whatever the length, about what
 * parsing the record costs: in a closed loop (one record per read, one reply
 * per write) that is paid on every record. `node:buffer`'s conversions of
 * short text cost a fifth to a half of that (docs/performance.md); long text
 * goes to `TextDecoder` and `TextEncoder`, which are as fast there.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** Strict, as the decoder of record: for long input, and when the fast path finds U+FFFD. */
const STRICT = new TextDecoder("utf-8", { fatal: true });

/**
 * Input up to this long is decoded by `Buffer#toString` first; longer input,
 * where that is no faster (it validates, then V8 decodes again), by
 * `TextDecoder` alone.
 */
const SHORT_BYTES = 256;

/**
 * Decodes UTF-8 strictly: the text, or `undefined` when the bytes are not
 * valid UTF-8. The same text as `new TextDecoder("utf-8", { fatal: true })`
 * (which drops a leading byte order mark), and the same verdict.
 *
 * Short input (a line, in a closed loop) is decoded with `Buffer#toString`
 * first, which replaces every ill-formed sequence with U+FFFD; only text
 * holding U+FFFD (invalid bytes, or a U+FFFD that was sent) is decoded again
 * strictly to tell which. Long input goes to `TextDecoder` at once.
 *
 * @example Usage
 * ```ts
 * import { decodeUtf8 } from "./utf8.ts";
 * decodeUtf8(new Uint8Array([0x68, 0xc3, 0xa9])); // "hé"
 * decodeUtf8(new Uint8Array([0x68, 0xc3])); // undefined
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  if (bytes.length > SHORT_BYTES) return strictDecode(bytes);
  const text =
    (bytes instanceof Buffer
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      .toString();
  if (text.includes("\uFFFD")) return strictDecode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function strictDecode(bytes: Uint8Array): string | undefined {
  try {
    return STRICT.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Texts up to this long are encoded by `Buffer.from`; longer ones, where it is slower (it measures first), by `TextEncoder`. */
const SHORT_TEXT = 256;

const ENCODER = new TextEncoder();

/**
 * Encodes text as UTF-8: the same bytes as `new TextEncoder().encode(text)`
 * (a lone surrogate becomes U+FFFD). Short texts share a pool, as
 * `Buffer.from` does: the bytes are never written to again, but their
 * `buffer` is not theirs alone.
 *
 * @example Usage
 * ```ts
 * import { encodeUtf8 } from "./utf8.ts";
 * encodeUtf8("hé"); // Uint8Array [0x68, 0xc3, 0xa9]
 * ```
 */
export function encodeUtf8(text: string): Uint8Array {
  return text.length <= SHORT_TEXT ? Buffer.from(text) : ENCODER.encode(text);
}
