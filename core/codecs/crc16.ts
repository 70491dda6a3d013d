/**
 * The two 16-bit CRCs the device protocols use, both reflected with init 0
 * and no final XOR:
 *
 * - CRC-16/KERMIT (polynomial 0x1021, reflected 0x8408): Ruptela. Check
 *   value of `"123456789"`: `0x2189`.
 * - CRC-16/ARC, also called CRC-16/IBM (polynomial 0x8005, reflected
 *   0xA001): Teltonika codec 8 and 8 Extended. Check value: `0xBB3D`.
 *
 * @module
 */

function table(poly: number): Uint16Array {
  const out = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
    }
    out[n] = crc;
  }
  return out;
}

const KERMIT = table(0x8408);
const ARC = table(0xa001);

function reflected(lookup: Uint16Array, bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = (crc >>> 8) ^ lookup[(crc ^ bytes[i]) & 0xff];
  }
  return crc;
}

/**
 * CRC-16/KERMIT of some bytes (poly 0x1021 reflected, init 0, no final XOR),
 * as Ruptela uses it: a number from 0 to 0xFFFF, written high byte first.
 *
 * @example Usage
 * ```ts
 * import { crc16Kermit } from "./crc16.ts";
 * crc16Kermit(new TextEncoder().encode("123456789")); // 0x2189
 * ```
 */
export function crc16Kermit(bytes: Uint8Array): number {
  return reflected(KERMIT, bytes);
}

/**
 * CRC-16/ARC (also CRC-16/IBM: poly 0x8005 reflected, init 0, no final
 * XOR) of some bytes, as Teltonika uses it: a number from 0 to 0xFFFF.
 *
 * @example Usage
 * ```ts
 * import { crc16Arc } from "./crc16.ts";
 * crc16Arc(new TextEncoder().encode("123456789")); // 0xBB3D
 * ```
 */
export function crc16Arc(bytes: Uint8Array): number {
  return reflected(ARC, bytes);
}
