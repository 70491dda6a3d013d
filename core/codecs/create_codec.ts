/**
 * The registry of codecs, by the name used on the command line.
 *
 * @module
 */
import type { Codec, CodecOptions } from "./codec.ts";
import { lengthPrefixedCodec } from "./length_prefixed_codec.ts";
import { lineJsonCodec } from "./line_json_codec.ts";
import { rawCodec } from "./raw_codec.ts";
import { ruptelaCodec } from "./ruptela_codec.ts";
import { teltonikaCodec } from "./teltonika_codec.ts";

const FACTORIES: Record<string, (options: CodecOptions) => Codec> = {
  "line-json": lineJsonCodec,
  "length-prefixed": lengthPrefixedCodec,
  ruptela: ruptelaCodec,
  teltonika: teltonikaCodec,
  raw: rawCodec,
};

/** The names of every codec, for `--codec`. */
export const CODEC_NAMES: readonly string[] = Object.keys(FACTORIES);

/**
 * Makes a codec by name. Device protocols (`ruptela`, `teltonika`) decode
 * what devices send by default; pass `{ role: "client" }` for a device's
 * side (encode device packets, decode the server's replies). `raw` decodes
 * nothing: each chunk read is journalled by its size (for servers only).
 *
 * @example Usage
 * ```ts
 * import { createCodec } from "./create_codec.ts";
 * const codec = createCodec("length-prefixed");
 * ```
 */
export function createCodec(name: string, options: CodecOptions = {}): Codec {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new RangeError(
      `Cannot use codec "${name}": expected one of ${CODEC_NAMES.join(", ")}`,
    );
  }
  return factory(options);
}
