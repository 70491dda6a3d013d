import assert from "node:assert/strict";
import { crc16Arc, crc16Kermit } from "../core/codecs/crc16.ts";
import { SeededRandom } from "../core/faults/random.ts";
import { hex } from "./_raw_peer.ts";

const CHECK = new TextEncoder().encode("123456789");

/** Bit by bit, straight from the definition: reflected, init 0, no final XOR. */
function slowCrc(poly: number, bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
    }
  }
  return crc;
}

Deno.test("crc16Kermit has the catalogue check value 0x2189", () => {
  assert.equal(crc16Kermit(CHECK), 0x2189);
  assert.equal(crc16Kermit(new Uint8Array(0)), 0);
});

Deno.test("crc16Arc (CRC-16/IBM) has the catalogue check value 0xBB3D", () => {
  assert.equal(crc16Arc(CHECK), 0xbb3d);
  assert.equal(crc16Arc(new Uint8Array(0)), 0);
});

Deno.test("crc16Kermit gives the CRCs of the known Ruptela replies", () => {
  // ACK to records 00 02 64 01 13 BC, NACK 00 02 64 00 02 35, ACK to DTCs 00 02 6D 01 C4 A4.
  assert.equal(crc16Kermit(hex("64 01")), 0x13bc);
  assert.equal(crc16Kermit(hex("64 00")), 0x0235);
  assert.equal(crc16Kermit(hex("6D 01")), 0xc4a4);
});

Deno.test("crc16Kermit and crc16Arc match a bitwise reference on seeded data", () => {
  const random = new SeededRandom(42);
  for (let n = 0; n < 200; n++) {
    const bytes = Uint8Array.from(
      { length: Math.floor(random.next() * 300) },
      () => Math.floor(random.next() * 256),
    );
    assert.equal(crc16Kermit(bytes), slowCrc(0x8408, bytes));
    assert.equal(crc16Arc(bytes), slowCrc(0xa001, bytes));
  }
});
