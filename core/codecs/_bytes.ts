/**
 * Byte helpers for the binary codecs (Ruptela, Teltonika, length-prefixed)
 * and the connection: a buffer for partial reads, joining byte arrays, a
 * bounds-checked big-endian reader and writer, hex.
 *
 * Private to `core/`: never re-exported.
 *
 * @module
 */
const EMPTY = new Uint8Array(0);

/**
 * A growable byte buffer for partial reads: chunks are copied into one
 * backing array that doubles when full and is compacted when consumed, so a
 * peer that sends one byte at a time costs one byte per byte (not one small
 * array each), and the buffer shrinks back once a frame is cut off.
 */
export class ByteBuffer {
  #data: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;

  /** How many bytes it holds. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** The bytes it holds (a view, valid until the next change). */
  view(): Uint8Array {
    return this.#data.subarray(this.#start, this.#end);
  }

  /** Adds a copy of `chunk` at the end. */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#end + chunk.length > this.#data.length) this.#grow(chunk.length);
    this.#data.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Drops `count` bytes from the front. */
  consume(count: number): void {
    this.#start = Math.min(this.#end, this.#start + count);
    if (this.#start === this.#end) this.clear();
  }

  /** Empties it and lets the backing array go. */
  clear(): void {
    this.#data = EMPTY;
    this.#start = 0;
    this.#end = 0;
  }

  #grow(more: number): void {
    const length = this.length;
    const needed = length + more;
    if (needed <= this.#data.length && this.#start >= length) {
      // Enough room once the held bytes move to the front.
      this.#data.copyWithin(0, this.#start, this.#end);
    } else {
      let size = Math.max(64, this.#data.length);
      while (size < needed) size *= 2;
      const data = new Uint8Array(size);
      data.set(this.view());
      this.#data = data;
    }
    this.#start = 0;
    this.#end = length;
  }
}

/** Joins byte arrays into one new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The fixed-size whole numbers of the binary protocols, by the name a
 * reader and a writer take: their size in bytes and their range (big-endian;
 * two's complement when signed). 64-bit numbers have their own methods
 * (`u64`).
 */
const INTS = {
  u8: { size: 1, min: 0, max: 0xff },
  u16: { size: 2, min: 0, max: 0xffff },
  i16: { size: 2, min: -0x8000, max: 0x7fff },
  u32: { size: 4, min: 0, max: 0xffffffff },
  i32: { size: 4, min: -0x80000000, max: 0x7fffffff },
} as const;

/** The name of a fixed-size whole number: `u8`, `u16`, `i16`, `u32`, `i32`. */
export type IntType = keyof typeof INTS;

/** The unsigned type of each size up to 4 bytes. */
const UNSIGNED: Readonly<Record<number, IntType>> = {
  1: "u8",
  2: "u16",
  4: "u32",
};

/** A big-endian reader that throws a `RangeError` past the end. */
export class Reader {
  #view: DataView;
  #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /** Reads a whole number of a fixed size (`u8`, `u16`, `i16`, `u32`, `i32`). */
  int(type: IntType): number {
    // A direct DataView call per type: on every field of every device record.
    const view = this.#view;
    switch (type) {
      case "u8":
        return view.getUint8(this.#take(1));
      case "u16":
        return view.getUint16(this.#take(2));
      case "i16":
        return view.getInt16(this.#take(2));
      case "u32":
        return view.getUint32(this.#take(4));
      case "i32":
        return view.getInt32(this.#take(4));
    }
  }

  /** Reads an unsigned 64-bit number. */
  u64(): bigint {
    return this.#view.getBigUint64(this.#take(8));
  }

  /** Reads an unsigned number of 1, 2, 4 or (any other size) 8 bytes (8: a number when safe, else a decimal string). */
  unsigned(size: number): number | string {
    const type = UNSIGNED[size];
    if (type !== undefined) return this.int(type);
    const value = this.u64();
    return value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }

  /** Reads `length` bytes (a view, not a copy). */
  bytes(length: number): Uint8Array {
    const at = this.#take(length);
    return this.#bytes.subarray(at, at + length);
  }

  #take(length: number): number {
    const at = this.#offset;
    if (at + length > this.#bytes.length) {
      throw new RangeError(
        `it ends at byte ${this.#bytes.length}, before the ${length} bytes needed at byte ${at}`,
      );
    }
    this.#offset += length;
    return at;
  }
}

/** A big-endian writer that throws a `RangeError` on a value out of range. */
export class Writer {
  #out: number[] = [];

  /** Bytes written so far. */
  get length(): number {
    return this.#out.length;
  }

  /**
   * Writes a whole number of a fixed size (`u8`, `u16`, `i16`, `u32`,
   * `i32`); `name` says what it is in the error of a value out of range.
   */
  int(type: IntType, value: unknown, name = "value"): this {
    const { size, min, max } = INTS[type];
    if (
      typeof value !== "number" || !Number.isInteger(value) || value < min ||
      value > max
    ) {
      throw new RangeError(
        `${name} ${
          JSON.stringify(value)
        } is not a whole number from ${min} to ${max}`,
      );
    }
    const unsigned = value < 0 ? value + 2 ** (8 * size) : value;
    for (let i = size - 1; i >= 0; i--) {
      this.#out.push(Math.floor(unsigned / 2 ** (8 * i)) & 0xff);
    }
    return this;
  }

  /** Writes an unsigned 64-bit number (a number, a bigint or a decimal string). */
  u64(value: unknown, name = "value"): this {
    let big: bigint;
    try {
      big = BigInt(value as number | bigint | string);
    } catch {
      throw new RangeError(
        `${name} ${JSON.stringify(value)} is not a whole number`,
      );
    }
    if (big < 0n || big > 0xffffffffffffffffn) {
      throw new RangeError(`${name} ${value} does not fit in 8 bytes`);
    }
    for (let shift = 56n; shift >= 0n; shift -= 8n) {
      this.#out.push(Number((big >> shift) & 0xffn));
    }
    return this;
  }

  /** Writes an unsigned number of 1, 2, 4 or 8 bytes. */
  unsigned(size: number, value: unknown, name = "value"): this {
    if (size === 8) return this.u64(value, name);
    const type = UNSIGNED[size];
    if (type === undefined) {
      throw new RangeError(`${name}: size ${size} is not 1, 2, 4 or 8`);
    }
    return this.int(type, value, name);
  }

  /** Writes bytes as they are. */
  bytes(bytes: Uint8Array): this {
    for (const byte of bytes) this.#out.push(byte);
    return this;
  }

  /** The bytes written. */
  finish(): Uint8Array {
    return Uint8Array.from(this.#out);
  }
}

/** Lower-case hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Bytes from hex (spaces allowed); throws a `RangeError` on anything else. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new RangeError(`"${text.slice(0, 40)}" is not hex`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}
