/**
 * Test helpers for the device codecs: decode a whole stream, name what came
 * out, join byte arrays, and check a stream decodes the same however it is
 * split; a primary speaking a codec.
 *
 * @module
 */
import assert from "node:assert/strict";
import { concat as concatParts } from "../core/codecs/_bytes.ts";
import type { Codec, Decoded } from "../core/codecs/codec.ts";
import {
  type PrimaryServer,
  type PrimaryServerOptions,
  startPrimaryServer,
} from "../servers/primary.ts";

/** Decodes `bytes` as one read, then ends the stream. */
export function decodeAll(bytes: Uint8Array, codec: Codec): Decoded[] {
  const decoder = codec.decoder();
  return [...decoder.push(bytes), ...decoder.end()];
}

/** Each result's error code, or its frame's type. */
export function codes(results: Decoded[]): string[] {
  return results.map((r) => r.error ? r.error.code : r.frame!.type);
}

/** Joins byte arrays into one new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatParts(parts);
}

/** The helpers of {@linkcode codecTools}, bound to one codec. */
export interface CodecTools {
  /** Decodes `bytes` as one read with a fresh codec (or `codec`), then ends the stream. */
  decodeAll(bytes: Uint8Array, codec?: Codec): Decoded[];
  /**
   * Decodes `stream` in one read, then split in two at every byte boundary
   * and byte by byte, with a fresh codec each time; asserts every way gives
   * the same results and leaves nothing pending. Returns the results.
   */
  assertDecodesSplit(stream: Uint8Array): Decoded[];
}

/** Decoding helpers for the codec `make` makes afresh each time. */
export function codecTools(make: () => Codec): CodecTools {
  return {
    decodeAll: (bytes, codec = make()) => decodeAll(bytes, codec),
    assertDecodesSplit(stream) {
      const whole = decodeAll(stream, make());
      for (let cut = 0; cut <= stream.length; cut++) {
        const decoder = make().decoder();
        const got = [
          ...decoder.push(stream.subarray(0, cut)),
          ...decoder.push(stream.subarray(cut)),
        ];
        assert.deepEqual(got, whole, `cut at ${cut}`);
        assert.equal(decoder.pending, 0);
      }
      const decoder = make().decoder();
      const byByte = [...stream].flatMap((b) =>
        decoder.push(new Uint8Array([b]))
      );
      assert.deepEqual(byByte, whole);
      return whole;
    },
  };
}

/** A primary on a free port, seed 1, speaking `codec`, with these faults. */
export function startCodecPrimary(
  codec: string,
  faults: PrimaryServerOptions["faults"] = {},
): Promise<PrimaryServer> {
  return startPrimaryServer({ port: 0, seed: 1, codec, faults });
}
