/**
 * IPv4 literals: dotted quads parsed into 32-bit numbers, and networks
 * (`172.16.0.0/16`) that an address is on or not.
 *
 * @module
 */

/**
 * Parses a dotted-quad IPv4 literal (`127.0.0.1`) into a 32-bit number.
 * Returns `undefined` for anything else (names, IPv6, out-of-range octets).
 *
 * @example Usage
 * ```ts
 * import { parseIpv4 } from "./ipv4.ts";
 * parseIpv4("127.0.0.1"); // 2130706433
 * parseIpv4("localhost"); // undefined
 * ```
 */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** An IPv4 network and its prefix length. */
export interface NetworkMask {
  /** The network address, as a 32-bit number. */
  network: number;
  /** How many leading bits must match (0 to 32). */
  bits: number;
}

/**
 * Parses an IPv4 network: `a.b.c.d/bits`, or `a.b.c.d` whose trailing zero
 * octets are wildcards (`172.16.0.0` is `172.16.0.0/16`, `127.0.2.0` is
 * `/24`, `10.0.0.0` is `/8`, `0.0.0.0` matches every address, and an
 * address without trailing zeros matches only itself).
 *
 * @example Usage
 * ```ts
 * import { parseNetworkMask } from "./ipv4.ts";
 * parseNetworkMask("172.16.0.0"); // { network: 2886729728, bits: 16 }
 * ```
 */
export function parseNetworkMask(text: string): NetworkMask {
  const [address, bitsText, extra] = text.trim().split("/");
  const network = parseIpv4(address);
  const bits = bitsText === undefined
    ? (() => {
      const octets = address.split(".");
      let last = octets.length - 1;
      while (last >= 0 && octets[last] === "0") last--;
      return (last + 1) * 8;
    })()
    : /^\d{1,2}$/.test(bitsText)
    ? Number(bitsText)
    : NaN;
  if (network === undefined || extra !== undefined || !(bits <= 32)) {
    throw new RangeError(
      `Cannot use network address "${text}": expected IPv4 such as 172.16.0.0 (trailing zero octets are wildcards) or 172.16.0.0/16`,
    );
  }
  return { network, bits };
}

/**
 * Whether an address (an IPv4 literal) is on a network; names never are.
 *
 * @example Usage
 * ```ts
 * import { onNetwork, parseNetworkMask } from "./ipv4.ts";
 * onNetwork(parseNetworkMask("127.0.0.0/8"), "127.0.0.2"); // true
 * ```
 */
export function onNetwork(mask: NetworkMask, address: string): boolean {
  const value = parseIpv4(address);
  if (value === undefined) return false;
  if (mask.bits === 0) return true;
  const shift = 32 - mask.bits;
  return Math.floor(value / 2 ** shift) ===
    Math.floor(mask.network / 2 ** shift);
}
