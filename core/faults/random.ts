/**
 * Seeded randomness. One run seed; every server, connection and fault draws
 * from its own stream derived from it by name, so the same seed gives the same
 * decisions whatever else runs.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's small fast counting
 * generator), seeded through a 32-bit FNV-1a hash of the seed and the stream's
 * name.
 *
 * @module
 */

function fnv1a(text: string, hash = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A stream of seeded pseudo-random numbers. */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  /** The seed this stream was made from. */
  readonly seed: number;
  /** The name of this stream ("" for the root stream). */
  readonly stream: string;

  /**
   * Makes a stream from a seed (an unsigned 32-bit integer) and a stream name.
   *
   * @example Usage
   * ```ts
   * import { SeededRandom } from "./random.ts";
   * const random = new SeededRandom(7);
   * random.next(); // the same number for seed 7, every run
   * ```
   */
  constructor(seed: number, stream = "") {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(
        `Cannot use seed ${seed}: expected an integer from 0 to 4294967295`,
      );
    }
    this.seed = seed;
    this.stream = stream;
    this.#a = fnv1a(stream, fnv1a(String(seed)));
    this.#b = fnv1a(`b/${stream}`, seed);
    this.#c = fnv1a(`c/${stream}`, seed ^ 0x9e3779b9);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Returns the next number in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t / 4294967296;
  }

  /** Returns true with the given probability (0 to 1). */
  chance(probability: number): boolean {
    if (probability >= 1) return true;
    if (probability <= 0) return false;
    return this.next() < probability;
  }

  /** Returns a number in [min, max]. */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Returns an independent stream named `name` below this one. */
  derive(name: string): SeededRandom {
    return new SeededRandom(
      this.seed,
      this.stream ? `${this.stream}/${name}` : name,
    );
  }
}

/** Returns a fresh seed from the system's random source. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
