/**
 * What the device codecs (Ruptela, Teltonika) share beyond bytes: the id a
 * records packet gets, and an encoder that answers `undefined` for a frame
 * it cannot express.
 *
 * Private to `core/`: never re-exported.
 *
 * @module
 */
import type { Frame } from "./frame.ts";

/**
 * The id a records packet gets: `<imei>:<first record's timestamp>:<count>`,
 * the same for every resend of the same packet.
 */
export function recordsId(
  imei: string,
  records: readonly { timestamp?: unknown }[],
): string {
  return `${imei}:${records[0]?.timestamp ?? 0}:${records.length}`;
}

/**
 * An encoder that throws a `RangeError` on a frame it cannot express, made
 * into one that answers `undefined` instead (as a codec's `encode` does).
 */
export function encodeOrUndefined(
  encode: (frame: Frame) => Uint8Array | undefined,
): (frame: Frame) => Uint8Array | undefined {
  return (frame) => {
    try {
      return encode(frame);
    } catch {
      return undefined;
    }
  };
}
